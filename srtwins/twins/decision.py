"""The twin study's decision: every arm scored, every twin pair decided by one rule, Holm-adjusted.

Reads the classifier arms' saved predictions (models/cls/<source>/<arm>/) and the SR quality table."""
import json

import numpy as np

from srtwins import SrtwinsError, paths
from srtwins.io import load_npy
from srtwins.twins import stats


def load_arms(study_arms, n, seeds):
    """{arm: (probs (S, N, 10), folds (N,), train summary)}, every arm on the same folds."""
    runs = {a.name: _load_arm(a, n, seeds) for a in study_arms}
    folds = next(iter(runs.values()))[1]
    for name, (_, f, _) in runs.items():
        if not np.array_equal(f, folds):
            raise SrtwinsError(f"arm {name}: its fold assignment differs from the other arms'; rerun train_classifier")
    return runs, folds


def _load_arm(arm, n, seeds):
    folder = paths.CLS_MODELS / arm.source / arm.name
    for name in ("probs.npy", "folds.npy", "train.json"):
        if not (folder / name).is_file():
            raise SrtwinsError(f"{folder / name}: not found (train_classifier@{arm.source} has not run)")
    probs, folds = load_npy(folder / "probs.npy", mmap=False), load_npy(folder / "folds.npy", mmap=False)
    if probs.shape != (len(seeds), n, 10) or folds.shape != (n,):
        raise SrtwinsError(f"{folder / 'probs.npy'}: shape {probs.shape} does not match {len(seeds)} seeds, "
                           f"{n} images and 10 classes; rerun train_classifier@{arm.source}")
    return probs, folds, json.loads((folder / "train.json").read_text())


def describe_arm(y, run):
    """Mean scores over seeds, their spread, model size and how close the training got to convergence."""
    probs, _, summary = run
    per_seed = [stats.arm_scores(y, p) for p in probs]
    entry = {k: float(np.mean([s[k] for s in per_seed])) for k in per_seed[0]}
    accs = [s["accuracy"] for s in per_seed]
    entry.update(accuracy_std=float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0, accuracy_per_seed=accs)
    keep = ("params", "flops", "input_shape", "models", "val_accuracy_final", "val_accuracy_gain_last_quarter")
    return entry | {k: summary[k] for k in keep}


def decide(twins, runs, y, folds, decision):
    """Every pair by the same rule, Holm-adjusted across all pairs; verdicts from the adjusted p alone."""
    rows = {}
    for t in twins:
        (pa, _, sa), (pb, _, sb) = runs[t.arm.name], runs[t.baseline.name]
        if sa["params"] != sb["params"]:
            raise SrtwinsError(f"twin {t.name}: models differ in size ({sa['params']} vs {sb['params']} parameters)")
        row = stats.paired_bootstrap(pa.argmax(2) == y, pb.argmax(2) == y, folds, n_boot=decision.bootstrap)
        if decision.rule == "mcnemar_ensemble":
            row["p_value"] = stats.mcnemar_ensemble(pa, pb, y)["p_value"]
        mdd = stats.min_detectable_difference(row["se"], decision.alpha / len(twins), decision.power)
        row.update(arm=t.arm.name, baseline=t.baseline.name, kind=t.arm.kind, net=t.arm.net, params=sa["params"],
                   min_detectable_difference=mdd)
        rows[t.key] = row
    for row, p in zip(rows.values(), stats.holm([r["p_value"] for r in rows.values()])):
        row["p_adjusted"] = p
        row["verdict"] = stats.verdict(row["delta_accuracy"], p, row["arm"], row["baseline"], decision.alpha)
    return rows


def psnr_vs_gain(twins, runs, y, cifar_psnr, n_boot):
    """Does a net's CIFAR-10 PSNR predict its arm's gain over bicubic? Spearman's rho across nets, with a
    bootstrap interval over test images (the PSNRs are held fixed). ``cifar_psnr``: {net: psnr_y}."""
    pairs = [t for t in twins if t.arm.kind == "sr" and t.baseline.kind == "bicubic"]
    psnr = np.array([cifar_psnr[t.arm.net]["psnr_y"] for t in pairs])
    gains = np.array([(runs[t.arm.name][0].argmax(2) == y).mean(0) - (runs[t.baseline.name][0].argmax(2) == y).mean(0)
                      for t in pairs])  # (nets, images)
    return stats.rank_correlation(psnr, gains, n_boot=n_boot) | {"nets": [t.arm.net for t in pairs]}


def evaluate(study_arms, twins, y, seeds, scale, decision, cifar_psnr):
    """(metrics/classify.json's content, the arms' loaded predictions)."""
    runs, folds = load_arms(study_arms, len(y), seeds)
    report = {"arms": {a.name: describe_arm(y, runs[a.name]) for a in study_arms}}
    report["twins"] = decide(twins, runs, y, folds, decision)
    report["design"] = {"images": int(len(y)), "folds": int(folds.max()) + 1, "seeds": seeds,
                        "models_per_arm": runs[study_arms[0].name][2]["models"], "rule": decision.rule,
                        "alpha": decision.alpha, "power": decision.power, "pairs": len(twins), "scale": scale}
    report["psnr_vs_gain"] = psnr_vs_gain(twins, runs, y, cifar_psnr, decision.bootstrap)
    return report, runs
