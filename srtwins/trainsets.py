"""The SR training data of a run: aligned LR/HR training images, split by whole image, cut into patches.

Shared by pixel-loss training and adversarial fine-tuning so both see the same patches; test sets never enter."""
import numpy as np

from srtwins import paths
from srtwins.io import load_npy, read_image_dir
from srtwins.patches import PatchDataset, check_patch_size, fixed_set, make_pairs


def load_pairs(sources, scale):
    """(pairs, names) of aligned LR/HR training images of every source in ``sources``."""
    pairs, names = [], []
    for src in sources:
        if src == "t91":
            hr = read_image_dir(paths.raw("t91"))
            lr = read_image_dir(paths.lr(scale, "t91"))
            pairs += make_pairs(list(hr.values()), [lr[k] for k in hr], scale, list(hr))
            names += [f"t91/{k}" for k in hr]
        else:
            hr = load_npy(paths.array(paths.raw(paths.CIFAR), "train"), mmap=False)
            lr = load_npy(paths.array(paths.lr(scale, paths.CIFAR), "train"), mmap=False)
            pairs += make_pairs(hr, lr, scale)
            names += [f"cifar10/train/{i}" for i in range(len(hr))]
    return pairs, names


def split(pairs, names, fraction, seed):
    """(train pairs, train names, val pairs, val names): whole images held out, seeded."""
    order = np.random.default_rng(seed).permutation(len(pairs))
    n_val = max(1, round(fraction * len(pairs)))
    val, train = order[:n_val], order[n_val:]
    return [pairs[i] for i in train], [names[i] for i in train], [pairs[i] for i in val], [names[i] for i in val]


def patch_data(run, steps_per_epoch):
    """(training PatchDataset, fixed validation patches, summary) of a resolved run's ``train`` recipe."""
    t = run.train
    pairs, names = load_pairs(t["data"], run.scale)
    tr_pairs, _, va_pairs, _ = split(pairs, names, t["val_fraction"], t["seed"])
    check_patch_size(pairs, t["lr_patch"], names)
    data = PatchDataset(tr_pairs, run.scale, t["lr_patch"], t["batch_size"], steps_per_epoch, t["seed"])
    val = fixed_set(va_pairs, t["val_patches"], t["lr_patch"], run.scale, t["seed"])
    return data, val, {"train_images": len(tr_pairs), "val_images": len(va_pairs)}
