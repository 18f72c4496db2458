import numpy as np
import pytest

from srtwins import SrtwinsError
from srtwins.sr.quality import mean_scores, psnr, rgb_to_y, score, shave, ssim


def test_studio_swing_luma():
    assert rgb_to_y(np.full((1, 1, 3), 255, np.uint8))[0, 0] == 235
    assert rgb_to_y(np.zeros((1, 1, 3), np.uint8))[0, 0] == 16
    grey = np.full((2, 2), 90, np.uint8)
    np.testing.assert_array_equal(rgb_to_y(grey), grey)  # grayscale scored on its channel


def test_psnr_known_value_and_identity():
    a = np.zeros((16, 16))
    b = np.full((16, 16), 10.0)
    assert psnr(a, b) == pytest.approx(10 * np.log10(255**2 / 100))
    assert psnr(a, a) == float("inf")
    assert ssim(b + 50, b + 50) == pytest.approx(1.0)


def test_score_shaves_the_border_only():
    rng = np.random.default_rng(1)
    hr = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
    sr = hr.copy()
    sr[:2] = 0  # damage only the 2-pixel border
    got = score(sr, hr, 2)
    assert got["psnr_y"] == float("inf") and got["mse_rgb"] == 0
    assert shave(hr, 2).shape == (16, 16, 3)


def test_score_rejects_mismatched_or_float_inputs():
    with pytest.raises(SrtwinsError, match="shape mismatch"):
        score(np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9, 3), np.uint8), 2)
    with pytest.raises(SrtwinsError, match="uint8"):
        score(np.zeros((8, 8, 3)), np.zeros((8, 8, 3), np.uint8), 2)


def test_mean_scores_averages_per_image():
    rows = [dict(psnr_y=30, ssim_y=0.9, psnr_rgb=29, ssim_rgb=0.8, mse_rgb=10),
            dict(psnr_y=32, ssim_y=0.7, psnr_rgb=31, ssim_rgb=0.6, mse_rgb=20)]
    assert mean_scores(rows) == dict(psnr_y=31, ssim_y=0.8, psnr_rgb=30, ssim_rgb=0.7, mse_rgb=15)


def test_score_all_scores_every_baseline_at_every_scale_and_every_run_at_its_own(tmp_path, monkeypatch):
    """The evaluate stage's loops on synthetic images: rows per image, the table of their means."""
    from types import SimpleNamespace

    from srtwins import paths
    from srtwins.data.imresize import degrade
    from srtwins.sr import scoring
    from srtwins.sr.quality import score

    rng = np.random.default_rng(0)
    hr = {stem: rng.integers(0, 256, (24, 24, 3), dtype=np.uint8) for stem in ("butterfly", "bird")}
    cifar = rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    run = SimpleNamespace(name="espcn_x2", net="espcn", scale=2)
    images = {("hr", paths.CIFAR, None): cifar, ("lr", paths.CIFAR, 2): degrade(cifar, 2, batched=True),
              ("sr", paths.CIFAR, run.name): cifar[:, ::-1]}
    for name in paths.TEST_SETS:
        images[("hr", name, None)] = hr
        images[("lr", name, 2)] = {k: degrade(v, 2) for k, v in hr.items()}
        images[("sr", name, run.name)] = {k: v[::-1] for k, v in hr.items()}  # a flipped "SR" output
    rows, table = scoring.score_all(images, [2], ["bicubic"], [run])
    assert len(rows) == len(paths.TEST_SETS) * 2 * 2 + 3 * 2
    assert set(table) == {*paths.TEST_SETS, paths.CIFAR} and set(table["set5"]["x2"]) == {"bicubic", "espcn"}
    want = np.mean([score(v[::-1], v, 2)["psnr_y"] for v in hr.values()])
    assert table["set14"]["x2"]["espcn"]["psnr_y"] == pytest.approx(want)
    from srtwins.report import plots

    monkeypatch.chdir(tmp_path)  # the figures of the same images: a triplet grid per run, PSNR against size
    plots.sr_figures([run], table, {run.name: {"net": "espcn", "scale": 2, "params": 10}}, images)
    assert (tmp_path / "plots/sr_triplets/espcn_x2.png").stat().st_size > 0
    assert (tmp_path / "plots/sr_psnr_vs_params.png").stat().st_size > 0

