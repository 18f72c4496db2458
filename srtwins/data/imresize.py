"""MATLAB-compatible bicubic resizing (``imresize(..., 'bicubic')``) in NumPy.

The published SR tables were made with MATLAB: cubic kernel a = -0.5, the kernel
stretched by 1/scale when shrinking (antialiasing), symmetric border padding,
float64 arithmetic through both 1-D passes, one rounding to uint8 at the end. (Rounding
between the passes reads 0.003-0.008 dB further from the published bicubic row on all
nine Set5/Set14/B100 cells.) OpenCV, PIL and tf.image do not reproduce it.
"""
import numpy as np

from srtwins import SrtwinsError


def cubic(x):
    """Keys' cubic convolution kernel with a = -0.5."""
    ax = np.abs(x)
    ax2, ax3 = ax**2, ax**3
    return (1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1) + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * (
        (ax > 1) & (ax <= 2)
    )


def linear(x):
    """Triangle kernel (MATLAB 'bilinear')."""
    ax = np.abs(x)
    return (1 - ax) * (ax <= 1)


KERNELS = {"bicubic": (cubic, 4.0), "bilinear": (linear, 2.0)}


def contributions(in_len, out_len, scale, method="bicubic"):
    """Weights (out_len x P) and 0-based source indices for one axis, as MATLAB computes them."""
    kernel, width = KERNELS[method]
    if scale < 1:  # antialiasing: stretch the kernel when shrinking
        def h(x):
            return scale * kernel(scale * x)

        width = width / scale
    else:
        h = kernel
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    taps = int(np.ceil(width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]  # 1-based, may fall outside the image
    weights = h(u[:, None] - idx)
    weights /= weights.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_len), np.arange(in_len - 1, -1, -1)])  # symmetric pad
    idx = mirror[np.mod(idx - 1, mirror.size).astype(np.int64)]
    keep = np.any(weights != 0, axis=0)
    return weights[:, keep], idx[:, keep]


def _resize_axis(img, axis, out_len, scale, method):
    weights, idx = contributions(img.shape[axis], out_len, scale, method)
    moved = np.moveaxis(img, axis, 0)  # (L, ...)
    out = np.einsum("op,op...->o...", weights, moved[idx])
    return np.moveaxis(out, 0, axis)


def imresize(img, scale=None, output_shape=None, method="bicubic"):
    """Resize an image (H, W) or (H, W, C) or a batch (N, H, W, C) like MATLAB's imresize.

    uint8 input gives uint8 output, rounded once at the end; float input
    stays float64 and unclipped. Give either ``scale`` or ``output_shape`` (H, W).
    """
    if method not in KERNELS:
        raise SrtwinsError(f"unknown resize method {method!r}; allowed: {sorted(KERNELS)}")
    arr = np.asarray(img)
    batched = arr.ndim == 4
    h_axis = 1 if batched else 0
    in_h, in_w = arr.shape[h_axis], arr.shape[h_axis + 1]
    if output_shape is None:
        if scale is None:
            raise SrtwinsError("imresize needs scale or output_shape")
        output_shape = (int(np.ceil(in_h * scale)), int(np.ceil(in_w * scale)))
        scales = (scale, scale)
    else:
        scales = (output_shape[0] / in_h, output_shape[1] / in_w)
    is_uint8 = arr.dtype == np.uint8
    out = arr.astype(np.float64)
    # MATLAB resizes the dimension with the smallest scale first (rows on a tie)
    for k in np.argsort(scales, kind="stable"):
        out = _resize_axis(out, h_axis + k, output_shape[k], scales[k], method)
    return np.clip(np.round(out), 0, 255).astype(np.uint8) if is_uint8 else out


def modcrop(img, scale, batched=False):
    """Crop height and width down to a multiple of ``scale`` (top-left anchored, as in SRCNN)."""
    h_axis = 1 if batched else 0
    h, w = img.shape[h_axis], img.shape[h_axis + 1]
    h, w = h - h % scale, w - w % scale
    return img[:, :h, :w] if batched else img[:h, :w]


def degrade(hr, scale, batched=False):
    """modcrop, then bicubic downscale by ``scale``: the standard LR of the SR literature."""
    return imresize(modcrop(hr, scale, batched), scale=1 / scale)
