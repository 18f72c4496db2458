"""Atomic writes and image/array I/O: outputs appear whole or not at all."""
import contextlib
import csv
import glob
import json
import os
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np

from srtwins import SrtwinsError

cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # we report decode errors ourselves


TMP = Path(".srtwins-tmp")  # temporary outputs of stages (see scratch_name); no stage depends on it


def scratch_name(final):
    """Where a temporary copy of ``final`` is written, and the stale ones of a killed run are cleared.

    Inside the working folder (where stages write), temps go to ``.srtwins-tmp/`` so that a killed
    stage leaves nothing inside a folder another stage depends on; elsewhere, beside ``final``.
    """
    final = Path(final)
    try:
        rel = final.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return final.parent, f".{final.name}."
    TMP.mkdir(exist_ok=True)
    prefix = "__".join(rel.parts) + "."
    for stale in TMP.glob(glob.escape(prefix) + "*"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    return TMP, prefix


@contextlib.contextmanager
def atomic_dir(final):
    """Yield a temp folder; on success it replaces ``final``, on error it is removed."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    folder, prefix = scratch_name(final)
    tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=folder))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists():
        shutil.rmtree(final) if final.is_dir() else final.unlink()
    os.replace(tmp, final)


@contextlib.contextmanager
def atomic_file(final):
    """Yield a temp path (same suffix) that is renamed onto ``final`` when the block succeeds."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    folder, prefix = scratch_name(final)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=f".tmp{final.suffix}", dir=folder)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_json(path):
    """A JSON file; a missing or invalid one is a one-line error naming it."""
    try:
        return json.loads(Path(path).read_text())
    except OSError as e:
        raise SrtwinsError(f"{path}: cannot read ({e.strerror})") from None
    except json.JSONDecodeError as e:
        raise SrtwinsError(f"{path}: not valid JSON ({e.msg}, line {e.lineno})") from None


def write_json(path, obj):
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def save_npy(path, arr):
    with atomic_file(path) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, np.ascontiguousarray(arr))


def load_npy(path, mmap=True):
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise SrtwinsError(f"{path}: cannot read array ({e})") from None


def decode_image(data, name):
    """Decode encoded image bytes to uint8 RGB (H, W, 3) or grayscale (H, W); clear error otherwise."""
    buf = np.frombuffer(data, dtype=np.uint8)
    img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if buf.size else None
    if img is None:
        raise SrtwinsError(f"{name}: image does not decode")
    if img.dtype != np.uint8:
        raise SrtwinsError(f"{name}: expected 8-bit pixels, got {img.dtype}")
    if img.ndim == 3 and img.shape[2] == 4:
        raise SrtwinsError(f"{name}: images with an alpha channel are not supported")
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return img


def read_image(path):
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SrtwinsError(f"{path}: cannot read ({e.strerror})") from None
    return decode_image(data, str(path))


def write_png(path, img):
    """Write uint8 RGB or grayscale as PNG (lossless)."""
    img = np.asarray(img)
    bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if img.ndim == 3 else img
    ok, enc = cv2.imencode(".png", bgr)
    if not ok:
        raise SrtwinsError(f"{path}: PNG encoding failed")
    Path(path).write_bytes(enc.tobytes())


def read_image_dir(folder):
    """All PNG images of a folder as {stem: array}, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SrtwinsError(f"{folder}: folder not found (run the earlier stages first)")
    return {p.stem: read_image(p) for p in sorted(folder.glob("*.png"))}


def read_tsv(path, missing="not found"):
    """Rows (dicts) of a tab-separated file with a header line; lines starting with ``#`` are comments."""
    path = Path(path)
    if not path.is_file():
        raise SrtwinsError(f"{path}: {missing}")
    with open(path, newline="") as f:
        return list(csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t"))


def map_batches(fn, x, batch):
    """``fn`` over ``x`` ``batch`` items at a time, the results concatenated: memory bounded by one batch."""
    return np.concatenate([fn(x[i : i + batch]) for i in range(0, len(x), batch)])
