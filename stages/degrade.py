"""degrade: MATLAB-compatible bicubic LR copies of every HR image, at every scale in params.

data/lr/x{s}/{set}/{name}.png for the SR sets, data/lr/x{s}/cifar10/x_{train,test}.npy.
"""
from pathlib import Path

import numpy as np
from tqdm import tqdm

from srtwins import cli
from srtwins import params as P
from srtwins.imresize import degrade
from srtwins.io import atomic_dir, load_npy, read_image_dir, save_npy, write_png

RAW, OUT = Path("data/raw"), Path("data/lr")
SR_SETS = ("set5", "set14", "bsd100", "t91")


def main():
    scales = P.scales(P.load())
    sets = {name: read_image_dir(RAW / name) for name in SR_SETS}
    cifar = {split: load_npy(RAW / "cifar10" / f"x_{split}.npy") for split in ("train", "test")}
    with atomic_dir(OUT) as tmp:
        for s in scales:
            for name, images in sets.items():
                (tmp / f"x{s}" / name).mkdir(parents=True)
                for stem, hr in tqdm(images.items(), desc=f"{name} x{s}", leave=False):
                    write_png(tmp / f"x{s}" / name / f"{stem}.png", degrade(hr, s))
            for split, x in cifar.items():
                save_npy(tmp / f"x{s}" / "cifar10" / f"x_{split}.npy", degrade_batches(x, s))
            print(f"x{s}: done")


def degrade_batches(x, scale, batch=2048):
    return np.concatenate([degrade(x[i : i + batch], scale, batched=True) for i in range(0, len(x), batch)])


if __name__ == "__main__":
    cli.run(main)
