"""The pixels each arm sees, as uint8 at the HR size: every arm of a twin pair feeds the same classifier.

``lr`` is the LR image with each pixel replicated scale x scale (no interpolation prior); the bicubic arms are
upscaled here with the same MATLAB bicubic as the degradation, batch by batch.
"""
from functools import partial

import numpy as np

from srtwins import SrtwinsError, paths
from srtwins.data.imresize import imresize, modcrop
from srtwins.io import load_npy, map_batches


def labels(split):
    return load_npy(paths.labels(split), mmap=False)


def images(arm, source, scale, split):
    """uint8 images (N, H, W, 3) of one arm from one of its sources, in the order of :func:`labels`."""
    x = _pixels(arm.kind, source, scale, split)
    n = len(labels(split))
    if x.ndim != 4 or len(x) != n:
        raise SrtwinsError(f"arm {arm.name} ({source}, {split}): {len(x)} images for {n} labels (shape {x.shape}); "
                           "the cached array does not match its labels, rerun the stage that writes it")
    return x


def _pixels(kind, source, scale, split):
    raw, lr = paths.raw(paths.CIFAR), paths.lr(scale, paths.CIFAR)
    if kind == "hr":
        return modcrop(load_npy(paths.array(raw, split)), scale, batched=True)
    if kind == "lr":
        return np.repeat(np.repeat(load_npy(paths.array(lr, split), mmap=False), scale, 1), scale, 2)
    if kind in ("bicubic", "hr-bicubic"):
        src = load_npy(paths.array(lr if kind == "bicubic" else raw, split), mmap=False)
        return map_batches(partial(imresize, scale=scale), src, 1024)
    prefix = "hr_x" if kind == "hr-sr" else "x"
    return load_npy(paths.array(paths.sr(source, paths.CIFAR), split, prefix), mmap=False)
