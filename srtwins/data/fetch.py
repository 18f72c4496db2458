"""Download, verify and unpack, from the web or a local mirror; and the SR benchmark sets, verified by content.

Set5, Set14, BSD100 and T91 come file by file from public repositories pinned to a commit; each image is
checked by the sha256 of its decoded pixels (``srtwins/data/manifests``), so a re-encoded copy of the same
pixels passes. A local mirror is a folder laid out like the download hosts' content (see README); each of its
folders is checked against its own MANIFEST.tsv. CIFAR-10 is ``srtwins/data/cifar.py``.
"""
import hashlib
import stat
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from srtwins import SrtwinsError
from srtwins.io import atomic_dir, decode_image, read_tsv

_GH = "https://raw.githubusercontent.com"
# Where each SR set is downloaded from (a commit-pinned folder), and its folder in a mirror.
IMAGE_SET_URLS = {
    "set5": f"{_GH}/majedelhelou/denoising_datasets/58234876fef6f1b56306705c78dfd40cdb837b86/CSet5",
    "set14": f"{_GH}/majedelhelou/denoising_datasets/58234876fef6f1b56306705c78dfd40cdb837b86/CSet14",
    "bsd100": f"{_GH}/jbhuang0604/SelfExSR/8f6dd8c1d20cb7e8792a7177b4f6fd677633f598/data/BSD100/image_SRF_2",
    "t91": f"{_GH}/tegg89/SRCNN-Tensorflow/78be1a24697935fc39a3a8cf59a6632264afade7/Train",
}
MANIFESTS = Path(__file__).with_name("manifests")


@dataclass(frozen=True)
class ManifestRow:
    path: str
    shape: tuple
    pixels_sha256: str


def read_manifest(path):
    """Rows of a manifest TSV (path, array_shape, pixels_sha256; extra columns ignored)."""
    rows = read_tsv(path, "manifest not found")
    return [ManifestRow(r["path"], _shape(r.get("array_shape", "-")), r.get("pixels_sha256", "-")) for r in rows]


def _shape(text):
    return tuple(int(v) for v in text.split("x")) if text and text != "-" else ()


def file_digest(path, algo="sha256"):
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def pixels_sha256(img):
    return hashlib.sha256(np.ascontiguousarray(img).tobytes()).hexdigest()


# --------------------------------------------------------------------------- download
def download(url, dest, *, md5=None, sha256=None, retries=3, timeout=60.0, backoff=1.0, progress=True):
    """Download ``url`` to ``dest`` atomically, verifying md5/sha256 when given.

    Network errors and checksum mismatches are retried ``retries`` times with exponential
    backoff; HTTP 4xx is not retried. A partial file never lands at ``dest``.
    """
    dest = Path(dest)
    if dest.is_file() and _matches(dest, md5, sha256):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    last = None
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            _stream(url, part, timeout, progress)
        except urllib.error.HTTPError as e:
            part.unlink(missing_ok=True)
            last = f"HTTP {e.code}"
            if 400 <= e.code < 500:
                break
            continue
        except (urllib.error.URLError, OSError, TimeoutError) as e:
            part.unlink(missing_ok=True)
            last = str(getattr(e, "reason", e))
            continue
        if _matches(part, md5, sha256):
            part.replace(dest)
            return dest
        part.unlink(missing_ok=True)
        last = "checksum mismatch"
    raise SrtwinsError(f"{url}: download failed after {attempt + 1} attempt(s): {last}")


def _stream(url, part, timeout, progress):
    req = urllib.request.Request(url, headers={"User-Agent": "srtwins"})
    with urllib.request.urlopen(req, timeout=timeout) as resp, open(part, "wb") as out:
        total = int(resp.headers.get("Content-Length") or 0)
        expected = total or None
        with tqdm(total=expected, unit="B", unit_scale=True, desc=Path(url).name, disable=not progress) as bar:
            got = 0
            for chunk in iter(lambda: resp.read(1 << 16), b""):
                out.write(chunk)
                got += len(chunk)
                bar.update(len(chunk))
    if expected and got != expected:
        raise OSError(f"truncated transfer ({got} of {expected} bytes)")


def _matches(path, md5, sha256):
    return (md5 is None or file_digest(path, "md5") == md5) and (
        sha256 is None or file_digest(path, "sha256") == sha256
    )


# --------------------------------------------------------------------------- archives
def safe_extract(archive, dest):
    """Unpack a tar or zip archive into ``dest`` whole or not at all (a temp folder, then renamed).

    Every member is checked first: links, devices and members landing outside ``dest`` are refused.
    """
    dest = Path(dest)
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as z:
                _check_members(archive, dest, [(m.filename, _zip_kind(m)) for m in z.infolist()])
                with atomic_dir(dest) as tmp:
                    z.extractall(tmp)
        else:
            with tarfile.open(archive) as tar:
                members = tar.getmembers()
                kinds = ["file" if m.isfile() else "dir" if m.isdir() else "other" for m in members]
                _check_members(archive, dest, [(m.name, k) for m, k in zip(members, kinds)])
                with atomic_dir(dest) as tmp:
                    tar.extractall(tmp, members=members, filter="data")
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as e:
        raise SrtwinsError(f"{archive}: cannot unpack ({e})") from None


def _zip_kind(info):
    kind = stat.S_IFMT(info.external_attr >> 16)  # the Unix file type, when the archiver recorded one
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "other"
    return "dir" if info.is_dir() else "file"


def _check_members(archive, dest, members):
    dest = dest.resolve()
    for name, kind in members:
        if kind == "other":
            raise SrtwinsError(f"{archive}: member {name!r} is not a regular file or folder")
        target = (dest / name).resolve()
        if target != dest and dest not in target.parents:
            raise SrtwinsError(f"{archive}: member {name!r} would land outside {dest}")


# --------------------------------------------------------------------------- mirrors
def verify_mirror_files(root, rels):
    """Check each file ``rels`` (paths under ``root``) against the sha256 of ``root/MANIFEST.tsv``.

    A mirror folder carries its own manifest, so a corrupt or partial copy is refused by name."""
    manifest = Path(root) / "MANIFEST.tsv"
    expected = {r["path"]: r["sha256"] for r in read_tsv(manifest, "mirror manifest not found")}
    for rel in tqdm(rels, desc=Path(root).name, unit="file", leave=False, disable=len(rels) < 100):
        path = Path(root) / rel
        if rel not in expected:
            raise SrtwinsError(f"{manifest}: no entry for {rel}")
        if not path.is_file():
            raise SrtwinsError(f"{path}: missing from the mirror")
        if file_digest(path) != expected[rel]:
            raise SrtwinsError(f"{path}: checksum mismatch against {manifest}")


def verify_pinned(path, sha256):
    """Check one file against the sha256 pinned in the code: a missing, corrupt or other version is refused."""
    if not Path(path).is_file():
        raise SrtwinsError(f"{path}: missing from the mirror")
    if file_digest(path) != sha256:
        raise SrtwinsError(f"{path}: checksum mismatch against the pinned sha256 {sha256[:12]}...")


# --------------------------------------------------------------------------- SR image sets
def load_image_set(name, read_bytes, manifest=None, limit=None):
    """Decode and verify every image of an SR set (the first ``limit`` in manifest order, if given);
    ``read_bytes(filename) -> bytes``. Returns {stem: uint8 array}; grayscale images stay single-channel."""
    rows = read_manifest(manifest or MANIFESTS / f"{name}.tsv")[:limit]
    images = {}
    for row in tqdm(rows, desc=name, unit="img", leave=False):
        img = decode_image(read_bytes(row.path), f"{name}/{row.path}")
        if row.shape and img.shape != row.shape:
            raise SrtwinsError(f"{name}/{row.path}: decoded shape {img.shape}, expected {row.shape}")
        if row.pixels_sha256 not in ("", "-") and pixels_sha256(img) != row.pixels_sha256:
            raise SrtwinsError(f"{name}/{row.path}: pixel checksum mismatch (corrupt or a different image)")
        images[Path(row.path).stem] = img
    return images


def mirror_reader(mirror, name):
    root = Path(mirror) / name

    def read(filename):
        path = root / filename
        try:
            return path.read_bytes()
        except OSError:
            raise SrtwinsError(f"{path}: missing from the mirror") from None

    return read


def download_reader(cache, name, **dl):
    def read(filename):
        return download(f"{IMAGE_SET_URLS[name]}/{filename}", Path(cache) / name / filename, **dl).read_bytes()

    return read
