"""DIV2K's 800 training images (Agustsson & Timofte 2017): the HR and the official bicubic LR archives.

Downloaded from the ETH Zurich data server and checked against the pinned sha256 of each zip
(``srtwins/data/manifests/div2k.tsv``) before unpacking, or read from a mirror's ``div2k/`` folder (laid
out like the unpacked archives, with a MANIFEST.tsv of file sha256s). Lands in data/raw/div2k.
"""
import shutil
from dataclasses import dataclass
from pathlib import Path

from srtwins import BadValue, SrtwinsError, paths
from srtwins.data import fetch
from srtwins.io import read_tsv, write_json

BASE_URL = "https://data.vision.ee.ethz.ch/cvl/DIV2K"
MANIFEST = fetch.MANIFESTS / "div2k.tsv"
MIRROR = "div2k"  # the mirror's DIV2K folder


@dataclass(frozen=True)
class Archive:
    """One DIV2K zip: the HR images (``scale`` None) or the bicubic LR of one scale."""

    name: str
    scale: int | None
    folder: str  # the images' folder inside the archive
    images: int
    sha256: str

    def files(self):
        suffix = "" if self.scale is None else f"x{self.scale}"
        return [f"{i:04d}{suffix}.png" for i in range(1, self.images + 1)]

    def target(self):
        """Where its images go, relative to data/raw/div2k: ``hr`` or ``x{scale}``."""
        return paths.div2k(self.scale).relative_to(paths.raw(paths.DIV2K))


def archives(scales):
    """The HR archive and the bicubic LR archive of each of ``scales``; none when ``scales`` is empty."""
    by_scale = {}
    for r in read_tsv(MANIFEST):
        scale = None if r["scale"] == "-" else int(r["scale"])
        by_scale[scale] = Archive(r["archive"], scale, r["folder"], int(r["images"]), r["sha256"])
    missing = [s for s in scales if s not in by_scale]
    if missing:
        raise SrtwinsError(f"{MANIFEST}: no DIV2K archive for x{missing[0]}")
    return [by_scale[None], *(by_scale[s] for s in scales)] if scales else []


def from_download(cache, scales, **dl):
    """Download and verify the archives of ``scales`` now; return ``put(dest)``, which unpacks them there.

    Checksums are checked before anything is unpacked; a failed download is one error line."""
    wanted = archives(scales)
    downloaded = [fetch.download(f"{BASE_URL}/{a.name}", Path(cache) / MIRROR / a.name, sha256=a.sha256, **dl)
                  for a in wanted]

    def put(dest):
        dest.mkdir(parents=True)
        for a, archive in zip(wanted, downloaded):
            scratch = dest / f".{a.name}"
            fetch.safe_extract(archive, scratch)
            _check_files(scratch / a.folder, a, archive)
            (scratch / a.folder).rename(dest / a.target())
            shutil.rmtree(scratch)
        _write_index(dest, wanted, scales)

    return put


def from_mirror(mirror, scales):
    """Verify the mirror's div2k/ images of ``scales`` now; return ``put(dest)``, which copies them there.

    A mirror without a div2k/ folder cannot serve a DIV2K request (a BadValue about ``div2k``)."""
    wanted = archives(scales)
    root = Path(mirror) / MIRROR
    if wanted and not root.is_dir():
        raise BadValue("div2k", f"is true but the mirror {mirror} has no {MIRROR}/ folder (the unpacked DIV2K "
                                "archives with a MANIFEST.tsv); turn it off, or download without $SRTWINS_MIRROR")
    if wanted:
        fetch.verify_mirror_files(root, [f"{a.folder}/{name}" for a in wanted for name in a.files()])

    def put(dest):
        dest.mkdir(parents=True)
        for a in wanted:
            (dest / a.target()).mkdir()
            for name in a.files():
                shutil.copyfile(root / a.folder / name, dest / a.target() / name)
        _write_index(dest, wanted, scales)

    return put


def _check_files(folder, archive, source):
    found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    expected = archive.files()
    if found != expected:
        missing, extra = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
        what = f"no {archive.folder}/{missing[0]}" if missing else f"an unexpected {archive.folder}/{extra[0]}"
        raise SrtwinsError(f"{source}: expected the {archive.images} images {archive.folder}/{expected[0]}.."
                           f"{expected[-1]}, found {what}")


def _write_index(dest, wanted, scales):
    """``index.json``: how many images and which LR scales data/raw/div2k holds (none: not fetched).

    Always written, so that data/raw/div2k exists for the train_sr deps whether or not DIV2K was asked for."""
    write_json(dest / paths.div2k_index().name, {"images": wanted[0].images if wanted else 0, "scales": list(scales)})
