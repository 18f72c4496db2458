"""Batch super-resolution into cached uint8 arrays, streamed so memory does not grow with the dataset."""
import time

import numpy as np
from tqdm import tqdm

from srtwins import SrtwinsError
from srtwins.io import atomic_file
from srtwins.train import predict_uint8


def super_resolve_array(model, lr, scale, out_path, batch_size=256, desc="super-resolve"):
    """SR every image of ``lr`` (N, h, w, C) into a memory-mapped ``.npy`` at ``out_path``, atomically.

    Only one batch of floats is alive at a time; returns images per second.
    """
    n, h, w, c = lr.shape
    start = time.perf_counter()
    with atomic_file(out_path) as tmp:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(n, h * scale, w * scale, c))
        for i in tqdm(range(0, n, batch_size), desc=desc, unit="batch", leave=False):
            out[i : i + batch_size] = predict_uint8(model, lr[i : i + batch_size], batch_size)
        out.flush()
        del out
    return n / max(time.perf_counter() - start, 1e-9)


def check_sr_array(x, n_labels, name):
    """A cached SR array must hold one image per label."""
    if x.ndim != 4 or x.shape[0] != n_labels:
        raise SrtwinsError(f"{name}: shape {x.shape} does not match {n_labels} labels (stale cache? rerun super_resolve)")
