"""The pixels each arm sees: all CIFAR-10 images (train and test pooled for cross-validation), as uint8.

Bicubic arms are upscaled here with the same MATLAB bicubic as the degradation, batch by batch.
"""
from functools import partial

import numpy as np

from srtwins import SrtwinsError, paths
from srtwins.data.imresize import imresize, modcrop
from srtwins.io import load_npy, map_batches


def labels():
    """All labels, train then test: the pooled order every arm's images follow."""
    return np.concatenate([load_npy(paths.labels(split), mmap=False) for split in paths.SPLITS])


def images(arm, scale):
    """uint8 images (N, H, W, 3) for one arm, in the pooled order of :func:`labels`."""
    parts = [_split(arm, scale, split) for split in paths.SPLITS]
    x = np.concatenate(parts)
    n = len(labels())
    if x.ndim != 4 or len(x) != n:
        raise SrtwinsError(f"arm {arm.name}: {len(x)} images for {n} labels (shape {x.shape}); the cached "
                           "array does not match its labels, rerun the stage that writes it")
    return x


def _split(arm, scale, split):
    raw, lr = paths.raw(paths.CIFAR), paths.lr(scale, paths.CIFAR)
    if arm.kind == "hr":
        return modcrop(load_npy(paths.array(raw, split)), scale, batched=True)
    if arm.kind == "lr":
        return load_npy(paths.array(lr, split), mmap=False)
    if arm.kind in ("bicubic", "hr-bicubic"):
        src = load_npy(paths.array(lr if arm.kind == "bicubic" else raw, split), mmap=False)
        return map_batches(partial(imresize, scale=scale), src, 1024)
    prefix = "hr_x" if arm.kind == "hr-sr" else "x"
    return load_npy(paths.array(paths.sr(arm.source, paths.CIFAR), split, prefix), mmap=False)
