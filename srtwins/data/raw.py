"""The fetch stage's work: CIFAR-10, the SR sets and DIV2K into data/raw/, from a mirror or by download."""
from functools import partial

from srtwins import paths
from srtwins.data import div2k, fetch
from srtwins.io import atomic_dir, save_npy, write_png


def fetch_all(cfg):
    """Every dataset into data/raw/ (one atomic folder), from the mirror or the canonical URLs, verified."""
    dl, div2k_scales = dict(retries=cfg.retries, timeout=cfg.timeout_s), list(cfg.div2k_scales)
    if cfg.mirror:
        cifar_dir = fetch.cifar10_folder_from_mirror(cfg.mirror)
        reader = partial(fetch.mirror_reader, cfg.mirror)
        put_div2k = div2k.from_mirror(cfg.mirror, div2k_scales)
    else:
        cifar_dir = fetch.cifar10_folder_from_download(paths.DOWNLOADS, **dl)
        reader = partial(fetch.download_reader, paths.DOWNLOADS, **dl)
        put_div2k = div2k.from_download(paths.DOWNLOADS, div2k_scales, **dl)

    with atomic_dir(paths.RAW) as tmp:
        x_train, y_train, x_test, y_test, classes = fetch.load_cifar10(cifar_dir, cfg.train_size, cfg.test_size)
        cifar = tmp / paths.CIFAR
        for (prefix, split), arr in zip([("x", "train"), ("y", "train"), ("x", "test"), ("y", "test")],
                                        [x_train, y_train, x_test, y_test]):
            save_npy(paths.array(cifar, split, prefix), arr)
        (cifar / "classes.txt").write_text("\n".join(classes) + "\n")
        for name in paths.IMAGE_SETS:
            images = fetch.load_image_set(name, reader(name), limit=cfg.images_per_set)
            (tmp / name).mkdir()
            for stem, img in images.items():
                write_png(tmp / name / f"{stem}.png", img)
            print(f"{name}: {len(images)} images")
        print(f"cifar10: {len(y_train)} train, {len(y_test)} test images")
        put_div2k(tmp / paths.DIV2K)
        print(f"div2k: HR and bicubic LR x{', x'.join(map(str, div2k_scales))}" if div2k_scales
              else "div2k: not fetched")
