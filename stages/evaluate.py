"""evaluate: score interpolation baselines on Set5, Set14, BSD100 and CIFAR-10 test.

Writes metrics/sr.json ({dataset: {x{s}: {method: {psnr_y, ssim_y, psnr_rgb, ssim_rgb,
mse_rgb}}}}) and per-image scores for the SR test sets in metrics/sr_per_image.csv.
"""
from pathlib import Path

import pandas as pd

from srtwins import cli
from srtwins import evaluate as E
from srtwins import params as P
from srtwins.io import atomic_file, load_npy, read_image_dir, write_json

RAW, LR = Path("data/raw"), Path("data/lr")


def main():
    params = P.load()
    scales = P.scales(params)
    methods = P.get_list(params, "evaluate.baselines", str, choices=E.BASELINES)
    report, per_image = {}, []
    for name in E.TEST_SETS:
        hr = read_image_dir(RAW / name)
        for s in scales:
            lr = read_image_dir(LR / f"x{s}" / name)
            for m in methods:
                rows = E.baseline_rows([lr[k] for k in hr], list(hr.values()), s, m)
                report.setdefault(name, {}).setdefault(f"x{s}", {})[m] = E.summarize(rows)
                per_image += [dict(dataset=name, scale=s, method=m, image=k, **r) for k, r in zip(hr, rows)]
    hr = load_npy(RAW / "cifar10" / "x_test.npy")
    for s in scales:
        lr = load_npy(LR / f"x{s}" / "cifar10" / "x_test.npy")
        for m in methods:
            rows = E.cifar_baseline_rows(lr, hr, s, m)
            report.setdefault("cifar10", {}).setdefault(f"x{s}", {})[m] = E.summarize(rows)
    write_json("metrics/sr.json", report)
    with atomic_file("metrics/sr_per_image.csv") as tmp:
        pd.DataFrame(per_image).round(6).to_csv(tmp, index=False)
    for name, by_scale in report.items():
        for s, by_method in by_scale.items():
            print(name, s, {m: round(v["psnr_y"], 2) for m, v in by_method.items()})


if __name__ == "__main__":
    cli.run(main)
