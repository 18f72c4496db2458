"""evaluate_classify: score every classifier arm and every twin pair.

metrics/classify.json: {"arms": {arm: {accuracy, f1_macro, auc_macro, accuracy_std, ...}},
                        "twins": {"sr-<net>_vs_lr" | "sr-<net>_vs_bicubic" | "hr-sr-<net>_vs_hr": {...}}}
plots/classify/: confusion (predictions/<arm>.csv), ROC (roc/<arm>.csv), per-class accuracy and
accuracy-gain-vs-PSNR charts.
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd

from srtwins import arms as A
from srtwins import cli
from srtwins import params as P
from srtwins import stats
from srtwins.io import atomic_file, load_npy, write_json

OUT = Path("plots/classify")


def main():
    params = P.load()
    names = A.arm_names(params)
    for n in names:
        A.resolve(params, n)
    seeds = P.get_list(params, "classify.seeds", int, minimum=0)
    n_boot = P.get(params, "classify.bootstrap", int, minimum=100)
    y = load_npy("data/raw/cifar10/y_test.npy", mmap=False)
    classes = Path("data/raw/cifar10/classes.txt").read_text().split()
    probs = {n: np.stack([_probs(n, s, len(y)) for s in seeds]) for n in names}
    correct = {n: probs[n].argmax(2) == y[None] for n in names}

    report = {"arms": {}, "twins": {}, "seeds": seeds, "test_images": int(len(y))}
    for n in names:
        per_seed = [stats.arm_scores(y, p) for p in probs[n]]
        entry = {k: float(np.mean([s[k] for s in per_seed])) for k in per_seed[0]}
        accs = [s["accuracy"] for s in per_seed]
        entry["accuracy_std"] = float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0
        entry["accuracy_per_seed"] = accs
        report["arms"][n] = entry
    for n in names:
        arm = A.resolve(params, n)
        bases = {"sr": ["lr", "bicubic"], "hr-sr": ["hr"]}.get(arm.kind, [])
        for base in bases:
            if base not in correct:
                raise cli.SrtwinsError(f"params: arm {n!r} is compared with {base!r}, which is not in classify.arms")
            twin = stats.twin_delta(correct[n], correct[base], n_boot=n_boot)
            p_seeds = [stats.mcnemar_exact(a, b) for a, b in zip(correct[n], correct[base])]
            twin.update(mcnemar_p=p_seeds[0], mcnemar_p_per_seed=p_seeds)
            report["twins"][f"{n}_vs_{base}"] = twin
    write_json("metrics/classify.json", report)
    draw(names, probs, y, classes, report, params)
    for n, e in report["arms"].items():
        print(f"{n:>14}: acc {e['accuracy']:.4f} ± {e['accuracy_std']:.4f}  f1 {e['f1_macro']:.4f}  auc {e['auc_macro']:.4f}")
    for k, t in report["twins"].items():
        print(f"{k:>26}: {t['delta_accuracy']:+.4f} [{t['ci95_low']:+.4f}, {t['ci95_high']:+.4f}] p={t['mcnemar_p']:.3g}")


def _probs(name, seed, n):
    path = Path(f"models/cls/{name}-s{seed}/test_probs.npy")
    if not path.is_file():
        raise cli.SrtwinsError(f"{path}: not found (train_classifier for arm {name!r}, seed {seed} has not run)")
    p = load_npy(path, mmap=False)
    if p.shape != (n, 10):
        raise cli.SrtwinsError(f"{path}: shape {p.shape} does not match {n} test labels")
    return p


def draw(names, probs, y, classes, report, params):
    from srtwins import plots

    for n in names:  # confusion matrices (DVC's confusion template), first seed
        with atomic_file(OUT / "predictions" / f"{n}.csv") as tmp:
            pd.DataFrame({"actual": [classes[i] for i in y],
                          "predicted": [classes[i] for i in probs[n][0].argmax(1)]}).to_csv(tmp, index=False)
    for n in names:  # micro-averaged one-vs-rest ROC, first seed
        fpr, tpr = stats.micro_roc(y, probs[n][0])
        with atomic_file(OUT / "roc" / f"{n}.csv") as tmp:
            pd.DataFrame({"fpr": fpr.round(4), "tpr": tpr.round(4)}).to_csv(tmp, index=False)
    per_class = {n: np.mean([stats.per_class_accuracy(y, p.argmax(1)) for p in probs[n]], axis=0) for n in names}
    plots.per_class_accuracy(per_class, classes, OUT / "per_class_accuracy.png")
    sr = json.loads(Path("metrics/sr.json").read_text())
    scale = f"x{A.study_scale(params)}"
    points = []
    for key, t in report["twins"].items():
        arm_name, base = key.rsplit("_vs_", 1)
        arm = A.resolve(params, arm_name)
        if arm.kind == "sr":
            net = arm.run.rsplit("_x", 1)[0]
            points.append((arm_name, base, sr["cifar10"][scale][net]["psnr_y"], t))
    plots.gain_vs_psnr(points, sr["cifar10"][scale]["bicubic"]["psnr_y"], OUT / "accuracy_gain_vs_psnr.png")


if __name__ == "__main__":
    cli.run(main)
