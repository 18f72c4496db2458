"""Aligned LR/HR training patches, sampled reproducibly batch by batch."""
import keras
import numpy as np

from srtwins import BadValue, SrtwinsError
from srtwins.data.imresize import modcrop


def make_pairs(hr_images, lr_images, scale, names=None):
    """(lr, modcropped hr) pairs; RGB only (grayscale images are expanded to 3 channels)."""
    pairs = []
    for i, (lr, hr) in enumerate(zip(lr_images, hr_images)):
        hr = modcrop(hr, scale)
        if hr.shape[0] != lr.shape[0] * scale or hr.shape[1] != lr.shape[1] * scale:
            name = names[i] if names else i
            raise SrtwinsError(f"training image {name}: LR {lr.shape} does not match HR {hr.shape} at x{scale}")
        if hr.ndim == 2:
            lr, hr = np.repeat(lr[..., None], 3, -1), np.repeat(hr[..., None], 3, -1)
        pairs.append((lr, hr))
    return pairs


def check_patch_size(pairs, lr_patch, names):
    for (lr, _), name in zip(pairs, names):
        if lr.shape[0] < lr_patch or lr.shape[1] < lr_patch:
            raise BadValue("lr_patch", f"= {lr_patch} is larger than training image {name} "
                                       f"(LR {lr.shape[1]}x{lr.shape[0]})")


def sample(pairs, n, lr_patch, scale, rng, augment=True):
    """``n`` random aligned patches as uint8 arrays (n, p, p, 3) and (n, p*s, p*s, 3)."""
    lo = np.empty((n, lr_patch, lr_patch, 3), np.uint8)
    hi = np.empty((n, lr_patch * scale, lr_patch * scale, 3), np.uint8)
    which = rng.integers(0, len(pairs), n)
    for k, idx in enumerate(which):
        lr, hr = pairs[idx]
        y = rng.integers(0, lr.shape[0] - lr_patch + 1)
        x = rng.integers(0, lr.shape[1] - lr_patch + 1)
        a = lr[y : y + lr_patch, x : x + lr_patch]
        b = hr[y * scale : (y + lr_patch) * scale, x * scale : (x + lr_patch) * scale]
        if augment:  # the 8 dihedral transforms
            rot, flip = rng.integers(0, 4), rng.integers(0, 2)
            a, b = np.rot90(a, rot), np.rot90(b, rot)
            if flip:
                a, b = a[:, ::-1], b[:, ::-1]
        lo[k], hi[k] = a, b
    return lo, hi


class PatchDataset(keras.utils.PyDataset):
    """Random patch batches; batch ``i`` of epoch ``e`` depends only on (seed, e, i): reproducible."""

    def __init__(self, pairs, scale, lr_patch, batch_size, steps, seed, augment=True):
        super().__init__()
        self.pairs, self.scale, self.lr_patch = pairs, scale, lr_patch
        self.batch_size, self.steps, self.seed, self.augment = batch_size, steps, seed, augment
        self.epoch = 0

    def __len__(self):
        return self.steps

    def __getitem__(self, i):
        rng = np.random.default_rng([self.seed, self.epoch, i])
        lo, hi = sample(self.pairs, self.batch_size, self.lr_patch, self.scale, rng, self.augment)
        return lo.astype(np.float32) / 255.0, hi.astype(np.float32) / 255.0

    def on_epoch_end(self):
        self.epoch += 1


def fixed_set(pairs, n, lr_patch, scale, seed):
    """A fixed validation set of patches, as float arrays."""
    lo, hi = sample(pairs, n, lr_patch, scale, np.random.default_rng([seed, 10**6]), augment=False)
    return lo.astype(np.float32) / 255.0, hi.astype(np.float32) / 255.0
