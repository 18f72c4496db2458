"""The twin study from params: its arms and pairs, the SR and classifier seeds, the classifier recipe and the decision.

Keras-free, so the run plan and the decision stage read it without loading a backend."""
from dataclasses import dataclass

from srtwins import SrtwinsError
from srtwins.config import SCALES, get, get_list, run_names, run_seed, run_table
from srtwins.twins.arms import Arm, Twin


@dataclass(frozen=True)
class Recipe:
    """Everything about training a classifier except its input: identical for every arm."""

    model: str
    width: int
    epochs: int
    batch_size: int
    learning_rate: float
    label_smoothing: float
    warmup: float  # the fraction of steps the one-cycle schedule warms up over (0: a cosine decay only)
    augment: bool
    jit_compile: bool | str
    mixed_precision: bool


@dataclass(frozen=True)
class Decision:
    """classify.decision: the tests' level and the equivalence margin, fixed before the run."""

    alpha: float
    margin: float  # accuracy difference (a fraction) within which two arms count as equivalent
    pairing_correlation: float  # runs paired by classifier seed only above this same-seed correlation (95% low)


# where each value a library error names was set
KEYS = {**{k: f"classify.recipe.{k}" for k in Recipe.__annotations__}, "epochs": "epochs"}


def recipe(params):
    """The recipe from ``classify.recipe`` and the top-level ``epochs``, validated."""
    def value(k, kind, **kw):
        return get(params, KEYS[k], kind, **kw)

    return Recipe(
        model=value("model", str), width=value("width", int, minimum=1), epochs=value("epochs", int, minimum=1),
        batch_size=value("batch_size", int, minimum=1),
        learning_rate=value("learning_rate", (int, float), minimum=1e-12),
        label_smoothing=value("label_smoothing", (int, float), minimum=0, maximum=0.5),
        warmup=value("warmup", (int, float), minimum=0, maximum=0.5), augment=value("augment", bool),
        jit_compile=value("jit_compile", (bool, str), choices=(True, False, "auto")),
        mixed_precision=value("mixed_precision", bool))


def training(params, source):
    """(recipe, classifier seeds, {key: GPU switch}) of one train_classifier stage (config.devices checks them)."""
    rec = recipe(params)
    switches = {KEYS[k]: getattr(rec, k) for k in ("mixed_precision", "jit_compile")}
    return rec, source_seeds(params, source), switches


def decision(params):
    return Decision(alpha=get(params, "classify.decision.alpha", float, minimum=1e-6, maximum=0.5),
                    margin=get(params, "classify.decision.margin", float, minimum=1e-6, maximum=0.01),
                    pairing_correlation=get(params, "classify.decision.pairing_correlation", float, minimum=0,
                                            maximum=1))


def scale(params):
    return get(params, "classify.scale", int, choices=SCALES)


def seeds(params):
    """classify.seeds: the control arms' classifier seeds, at least 2 (the classifier-seed variance needs
    them), distinct integers in NumPy's seed range."""
    return _seed_list(params, "classify.seeds")


def sr_classifier_seeds(params):
    """classify.sr_classifier_seeds: the classifier seeds of each SR run's arms, a subset of classify.seeds (so
    that runs can be paired by seed where the decision's rule pairs them)."""
    key = "classify.sr_classifier_seeds"
    chosen, control = _seed_list(params, key), seeds(params)
    for i, s in enumerate(chosen):
        if s not in control:
            raise SrtwinsError(f"params: '{key}[{i}]' = {s} is not in classify.seeds {control} (pairs match seeds)")
    return chosen


def _seed_list(params, key):
    chosen = get_list(params, key, int, minimum=0, maximum=2**32 - 1)
    if len(chosen) < 2:
        raise SrtwinsError(f"params: '{key}' has {len(chosen)} seed(s); the classifier-seed variance needs at least 2")
    return chosen


def source_seeds(params, source):
    return seeds(params) if source in ("lr", "hr") else _seed_list(params, "classify.sr_classifier_seeds")


def sr_runs(params):
    """classify.sr_runs grouped by net ({net: [runs]}), each net with classify.sr_seeds runs of distinct seeds."""
    key, s = "classify.sr_runs", scale(params)
    wanted = sr_seed_count(params)
    known, groups = run_names(params), {}
    for i, run in enumerate(get_list(params, key, str, nonempty=False)):
        if run not in known:
            raise SrtwinsError(f"params: '{key}[{i}]' = {run!r} is not in sr.runs or sr.gan_runs "
                               f"(runs: {', '.join(known) or 'none'})")
        if get(params, f"{run_table(params, run)}.{run}.scale", int) != s:
            raise SrtwinsError(f"params: '{key}[{i}]' = {run!r} is not at the study's scale (classify.scale: {s})")
        groups.setdefault(_net(params, run), []).append(run)
    for net, runs in groups.items():
        seeds_ = [run_seed(params, r) for r in runs]
        if len(runs) != wanted or len(set(seeds_)) != len(runs):
            raise SrtwinsError(f"params: '{key}' has {len(runs)} runs of {net} with seeds {seeds_}; "
                               f"classify.sr_seeds asks for {wanted} with distinct seeds")
    return groups


def sr_seed_count(params):
    """classify.sr_seeds: how many SR nets, trained from scratch with different seeds, make each SR arm."""
    return get(params, "classify.sr_seeds", int, minimum=1)


def arm_run_names(params):
    """classify.sr_runs as one super_resolve stage reads it: the names only (study() checks them)."""
    return get_list(params, "classify.sr_runs", str, nonempty=False)


def hr_sr_nets(params):
    """classify.hr_sr: the nets whose runs also get an hr-sr arm (the native images super-resolved)."""
    return get_list(params, "classify.hr_sr", str, nonempty=False)


def _net(params, run):
    return get(params, f"{run_table(params, run)}.{run}.net", str)


def source_arms(params, source):
    """The arms one train_classifier stage trains, in a fixed order.

    Reads only what those arms depend on (classify.hr_sr, and the SR run's own entry), so adding a
    net to the zoo or to classify.sr_runs retrains no existing arm; study() checks the whole set."""
    if source == "lr":
        return [Arm("lr", "lr", ("lr",)), Arm("bicubic", "bicubic", ("lr",))]
    hr_sr = hr_sr_nets(params)
    if source == "hr":
        return [Arm("hr", "hr", ("hr",))] + ([Arm("hr-bicubic", "hr-bicubic", ("hr",))] if hr_sr else [])
    if source not in run_names(params):
        raise SrtwinsError(f"params: source {source!r} is neither lr, hr nor an SR run (sr.runs, sr.gan_runs)")
    if get(params, f"{run_table(params, source)}.{source}.scale", int) != scale(params):
        raise SrtwinsError(f"params: source {source!r} is not at the study's scale (classify.scale: {scale(params)})")
    net = _net(params, source)
    hr_sr_arm = [Arm(f"hr-sr-{net}", "hr-sr", (source,), net)] if net in hr_sr else []
    return [Arm(f"sr-{net}", "sr", (source,), net)] + hr_sr_arm


def study(params):
    """(arms, twins): every SR arm (all its seed runs) against lr and bicubic; hr-sr against hr-bicubic."""
    groups = sr_runs(params)
    for i, net in enumerate(hr_sr_nets(params)):
        if net not in groups:
            raise SrtwinsError(f"params: 'classify.hr_sr[{i}]' = {net!r} is not a net of classify.sr_runs")
    arms = [*source_arms(params, "lr"), *source_arms(params, "hr")]
    for net, runs in groups.items():
        for arm in source_arms(params, runs[0]):
            arms.append(Arm(arm.name, arm.kind, tuple(runs), net))
    by_name = {a.name: a for a in arms}
    bases = {"sr": ("lr", "bicubic"), "hr-sr": ("hr-bicubic",)}
    twins = [Twin(a, by_name[b]) for a in arms for b in bases.get(a.kind, ())]
    return arms, twins
