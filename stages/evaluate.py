"""evaluate: score the interpolation baselines and every trained SR net on Set5, Set14, BSD100, CIFAR-10 test.

CIFAR-10 (key ``cifar10``) is scored on data/raw/cifar10_exact: the pixel-exact official binary test images, not
the study's JPEG-decoded ones (the mirror's 1,017; the download's 10,000).

metrics/sr.json: {dataset: {x{s}: {method: {psnr_y, ssim_y, psnr_rgb, ssim_rgb, mse_rgb}}}}
metrics/sr_nets.json: per run: parameters, GFLOPs per output megapixel, training length (science, diffable)
metrics/sr_speed.json: per run: measured inference images/s and training seconds (a plot, not a metric:
timings differ between machines and must not show up in `dvc metrics diff`)
metrics/sr_per_image.csv: every SR test image, every method and scale (CIFAR-10 test images:
data/scores/sr_per_image_cifar10.csv, a DVC-cached output)
plots/sr_triplets/<run>.png (LR | bicubic | SR | HR), plots/sr_psnr_vs_params.png
"""
import pandas as pd

from srtwins import cli, config, paths
from srtwins.config import sr
from srtwins.io import atomic_file, write_json
from srtwins.report import plots
from srtwins.sr import scoring


def main():
    wanted, methods, runs = sr.evaluation(config.load(), scoring.BASELINES)
    images = scoring.load_images(wanted, runs)
    rows, report = scoring.score_all(images, wanted, methods, runs)
    nets, speed = scoring.describe_nets(runs)
    write_json(paths.METRICS / "sr.json", report)
    write_json(paths.METRICS / "sr_nets.json", nets)
    write_json(paths.METRICS / "sr_speed.json", speed)
    for name, selected in [("metrics/sr_per_image.csv", [r for r in rows if r["dataset"] != paths.CIFAR]),
                           ("data/scores/sr_per_image_cifar10.csv", [r for r in rows if r["dataset"] == paths.CIFAR])]:
        with atomic_file(name) as tmp:  # the CIFAR-10 rows are large at full scale: DVC-cached, not git
            pd.DataFrame(selected).round(6).to_csv(tmp, index=False)
    plots.sr_figures(runs, report, nets, images)
    for name, by_scale in report.items():
        for s, by_method in by_scale.items():
            print(name, s, {m: round(v["psnr_y"], 2) for m, v in by_method.items()})


if __name__ == "__main__":
    cli.run(main)
