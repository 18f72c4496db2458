"""SR runs from params: ``sr.runs.<run>`` (trained on a pixel loss) or ``sr.gan_runs.<run>`` (an adversarial
fine-tuning of an sr.runs generator), each a frozen Run that knows the key each training value came from."""
import math
from dataclasses import dataclass, field, replace

from srtwins import SrtwinsError
from srtwins.config import SCALES, devices, get, get_list, naming, run_names, run_seed, run_table, scales
from srtwins.sr.gan_recipes import RECIPES, GanRecipe, check_weights
from srtwins.sr.nets import SPECS

DATA_SOURCES = ("t91", "cifar10", "div2k")  # srtwins/sr/trainsets.py loads each
SWITCHES = ("mixed_precision", "jit_compile")  # the recipe's GPU switches
INFER_BATCH = 256  # CIFAR-10 images per super-resolution batch, unless sr.infer_batch_size says otherwise


@dataclass(frozen=True)
class Recipe:
    """How an SR net trains: ``sr.train`` with the net's ``sr.nets.<net>.train`` overrides."""

    data: tuple  # training sources, of DATA_SOURCES
    val_fraction: float  # whole images held out
    lr_patch: int
    batch_size: int
    epochs: int
    steps_per_epoch: int
    val_patches: int
    patience: int
    reduce_lr_patience: int
    seed: int
    learning_rate: float
    loss: str  # mse | l1
    perceptual_weight: float
    mixed_precision: bool
    jit_compile: bool | str


@dataclass(frozen=True)
class Gan:
    """A GAN run's fine-tuning (``sr.nets.<net>.gan``) and the GAN's recipe of losses."""

    recipe: GanRecipe
    epochs: int
    steps_per_epoch: int
    learning_rate: float
    weights: dict
    discriminator: dict


@dataclass(frozen=True)
class Run:
    """One trained net at one scale; ``keys`` maps each Recipe field to the params key that set it."""

    name: str
    net: str
    scale: int
    arch: dict
    train: Recipe
    vgg_weights: str
    gan: Gan | None = None
    generator: str | None = None  # GAN runs: the sr.runs run whose trained model they start from
    keys: dict = field(default_factory=dict, compare=False, repr=False)


def run(params, name):
    """The validated Run; a GAN net must be in sr.gan_runs with a generator run, every other net in sr.runs."""
    entry = f"{run_table(params, name)}.{name}"
    net = get(params, f"{entry}.net", str, choices=(*SPECS, *RECIPES))
    scale = get(params, f"{entry}.scale", int, choices=SCALES)
    if (net in RECIPES) != entry.startswith("sr.gan_runs"):
        where = "sr.gan_runs (with a generator: run)" if net in RECIPES else "sr.runs"
        raise SrtwinsError(f"params: '{entry}.net' = {net!r} belongs in {where}")
    own = get(params, f"sr.nets.{net}", dict, default={})
    overrides = own.get("train", {})
    keys = {k: f"sr.nets.{net}.train.{k}" if k in overrides else f"sr.train.{k}" for k in Recipe.__annotations__}
    recipe = _recipe({**get(params, "sr.train", dict), **overrides}, keys)
    generator = _generator(params, name, net, scale) if net in RECIPES else None
    if "seed" in get(params, entry, dict) or generator:  # a seed replica; a GAN has its generator's seed
        recipe, keys["seed"] = replace(recipe, seed=run_seed(params, name)), f"{entry}.seed"
    vgg = get(params, "sr.perceptual.vgg_weights", str)
    if not generator:
        return Run(name, net, scale, dict(own.get("arch", {})), recipe, vgg, keys=keys)
    # a GAN keeps its generator's architecture
    return Run(name, net, scale, run(params, generator).arch, recipe, vgg, _gan(params, net), generator, keys)


def _recipe(train, keys):
    def value(k, kind, **kw):
        return get(train, k, kind, label=keys[k], **kw)

    counts = dict(lr_patch=4, batch_size=1, epochs=1, steps_per_epoch=1, val_patches=1, patience=1,
                  reduce_lr_patience=1, seed=0)
    return Recipe(
        data=tuple(get_list(train, "data", str, choices=DATA_SOURCES, label=keys["data"])),
        val_fraction=value("val_fraction", (int, float), minimum=0.01, maximum=0.5),
        **{k: value(k, int, minimum=m) for k, m in counts.items()},
        learning_rate=value("learning_rate", (int, float), minimum=1e-12),
        loss=value("loss", str, choices=("mse", "l1")),
        perceptual_weight=value("perceptual_weight", (int, float), minimum=0),
        mixed_precision=value("mixed_precision", bool),
        jit_compile=value("jit_compile", (bool, str), choices=(True, False, "auto"), default="auto"))


def _gan(params, net):
    """sr.nets.<net>.gan: epochs, steps, learning rate, and finite, non-negative weights of known terms."""
    key = f"sr.nets.{net}.gan"
    weights = get(params, f"{key}.weights", dict)
    for k in weights:
        if not math.isfinite(get(params, f"{key}.weights.{k}", (int, float), minimum=0)):
            raise SrtwinsError(f"params: '{key}.weights.{k}' must be a finite number")
    with naming({"weights": f"{key}.weights"}):
        check_weights(weights)
    return Gan(RECIPES[net], epochs=get(params, f"{key}.epochs", int, minimum=1),
               steps_per_epoch=get(params, f"{key}.steps_per_epoch", int, minimum=1),
               learning_rate=get(params, f"{key}.learning_rate", (int, float), minimum=1e-12),
               weights=weights, discriminator=get(params, f"{key}.discriminator", dict, default={}))


def _generator(params, name, net, scale):
    """The sr.runs run a GAN run fine-tunes: it must train the recipe's generator net at the same scale."""
    key = f"sr.gan_runs.{name}.generator"
    generator = get(params, key, str)
    runs, wanted = get(params, "sr.runs", dict, default={}), RECIPES[net].generator
    if generator not in runs:
        raise SrtwinsError(f"params: '{key}' = {generator!r} is not in sr.runs (runs: {', '.join(runs) or 'none'})")
    if get(params, f"sr.runs.{generator}.net", str) != wanted:
        raise SrtwinsError(f"params: '{key}' = {generator!r} does not train {wanted} (the net {net} fine-tunes)")
    if get(params, f"sr.runs.{generator}.scale", int) != scale:
        raise SrtwinsError(f"params: '{key}' = {generator!r} is not at x{scale}, the scale of {name}")
    return generator


def training(params, name, adversarial):
    """The run a train_gan (``adversarial``) or train_sr stage trains, its GPU switches checked."""
    r = run(params, name)
    if r.gan and not adversarial:
        raise SrtwinsError(f"params: {name} is a GAN run; train_gan trains it")
    if adversarial and not r.gan:
        raise SrtwinsError(f"params: {name} is not a GAN run (sr.gan_runs); train_sr trains it")
    devices.check(params, {r.keys[k]: getattr(r.train, k) for k in SWITCHES})
    return r


def infer_batch(params):
    return get(params, "sr.infer_batch_size", int, minimum=1, default=INFER_BATCH)


def evaluation(params, known_baselines):
    """(scales, baseline methods, every Run) that the evaluate stage scores; each run at a degraded scale."""
    wanted = scales(params)
    methods = get_list(params, "evaluate.baselines", str, choices=known_baselines)
    runs = [run(params, name) for name in run_names(params)]
    for r in runs:
        if r.scale not in wanted:
            raise SrtwinsError(f"params: run {r.name} is x{r.scale}, not in degrade.scales {wanted}")
    return wanted, methods, runs
