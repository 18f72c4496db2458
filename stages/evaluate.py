"""evaluate: score the interpolation baselines and every trained SR net on Set5, Set14, BSD100, CIFAR-10 test.

metrics/sr.json: {dataset: {x{s}: {method: {psnr_y, ssim_y, psnr_rgb, ssim_rgb, mse_rgb}}}}
metrics/sr_nets.json: per run: parameters, GFLOPs per output megapixel, inference images/s, training summary
metrics/sr_per_image.csv: every SR test image, every method and scale (CIFAR-10 test images:
data/scores/sr_per_image_cifar10.csv, a DVC-cached output)
plots/sr_triplets/<run>.png (LR | bicubic | SR | HR), plots/sr_psnr_vs_params.png
"""
import json
from pathlib import Path

import pandas as pd

from srtwins import cli, srconfig
from srtwins import evaluate as E
from srtwins import params as P
from srtwins import plots
from srtwins.imresize import modcrop
from srtwins.metrics import mean_scores, score
from srtwins.io import atomic_file, load_npy, read_image, read_image_dir, write_json

RAW, LR, SR = Path("data/raw"), Path("data/lr"), Path("data/sr")
SHOW = {"set5": ["butterfly", "bird"], "set14": ["comic"], "bsd100": ["img_005_SRF_2_HR"]}


def main():
    params = P.load()
    scales = P.scales(params)
    methods = P.get_list(params, "evaluate.baselines", str, choices=E.BASELINES)
    runs = [srconfig.resolve(params, r) for r in P.get(params, "sr.runs", dict)]
    for run in runs:
        if run.scale not in scales:
            raise cli.SrtwinsError(f"params: sr.runs.{run.name} is x{run.scale}, not in degrade.scales {scales}")
    report, per_image, per_image_cifar = {}, [], []

    def add(dataset, scale, method, rows, names=None):
        report.setdefault(dataset, {}).setdefault(f"x{scale}", {})[method] = mean_scores(rows)
        target = per_image if dataset != "cifar10" else per_image_cifar
        names = names if names is not None else range(len(rows))
        target.extend(dict(dataset=dataset, scale=scale, method=method, image=k, **r) for k, r in zip(names, rows))

    hr_sets = {name: read_image_dir(RAW / name) for name in E.TEST_SETS}
    for name, hr in hr_sets.items():
        for s in scales:
            lr = read_image_dir(LR / f"x{s}" / name)
            for m in methods:
                add(name, s, m, E.baseline_rows([lr[k] for k in hr], list(hr.values()), s, m), list(hr))
        for run in runs:
            sr = read_image_dir(SR / run.name / name)
            add(name, run.scale, run.net, E.score_images([sr[k] for k in hr], list(hr.values()), run.scale), list(hr))
    hr = load_npy(RAW / "cifar10" / "x_test.npy")
    for s in scales:
        lr = load_npy(LR / f"x{s}" / "cifar10" / "x_test.npy")
        for m in methods:
            add("cifar10", s, m, E.cifar_baseline_rows(lr, hr, s, m))
    for run in runs:
        sr = load_npy(SR / run.name / "cifar10" / "x_test.npy")
        add("cifar10", run.scale, run.net, E.score_images(sr, hr, run.scale))

    nets_report = describe_nets(runs)
    write_json("metrics/sr.json", report)
    write_json("metrics/sr_nets.json", nets_report)
    with atomic_file("metrics/sr_per_image.csv") as tmp:
        pd.DataFrame(per_image).round(6).to_csv(tmp, index=False)
    with atomic_file("data/scores/sr_per_image_cifar10.csv") as tmp:  # large at full scale: DVC-cached, not git
        pd.DataFrame(per_image_cifar).round(6).to_csv(tmp, index=False)
    draw(runs, report, nets_report, hr_sets, hr)
    for name, by_scale in report.items():
        for s, by_method in by_scale.items():
            print(name, s, {m: round(v["psnr_y"], 2) for m, v in by_method.items()})


def describe_nets(runs):
    from srtwins.nets import flops_per_output_mpx
    from srtwins.train import load_model

    out = {}
    for run in runs:
        model = load_model(f"models/sr/{run.name}.keras")
        speed = json.loads((SR / run.name / "speed.json").read_text())
        summary = json.loads(Path(f"models/sr/{run.name}.json").read_text())
        out[run.name] = {
            "net": run.net, "scale": run.scale, "params": int(model.count_params()),
            "gflops_per_output_mpx": round(flops_per_output_mpx(model) / 1e9, 3),
            "inference_images_per_s": speed.get("cifar10_test_images_per_s"),
            "perceptual_features": summary.get("perceptual_features", "none (no perceptual term)"),
            "training": {k: v for k, v in summary.items() if k in ("train", "pretrain", "gan")},
        }
    return out


def draw(runs, report, nets_report, hr_sets, cifar_hr):
    for run in runs:
        s, rows = run.scale, []
        items = [(f"{n}/{k}", hr_sets[n][k], read_image(LR / f"x{s}" / n / f"{k}.png"), SR / run.name / n / f"{k}.png")
                 for n, ks in SHOW.items() for k in ks]
        sr_cifar = load_npy(SR / run.name / "cifar10" / "x_test.npy")
        lr_cifar = load_npy(LR / f"x{s}" / "cifar10" / "x_test.npy")
        for label, hr, lr, sr_path in items:
            hr = modcrop(hr, s)
            sr = read_image(sr_path)
            rows.append((label, _panels(lr, hr, sr, s, crop=96)))
        for i in range(2):
            rows.append((f"cifar10/test/{i}", _panels(lr_cifar[i], modcrop(cifar_hr[i], s), sr_cifar[i], s)))
        plots.triplets(rows, f"plots/sr_triplets/{run.name}.png", f"{run.net} x{s}: LR | bicubic | SR | HR")
    points = [(f"{r['net']} x{r['scale']}", r["params"], report["set5"][f"x{r['scale']}"][r["net"]]["psnr_y"])
              for r in nets_report.values()]
    base = {f"x{r.scale}": report["set5"][f"x{r.scale}"]["bicubic"]["psnr_y"] for r in runs
            if "bicubic" in report["set5"][f"x{r.scale}"]}
    plots.psnr_vs_params(points, base, "plots/sr_psnr_vs_params.png")


def _panels(lr, hr, sr, s, crop=None):
    bic = E.upscale(lr, hr.shape[:2], "bicubic")
    c = (lambda im: plots.crop(im, crop)) if crop else (lambda im: im)
    return [("LR (nearest)", c(plots.nearest_up(lr, s))),
            (f"bicubic {score(bic, hr, s)['psnr_y']:.2f} dB", c(bic)),
            (f"SR {score(sr, hr, s)['psnr_y']:.2f} dB", c(sr)),
            ("HR", c(hr))]


if __name__ == "__main__":
    cli.run(main)
