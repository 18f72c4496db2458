"""Image-quality metrics by the protocol of the published SR tables.

Y channel of BT.601 studio swing (rounded, as MATLAB's rgb2ycbcr on uint8), ``scale``
pixels shaved from every border, PSNR in float64 with peak 255, and SSIM with an
11x11 Gaussian window (sigma 1.5), averaged per image. RGB scores are reported too.
"""
import numpy as np
from skimage.metrics import structural_similarity

from srtwins import SrtwinsError

METRIC_KEYS = ("psnr_y", "ssim_y", "psnr_rgb", "ssim_rgb", "mse_rgb")


def rgb_to_y(img):
    """uint8 RGB (H, W, 3) -> BT.601 studio-swing luma as rounded float64; grayscale passes through."""
    img = np.asarray(img)
    if img.ndim == 2:
        return img.astype(np.float64)
    rgb = img.astype(np.float64) / 255.0
    y = 16.0 + rgb @ np.array([65.481, 128.553, 24.966])
    return np.round(y)


def shave(img, border):
    return img[border:-border, border:-border] if border > 0 else img


def mse(a, b):
    return float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))


def psnr(a, b, peak=255.0):
    err = mse(a, b)
    return float("inf") if err == 0 else float(10 * np.log10(peak**2 / err))


def ssim(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(
        structural_similarity(
            a,
            b,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=255,
            channel_axis=-1 if a.ndim == 3 else None,
        )
    )


def _checked(sr, hr):
    sr, hr = np.asarray(sr), np.asarray(hr)
    if sr.shape != hr.shape:
        raise SrtwinsError(f"shape mismatch: output {sr.shape} vs reference {hr.shape}")
    if sr.dtype != np.uint8 or hr.dtype != np.uint8:
        raise SrtwinsError("score() expects uint8 images (clip and round outputs first)")
    return sr, hr


def score_y(sr, hr, scale):
    """The published tables' two metrics (PSNR and SSIM on Y) for one uint8 image pair, ``scale`` pixels shaved."""
    sr, hr = _checked(sr, hr)
    sy, hy = shave(rgb_to_y(sr), scale), shave(rgb_to_y(hr), scale)
    return {"psnr_y": psnr(sy, hy), "ssim_y": ssim(sy, hy)}


def score(sr, hr, scale):
    """All five metrics for one uint8 image pair of equal shape, ``scale`` pixels shaved."""
    sr, hr = _checked(sr, hr)
    srgb, hrgb = shave(sr, scale), shave(hr, scale)
    return {
        **score_y(sr, hr, scale),
        "psnr_rgb": psnr(srgb, hrgb),
        "ssim_rgb": ssim(srgb, hrgb),
        "mse_rgb": mse(srgb, hrgb),
    }


def mean_scores(rows):
    """Average a list of per-image score dicts, key by key."""
    return {k: float(np.mean([r[k] for r in rows])) for k in METRIC_KEYS}
