"""The fetch stage's params: where the data comes from and how much of it."""
import os
from dataclasses import dataclass
from pathlib import Path

from srtwins import SrtwinsError
from srtwins.config import get, scales

KEYS = {"train_size": "cifar.train_size", "test_size": "cifar.test_size", "div2k": "fetch.div2k"}


@dataclass(frozen=True)
class Fetch:
    mirror: Path | None  # a folder laid out like the mirror, or None: the canonical URLs
    train_size: int  # the study's training images, drawn from the official training images
    test_size: int | None  # its test images, drawn from all the others; None: every one of them
    images_per_set: int | None  # None: every image of each set
    retries: int
    timeout_s: float
    div2k_scales: tuple  # empty: DIV2K not fetched


def fetch(params):
    """fetch.* and cifar.*; $SRTWINS_MIRROR, when set, overrides fetch.source and fetch.mirror."""
    source = get(params, "fetch.source", str, choices=("mirror", "download"))
    mirror = None
    if source == "mirror" or os.environ.get("SRTWINS_MIRROR"):
        mirror = Path(os.environ.get("SRTWINS_MIRROR") or get(params, "fetch.mirror", str))
        if not mirror.is_dir():
            raise SrtwinsError(f"mirror folder {mirror} does not exist (fetch.mirror or $SRTWINS_MIRROR)")
    return Fetch(mirror, train_size=get(params, "cifar.train_size", int, minimum=1),
                 test_size=get(params, "cifar.test_size", (int, type(None)), minimum=1),
                 images_per_set=get(params, "fetch.images_per_set", (int, type(None)), minimum=1),
                 retries=get(params, "fetch.retries", int, minimum=0),
                 timeout_s=get(params, "fetch.timeout_s", (int, float), minimum=1),
                 div2k_scales=tuple(scales(params)) if get(params, "fetch.div2k", bool) else ())
