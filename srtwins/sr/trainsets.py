"""The SR training data of a run: aligned LR/HR pairs of each of its sources, split by whole
image, cut into patches; shared by pixel-loss training and GAN fine-tuning. Test sets never enter.

Pairs stay uint8 and whole: ``PatchDataset`` crops patches from them. DIV2K (800 2K images, about
7 GB for HR and LR at x2) is decoded once, on every core, into memory.
"""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from srtwins import SrtwinsError, paths
from srtwins.io import load_npy, read_image, read_image_dir, read_json
from srtwins.sr.patches import PatchDataset, check_patch_size, fixed_set, make_pairs


def load_pairs(sources, scale):
    """(pairs, names) of aligned LR/HR training images of every source in ``sources``, in that order."""
    loaders = {"t91": _t91, "cifar10": _cifar10, "div2k": _div2k}
    pairs, names = [], []
    for src in sources:
        hr, lr, stems = loaders[src](scale)
        pairs += make_pairs(hr, lr, scale, [f"{src}/{k}" for k in stems])
        names += [f"{src}/{k}" for k in stems]
    return pairs, names


def _t91(scale):
    hr = read_image_dir(paths.raw("t91"))
    lr = read_image_dir(paths.lr(scale, "t91"))
    return list(hr.values()), [lr[k] for k in hr], list(hr)


def _cifar10(scale):
    # data/raw/cifar10/x_train.npy: the classifiers' training images only, so no SR net sees a classifier test image
    hr = load_npy(paths.array(paths.raw(paths.CIFAR), "train"), mmap=False)
    lr = load_npy(paths.array(paths.lr(scale, paths.CIFAR), "train"), mmap=False)
    return hr, lr, [f"train/{i}" for i in range(len(hr))]


def _div2k(scale):
    """DIV2K's HR images and the official bicubic LR at ``scale``, as the fetch stage left them."""
    index = read_json(paths.div2k_index())
    if scale not in index.get("scales", []):
        raise SrtwinsError(f"{paths.div2k_index()}: no DIV2K x{scale} images fetched, but an SR run at x{scale} "
                           "trains on div2k (fetch DIV2K at that scale)")
    stems = [f"{i:04d}" for i in range(1, index["images"] + 1)]
    with ThreadPoolExecutor(os.cpu_count()) as pool:  # PNG decoding releases the GIL
        hr = list(pool.map(read_image, [paths.div2k() / f"{k}.png" for k in stems]))
        lr = list(pool.map(read_image, [paths.div2k(scale) / f"{k}x{scale}.png" for k in stems]))
    return hr, lr, stems


def split(pairs, fraction, seed):
    """(train pairs, val pairs): whole images held out, seeded."""
    order = np.random.default_rng(seed).permutation(len(pairs))
    n_val = max(1, round(fraction * len(pairs)))
    return [pairs[i] for i in order[n_val:]], [pairs[i] for i in order[:n_val]]


def patch_data(run, steps_per_epoch):
    """(training PatchDataset, fixed validation patches, summary) of a resolved run's ``train`` recipe."""
    t = run.train
    pairs, names = load_pairs(t.data, run.scale)
    tr_pairs, va_pairs = split(pairs, t.val_fraction, t.seed)
    check_patch_size(pairs, t.lr_patch, names)
    data = PatchDataset(tr_pairs, run.scale, t.lr_patch, t.batch_size, steps_per_epoch, t.seed)
    val = fixed_set(va_pairs, t.val_patches, t.lr_patch, run.scale, t.seed)
    return data, val, {"train_images": len(tr_pairs), "val_images": len(va_pairs)}
