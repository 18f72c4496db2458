"""The twin study's arms and pairs, resolved from params into small values carried to the metrics.

An arm is one classifier input; a *source* is what a train_classifier stage reads: ``lr`` (arms lr,
bicubic), ``hr`` (hr, and hr-bicubic when classify.hr_sr names runs) or an SR run (sr-<net>, and
hr-sr-<net> when classify.hr_sr names it).
"""
from dataclasses import dataclass

from srtwins import SrtwinsError
from srtwins.config import SCALES, get, get_list, run_names, run_table

CONTROLS = ("lr", "hr")  # the sources that are not SR runs


@dataclass(frozen=True)
class Arm:
    name: str  # lr, bicubic, hr, hr-bicubic, sr-<net>, hr-sr-<net>
    kind: str  # lr | bicubic | hr | hr-bicubic | sr | hr-sr
    source: str  # lr, hr, or the SR run it reads
    net: str | None = None


@dataclass(frozen=True)
class Twin:
    """Two arms that differ only in their input: ``arm`` is tested against ``baseline``."""

    arm: Arm
    baseline: Arm

    @property
    def name(self):
        return f"{self.arm.name} vs {self.baseline.name}"

    @property
    def key(self):
        """The pair's key in metrics/classify.json (dots and spaces kept out for `dvc metrics`)."""
        return f"{self.arm.name}_vs_{self.baseline.name}"


def study_scale(params):
    return get(params, "classify.scale", int, choices=SCALES)


def seeds(params):
    """classify.seeds: a non-empty list of distinct integers in NumPy's seed range."""
    return get_list(params, "classify.seeds", int, minimum=0, maximum=2**32 - 1)


def sr_runs(params, key="classify.sr_runs"):
    """The SR runs that feed classifier arms: each an sr.runs or sr.gan_runs entry at the study's scale."""
    runs = get_list(params, key, str, nonempty=False)
    known, scale = run_names(params), study_scale(params)
    for i, run in enumerate(runs):
        if run not in known:
            raise SrtwinsError(f"params: '{key}[{i}]' = {run!r} is not in sr.runs or sr.gan_runs "
                               f"(runs: {', '.join(known) or 'none'})")
        if get(params, f"{run_table(params, run)}.{run}.scale", int) != scale:
            raise SrtwinsError(f"params: '{key}[{i}]' = {run!r} is not at the study's scale (classify.scale: {scale})")
    return runs


def hr_sr_runs(params):
    """The runs that also get an hr-sr arm (the native images super-resolved): a subset of classify.sr_runs."""
    runs, arm_runs = sr_runs(params, "classify.hr_sr"), sr_runs(params)
    for i, run in enumerate(runs):
        if run not in arm_runs:
            raise SrtwinsError(f"params: 'classify.hr_sr[{i}]' = {run!r} is not in classify.sr_runs")
    return runs


def hr_sr_names(params):
    """classify.hr_sr as read by one stage: the names only (study() checks them against classify.sr_runs), so a
    stage that reads it does not depend on the rest of the study's params."""
    return get_list(params, "classify.hr_sr", str, nonempty=False)


def source_arms(params, source):
    """The arms one train_classifier stage trains, in a fixed order.

    Reads only what those arms depend on (classify.hr_sr, and the SR run's own entry), so adding a
    net to the zoo or to classify.sr_runs retrains no existing arm; study() checks the whole set."""
    if source == "lr":
        return [Arm("lr", "lr", "lr"), Arm("bicubic", "bicubic", "lr")]
    hr_sr = hr_sr_names(params)
    if source == "hr":
        return [Arm("hr", "hr", "hr")] + ([Arm("hr-bicubic", "hr-bicubic", "hr")] if hr_sr else [])
    if source not in run_names(params):
        raise SrtwinsError(f"params: source {source!r} is neither lr, hr nor an SR run (sr.runs, sr.gan_runs)")
    entry = f"{run_table(params, source)}.{source}"
    if get(params, f"{entry}.scale", int) != study_scale(params):
        raise SrtwinsError(f"params: source {source!r} is not at the study's scale "
                           f"(classify.scale: {study_scale(params)})")
    net = get(params, f"{entry}.net", str)
    hr_sr_arm = [Arm(f"hr-sr-{net}", "hr-sr", source, net)] if source in hr_sr else []
    return [Arm(f"sr-{net}", "sr", source, net)] + hr_sr_arm


def study(params):
    """(arms, twins) of the whole study: every SR arm against lr and bicubic; hr-sr against hr and hr-bicubic."""
    hr_sr_runs(params)
    arms = [a for source in (*CONTROLS, *sr_runs(params)) for a in source_arms(params, source)]
    by_name = {a.name: a for a in arms}
    bases = {"sr": ("lr", "bicubic"), "hr-sr": ("hr", "hr-bicubic")}
    twins = [Twin(a, by_name[b]) for a in arms for b in bases.get(a.kind, ())]
    return arms, twins
