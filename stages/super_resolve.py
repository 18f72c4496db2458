"""super_resolve: run one trained SR net over the SR test sets and CIFAR-10 (``--run`` names an sr.runs entry).

data/sr/<run>/{set5,set14,bsd100}/*.png, data/sr/<run>/cifar10/x_{train,test}.npy (from the LR
images), and, with ``classify.hr_sr``, data/sr/<run>/cifar10/hr_x_{train,test}.npy (the native 32x32
images super-resolved). data/sr/<run>/speed.json holds the measured inference images/s.
"""
import argparse
import json
import time
from pathlib import Path

from srtwins import cli, srconfig
from srtwins import params as P
from srtwins.evaluate import TEST_SETS
from srtwins.io import atomic_dir, load_npy, read_image_dir, write_png
from srtwins.superres import super_resolve_array
from srtwins.train import load_model, predict_uint8


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", required=True)
    params = P.load()
    run = srconfig.resolve(params, parser.parse_args().run)
    hr_sr = P.get(params, "classify.hr_sr", bool, default=False)
    batch = P.get(params, "sr.infer_batch_size", int, minimum=1, default=256)
    model = load_model(f"models/sr/{run.name}.keras")
    s = run.scale
    speed = {}
    with atomic_dir(Path("data/sr") / run.name) as out:
        for name in TEST_SETS:
            (out / name).mkdir(parents=True)
            start = time.perf_counter()
            images = read_image_dir(Path(f"data/lr/x{s}/{name}"))
            for stem, lr in images.items():
                write_png(out / name / f"{stem}.png", predict_uint8(model, lr[None])[0])
            speed[f"{name}_images_per_s"] = round(len(images) / (time.perf_counter() - start), 2)
        for split in ("train", "test"):
            lr = load_npy(f"data/lr/x{s}/cifar10/x_{split}.npy")
            rate = super_resolve_array(model, lr, s, out / "cifar10" / f"x_{split}.npy", batch, f"cifar10 {split}")
            speed[f"cifar10_{split}_images_per_s"] = round(rate, 1)
            if hr_sr:
                hr = load_npy(f"data/raw/cifar10/x_{split}.npy")
                super_resolve_array(model, hr, s, out / "cifar10" / f"hr_x_{split}.npy", batch, f"cifar10 hr {split}")
        (out / "speed.json").write_text(json.dumps(speed, indent=2) + "\n")
    print(run.name, speed)


if __name__ == "__main__":
    cli.run(main)
