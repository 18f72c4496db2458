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


def _synthetic():
    """Random HR images, their bicubic LR and a flipped "SR" output for each test set and CIFAR-10, at x2."""
    from types import SimpleNamespace

    from srtwins import paths
    from srtwins.data.imresize import degrade

    rng = np.random.default_rng(0)
    cifar = rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    run = SimpleNamespace(name="espcn_x2", net="espcn", scale=2)
    images = {("hr", paths.CIFAR, None): cifar, ("lr", paths.CIFAR, 2): degrade(cifar, 2, batched=True),
              ("sr", paths.CIFAR, run.name): cifar[:, ::-1]}
    for name in paths.TEST_SETS:  # each set its own images, so a figure that draws another set's scores fails
        hr = {stem: rng.integers(0, 256, (24, 24, 3), dtype=np.uint8) for stem in ("butterfly", "bird")}
        images[("hr", name, None)] = hr
        images[("lr", name, 2)] = {k: degrade(v, 2) for k, v in hr.items()}
        images[("sr", name, run.name)] = {k: v[::-1] for k, v in hr.items()}  # a flipped "SR" output
    return images, run


def test_score_all_scores_every_baseline_at_every_scale_and_every_run_at_its_own():
    """The evaluate stage's loops on synthetic images: rows per image, the table of their means."""
    from srtwins import paths
    from srtwins.sr import scoring

    images, run = _synthetic()
    rows, table = scoring.score_all(images, [2], ["bicubic"], [run])
    assert len(rows) == len(paths.TEST_SETS) * 2 * 2 + 3 * 2
    assert set(table) == {*paths.TEST_SETS, paths.CIFAR} and set(table["set5"]["x2"]) == {"bicubic", "espcn"}
    want = np.mean([score(v[::-1], v, 2)["psnr_y"] for v in images[("hr", "set14", None)].values()])
    assert table["set14"]["x2"]["espcn"]["psnr_y"] == pytest.approx(want)


@pytest.fixture
def sr_figures(tmp_path, monkeypatch):
    """plots.sr_figures on the synthetic images: (images, run, table, {file name: Figure}), the files written."""
    from srtwins.report import plots
    from srtwins.sr import scoring

    images, run = _synthetic()
    table = scoring.score_all(images, [2], ["bicubic"], [run])[1]
    figures, save = {}, plots.save
    monkeypatch.setattr(plots, "save", lambda fig, path: (figures.setdefault(path.name, fig), save(fig, path)))
    monkeypatch.chdir(tmp_path)
    plots.sr_figures([run], table, {run.name: {"net": "espcn", "scale": 2, "params": 10}}, images)
    assert (tmp_path / "plots/sr_triplets/espcn_x2.png").stat().st_size > 0
    assert (tmp_path / "plots/sr_psnr_vs_params.png").stat().st_size > 0
    return images, run, table, figures


def test_triplets_draw_lr_bicubic_sr_hr_of_every_shown_image(sr_figures):
    """A row per SHOW image the set holds and per CIFAR-10 image shown, each LR (replicated) | bicubic | SR | HR
    with the SR and bicubic PSNR in its captions."""
    from srtwins.data.imresize import imresize

    images, run, _, figures = sr_figures
    axes = np.reshape(figures["espcn_x2.png"].axes, (-1, 4))
    shown = [("set5", "butterfly"), ("set5", "bird"), ("cifar10", 0), ("cifar10", 1)]
    assert [row[0].texts[0].get_text() for row in axes] == ["set5/butterfly", "set5/bird", "cifar10/test/0",
                                                            "cifar10/test/1"]
    for row, (name, key) in zip(axes, shown):
        hr, lr, sr = (images[(kind, name, tag)][key] for kind, tag in (("hr", None), ("lr", 2), ("sr", run.name)))
        bicubic = imresize(lr, output_shape=hr.shape[:2])
        for ax, want in zip(row, [np.repeat(np.repeat(lr, 2, 0), 2, 1), bicubic, sr, hr]):
            np.testing.assert_array_equal(ax.images[0].get_array(), want)
        assert [ax.get_title() for ax in row] == ["LR (nearest)", f"bicubic {score(bicubic, hr, 2)['psnr_y']:.2f} dB",
                                                  f"SR {score(sr, hr, 2)['psnr_y']:.2f} dB", "HR"]


def test_psnr_vs_params_draws_each_net_at_its_set5_psnr_and_the_bicubic_line(sr_figures):
    _, _, table, figures = sr_figures
    ax = figures["sr_psnr_vs_params.png"].axes[0]
    (points,) = ax.collections
    np.testing.assert_array_equal(points.get_offsets(), [[10, table["set5"]["x2"]["espcn"]["psnr_y"]]])
    assert [t.get_text() for t in ax.texts] == ["espcn x2", " bicubic x2"]
    assert [list(line.get_ydata()) for line in ax.lines] == [[table["set5"]["x2"]["bicubic"]["psnr_y"]] * 2]
