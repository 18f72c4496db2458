"""Runs of the same twin study on other machines or under perturbations, side by side: do the verdicts agree?

metrics/stability.json holds one summary per run (its label, CPU, params digest and what differed), written
by scripts/verdict_stability.py; the report compares them, and finds the one metrics/classify.json holds.
"""
import hashlib
import os
from pathlib import Path

from srtwins import SrtwinsError

KEYS = ("label", "cpu", "note", "params_md5", "sr_psnr_y", "arms", "twins")
TWIN_KEYS = ("delta_accuracy", "se", "p_superiority_adjusted", "p_equivalence_adjusted", "verdict")
DECIDED = ("better", "worse", "equivalent")


def summary(cls, sr, params_text, label, cpu, note):
    """What is compared across runs: each SR cell's PSNR (metrics/sr.json), each arm's accuracy, each pair's
    difference, adjusted p and verdict; with the digest of params.yaml, so runs of other params are told apart."""
    return {"label": label, "cpu": cpu, "note": note, "params_md5": hashlib.md5(params_text.encode()).hexdigest(),
            "sr_psnr_y": {f"{d} {s} {m}": v["psnr_y"] for d, by_s in sr.items() for s, by_m in by_s.items()
                          for m, v in by_m.items()},
            "arms": {name: a["accuracy"] for name, a in cls["arms"].items()},
            "twins": _twins(cls)}


def _twins(cls):
    return {key: {k: t[k] for k in TWIN_KEYS} for key, t in cls["twins"].items()}


def validate(record, where):
    """The record, or a one-line error naming ``where`` and the first missing key (an older format, a hand edit)."""
    runs = record.get("runs") if isinstance(record, dict) else None
    if not isinstance(runs, list):
        raise SrtwinsError(f"{where}: no 'runs' list (written by an older scripts/verdict_stability.py?)")
    for i, run in enumerate(runs):
        missing = [k for k in KEYS if k not in run]
        missing += [f"twins.{p}.{k}" for p, t in run.get("twins", {}).items() for k in TWIN_KEYS if k not in t]
        if missing:
            raise SrtwinsError(f"{where}: runs[{i}] has no '{missing[0]}'")
    return record


def add(record, run):
    """The record with ``run`` appended; an earlier run of the same label is replaced (a rerun supersedes it)."""
    return {"runs": [r for r in record.get("runs", []) if r["label"] != run["label"]] + [run]}


def current(record, cls):
    """The first recorded run whose verdicts and differences are those of metrics/classify.json (the README's
    results), or None when it is not recorded."""
    mine = _twins(cls)
    for run in record.get("runs", []):
        if run["twins"].keys() == mine.keys() and all(
                run["twins"][k][f] == t[f] for k, t in mine.items() for f in ("verdict", "delta_accuracy")):
            return run
    return None


def compare(runs):
    """Whether the runs used the same params and give the same verdict table (a pair missing from a run
    counts as a change), and the largest spreads (max - min over the runs that have it) of an SR cell's PSNR
    (with its cell), an arm's accuracy and a pair's difference."""
    pairs = sorted(set().union(*(r["twins"] for r in runs)))
    flipped = [k for k in pairs if len({r["twins"].get(k, {}).get("verdict") for r in runs}) > 1]
    sr = _spreads([r["sr_psnr_y"] for r in runs])
    widest = max(sr, key=sr.get) if sr and max(sr.values()) > 0 else None
    return {"same_params": len({r["params_md5"] for r in runs}) == 1, "verdicts_identical": not flipped,
            "flipped": flipped, "sr_cells_compared": len(sr), "widest_sr_cell": widest,
            "max_sr_psnr_spread": sr[widest] if widest else 0.0,
            "max_accuracy_spread": max(_spreads([r["arms"] for r in runs]).values(), default=0.0),
            "max_delta_spread": max(_spreads([{k: t["delta_accuracy"] for k, t in r["twins"].items()}
                                              for r in runs]).values(), default=0.0)}


def calibration(first, other, alpha):
    """Does ``other`` agree with ``first`` within the stated errors? Per pair (of those both runs have): the
    difference moves by less than 1.96 * sqrt(se1^2 + se2^2) (no move at all passes, even at zero error); no flip
    between decided verdicts; a move to or from undecided only where the adjusted p of the test that decided the
    other verdict (superiority for better or worse, equivalence for equivalent) lies within a factor 2 of alpha
    in one of the runs (borderline)."""
    moved, flipped, borderline = [], [], []
    for key in sorted(first["twins"].keys() & other["twins"].keys()):
        a, b = first["twins"][key], other["twins"][key]
        move = abs(a["delta_accuracy"] - b["delta_accuracy"])
        if move and move >= 1.96 * (a["se"] ** 2 + b["se"] ** 2) ** 0.5:
            moved.append(key)
        if a["verdict"] == b["verdict"]:
            continue
        decided = b["verdict"] if a["verdict"] == "undecided" else a["verdict"]
        p = "p_equivalence_adjusted" if decided == "equivalent" else "p_superiority_adjusted"
        if a["verdict"] in DECIDED and b["verdict"] in DECIDED:
            flipped.append(key)
        elif any(t[p] is not None and alpha / 2 <= t[p] <= 2 * alpha for t in (a, b)):
            borderline.append(key)
        else:
            flipped.append(key)
    return {"moved_beyond_error": moved, "flipped": flipped, "borderline": borderline,
            "holds": not moved and not flipped}


def _spreads(tables):
    """max - min over the tables (one {name: value} per run) of each name that at least two of them have."""
    values = {n: [t[n] for t in tables if n in t] for n in {n for t in tables for n in t}}
    return {n: max(v) - min(v) for n, v in values.items() if len(v) > 1}


def cpu_name(cpuinfo=Path("/proc/cpuinfo")):
    """This machine's CPU model and core count, for a run's record (kernels and speed differ by CPU)."""
    model = "unknown CPU"
    if cpuinfo.is_file():
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                      if line.startswith("model name")), model)
    return f"{model}, {os.cpu_count()} cores"
