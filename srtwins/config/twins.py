"""The twin study from params: its arms and pairs, seeds and folds, the classifier recipe and the decision rule.

Keras-free, so the run plan and the decision stage read it without loading a backend."""
from dataclasses import dataclass

from srtwins import SrtwinsError
from srtwins.config import SCALES, get, get_list, run_names, run_table
from srtwins.twins.arms import CONTROLS, Arm, Twin

RULES = ("paired_bootstrap", "mcnemar_ensemble")  # srtwins/twins/decision.py applies each


@dataclass(frozen=True)
class Recipe:
    """Everything about training a classifier except its input: identical for every arm."""

    model: str
    grid: int
    epochs: int
    batch_size: int
    learning_rate: float
    schedule: str  # constant, or cosine: decays to 0 over the epochs so the curves settle by the end
    augment: bool
    val_fraction: float
    jit_compile: bool | str
    mixed_precision: bool


@dataclass(frozen=True)
class Decision:
    """classify.decision: the test, its level, the power for the detectable difference, bootstrap draws."""

    rule: str
    alpha: float
    power: float
    bootstrap: int


# where each value a library error names was set
KEYS = {**{k: f"classify.recipe.{k}" for k in Recipe.__annotations__}, "epochs": "epochs", "folds": "classify.folds"}


def recipe(params):
    """The recipe from ``classify.recipe`` and the top-level ``epochs``, validated."""
    def value(k, kind, **kw):
        return get(params, KEYS[k], kind, **kw)

    return Recipe(
        model=value("model", str), grid=value("grid", int, minimum=1), epochs=value("epochs", int, minimum=1),
        batch_size=value("batch_size", int, minimum=1),
        learning_rate=value("learning_rate", (int, float), minimum=1e-12),
        schedule=value("schedule", str, choices=("constant", "cosine")), augment=value("augment", bool),
        val_fraction=value("val_fraction", (int, float), minimum=0.01, maximum=0.5),
        jit_compile=value("jit_compile", (bool, str), choices=(True, False, "auto")),
        mixed_precision=value("mixed_precision", bool))


def training(params):
    """(recipe, seeds, folds, {key: GPU switch}) of a train_classifier stage (config.devices checks the switches)."""
    rec = recipe(params)
    switches = {KEYS[k]: getattr(rec, k) for k in ("mixed_precision", "jit_compile")}
    return rec, seeds(params), get(params, KEYS["folds"], int, minimum=2), switches


def decision(params):
    return Decision(rule=get(params, "classify.decision.rule", str, choices=RULES),
                    alpha=get(params, "classify.decision.alpha", float, minimum=1e-6, maximum=0.5),
                    power=get(params, "classify.decision.power", float, minimum=0.5, maximum=0.99),
                    bootstrap=get(params, "classify.decision.bootstrap", int, minimum=100))


def scale(params):
    return get(params, "classify.scale", int, choices=SCALES)


def seeds(params):
    """classify.seeds: a non-empty list of distinct integers in NumPy's seed range."""
    return get_list(params, "classify.seeds", int, minimum=0, maximum=2**32 - 1)


def sr_runs(params, key="classify.sr_runs"):
    """The SR runs that feed classifier arms: each an sr.runs or sr.gan_runs entry at the study's scale."""
    runs = get_list(params, key, str, nonempty=False)
    known, s = run_names(params), scale(params)
    for i, run in enumerate(runs):
        if run not in known:
            raise SrtwinsError(f"params: '{key}[{i}]' = {run!r} is not in sr.runs or sr.gan_runs "
                               f"(runs: {', '.join(known) or 'none'})")
        if get(params, f"{run_table(params, run)}.{run}.scale", int) != s:
            raise SrtwinsError(f"params: '{key}[{i}]' = {run!r} is not at the study's scale (classify.scale: {s})")
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
    if get(params, f"{entry}.scale", int) != scale(params):
        raise SrtwinsError(f"params: source {source!r} is not at the study's scale (classify.scale: {scale(params)})")
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
