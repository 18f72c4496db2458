"""fetch: CIFAR-10, the SR sets and (``fetch.div2k``) DIV2K into data/raw/, verified, from a local mirror or the web.

The mirror is ``fetch.mirror`` in params.yaml, or $SRTWINS_MIRROR when set. DIV2K's LR scales are
``degrade.scales``; data/raw/div2k/index.json says what was fetched (nothing when fetch.div2k is false).
"""
import os
from functools import partial
from pathlib import Path

from srtwins import SrtwinsError, cli, paths
from srtwins.config import get, load, scales
from srtwins.data import div2k, fetch
from srtwins.io import atomic_dir, save_npy, write_png


def main():
    params = load()
    source = get(params, "fetch.source", str, choices=("mirror", "download"))
    n_train = get(params, "cifar.train_size", int, minimum=1)
    n_test = get(params, "cifar.test_size", int, minimum=1)
    per_set = get(params, "fetch.images_per_set", (int, type(None)), minimum=1)  # null: every image of each set
    dl = dict(retries=get(params, "fetch.retries", int, minimum=0),
              timeout=get(params, "fetch.timeout_s", (int, float), minimum=1))
    div2k_scales = scales(params) if get(params, "fetch.div2k", bool) else []
    if source == "mirror" or os.environ.get("SRTWINS_MIRROR"):
        mirror = Path(os.environ.get("SRTWINS_MIRROR") or get(params, "fetch.mirror", str))
        if not mirror.is_dir():
            raise SrtwinsError(f"mirror folder {mirror} does not exist (fetch.mirror or $SRTWINS_MIRROR)")
        cifar_dir = fetch.cifar10_folder_from_mirror(mirror)
        reader = partial(fetch.mirror_reader, mirror)
        put_div2k = div2k.from_mirror(mirror, div2k_scales)
    else:
        cifar_dir = fetch.cifar10_folder_from_download(paths.DOWNLOADS, **dl)
        reader = partial(fetch.download_reader, paths.DOWNLOADS, **dl)
        put_div2k = div2k.from_download(paths.DOWNLOADS, div2k_scales, **dl)

    with atomic_dir(paths.RAW) as tmp:
        x_train, y_train, x_test, y_test, classes = fetch.load_cifar10(cifar_dir, n_train, n_test)
        cifar = tmp / paths.CIFAR
        for (prefix, split), arr in zip([("x", "train"), ("y", "train"), ("x", "test"), ("y", "test")],
                                        [x_train, y_train, x_test, y_test]):
            save_npy(paths.array(cifar, split, prefix), arr)
        (cifar / "classes.txt").write_text("\n".join(classes) + "\n")
        for name in paths.IMAGE_SETS:
            images = fetch.load_image_set(name, reader(name), limit=per_set)
            (tmp / name).mkdir()
            for stem, img in images.items():
                write_png(tmp / name / f"{stem}.png", img)
            print(f"{name}: {len(images)} images")
        print(f"cifar10: {len(y_train)} train, {len(y_test)} test images")
        put_div2k(tmp / paths.DIV2K)
        print(f"div2k: HR and bicubic LR x{', x'.join(map(str, div2k_scales))}" if div2k_scales
              else "div2k: not fetched (fetch.div2k is false)")


if __name__ == "__main__":
    cli.run(main)
