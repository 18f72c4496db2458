"""Runs of the same twin study on other machines or under perturbations, side by side: do the verdicts agree?

metrics/stability.json holds one summary per run (its label, CPU, params digest and what differed), written
by scripts/verdict_stability.py; the report finds the one metrics/classify.json holds and compares it with the
runs of the same params (calibration refuses runs of other params).
"""
import hashlib
import os
import re
from pathlib import Path

from scipy.stats import t as student_t

from srtwins import SrtwinsError
from srtwins.twins.crossed import satterthwaite

KEYS = ("label", "cpu", "note", "params_md5", "sr_psnr_y", "arms", "twins")
TWIN_KEYS = ("delta_accuracy", "se", "var_seeds", "df_seeds", "analysis", "p_superiority_adjusted",
             "p_equivalence_adjusted", "verdict")


def summary(cls, sr, params_text, label, cpu, note):
    """What is compared across runs: each SR cell's PSNR (metrics/sr.json), each arm's accuracy, each pair's
    difference, seed variance (and its df), analysis, adjusted p and verdict; and the params.yaml digest."""
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
    """Does ``other`` agree with ``first`` (runs of the same params) within the stated errors? See _checked."""
    if first["params_md5"] != other["params_md5"]:
        raise SrtwinsError(f"calibration: runs of different params are not compared: {first['label']} (params "
                           f"{first['params_md5']}) vs {other['label']} (params {other['params_md5']})")
    both = sorted(first["twins"].keys() & other["twins"].keys())
    out = _checked([(k, first["twins"][k], other["twins"][k]) for k in both], alpha)
    out["missing"] = sorted(first["twins"].keys() ^ other["twins"].keys())
    out["holds"] = not (out["moved_beyond_error"] or out["flipped"] or out["missing"])
    return out


def _checked(rows, alpha):
    """Per (pair, row, row): the difference moves by less than seed_threshold (no move at all passes, even at
    zero error); no flip between decided verdicts; a move to or from undecided only where, in both runs, the
    adjusted p of the test that decided the other verdict (superiority for better or worse, equivalence for
    equivalent) lies within a factor 2 of alpha (borderline), else it counts as a flip."""
    out = {"moved_beyond_error": [], "flipped": [], "borderline": [], "thresholds": {}}
    for key, a, b in rows:
        out["thresholds"][key] = seed_threshold(a, b)
        move = abs(a["delta_accuracy"] - b["delta_accuracy"])
        if move and move >= out["thresholds"][key]:
            out["moved_beyond_error"].append(key)
        if a["verdict"] == b["verdict"]:
            continue
        decided = b["verdict"] if a["verdict"] == "undecided" else a["verdict"]
        p = "p_equivalence_adjusted" if decided == "equivalent" else "p_superiority_adjusted"
        near = all(t[p] is not None and alpha / 2 <= t[p] <= 2 * alpha for t in (a, b))
        undecided = "undecided" in (a["verdict"], b["verdict"])
        out["borderline" if undecided and near else "flipped"].append(key)
    return out


def seed_threshold(a, b):
    """How far a pair's difference may move between two runs: t(0.975, df) x sqrt(var_seeds_a + var_seeds_b),
    only the seed parts (the test images, which both runs share, do not move it), on their Satterthwaite df."""
    terms = [(t["var_seeds"], t["df_seeds"]) for t in (a, b)]
    return float(student_t.ppf(0.975, satterthwaite(terms)) * sum(v for v, _ in terms) ** 0.5)


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


def cpu_model(cpu):
    """A run's CPU model from its record's "cpu": without the ", N cores" suffix (and what follows it) and any
    parenthesised instruction-set note, so that runs on one CPU, however their ISA was noted, tell apart."""
    model = re.split(r",\s*\d+ cores?\b", cpu)[0]
    return re.sub(r"\s*\((?=[^)]*\b(AVX|SSE|AMX|NEON|ISA))[^)]*\)", "", model, flags=re.I).strip()
