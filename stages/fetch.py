"""fetch: CIFAR-10 and the SR sets into data/raw/, verified, from a local mirror or the web.

The mirror is ``fetch.mirror`` in params.yaml, or $SRTWINS_MIRROR when set.
"""
import os
from pathlib import Path

from srtwins import SrtwinsError, cli, fetch, paths
from srtwins.io import atomic_dir, save_npy, write_png
from srtwins.params import get, load


def main():
    params = load()
    source = get(params, "fetch.source", str, choices=("mirror", "download"))
    n_train = get(params, "cifar.train_size", int, minimum=1)
    n_test = get(params, "cifar.test_size", int, minimum=1)
    dl = dict(retries=get(params, "fetch.retries", int, minimum=0),
              timeout=get(params, "fetch.timeout_s", (int, float), minimum=1))
    if source == "mirror" or os.environ.get("SRTWINS_MIRROR"):
        mirror = Path(os.environ.get("SRTWINS_MIRROR") or get(params, "fetch.mirror", str))
        if not mirror.is_dir():
            raise SrtwinsError(f"mirror folder {mirror} does not exist (fetch.mirror or $SRTWINS_MIRROR)")
        cifar_dir = fetch.cifar10_folder_from_mirror(mirror)
        reader = lambda name: fetch.mirror_reader(mirror, name)  # noqa: E731
    else:
        cifar_dir = fetch.cifar10_folder_from_download(paths.DOWNLOADS, **dl)
        reader = lambda name: fetch.download_reader(paths.DOWNLOADS, name, **dl)  # noqa: E731

    with atomic_dir(paths.RAW) as tmp:
        x_train, y_train, x_test, y_test, classes = fetch.load_cifar10(cifar_dir, n_train, n_test)
        cifar = tmp / paths.CIFAR
        for (prefix, split), arr in zip([("x", "train"), ("y", "train"), ("x", "test"), ("y", "test")],
                                        [x_train, y_train, x_test, y_test]):
            save_npy(paths.array(cifar, split, prefix), arr)
        (cifar / "classes.txt").write_text("\n".join(classes) + "\n")
        for name in paths.IMAGE_SETS:
            images = fetch.load_image_set(name, reader(name))
            (tmp / name).mkdir()
            for stem, img in images.items():
                write_png(tmp / name / f"{stem}.png", img)
            print(f"{name}: {len(images)} images")
        print(f"cifar10: {len(y_train)} train, {len(y_test)} test images")


if __name__ == "__main__":
    cli.run(main)
