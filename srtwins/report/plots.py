"""Figures: SR image triplets, PSNR against parameters, and the twin study's per-arm and per-pair charts."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from srtwins import paths  # noqa: E402
from srtwins.data.imresize import modcrop  # noqa: E402
from srtwins.io import atomic_file  # noqa: E402
from srtwins.sr import scoring  # noqa: E402
from srtwins.sr.quality import score  # noqa: E402
from srtwins.twins import stats  # noqa: E402


def save(fig, path):
    with atomic_file(path) as tmp:
        fig.savefig(tmp, dpi=90, bbox_inches="tight", format="png")
    plt.close(fig)


def triplets(rows, path, title):
    """rows: list of (label, [(caption, uint8 image), ...]) drawn as a grid (LR | bicubic | SR | HR)."""
    ncol = max(len(r[1]) for r in rows)
    fig, axes = plt.subplots(len(rows), ncol, figsize=(2.6 * ncol, 2.6 * len(rows)), squeeze=False)
    for r, (label, panels) in enumerate(rows):
        for c, (caption, img) in enumerate(panels):
            ax = axes[r, c]
            ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
            ax.set_title(caption, fontsize=8)
            ax.axis("off")
        axes[r, 0].text(-0.08, 0.5, label, transform=axes[r, 0].transAxes, rotation=90, va="center", ha="right",
                        fontsize=8)
    fig.suptitle(title, fontsize=10)
    save(fig, path)


def psnr_vs_params(points, baselines, path, dataset="set5"):
    """points: (label, params, psnr); baselines: {scale: psnr} drawn as horizontal lines."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, n_params, psnr in points:
        ax.scatter(n_params, psnr)
        ax.annotate(label, (n_params, psnr), fontsize=8, xytext=(4, 2), textcoords="offset points")
    for scale, value in baselines.items():
        ax.axhline(value, ls="--", lw=0.8, color="grey")
        ax.text(ax.get_xlim()[0] if points else 1, value, f" bicubic {scale}", fontsize=7, va="bottom", color="grey")
    ax.set_xscale("log")
    ax.set_xlabel("parameters")
    ax.set_ylabel(f"PSNR-Y on {dataset} (dB)")
    ax.set_title("SR quality against model size")
    ax.grid(alpha=0.3)
    save(fig, path)


def crop(img, size):
    h, w = img.shape[:2]
    y, x = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return img[y : y + size, x : x + size]


def nearest_up(img, scale):
    return np.repeat(np.repeat(img, scale, 0), scale, 1)


def per_class_accuracy(per_class, classes, path):
    """Grouped bars: per-class test accuracy of every arm (mean over seeds)."""
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(per_class)
    for i, (arm, acc) in enumerate(per_class.items()):
        ax.bar(np.arange(len(classes)) + i * width, acc, width, label=arm)
    ax.set_xticks(np.arange(len(classes)) + 0.4 - width / 2, classes, rotation=30)
    ax.set_ylabel("test accuracy")
    ax.set_title("Per-class accuracy by arm")
    ax.legend(fontsize=7, ncol=4)
    ax.grid(axis="y", alpha=0.3)
    save(fig, path)


def gain_vs_psnr(points, bicubic_psnr, correlation, path):
    """Accuracy gain of each SR arm over its twin against the SR net's CIFAR-10 PSNR, with 95% CIs,
    and Spearman's rho (gain over bicubic against PSNR, across nets) in the title."""
    fig, ax = plt.subplots(figsize=(6, 4))
    markers = {"lr": "o", "bicubic": "s"}
    for arm, base, psnr, t in points:
        err = [[t["delta_accuracy"] - t["ci95_low"]], [t["ci95_high"] - t["delta_accuracy"]]]
        ax.errorbar(psnr, t["delta_accuracy"], yerr=err, fmt=markers.get(base, "^"), capsize=3,
                    label=f"{arm} vs {base}")
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(bicubic_psnr, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("SR net PSNR-Y on CIFAR-10 test (dB; dashed: bicubic)")
    ax.set_ylabel("accuracy gain over twin")
    rho = correlation.get("spearman_rho")
    sub = (f"Spearman rho (gain over bicubic vs PSNR, {len(correlation['nets'])} nets) = {rho:+.2f} "
           f"[{correlation['ci95_low']:+.2f}, {correlation['ci95_high']:+.2f}]" if rho is not None
           else f"rank correlation needs 3 or more nets ({len(correlation['nets'])} here)")
    ax.set_title(f"Does a better PSNR buy a better classifier?\n{sub}", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    save(fig, path)


def classifier_figures(study_arms, runs, y, report, cifar_sr, out):
    """Confusion CSVs (DVC's confusion template) and micro-averaged ROC of each arm's first seed, per-class
    accuracy, and accuracy gain against PSNR; ``cifar_sr`` is metrics/sr.json's CIFAR-10 table at the study scale."""
    classes = (paths.raw(paths.CIFAR) / "classes.txt").read_text().split()
    every = {a.name: runs[a.name][0].reshape(-1, len(y), 10) for a in study_arms}  # SR seeds x seeds flattened
    for arm in study_arms:
        probs = every[arm.name][0]
        with atomic_file(out / "predictions" / f"{arm.name}.csv") as tmp:
            pd.DataFrame({"actual": [classes[i] for i in y],
                          "predicted": [classes[i] for i in probs.argmax(1)]}).to_csv(tmp, index=False)
        fpr, tpr = stats.micro_roc(y, probs)
        with atomic_file(out / "roc" / f"{arm.name}.csv") as tmp:
            pd.DataFrame({"fpr": fpr.round(4), "tpr": tpr.round(4)}).to_csv(tmp, index=False)
    per_class = {a.name: np.mean([stats.per_class_accuracy(y, p.argmax(1)) for p in every[a.name]], axis=0)
                 for a in study_arms}
    per_class_accuracy(per_class, classes, out / "per_class_accuracy.png")
    points = [(t["arm"], t["baseline"], cifar_sr[t["net"]]["psnr_y"], t) for t in report["twins"].values()
              if t["kind"] == "sr"]
    gain_vs_psnr(points, cifar_sr["bicubic"]["psnr_y"], report["psnr_vs_gain"], out / "accuracy_gain_vs_psnr.png")


SHOW = {"set5": ["butterfly", "bird"], "set14": ["comic"], "bsd100": ["img_005_SRF_2_HR"]}


def sr_figures(runs, report, nets, images):
    """Triplet figures of each run (from the images already loaded) and PSNR against parameters."""
    for run in runs:
        s, rows = run.scale, []
        for name, stems in SHOW.items():
            for k in [k for k in stems if k in images[("hr", name, None)]]:  # fetch.images_per_set may leave some out
                hr = modcrop(images[("hr", name, None)][k], s)
                lr, sr = images[("lr", name, s)][k], images[("sr", name, run.name)][k]
                rows.append((f"{name}/{k}", _panels(lr, hr, sr, s, size=96)))
        for i in range(2):
            hr = modcrop(images[("hr", paths.CIFAR, None)][i], s)
            lr, sr = images[("lr", paths.CIFAR, s)][i], images[("sr", paths.CIFAR, run.name)][i]
            rows.append((f"cifar10/test/{i}", _panels(lr, hr, sr, s)))
        triplets(rows, paths.PLOTS / "sr_triplets" / f"{run.name}.png", f"{run.net} x{s}: LR | bicubic | SR | HR")
    points = [(f"{r['net']} x{r['scale']}", r["params"], report["set5"][f"x{r['scale']}"][r["net"]]["psnr_y"])
              for r in nets.values()]
    base = {f"x{r.scale}": report["set5"][f"x{r.scale}"]["bicubic"]["psnr_y"] for r in runs
            if "bicubic" in report["set5"][f"x{r.scale}"]}
    psnr_vs_params(points, base, paths.PLOTS / "sr_psnr_vs_params.png")


def _panels(lr, hr, sr, s, size=None):
    """LR | bicubic | SR | HR of one image, each cropped to its ``size`` x ``size`` centre when given."""
    bic = scoring.upscale(lr, hr.shape[:2], "bicubic")

    def c(im):
        return crop(im, size) if size else im

    return [("LR (nearest)", c(nearest_up(lr, s))),
            (f"bicubic {score(bic, hr, s)['psnr_y']:.2f} dB", c(bic)),
            (f"SR {score(sr, hr, s)['psnr_y']:.2f} dB", c(sr)),
            ("HR", c(hr))]
