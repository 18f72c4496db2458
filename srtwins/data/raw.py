"""The fetch stage's work: CIFAR-10, the SR sets and DIV2K into data/raw/, from a mirror or by download."""
from functools import partial

import numpy as np

from srtwins import paths
from srtwins.data import cifar, div2k, fetch
from srtwins.io import atomic_dir, save_npy, write_json, write_png


def fetch_all(cfg):
    """Every dataset into data/raw/ (one atomic folder), from the mirror or the canonical URLs, verified.

    The study's CIFAR-10 pool: the mirror's JPEG export (60,000), or the official binary download."""
    dl, div2k_scales = dict(retries=cfg.retries, timeout=cfg.timeout_s), list(cfg.div2k_scales)
    if cfg.mirror:
        exact_dir = cifar.binary_folder_from_mirror(cfg.mirror)
        reader = partial(fetch.mirror_reader, cfg.mirror)
        put_div2k = div2k.from_mirror(cfg.mirror, div2k_scales)
        open_pool = partial(cifar.jpeg_pool, cfg.mirror)
    else:
        exact_dir = cifar.binary_folder_from_download(paths.DOWNLOADS, **dl)
        reader = partial(fetch.download_reader, paths.DOWNLOADS, **dl)
        put_div2k = div2k.from_download(paths.DOWNLOADS, div2k_scales, **dl)
        open_pool = partial(cifar.binary_pool, exact_dir)

    with atomic_dir(paths.RAW) as tmp:
        put_exact(tmp / paths.CIFAR_EXACT, exact_dir)
        pool = open_pool()
        split = cifar.study_split(pool.labels, pool.official_train, cfg.train_size, cfg.test_size)  # sizes first
        put_image_sets(tmp, reader, cfg.images_per_set)
        put_study(tmp / paths.CIFAR, pool, *split)
        put_div2k(tmp / paths.DIV2K)
        print(f"div2k: HR and bicubic LR x{', x'.join(map(str, div2k_scales))}" if div2k_scales
              else "div2k: not fetched")


def put_image_sets(folder, reader, limit):
    """Set5, Set14, BSD100 and T91 (the first ``limit`` images of each, if given) as PNGs under ``folder``."""
    for name in paths.IMAGE_SETS:
        images = fetch.load_image_set(name, reader(name), limit=limit)
        (folder / name).mkdir()
        for stem, img in images.items():
            write_png(folder / name / f"{stem}.png", img)
        print(f"{name}: {len(images)} images")


def put_exact(folder, binary_dir):
    """The binary folder's official test images, pixel-exact: {x,y}_test.npy in ``folder``."""
    x, y, official_train, _ = cifar.read_binary(binary_dir)
    save_npy(paths.array(folder, "test"), x[~official_train])
    save_npy(paths.array(folder, "test", "y"), y[~official_train])
    print(f"{paths.CIFAR_EXACT}: {int((~official_train).sum())} pixel-exact test images")


def put_study(folder, pool, train, test):
    """The study's images of ``pool`` (``train``, ``test``: indices): {x,y}_{train,test}.npy, classes.txt and
    source.json in ``folder``."""
    images = pool.load(np.concatenate([train, test]))  # one pass over the source
    for split, idx, x in [("train", train, images[: len(train)]), ("test", test, images[len(train) :])]:
        save_npy(paths.array(folder, split), x)
        save_npy(paths.array(folder, split, "y"), pool.labels[idx])
    (folder / "classes.txt").write_text("\n".join(pool.classes) + "\n")
    write_json(folder / "source.json", {"source": pool.source, "pool": len(pool.labels), "train": len(train),
                                        "test": len(test), "seed": cifar.SPLIT_SEED})
    print(f"{paths.CIFAR}: {len(train)} train, {len(test)} test images of {len(pool.labels)} ({pool.source})")
