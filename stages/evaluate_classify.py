"""evaluate_classify: score every classifier arm and decide every twin pair by one rule.

metrics/classify.json: {"design": {...}, "arms": {arm: {accuracy, f1_macro, auc_macro, params, flops, ...}},
                        "twins": {"<arm>_vs_<baseline>": {arm, baseline, delta_accuracy, ci95_*, p_value,
                                   p_adjusted, min_detectable_difference, verdict, ...}},
                        "psnr_vs_gain": {...}}
plots/classify/: confusion (predictions/<arm>.csv), ROC (roc/<arm>.csv), per-class accuracy and
accuracy-gain-vs-PSNR charts.
"""
import json

import numpy as np
import pandas as pd

from srtwins import SrtwinsError, cli, paths
from srtwins.config import get, load
from srtwins.io import atomic_file, load_npy, write_json
from srtwins.twins import arm_inputs, arms, stats

OUT = paths.PLOTS / "classify"


def main():
    params = load()
    study_arms, twins = arms.study(params)
    seeds = arms.seeds(params)
    rule = get(params, "classify.decision.rule", str, choices=stats.RULES)
    alpha = get(params, "classify.decision.alpha", float, minimum=1e-6, maximum=0.5)
    power = get(params, "classify.decision.power", float, minimum=0.5, maximum=0.99)
    n_boot = get(params, "classify.decision.bootstrap", int, minimum=100)
    y = arm_inputs.labels()
    runs = {a.name: _load_arm(a, len(y), seeds) for a in study_arms}
    folds = _common_folds(runs)
    report = {"arms": {a.name: describe_arm(y, runs[a.name]) for a in study_arms}}
    report["twins"] = decide(twins, runs, y, folds, rule, alpha, power, n_boot)
    report["design"] = {"images": int(len(y)), "folds": int(folds.max()) + 1, "seeds": seeds,
                        "models_per_arm": runs[study_arms[0].name][2]["models"], "rule": rule, "alpha": alpha,
                        "power": power, "pairs": len(twins), "scale": arms.study_scale(params)}
    sr = json.loads((paths.METRICS / "sr.json").read_text())
    report["psnr_vs_gain"] = psnr_vs_gain(twins, runs, y, sr, report, n_boot)
    write_json(paths.METRICS / "classify.json", report)
    draw(study_arms, runs, y, report, sr)
    for name, t in report["twins"].items():
        print(f"{name:>28}: {t['delta_accuracy']:+.4f} [{t['ci95_low']:+.4f}, {t['ci95_high']:+.4f}] "
              f"p_adj={t['p_adjusted']:.3g} -> {t['verdict']}")


def _load_arm(arm, n, seeds):
    """(probs (S, N, 10), folds (N,), train summary) of one arm; a missing or mismatched file is a clear error."""
    folder = paths.CLS_MODELS / arm.source / arm.name
    for name in ("probs.npy", "folds.npy", "train.json"):
        if not (folder / name).is_file():
            raise SrtwinsError(f"{folder / name}: not found (train_classifier@{arm.source} has not run)")
    probs, folds = load_npy(folder / "probs.npy", mmap=False), load_npy(folder / "folds.npy", mmap=False)
    if probs.shape != (len(seeds), n, 10) or folds.shape != (n,):
        raise SrtwinsError(f"{folder / 'probs.npy'}: shape {probs.shape} does not match {len(seeds)} seeds, "
                           f"{n} images and 10 classes; rerun train_classifier@{arm.source}")
    return probs, folds, json.loads((folder / "train.json").read_text())


def _common_folds(runs):
    folds = next(iter(runs.values()))[1]
    for name, (_, f, _) in runs.items():
        if not np.array_equal(f, folds):
            raise SrtwinsError(f"arm {name}: its fold assignment differs from the other arms'; rerun train_classifier")
    return folds


def describe_arm(y, run):
    """Mean scores over seeds, their spread, model size and how close the training got to convergence."""
    probs, _, summary = run
    per_seed = [stats.arm_scores(y, p) for p in probs]
    entry = {k: float(np.mean([s[k] for s in per_seed])) for k in per_seed[0]}
    accs = [s["accuracy"] for s in per_seed]
    entry.update(accuracy_std=float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0, accuracy_per_seed=accs)
    keep = ("params", "flops", "input_shape", "models", "val_accuracy_final", "val_accuracy_gain_last_quarter")
    return entry | {k: summary[k] for k in keep}


def decide(twins, runs, y, folds, rule, alpha, power, n_boot):
    """Every pair by the same rule, Holm-adjusted across all pairs; verdicts from the adjusted p alone."""
    rows = {}
    for t in twins:
        (pa, _, sa), (pb, _, sb) = runs[t.arm.name], runs[t.baseline.name]
        if sa["params"] != sb["params"]:
            raise SrtwinsError(f"twin {t.name}: models differ in size ({sa['params']} vs {sb['params']} parameters)")
        row = stats.paired_bootstrap(pa.argmax(2) == y, pb.argmax(2) == y, folds, n_boot=n_boot)
        if rule == "mcnemar_ensemble":
            row["p_value"] = stats.mcnemar_ensemble(pa, pb, y)["p_value"]
        row.update(arm=t.arm.name, baseline=t.baseline.name, kind=t.arm.kind, net=t.arm.net, params=sa["params"],
                   min_detectable_difference=stats.min_detectable_difference(row["se"], alpha / len(twins), power))
        rows[t.key] = row
    for row, p in zip(rows.values(), stats.holm([r["p_value"] for r in rows.values()])):
        row["p_adjusted"] = p
        row["verdict"] = stats.verdict(row["delta_accuracy"], p, row["arm"], row["baseline"], alpha)
    return rows


def psnr_vs_gain(twins, runs, y, sr, report, n_boot):
    """Does a net's CIFAR-10 PSNR predict its arm's gain over bicubic? Spearman's rho across nets, with a
    bootstrap interval over test images (the PSNRs are held fixed)."""
    pairs = [t for t in twins if t.arm.kind == "sr" and t.baseline.kind == "bicubic"]
    scale = f"x{report['design']['scale']}"
    psnr = np.array([sr[paths.CIFAR][scale][t.arm.net]["psnr_y"] for t in pairs])
    gains = np.array([(runs[t.arm.name][0].argmax(2) == y).mean(0) - (runs[t.baseline.name][0].argmax(2) == y).mean(0)
                      for t in pairs])  # (nets, images)
    return stats.rank_correlation(psnr, gains, n_boot=n_boot) | {"nets": [t.arm.net for t in pairs]}


def draw(study_arms, runs, y, report, sr):
    from srtwins.report import plots

    classes = (paths.raw(paths.CIFAR) / "classes.txt").read_text().split()
    for arm in study_arms:  # confusion matrices (DVC's confusion template) and micro-averaged ROC, first seed
        probs = runs[arm.name][0][0]
        with atomic_file(OUT / "predictions" / f"{arm.name}.csv") as tmp:
            pd.DataFrame({"actual": [classes[i] for i in y],
                          "predicted": [classes[i] for i in probs.argmax(1)]}).to_csv(tmp, index=False)
        fpr, tpr = stats.micro_roc(y, probs)
        with atomic_file(OUT / "roc" / f"{arm.name}.csv") as tmp:
            pd.DataFrame({"fpr": fpr.round(4), "tpr": tpr.round(4)}).to_csv(tmp, index=False)
    per_class = {a.name: np.mean([stats.per_class_accuracy(y, p.argmax(1)) for p in runs[a.name][0]], axis=0)
                 for a in study_arms}
    plots.per_class_accuracy(per_class, classes, OUT / "per_class_accuracy.png")
    scale = f"x{report['design']['scale']}"
    points = [(t["arm"], t["baseline"], sr[paths.CIFAR][scale][t["net"]]["psnr_y"], t)
              for t in report["twins"].values() if t["kind"] == "sr"]
    plots.gain_vs_psnr(points, sr[paths.CIFAR][scale]["bicubic"]["psnr_y"], report["psnr_vs_gain"],
                       OUT / "accuracy_gain_vs_psnr.png")


if __name__ == "__main__":
    cli.run(main)
