"""evaluate: score the interpolation baselines and every trained SR net on Set5, Set14, BSD100, CIFAR-10 test.

metrics/sr.json: {dataset: {x{s}: {method: {psnr_y, ssim_y, psnr_rgb, ssim_rgb, mse_rgb}}}}
metrics/sr_nets.json: per run: parameters, GFLOPs per output megapixel, training length (science, diffable)
metrics/sr_speed.json: per run: measured inference images/s and training seconds (a plot, not a metric:
timings differ between machines and must not show up in `dvc metrics diff`)
metrics/sr_per_image.csv: every SR test image, every method and scale (CIFAR-10 test images:
data/scores/sr_per_image_cifar10.csv, a DVC-cached output)
plots/sr_triplets/<run>.png (LR | bicubic | SR | HR), plots/sr_psnr_vs_params.png
"""
import json

import pandas as pd

from srtwins import SrtwinsError, cli, paths
from srtwins.config import get_list, load, run_names, scales
from srtwins.data.imresize import modcrop
from srtwins.io import atomic_file, load_npy, read_image_dir, write_json
from srtwins.report import plots
from srtwins.sr import scoring, srconfig
from srtwins.sr.flops import flops_per_output_mpx
from srtwins.sr.infer import load_model
from srtwins.sr.quality import mean_scores, score

SHOW = {"set5": ["butterfly", "bird"], "set14": ["comic"], "bsd100": ["img_005_SRF_2_HR"]}


def main():
    params = load()
    wanted = scales(params)
    methods = get_list(params, "evaluate.baselines", str, choices=scoring.BASELINES)
    runs = [srconfig.resolve(params, r) for r in run_names(params)]
    for run in runs:
        if run.scale not in wanted:
            raise SrtwinsError(f"params: run {run.name} is x{run.scale}, not in degrade.scales {wanted}")
    images = load_images(wanted, runs)
    rows = score_sets(images, wanted, methods, runs) + score_cifar(images, wanted, methods, runs)
    report = {}
    for (dataset, s, method), group in group_rows(rows).items():
        report.setdefault(dataset, {}).setdefault(f"x{s}", {})[method] = mean_scores(group)
    nets, speed = describe_nets(runs)
    write_json(paths.METRICS / "sr.json", report)
    write_json(paths.METRICS / "sr_nets.json", nets)
    write_json(paths.METRICS / "sr_speed.json", speed)
    for name, selected in [("metrics/sr_per_image.csv", [r for r in rows if r["dataset"] != paths.CIFAR]),
                           ("data/scores/sr_per_image_cifar10.csv", [r for r in rows if r["dataset"] == paths.CIFAR])]:
        with atomic_file(name) as tmp:  # the CIFAR-10 rows are large at full scale: DVC-cached, not git
            pd.DataFrame(selected).round(6).to_csv(tmp, index=False)
    draw(runs, report, nets, images)
    for name, by_scale in report.items():
        for s, by_method in by_scale.items():
            print(name, s, {m: round(v["psnr_y"], 2) for m, v in by_method.items()})


def load_images(wanted, runs):
    """Every image the scores and figures need, read once: {(kind, dataset, scale or run): images}."""
    images = {("hr", name, None): read_image_dir(paths.raw(name)) for name in paths.TEST_SETS}
    images |= {("lr", name, s): read_image_dir(paths.lr(s, name)) for name in paths.TEST_SETS for s in wanted}
    images |= {("sr", name, r.name): read_image_dir(paths.sr(r.name, name)) for name in paths.TEST_SETS for r in runs}
    images[("hr", paths.CIFAR, None)] = load_npy(paths.array(paths.raw(paths.CIFAR), "test"))
    images |= {("lr", paths.CIFAR, s): load_npy(paths.array(paths.lr(s, paths.CIFAR), "test")) for s in wanted}
    images |= {("sr", paths.CIFAR, r.name): load_npy(paths.array(paths.sr(r.name, paths.CIFAR), "test")) for r in runs}
    return images


def _rows(dataset, scale, method, scores, names):
    return [dict(dataset=dataset, scale=scale, method=method, image=k, **r) for k, r in zip(names, scores)]


def score_sets(images, wanted, methods, runs):
    """Per-image rows for Set5, Set14 and BSD100: every baseline at every scale, every run at its scale."""
    rows = []
    for name in paths.TEST_SETS:
        hr = images[("hr", name, None)]
        for s in wanted:
            lr = images[("lr", name, s)]
            for m in methods:
                rows += _rows(name, s, m, scoring.baseline_rows([lr[k] for k in hr], list(hr.values()), s, m), hr)
        for run in runs:
            sr = images[("sr", name, run.name)]
            rows += _rows(name, run.scale, run.net,
                          scoring.score_images([sr[k] for k in hr], list(hr.values()), run.scale), hr)
    return rows


def score_cifar(images, wanted, methods, runs):
    """Per-image rows for the CIFAR-10 test images, likewise."""
    hr = images[("hr", paths.CIFAR, None)]
    rows = []
    for s in wanted:
        for m in methods:
            scores = scoring.cifar_baseline_rows(images[("lr", paths.CIFAR, s)], hr, s, m)
            rows += _rows(paths.CIFAR, s, m, scores, range(len(scores)))
    for run in runs:
        scores = scoring.score_images(images[("sr", paths.CIFAR, run.name)], hr, run.scale)
        rows += _rows(paths.CIFAR, run.scale, run.net, scores, range(len(scores)))
    return rows


def group_rows(rows):
    """{(dataset, scale, method): [score rows]}, in first-seen order."""
    groups = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["scale"], r["method"]), []).append(r)
    return groups


def describe_nets(runs):
    """(science, timings) per run: parameters, FLOPs and training length; measured speeds apart."""
    nets, speed = {}, []
    for run in runs:
        model = load_model(paths.sr_model(run.name))
        measured = json.loads((paths.sr(run.name) / "speed.json").read_text())
        summary = json.loads(paths.sr_summary(run.name).read_text())
        phases = {k: v for k, v in summary.items() if k in ("train", "pretrain", "gan")}
        steps = run.gan["steps_per_epoch"] if run.generator else run.train["steps_per_epoch"]
        nets[run.name] = {
            "net": run.net, "scale": run.scale, "params": int(model.count_params()), "arch": run.arch,
            "generator": run.generator, "steps_per_epoch": steps,
            "gflops_per_output_mpx": round(flops_per_output_mpx(model) / 1e9, 3),
            "perceptual_features": summary.get("perceptual_features", "none (no perceptual term)"),
            "training": {k: {f: v for f, v in p.items() if f != "train_seconds"} for k, p in phases.items()},
        }
        speed.append({"run": run.name, "inference_images_per_s": measured.get("cifar10_test_images_per_s"),
                      "train_seconds": round(sum(p.get("train_seconds", 0) for p in phases.values()), 1)})
    return nets, speed


def draw(runs, report, nets, images):
    """Triplet figures of each run (from the images already loaded) and PSNR against parameters."""
    for run in runs:
        s, rows = run.scale, []
        for name, stems in SHOW.items():
            for k in [k for k in stems if k in images[("hr", name, None)]]:  # fetch.images_per_set may leave some out
                hr = modcrop(images[("hr", name, None)][k], s)
                lr, sr = images[("lr", name, s)][k], images[("sr", name, run.name)][k]
                rows.append((f"{name}/{k}", _panels(lr, hr, sr, s, crop=96)))
        for i in range(2):
            hr = modcrop(images[("hr", paths.CIFAR, None)][i], s)
            lr, sr = images[("lr", paths.CIFAR, s)][i], images[("sr", paths.CIFAR, run.name)][i]
            rows.append((f"cifar10/test/{i}", _panels(lr, hr, sr, s)))
        plots.triplets(rows, paths.PLOTS / "sr_triplets" / f"{run.name}.png", f"{run.net} x{s}: LR | bicubic | SR | HR")
    points = [(f"{r['net']} x{r['scale']}", r["params"], report["set5"][f"x{r['scale']}"][r["net"]]["psnr_y"])
              for r in nets.values()]
    base = {f"x{r.scale}": report["set5"][f"x{r.scale}"]["bicubic"]["psnr_y"] for r in runs
            if "bicubic" in report["set5"][f"x{r.scale}"]}
    plots.psnr_vs_params(points, base, paths.PLOTS / "sr_psnr_vs_params.png")


def _panels(lr, hr, sr, s, crop=None):
    bic = scoring.upscale(lr, hr.shape[:2], "bicubic")
    def c(im):
        return plots.crop(im, crop) if crop else im

    return [("LR (nearest)", c(plots.nearest_up(lr, s))),
            (f"bicubic {score(bic, hr, s)['psnr_y']:.2f} dB", c(bic)),
            (f"SR {score(sr, hr, s)['psnr_y']:.2f} dB", c(sr)),
            ("HR", c(hr))]


if __name__ == "__main__":
    cli.run(main)
