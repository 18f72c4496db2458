"""Tiny synthetic datasets for tests."""
import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np

from srtwins.fetch import CIFAR10_FOLDER, CIFAR10_TEST, CIFAR10_TRAIN

CLASSES = "airplane automobile bird cat deer dog frog horse ship truck".split()


def cifar_records(n, seed=0):
    """``n`` CIFAR-10 binary records and the (images, labels) they encode."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    planes = images.transpose(0, 3, 1, 2).reshape(n, -1)
    return np.concatenate([labels[:, None], planes], axis=1).tobytes(), images, labels


def write_cifar_folder(folder, n_per_batch=20):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate([*CIFAR10_TRAIN, CIFAR10_TEST]):
        (folder / name).write_bytes(cifar_records(n_per_batch, seed=i)[0])
    (folder / "batches.meta.txt").write_text("\n".join(CLASSES) + "\n")
    return folder


def write_cifar_mirror(mirror, n_per_batch=20, rewrite_manifest_only=False):
    """A mirror's cifar-10/ folder with a MANIFEST.tsv, like ../shared/datasets."""
    root = Path(mirror) / "cifar-10"
    folder = root / CIFAR10_FOLDER
    if not rewrite_manifest_only:
        write_cifar_folder(folder, n_per_batch)
    lines = ["path\tbytes\tsha256\tarray_shape\tpixels_sha256"]
    for p in sorted(folder.iterdir()):
        lines.append(f"{CIFAR10_FOLDER}/{p.name}\t{p.stat().st_size}\t{hashlib.sha256(p.read_bytes()).hexdigest()}\t-\t-")
    (root / "MANIFEST.tsv").write_text("\n".join(lines) + "\n")
    return root


def cifar_tarball(n_per_batch=20):
    """Bytes of a .tar.gz laid out like cifar-10-binary.tar.gz."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for i, name in enumerate([*CIFAR10_TRAIN, CIFAR10_TEST, "batches.meta.txt"]):
            data = cifar_records(n_per_batch, seed=i)[0] if name.endswith(".bin") else ("\n".join(CLASSES) + "\n").encode()
            info = tarfile.TarInfo(f"{CIFAR10_FOLDER}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def override(params, overrides):
    """Set dotted keys (``"sr.train.epochs"``) in a nested params dict, in place; returns it."""
    for key, value in overrides.items():
        node = params
        *parents, last = key.split(".")
        for p in parents:
            node = node[p]
        node[last] = value
    return params
