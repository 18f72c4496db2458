"""CIFAR-10: the official binary batches, the mirror's JPEG export of all 60,000 images, and the study split.

Binary batches (downloaded, md5-checked, or the mirror's pixel-exact partial copy) are parsed with NumPy:
downloaded data is never unpickled. The JPEG archive and its MANIFEST.tsv are pinned by sha256; the archive
is streamed in memory and every image the split asks for is checked by the sha256 of its bytes and of its
decoded pixels. Either source is a :class:`Pool` from which :func:`study_split` draws the study's images.
"""
import hashlib
import tarfile
import zlib
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Callable

import numpy as np
from tqdm import tqdm

from srtwins import BadValue, SrtwinsError
from srtwins.data.fetch import download, pixels_sha256, safe_extract, verify_mirror_files, verify_pinned
from srtwins.io import decode_image, read_tsv

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"
CIFAR10_FOLDER = "cifar-10-batches-bin"
CIFAR10_TRAIN = [f"data_batch_{i}.bin" for i in range(1, 6)]
CIFAR10_TEST = "test_batch.bin"
CIFAR10_RECORD = 1 + 32 * 32 * 3  # label byte, then 1024 R, 1024 G, 1024 B
CIFAR10_MIRROR = "cifar-10"  # the mirror's binary folder (partial: the first 1,017 records of each batch)
JPEG_MIRROR, JPEG_ARCHIVE = "cifar-10-jpeg", "cifar-10-jpeg.tar.gz"  # the mirror's JPEG export (all 60,000)
JPEG_SHA256 = "2d48e559d664d8b236a8ad09f080c869123da584b64964ea6760f3224f1bc2c9"
JPEG_MANIFEST_SHA256 = "df3605ac0da54eae1d8ffff5bef50b86b4a56167dc78f6b44411faf9afa01ee3"
SPLIT_SEED = 0
SHAPE = (32, 32, 3)


@dataclass(frozen=True)
class Pool:
    """The images a study split is drawn from: labels, which are official training images, and a loader."""
    source: str  # "jpeg-mirror" | "official-binary"
    labels: np.ndarray  # (N,) uint8
    official_train: np.ndarray  # (N,) bool: in the official training batches (else the official test batch)
    classes: list
    load: Callable  # indices -> uint8 images (len, 32, 32, 3), in that order


# --------------------------------------------------------------------------- official binary batches
def parse_cifar_batch(path):
    """Read one CIFAR-10 binary batch: images (N, 32, 32, 3) uint8 RGB and labels (N,) uint8."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        raise SrtwinsError(f"{path}: CIFAR-10 batch file not found") from None
    if size == 0 or size % CIFAR10_RECORD:
        raise SrtwinsError(
            f"{path}: truncated or corrupt CIFAR-10 batch ({size} bytes is not a whole number of "
            f"{CIFAR10_RECORD}-byte records)"
        )
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, CIFAR10_RECORD)
    labels = raw[:, 0].copy()
    if labels.max() > 9:
        raise SrtwinsError(f"{path}: label {int(labels.max())} outside 0-9; not a CIFAR-10 batch")
    return raw[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), labels


def read_binary(folder):
    """Every image of a ``cifar-10-batches-bin`` folder: (images, labels, official_train mask, class names)."""
    folder = Path(folder)
    batches = [parse_cifar_batch(folder / name) for name in [*CIFAR10_TRAIN, CIFAR10_TEST]]
    n_train = sum(len(y) for _, y in batches[:-1])
    labels = np.concatenate([y for _, y in batches])
    classes = (folder / "batches.meta.txt").read_text().split()
    if len(classes) != 10:
        raise SrtwinsError(f"{folder / 'batches.meta.txt'}: expected 10 class names, found {len(classes)}")
    return np.concatenate([x for x, _ in batches]), labels, np.arange(len(labels)) < n_train, classes


def binary_pool(folder):
    """A binary folder's images as a pool (the download's official 50,000 + 10,000)."""
    x, y, official_train, classes = read_binary(folder)
    return Pool("official-binary", y, official_train, classes, lambda idx: x[idx])


def binary_folder_from_download(cache, **dl):
    archive = download(CIFAR10_URL, Path(cache) / "cifar-10-binary.tar.gz", md5=CIFAR10_MD5, **dl)
    safe_extract(archive, Path(cache) / "cifar10")
    return Path(cache) / "cifar10" / CIFAR10_FOLDER


def binary_folder_from_mirror(mirror):
    """The mirror's CIFAR-10 batch folder, after checking each file against the mirror's MANIFEST.tsv."""
    root = Path(mirror) / CIFAR10_MIRROR
    names = [*CIFAR10_TRAIN, CIFAR10_TEST, "batches.meta.txt"]
    verify_mirror_files(root, [f"{CIFAR10_FOLDER}/{name}" for name in names])
    return root / CIFAR10_FOLDER


# --------------------------------------------------------------------------- the JPEG export
@dataclass(frozen=True)
class JpegRow:
    path: str  # train/<class>/NNNN.jpg or test/<class>/NNNN.jpg inside the archive
    label: int
    sha256: str
    pixels_sha256: str


def jpeg_pool(mirror):
    """The mirror's JPEG export as a pool: archive and manifest checked against the pins first, labels and
    the official split read from the manifest; images decoded only when loaded."""
    root = Path(mirror) / JPEG_MIRROR
    archive, manifest = root / JPEG_ARCHIVE, root / "MANIFEST.tsv"
    verify_pinned(manifest, JPEG_MANIFEST_SHA256)
    verify_pinned(archive, JPEG_SHA256)
    rows = read_jpeg_manifest(manifest)
    labels = np.array([r.label for r in rows], np.uint8)
    official_train = np.array([r.path.startswith("train/") for r in rows])
    return Pool("jpeg-mirror", labels, official_train, _jpeg_classes(manifest, rows),
                partial(read_jpegs, archive, rows))


def read_jpeg_manifest(path):
    """Rows of the JPEG export's MANIFEST.tsv (path, label, sha256, pixels_sha256), each path once."""
    rows = [JpegRow(r["path"], int(r["label"]), r["sha256"], r["pixels_sha256"])
            for r in read_tsv(path, "mirror manifest not found")]
    for r in rows:
        parts = PurePosixPath(r.path).parts
        if len(parts) != 3 or parts[0] not in ("train", "test") or not 0 <= r.label <= 9:
            raise SrtwinsError(f"{path}: row {r.path!r} is not train|test/<class>/<name> with a label 0-9")
    if len({r.path for r in rows}) != len(rows):
        raise SrtwinsError(f"{path}: a path is listed twice")
    return rows


def _jpeg_classes(manifest, rows):
    """Class names by label: the class folders of the manifest's paths, one per label 0-9."""
    pairs = sorted({(r.label, PurePosixPath(r.path).parts[1]) for r in rows})
    if [label for label, _ in pairs] != list(range(10)):
        raise SrtwinsError(f"{manifest}: expected one class folder for each label 0-9, found {pairs}")
    return [name for _, name in pairs]


def read_jpegs(archive, rows, indices):
    """The images ``indices`` (into ``rows``), in that order, decoded from the archive streamed in memory.

    Every member is checked: a regular file listed once in ``rows`` (or a folder above one); every row's
    member must be there. Only the wanted members are decoded, each checked against its row."""
    wanted, images, seen = {int(i) for i in indices}, {}, set()
    index = {r.path: i for i, r in enumerate(rows)}
    folders = {r.path.rsplit("/", k)[0] for r in rows for k in (1, 2)}  # split/class/name: its two folders
    try:
        with tarfile.open(archive, "r|gz") as tar, tqdm(total=len(wanted), desc=JPEG_MIRROR, leave=False) as bar:
            for member in tar:
                i = _member_row(archive, member, index, folders, seen)
                if i in wanted:
                    images[i] = _decode(archive, rows[i], tar.extractfile(member).read())
                    bar.update()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise SrtwinsError(f"{archive}: cannot read ({e})") from None
    missing = [r.path for r in rows if r.path not in seen]
    if missing:
        raise SrtwinsError(f"{archive}: {len(missing)} MANIFEST.tsv entries are not in the archive ({missing[0]}, ...)")
    return np.stack([images[int(i)] for i in indices])


def _member_row(archive, member, index, folders, seen):
    """The manifest row of a file member (None for a folder); refuses any other member, naming it."""
    name = member.name
    if name.startswith("/") or ".." in name.split("/"):
        raise SrtwinsError(f"{archive}: member {name!r} would land outside the archive's folder")
    if member.isdir() and name in folders:
        return None
    if not member.isfile():
        raise SrtwinsError(f"{archive}: member {name!r} is not a regular file (or a folder of MANIFEST.tsv's)")
    if name not in index:
        raise SrtwinsError(f"{archive}: member {name!r} is not in MANIFEST.tsv")
    if name in seen:
        raise SrtwinsError(f"{archive}: member {name!r} appears twice")
    seen.add(name)
    return index[name]


def _decode(archive, row, data):
    """A member's uint8 RGB pixels, after checking its bytes and its decoded pixels against its row."""
    where = f"{archive}: {row.path}"
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise SrtwinsError(f"{where}: file bytes do not match MANIFEST.tsv (sha256)")
    img = decode_image(data, where)
    if img.shape != SHAPE:
        raise SrtwinsError(f"{where}: decoded shape {img.shape}, expected {SHAPE}")
    if pixels_sha256(img) != row.pixels_sha256:
        raise SrtwinsError(f"{where}: decoded pixels do not match MANIFEST.tsv (pixels_sha256)")
    return img


# --------------------------------------------------------------------------- the study split
def study_split(y, official_train, train_size, test_size, seed=SPLIT_SEED):
    """(train, test): sorted, disjoint indices into a pool, seeded. Train: ``train_size`` official training
    images, as evenly across classes as they allow; test: ``test_size`` (None: all) of the rest, likewise."""
    y, rng = np.asarray(y), np.random.default_rng(seed)
    candidates = np.flatnonzero(official_train)
    if train_size > len(candidates):
        raise BadValue("train_size", f"= {train_size} but the pool holds only {len(candidates)} official training "
                                     "images")
    train = _balanced(candidates, y, train_size, rng)
    rest = np.setdiff1d(np.arange(len(y)), train)
    if test_size is not None and test_size > len(rest):
        raise BadValue("test_size", f"= {test_size} but only {len(rest)} images are left after the training split")
    test = rest if test_size is None else _balanced(rest, y, test_size, rng)
    missing = np.setdiff1d(np.unique(y), y[test])
    if missing.size:
        raise BadValue("test_size", f"= {test_size} leaves class {int(missing[0])} without a test image")
    return train, test


def _balanced(candidates, y, n, rng):
    """``n`` of ``candidates`` at random, as evenly across classes as they allow (ties to a seeded class
    order), sorted."""
    shuffled = rng.permutation(candidates)
    labels = y[shuffled]
    rank = np.empty(len(shuffled), np.int64)
    for c in np.unique(labels):
        at = labels == c
        rank[at] = np.arange(at.sum())
    class_order = rng.permutation(int(y.max()) + 1)
    return np.sort(shuffled[np.lexsort((class_order[labels], rank))[:n]])
