"""Scoring of SR outputs and interpolation baselines against HR, per image and per dataset."""
import numpy as np

from srtwins.data.imresize import imresize, modcrop
from srtwins.sr.quality import score

BASELINES = ("bicubic", "bilinear")


def upscale(lr, hr_shape, method):
    """Interpolate an LR image (or batch) back to ``hr_shape`` (H, W) by MATLAB-style resizing."""
    return imresize(lr, output_shape=hr_shape, method=method)


def score_images(outputs, references, scale):
    """Per-image metric rows for paired iterables of uint8 outputs and HR references (modcropped here)."""
    return [score(out, modcrop(hr, scale), scale) for out, hr in zip(outputs, references)]


def baseline_rows(lr_images, hr_images, scale, method):
    """Per-image scores of an interpolation baseline; ``lr_images``/``hr_images`` are aligned lists."""
    outs = (upscale(lr, modcrop(hr, scale).shape[:2], method) for lr, hr in zip(lr_images, hr_images))
    return score_images(outs, hr_images, scale)


def cifar_baseline_rows(lr, hr, scale, method, batch=1024):
    """Baseline scores for a CIFAR-10 batch array (N, h, w, 3) against HR (N, 32, 32, 3)."""
    hr = modcrop(hr, scale, batched=True)
    rows = []
    for i in range(0, len(lr), batch):
        up = upscale(np.asarray(lr[i : i + batch]), hr.shape[1:3], method)
        rows += score_images(up, hr[i : i + batch], scale)
    return rows
