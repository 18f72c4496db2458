"""The twin study's decision: every arm scored, every twin pair decided by one rule (superiority and equivalence,
each Holm-adjusted across the pairs), the HR-bicubic gap and the share of it each SR arm recovers.

Reads the classifier arms' saved test predictions (models/cls/<source>/<arm>/) and the SR quality table."""
import json

import numpy as np

from srtwins import SrtwinsError, paths
from srtwins.io import load_npy
from srtwins.twins import stats


def load_arm(arm, n, seeds):
    """(probs, summaries): probs (seeds, N, 10) for a control arm, (SR seeds, seeds, N, 10) for an SR arm."""
    loaded = [_load_source(arm, source, n, seeds) for source in arm.sources]
    probs = np.stack([p for p, _ in loaded]) if arm.kind in ("sr", "hr-sr") else loaded[0][0]
    return probs, [s for _, s in loaded]


def _load_source(arm, source, n, seeds):
    folder = paths.CLS_MODELS / source / arm.name
    for name in ("probs.npy", "train.json"):
        if not (folder / name).is_file():
            raise SrtwinsError(f"{folder / name}: not found (train_classifier@{source} has not run)")
    probs = load_npy(folder / "probs.npy", mmap=False)
    if probs.shape != (len(seeds), n, 10):
        raise SrtwinsError(f"{folder / 'probs.npy'}: shape {probs.shape} does not match {len(seeds)} seeds, "
                           f"{n} test images and 10 classes; rerun train_classifier@{source}")
    return probs, json.loads((folder / "train.json").read_text())


def describe_arm(arm, y, run):
    """Mean scores over the arm's runs (SR seeds x classifier seeds), their spread, and the model's size."""
    probs, summaries = run
    per_run = [stats.arm_scores(y, p) for p in probs.reshape(-1, *probs.shape[-2:])]
    entry = {k: float(np.mean([s[k] for s in per_run])) for k in per_run[0]}
    accs = [s["accuracy"] for s in per_run]
    entry.update(accuracy_std=float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0, accuracy_per_run=accs,
                 runs=len(accs), sr_runs=list(arm.sources) if arm.kind in ("sr", "hr-sr") else [],
                 train_seconds=round(sum(s["train_seconds"] for s in summaries), 1))
    keep = ("params", "flops", "input_shape", "train_images", "test_images")
    return entry | {k: summaries[0][k] for k in keep}


def paired(correct, arm, baseline, pairing):
    """Per-image differences arm - baseline, (SR seeds, seeds, N) or (seeds, N), matched by classifier seed."""
    a, b = correct[arm.name], correct[baseline.name]
    if a.ndim == 3:
        b = b[pairing] if b.ndim == 2 else b
        return a.astype(np.float64) - b[None]
    return a.astype(np.float64) - b


def decide(twins, runs, correct, pairing, decision):
    """Every pair by the same rule; superiority and equivalence p-values Holm-adjusted across all pairs."""
    rows = {}
    for t in twins:
        pa, pb = runs[t.arm.name][1][0]["params"], runs[t.baseline.name][1][0]["params"]
        if pa != pb:
            raise SrtwinsError(f"twin {t.name}: models differ in size ({pa} vs {pb} parameters)")
        row = stats.twin_test(paired(correct, t.arm, t.baseline, pairing), decision.margin, decision.alpha)
        rows[t.key] = row | {"arm": t.arm.name, "baseline": t.baseline.name, "kind": t.arm.kind, "net": t.arm.net,
                             "params": pa}
    return {k: _named(r) for k, r in stats.decide_all(rows, decision.alpha).items()}


def gap_and_shares(arms, correct, pairing, decision):
    """hr - bicubic with its interval, and each SR arm's share of it recovered, (sr - bicubic) / (hr - bicubic)."""
    by_kind = {a.kind: a for a in arms}
    gap = paired(correct, by_kind["hr"], by_kind["bicubic"], pairing)
    shares = {a.name: stats.share_recovered(paired(correct, a, by_kind["bicubic"], pairing), gap[pairing],
                                            decision.alpha) for a in arms if a.kind == "sr"}
    return _named(stats.twin_test(gap, decision.margin, decision.alpha)), shares


def _named(row):
    """A test's row with its mean named as the study's tables name it: the accuracy difference."""
    return {"delta_accuracy": row["mean"], **{k: v for k, v in row.items() if k != "mean"}}


def psnr_vs_gain(twins, correct, pairing, cifar_psnr):
    """Does a net's CIFAR-10 PSNR predict its arm's gain over bicubic? Spearman's rho across nets, with a
    bootstrap interval over test images (the PSNRs, means over SR seeds, are held fixed). ``cifar_psnr``:
    {net: {psnr_y, ...}}."""
    pairs = [t for t in twins if t.arm.kind == "sr" and t.baseline.kind == "bicubic"]
    psnr = np.array([cifar_psnr[t.arm.net]["psnr_y"] for t in pairs])
    diffs = [paired(correct, t.arm, t.baseline, pairing) for t in pairs]
    gains = np.array([d.reshape(-1, d.shape[-1]).mean(0) for d in diffs])  # (nets, images)
    return stats.rank_correlation(psnr, gains) | {"nets": [t.arm.net for t in pairs]}


def evaluate(arms, twins, y, seeds, sr_seeds, decision, cifar_psnr):
    """(metrics/classify.json's content without its design block, the arms' loaded predictions)."""
    runs = {a.name: load_arm(a, len(y), sr_seeds if a.kind in ("sr", "hr-sr") else seeds) for a in arms}
    correct = {name: probs.argmax(-1) == y for name, (probs, _) in runs.items()}
    pairing = [seeds.index(s) for s in sr_seeds]  # the control runs that share each SR run's classifier seed
    gap, shares = gap_and_shares(arms, correct, pairing, decision)
    report = {"arms": {a.name: describe_arm(a, y, runs[a.name]) for a in arms},
              "twins": decide(twins, runs, correct, pairing, decision), "gap_hr_vs_bicubic": gap,
              "share_recovered": shares, "psnr_vs_gain": psnr_vs_gain(twins, correct, pairing, cifar_psnr)}
    return report, runs
