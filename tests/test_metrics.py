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
