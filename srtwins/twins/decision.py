"""The twin study's decision: every arm scored, every twin pair decided by one rule (superiority and equivalence,
each Holm-adjusted across the pairs), the HR-bicubic gap and the share of it each SR arm recovers.

Reads the classifier arms' saved test predictions (models/cls/<source>/<arm>/) and the SR quality table."""
import json

import numpy as np

from srtwins import SrtwinsError, paths
from srtwins.io import load_npy
from srtwins.twins import pairs, stats


def load_arm(arm, n, seeds, root=paths.CLS_MODELS):
    """(probs, summaries): probs (seeds, N, 10) for a control arm, (SR seeds, seeds, N, 10) for an SR arm, from
    <root>/<source>/<arm>/ (models/cls, or a recorded run's folder)."""
    loaded = [_load_source(arm, source, n, seeds, root) for source in arm.sources]
    probs = np.stack([p for p, _ in loaded]) if arm.kind in ("sr", "hr-sr") else loaded[0][0]
    return probs, [s for _, s in loaded]


def _load_source(arm, source, n, seeds, root):
    folder = root / source / arm.name
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
                 runs=len(accs), sr_runs=list(arm.sources) if arm.kind in ("sr", "hr-sr") else [])
    keep = ("params", "flops", "input_shape", "train_images", "test_images")
    return entry | {k: summaries[0][k] for k in keep}


def train_seconds(runs):
    """Each arm's classifier training time, summed over its runs: a timing, kept out of the metrics."""
    return {name: round(sum(s["train_seconds"] for s in summaries), 1) for name, (_, summaries) in runs.items()}


def correctness(probs, y, seeds):
    """An arm's per-image correctness as pairs.Runs: (SR seeds, classifier seeds, images), its seeds named."""
    x = probs.argmax(-1) == y
    return pairs.Runs(x[None] if x.ndim == 2 else x, tuple(seeds))


def test_pair(arm, baseline, decision, names=("arm", "baseline")):
    """(analysis of record, the other or None) of arm - baseline, each with its interval and tests."""
    both = pairs.analyses([arm, baseline], [1.0, -1.0], decision.pairing_correlation, list(names))
    chosen, other = pairs.primary(both)
    rows = [None if name is None else pairs.tested(both[name], decision.alpha, decision.margin)
            | {"analysis": name, "pairing": both["pairing"]} for name in (chosen, other)]
    return rows[0], rows[1]


def decide(twins, runs, correct, decision):
    """Every pair by the same rule, Holm-adjusted across all pairs; the other analysis beside it, decided the
    same way across the pairs, as a sensitivity check."""
    rows, others = {}, {}
    for t in twins:
        pa, pb = runs[t.arm.name][1][0]["params"], runs[t.baseline.name][1][0]["params"]
        if pa != pb:
            raise SrtwinsError(f"twin {t.name}: models differ in size ({pa} vs {pb} parameters)")
        row, other = test_pair(correct[t.arm.name], correct[t.baseline.name], decision, (t.arm.name, t.baseline.name))
        rows[t.key] = row | {"arm": t.arm.name, "baseline": t.baseline.name, "kind": t.arm.kind, "net": t.arm.net,
                             "params": pa}
        if other is not None:
            others[t.key] = other
    others = pairs.decide_all(others, decision.alpha) if others else {}
    return {k: _named(r) | {"sensitivity": _named(_brief(others[k])) if k in others else None}
            for k, r in pairs.decide_all(rows, decision.alpha).items()}


def _brief(row):
    return {k: v for k, v in row.items() if k not in ("components", "pairing")}


def gap_and_shares(arms, correct, decision):
    """hr - bicubic with its interval, and each SR arm's share of it, (sr - bicubic) / (hr - bicubic), by the
    same analyses: paired only where both of its pairs are."""
    by_kind = {a.kind: a.name for a in arms}
    bicubic, hr = correct[by_kind["bicubic"]], correct[by_kind["hr"]]
    gap, _ = test_pair(hr, bicubic, decision, (by_kind["hr"], by_kind["bicubic"]))
    shares = {}
    for a in (a for a in arms if a.kind == "sr"):
        row, _ = test_pair(correct[a.name], bicubic, decision)
        both = row["analysis"] == "paired" and gap["analysis"] == "paired"
        shares[a.name] = pairs.share(correct[a.name], bicubic, hr, both, decision.pairing_correlation, decision.alpha)
    return _named(gap), shares


def _named(row):
    """A test's row with its mean named as the study's tables name it: the accuracy difference."""
    return {"delta_accuracy": row["mean"], **{k: v for k, v in row.items() if k != "mean"}}


def psnr_vs_gain(twins, correct, cifar_psnr):
    """Does a net's CIFAR-10 PSNR predict its arm's gain over bicubic? Spearman's rho across nets, with a
    bootstrap interval over test images (the PSNRs, means over SR seeds, are held fixed). ``cifar_psnr``:
    {net: {psnr_y, ...}}."""
    pairs_ = [t for t in twins if t.arm.kind == "sr" and t.baseline.kind == "bicubic"]
    psnr = np.array([cifar_psnr[t.arm.net]["psnr_y"] for t in pairs_])
    gains = np.array([correct[t.arm.name].x.mean((0, 1)) - correct[t.baseline.name].x.mean((0, 1)) for t in pairs_])
    return stats.rank_correlation(psnr, gains) | {"nets": [t.arm.net for t in pairs_]}


def evaluate(arms, twins, y, seeds, sr_classifier_seeds, decision, cifar_psnr, root=paths.CLS_MODELS):
    """(metrics/classify.json's content without its design block, the arms' loaded predictions, each arm's
    training seconds), from the classifiers' outputs under ``root``."""
    seeds_of = {a.name: sr_classifier_seeds if a.kind in ("sr", "hr-sr") else seeds for a in arms}
    runs = {a.name: load_arm(a, len(y), seeds_of[a.name], root) for a in arms}
    correct = {name: correctness(probs, y, seeds_of[name]) for name, (probs, _) in runs.items()}
    gap, shares = gap_and_shares(arms, correct, decision)
    report = {"arms": {a.name: describe_arm(a, y, runs[a.name]) for a in arms},
              "twins": decide(twins, runs, correct, decision), "gap_hr_vs_bicubic": gap,
              "share_recovered": shares, "psnr_vs_gain": psnr_vs_gain(twins, correct, cifar_psnr)}
    return report, runs, train_seconds(runs)
