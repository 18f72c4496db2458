"""Seconds per stage from measured throughput: a benchmark JSON (``benchmarks/bench.py --json``), scaled by FLOPs.

SR nets are measured at one scale and patch size; another scale, patch size or architecture is scaled by the
ratio of forward FLOPs (the nets are fully convolutional). Classifier training is measured per input size and
interpolated between sizes. Stages with no measured figure (fetch, degrade, scoring, report) get none.
"""
import functools
import math
from dataclasses import dataclass

from srtwins import SrtwinsError, paths
from srtwins.budget import CIFAR_SIDE, arm_side, cifar_counts, image_pixels, image_shapes, net_facts
from srtwins.config import get
from srtwins.io import read_json
from srtwins.sr import srconfig
from srtwins.twins import arms

BACKWARD = 2  # a backward pass costs about twice the forward pass: one training step is 3 forward passes


@dataclass(frozen=True)
class Rates:
    """Measured figures of one machine (see benchmarks/bench.py)."""

    path: str
    machine: str
    nets: dict  # scale, lr_patch, train_patches_per_s {net: r}, infer_lr_side, infer_images_per_s {net: r}
    classifiers: dict  # train_images_per_s {side: r}


@dataclass(frozen=True)
class Estimate:
    seconds: float | None
    note: str = ""


def load_rates(path):
    """A throughput file; one that lacks what the estimates read is a one-line error naming it."""
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("machine"), str):
        raise SrtwinsError(f"{path}: not a throughput file (expected 'machine', 'nets', 'classifiers'; "
                           "see benchmarks/bench.py)")
    nets = data.get("nets", {})
    needed = {"train_patches_per_s": ("scale", "lr_patch"), "infer_images_per_s": ("scale", "infer_lr_side")}
    for table, keys in needed.items():
        missing = [k for k in keys if table in nets and k not in nets]
        if missing:
            raise SrtwinsError(f"{path}: 'nets.{table}' needs 'nets.{missing[0]}' (the benchmark's setting)")
    return Rates(str(path), data["machine"], nets, data.get("classifiers", {}))


def stage_estimate(params, stage, rates):
    """The estimated seconds of one stage, with a note on what the figure means."""
    if stage.group in TIMES:
        return TIMES[stage.group](params, stage, rates)
    return Estimate(None, "not measured")


def _measured(rates, table, net):
    """(rate, reference facts) of the benchmark entry for ``net`` (a GAN net uses its generator's)."""
    from srtwins.sr import nets

    name = nets.spec(net).builder.__name__
    rate = rates.nets.get(table, {}).get(name)
    return (rate, net_facts(name, rates.nets["scale"], {})) if rate else (None, None)


def _train_sr(params, stage, rates):
    run = srconfig.resolve(params, stage.key)
    t, p = run.train, run.train["lr_patch"]
    rate, ref = _measured(rates, "train_patches_per_s", run.net)
    if rate is None:
        return Estimate(None, f"no training figure for {run.net}")
    g = net_facts(run.net, run.scale, run.arch).flops_per_px * p * p
    per_patch = g / (ref.flops_per_px * rates.nets["lr_patch"] ** 2) / rate  # seconds per training patch
    v = _vgg_flops(p * run.scale, "block5_conv4") if t["perceptual_weight"] else 0  # VGG of both, backward of one
    seconds = t["epochs"] * per_patch * (t["steps_per_epoch"] * t["batch_size"] * (3 * g + 4 * v) / (3 * g)
                                          + t["val_patches"] * (g + 2 * v) / (3 * g))
    if not run.gan:
        return Estimate(seconds, "at most (early stopping)")
    step, val = _adversarial_cost(run, g)
    gan = run.gan
    seconds = gan["epochs"] * per_patch * (gan["steps_per_epoch"] * t["batch_size"] * step + t["val_patches"] * val)
    return Estimate(seconds, "the adversarial fine-tuning")


def _adversarial_cost(run, g):
    """(training step, validation step) of the adversarial phase, in pixel-loss training patches.

    One step: the generator forward and backward (3 g), the discriminator on real and fake images, forward
    and backward for both networks' gradients (8 d), VGG features of both and the backward through one (4 v)."""
    hr = run.train["lr_patch"] * run.scale
    d = _discriminator_flops(hr)
    v = _vgg_flops(hr, run.spec.gan.vgg_layer) if run.gan.get("weights", {}).get("perceptual", 0) else 0
    return (3 * g + 8 * d + 4 * v) / (3 * g), (g + 2 * d + 2 * v) / (3 * g)


@functools.lru_cache(maxsize=None)
def _discriminator_flops(side):
    from srtwins.sr import nets
    from srtwins.sr.flops import model_flops

    return model_flops(nets.discriminator(), (side, side, 3))[0]


@functools.lru_cache(maxsize=None)
def _vgg_flops(side, layer):
    import keras

    from srtwins.sr.flops import model_flops

    vgg = keras.applications.VGG19(weights=None, include_top=False)
    return model_flops(keras.Model(vgg.input, vgg.get_layer(layer).output), (side, side, 3))[0]


def _super_resolve(params, stage, rates):
    run = srconfig.resolve(params, stage.key)
    rate, ref = _measured(rates, "infer_images_per_s", run.net)
    if rate is None:
        return Estimate(None, f"no inference figure for {run.net}")
    s, counts = run.scale, cifar_counts(params)
    pixels = sum(image_pixels(shape, s) for name in paths.TEST_SETS for _, shape in image_shapes(name))
    pixels += sum(counts.values()) * (CIFAR_SIDE // s) ** 2
    if run.name in arms.hr_sr_names(params):
        pixels += sum(counts.values()) * CIFAR_SIDE**2
    flops_per_s = rate * ref.flops_per_px * rates.nets["infer_lr_side"] ** 2
    return Estimate(net_facts(run.net, s, run.arch).flops_per_px * pixels / flops_per_s)


def _train_classifier(params, stage, rates):
    from srtwins.twins.crossval import recipe

    rec, seeds = recipe(params), arms.seeds(params)
    folds, scale = get(params, "classify.folds", int, minimum=2), arms.study_scale(params)
    n = sum(cifar_counts(params).values())
    fold_train = n * (folds - 1) / folds
    val = round(rec.val_fraction * fold_train)
    images = rec.epochs * (fold_train - val) + (rec.epochs * val + n / folds) / (1 + BACKWARD)
    seconds, notes = 0.0, set()
    for arm in arms.source_arms(params, str(stage.item)):
        rate, note = classifier_rate(rates, arm_side(arm.kind, scale))
        if rate is None:
            return Estimate(None, note)
        seconds += len(seeds) * folds * images / rate
        notes.add(note)
    return Estimate(seconds, "; ".join(sorted(filter(None, notes))))


def classifier_rate(rates, side):
    """(images/s, note) at a side x side input: measured, interpolated log-log in pixels between measured sizes,
    the smallest size's rate below them (an upper bound on time) and time linear in pixels above them."""
    measured = sorted((int(k), float(v)) for k, v in rates.classifiers.get("train_images_per_s", {}).items())
    if not measured:
        return None, "no classifier figure"
    if side <= measured[0][0]:
        return measured[0][1], "" if side == measured[0][0] else f"{side} px at the {measured[0][0]} px rate"
    if side >= measured[-1][0]:
        big, rate = measured[-1]
        return rate * (big / side) ** 2, "" if side == big else f"{side} px extrapolated from {big} px"
    (a, ra), (b, rb) = next((lo, hi) for lo, hi in zip(measured, measured[1:]) if lo[0] <= side <= hi[0])
    t = math.log(side / a) / math.log(b / a)
    return math.exp(math.log(ra) + t * (math.log(rb) - math.log(ra))), f"{side} px interpolated"


TIMES = {"train_sr": _train_sr, "train_gan": _train_sr, "super_resolve": _super_resolve,
         "super_resolve_gan": _super_resolve,
         "train_classifier": _train_classifier, "train_classifier_sr": _train_classifier}
