"""super_resolve: run one trained SR net over the SR test sets and CIFAR-10 (``--run`` names an sr.runs entry).

data/sr/<run>/{set5,set14,bsd100}/*.png, data/sr/<run>/cifar10/x_{train,test}.npy (from the LR
images), and for the runs ``classify.hr_sr`` names, data/sr/<run>/cifar10/hr_x_*.npy (the native 32x32
images super-resolved). data/sr/<run>/speed.json holds the measured inference images/s.
"""
import argparse
import json
import time

from srtwins import cli, config, paths
from srtwins.config import sr, twins
from srtwins.io import atomic_dir, load_npy, read_image_dir, write_png
from srtwins.sr.infer import load_model, predict_uint8
from srtwins.sr.superres import super_resolve_array


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", required=True)
    params = config.load()
    run = sr.run(params, parser.parse_args().run)
    hr_sr = run.name in twins.hr_sr_names(params)  # the native images super-resolved only where an arm reads them
    batch = sr.infer_batch(params)
    model = load_model(paths.sr_model(run.name))
    s = run.scale
    speed = {}
    with atomic_dir(paths.sr(run.name)) as out:
        for name in paths.TEST_SETS:
            (out / name).mkdir(parents=True)
            start = time.perf_counter()
            images = read_image_dir(paths.lr(s, name))
            for stem, lr in images.items():
                write_png(out / name / f"{stem}.png", predict_uint8(model, lr[None])[0])
            speed[f"{name}_images_per_s"] = round(len(images) / (time.perf_counter() - start), 2)
        for split in paths.SPLITS:
            lr = load_npy(paths.array(paths.lr(s, paths.CIFAR), split))
            rate = super_resolve_array(model, lr, s, paths.array(out / paths.CIFAR, split), batch, f"cifar10 {split}")
            speed[f"cifar10_{split}_images_per_s"] = round(rate, 1)
            if hr_sr:
                hr = load_npy(paths.array(paths.raw(paths.CIFAR), split))
                super_resolve_array(model, hr, s, paths.array(out / paths.CIFAR, split, "hr_x"), batch,
                                    f"cifar10 hr {split}")
        (out / "speed.json").write_text(json.dumps(speed, indent=2) + "\n")
    print(run.name, speed)


if __name__ == "__main__":
    cli.run(main)
