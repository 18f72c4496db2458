"""Batch super-resolution into cached uint8 arrays, streamed so memory does not grow with the dataset."""
import time

import numpy as np
from tqdm import tqdm

from srtwins import SrtwinsError, paths
from srtwins.io import atomic_file, load_npy, read_image_dir, write_png
from srtwins.sr.infer import predict_uint8


def super_resolve_array(model, lr, scale, out_path, batch_size, desc="super-resolve"):
    """SR every image of ``lr`` (N, h, w, C) into a ``.npy`` at ``out_path``, atomically.

    The header is written first, then each batch is appended with a plain write: only one batch
    is in memory at a time and, unlike a memory-mapped output, written pages do not stay resident
    in this process. ``lr`` may itself be memory-mapped. Returns images per second.
    """
    n, h, w, c = lr.shape
    shape = (n, h * scale, w * scale, c)
    start = time.perf_counter()
    with atomic_file(out_path) as tmp, open(tmp, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": shape})
        for i in tqdm(range(0, n, batch_size), desc=desc, unit="batch", leave=False):
            sr = predict_uint8(model, lr[i : i + batch_size], batch_size)
            if sr.shape[1:] != shape[1:]:
                raise SrtwinsError(f"{out_path}: the model made {sr.shape[1:]} images, expected {shape[1:]}")
            f.write(np.ascontiguousarray(sr).tobytes())
    return n / max(time.perf_counter() - start, 1e-9)



def super_resolve_all(model, scale, out, batch, study, hr_sr):
    """A run's outputs under ``out``: the SR test sets image by image (PNG), the LR arrays of CIFAR-10 (the
    pixel-exact test images of cifar10_exact, and with ``study`` the study's) in batches, and with ``hr_sr`` its native
    images too (hr_x_*.npy). Returns the measured images/s."""
    speed = {}
    for name in paths.TEST_SETS:
        (out / name).mkdir(parents=True)
        start = time.perf_counter()
        images = read_image_dir(paths.lr(scale, name))
        for stem, lr in images.items():
            write_png(out / name / f"{stem}.png", predict_uint8(model, lr[None])[0])
        speed[f"{name}_images_per_s"] = round(len(images) / (time.perf_counter() - start), 2)
    for name, split in paths.CIFAR_ARRAYS:
        if name == paths.CIFAR and not study:
            continue
        lr = load_npy(paths.array(paths.lr(scale, name), split))
        rate = super_resolve_array(model, lr, scale, paths.array(out / name, split), batch, f"{name} {split}")
        speed[f"{name}_{split}_images_per_s"] = round(rate, 1)
        if hr_sr and name == paths.CIFAR:
            hr = load_npy(paths.array(paths.raw(name), split))
            super_resolve_array(model, hr, scale, paths.array(out / name, split, "hr_x"), batch, f"{name} hr {split}")
    return speed
