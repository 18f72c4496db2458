"""Batch super-resolution into cached uint8 arrays, streamed so memory does not grow with the dataset."""
import time

import numpy as np
from tqdm import tqdm

from srtwins import SrtwinsError
from srtwins.io import atomic_file
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

