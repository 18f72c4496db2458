"""degrade: MATLAB-compatible bicubic LR copies of every HR image, at every scale in params.

data/lr/x{s}/{set}/{name}.png for the SR sets, data/lr/x{s}/cifar10/x_{train,test}.npy (the study) and
data/lr/x{s}/cifar10_exact/x_test.npy (the pixel-exact test images SR quality is scored on).
"""
from tqdm import tqdm

from srtwins import cli, config, paths
from srtwins.data.imresize import degrade
from srtwins.io import atomic_dir, load_npy, map_batches, read_image_dir, save_npy, write_png


def main():
    wanted = config.scales(config.load())
    sets = {name: read_image_dir(paths.raw(name)) for name in paths.IMAGE_SETS}
    cifar = {(name, split): load_npy(paths.array(paths.raw(name), split)) for name, split in paths.CIFAR_ARRAYS}
    with atomic_dir(paths.LR) as tmp:
        for s in wanted:
            for name, images in sets.items():
                folder = tmp / paths.lr(s, name).relative_to(paths.LR)
                folder.mkdir(parents=True)
                for stem, hr in tqdm(images.items(), desc=f"{name} x{s}", leave=False):
                    write_png(folder / f"{stem}.png", degrade(hr, s))
            for (name, split), x in cifar.items():
                target = paths.array(paths.lr(s, name), split).relative_to(paths.LR)
                save_npy(tmp / target, degrade_batches(x, s))
            print(f"x{s}: done")


def degrade_batches(x, scale, batch=2048):
    def one(images):
        return degrade(images, scale, batched=True)

    return map_batches(one, x, batch)


if __name__ == "__main__":
    cli.run(main)
