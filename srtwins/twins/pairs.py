"""A twin pair's two analyses and the rule, fixed before the run, that picks one; verdicts and the gap's share.

Unpaired: every run of each arm, each arm's seeds its own. Paired: runs matched by classifier seed, over the
seeds all arms share, d[i, j, n] = arm(i, j) - baseline(j). Paired is the analysis of record only where the
arms' runs of one seed err on the same images: the 95% lower bound of their same-seed correlation
(crossed.same_seed_correlation) above ``classify.decision.pairing_correlation``.
"""
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy.stats import t as student_t

from srtwins.twins import crossed
from srtwins.twins.stats import holm


@dataclass(frozen=True)
class Runs:
    """One arm's correctness, (SR seeds, classifier seeds, images), and its classifier seeds in that order."""

    x: np.ndarray
    seeds: tuple


def analyses(runs, weights, threshold, names=None):
    """{"unpaired": row, "paired": row or None, "pairing": {...}}: both analyses of sum(w * arm mean), each
    with the variance components of its tables (one per arm, named by ``names``; one for the paired
    differences)."""
    names = names or [f"arm {k}" for k in range(len(runs))]
    row, tables = crossed.contrast([r.x for r in runs], weights)
    unpaired = row | {"runs": [int(np.prod(r.x.shape[:2])) for r in runs],
                      "components": {k: crossed.components(t) for k, t in zip(names, tables)}}
    common = [s for s in runs[0].seeds if all(s in r.seeds for r in runs)]
    if len(common) < 2 or sum(r.x.shape[0] > 1 for r in runs) > 1:
        return {"unpaired": unpaired, "paired": None, "pairing": {"seeds": common, "paired": False}}
    at = [r.x[:, [r.seeds.index(s) for s in common]] for r in runs]
    row, (t,) = crossed.contrast([sum(w * x for w, x in zip(weights, at))], [1.0])
    paired = row | {"runs": [int(np.prod(x.shape[:2])) for x in at],
                    "components": {"paired difference": crossed.components(t)}}
    checks = [crossed.same_seed_correlation(a, b) for a, b in combinations(at, 2)]
    ok = all(c["lower95"] is not None and c["lower95"] > threshold for c in checks)
    return {"unpaired": unpaired, "paired": paired,
            "pairing": {"seeds": common, "paired": ok, "threshold": threshold, "same_seed_correlation": checks}}


def primary(both):
    """(the analysis of record's name, the other's name or None)."""
    if both["pairing"]["paired"]:
        return "paired", "unpaired"
    return "unpaired", ("paired" if both["paired"] else None)


def tested(row, alpha, margin):
    return row | crossed.interval(row, alpha, margin) | {"margin": float(margin)}


def decide_all(rows, alpha):
    """Every row's verdict, Holm-adjusted across all rows for each family of tests; a significant difference
    outranks equivalence, and a row that is both reads "better (within +-margin)" (within_margin)."""
    names = list(rows)
    sup = holm([rows[k]["p_superiority"] for k in names])
    eq = holm([rows[k]["p_equivalence"] for k in names])
    return {k: _decided(rows[k], ps, pe, alpha) for k, ps, pe in zip(names, sup, eq)}


def _decided(row, p_sup, p_eq, alpha):
    if p_sup < alpha:
        verdict = "better" if row["mean"] > 0 else "worse"
    else:
        verdict = "equivalent" if p_eq < alpha else "undecided"
    return row | {"p_superiority_adjusted": p_sup, "p_equivalence_adjusted": p_eq, "verdict": verdict,
                  "within_margin": bool(p_eq < alpha)}


def share(sr, bicubic, hr, both_paired, threshold, alpha):
    """Share of the HR - bicubic gap an SR arm closes, mean(sr - bicubic) / mean(hr - bicubic), by the pairs'
    analysis (paired only when both pairs are): Z = sr - bicubic - S (hr - bicubic) goes through the same
    variance model, and the share's error is Z's over the gap (delta method), on Z's df."""
    name = "paired" if both_paired else "unpaired"
    sr_d, gap = (analyses([a, bicubic], [1.0, -1.0], threshold)[name]["mean"] for a in (sr, hr))
    if gap == 0:
        return dict.fromkeys(("share", "se", "df", "ci95_low", "ci95_high"))
    s = sr_d / gap
    z = analyses([sr, bicubic, hr], [1.0, s - 1.0, -s], threshold)[name]
    se = z["se"] / abs(gap)
    half = float(student_t.ppf(1 - alpha / 2, z["df"]) * se)
    return {"share": s, "se": se, "df": z["df"], "ci95_low": s - half, "ci95_high": s + half, "analysis": name}
