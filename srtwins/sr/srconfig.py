"""Resolve and validate one SR run from params.yaml: ``sr.runs.<run>`` (trained on a pixel loss) or
``sr.gan_runs.<run>`` (fine-tuned adversarially from the trained model of an ``sr.runs`` generator)."""
import math
from dataclasses import dataclass

from srtwins import SrtwinsError
from srtwins.config import SCALES, get, get_list, run_table
from srtwins.sr.nets import GAN_TERMS, SPECS, NetSpec

DATA_SOURCES = ("t91", "cifar10", "div2k")  # srtwins/sr/trainsets.py loads each


@dataclass
class Run:
    """One trained net at one scale, as sr.runs.<name> and sr.nets.<net> describe it."""

    name: str
    net: str
    spec: NetSpec
    scale: int
    arch: dict
    train: dict
    gan: dict
    perceptual: dict
    generator: str | None = None  # GAN runs: the sr.runs run whose trained model they start from


def resolve(params, run):
    """The validated Run; a GAN net must be in sr.gan_runs with a generator run, every other net in sr.runs."""
    table = run_table(params, run)
    net = get(params, f"{table}.{run}.net", str, choices=tuple(SPECS))
    scale = get(params, f"{table}.{run}.scale", int, choices=SCALES)
    if bool(SPECS[net].gan) != (table == "sr.gan_runs"):
        where = "sr.gan_runs (with a generator: run)" if SPECS[net].gan else "sr.runs"
        raise SrtwinsError(f"params: '{table}.{run}.net' = {net!r} belongs in {where}")
    generator = _generator(params, run, net, scale) if SPECS[net].gan else None
    net_cfg = get(params, f"sr.nets.{net}", dict, default={})
    train = {**get(params, "sr.train", dict), **net_cfg.get("train", {})}
    key = f"sr.nets.{net}.train"  # name overridden keys where they were set

    def where(k):
        return f"{key}.{k}" if k in net_cfg.get("train", {}) else f"sr.train.{k}"

    def check(k, kind, **kw):
        return get(train, k, kind, label=where(k), **kw)

    checks = dict(lr_patch=(int, 4), batch_size=(int, 1), epochs=(int, 1), steps_per_epoch=(int, 1),
                  val_patches=(int, 1), patience=(int, 1), reduce_lr_patience=(int, 1), seed=(int, 0))
    for k, (kind, minimum) in checks.items():
        check(k, kind, minimum=minimum)
    check("learning_rate", (int, float), minimum=1e-12)
    check("perceptual_weight", (int, float), minimum=0)
    check("val_fraction", (int, float), minimum=0.01)
    check("loss", str, choices=("mse", "l1"))
    check("mixed_precision", bool)
    if train["val_fraction"] > 0.5:
        raise SrtwinsError(f"params: '{where('val_fraction')}' must be <= 0.5")
    get_list(train, "data", str, choices=DATA_SOURCES, label=where("data"))
    if train.get("jit_compile", "auto") not in ("auto", True, False):
        raise SrtwinsError(f"params: '{where('jit_compile')}' must be auto, true or false")
    gan = _gan_block(params, net) if SPECS[net].gan else {}
    perceptual = get(params, "sr.perceptual", dict)
    get(params, "sr.perceptual.vgg_weights", str)
    # a GAN keeps its generator's architecture
    arch = resolve(params, generator).arch if generator else dict(net_cfg.get("arch", {}))
    return Run(run, net, SPECS[net], scale, arch, train, gan, perceptual, generator)


def _gan_block(params, net):
    """sr.nets.<net>.gan validated: epochs, steps, learning rate, and finite, non-negative loss weights."""
    key = f"sr.nets.{net}.gan"
    for k, (kind, minimum) in dict(epochs=(int, 1), steps_per_epoch=(int, 1)).items():
        get(params, f"{key}.{k}", kind, minimum=minimum)
    get(params, f"{key}.learning_rate", (int, float), minimum=1e-12)
    get(params, f"{key}.discriminator", dict, default={})
    for k in get(params, f"{key}.weights", dict):
        if k not in GAN_TERMS:
            raise SrtwinsError(f"params: '{key}.weights.{k}' is not a loss term; terms: {', '.join(GAN_TERMS)}")
        if not math.isfinite(get(params, f"{key}.weights.{k}", (int, float), minimum=0)):
            raise SrtwinsError(f"params: '{key}.weights.{k}' must be a finite number")
    return get(params, key, dict)


def _generator(params, run, net, scale):
    """The sr.runs run a GAN run fine-tunes: it must train the spec's generator net at the same scale."""
    key = f"sr.gan_runs.{run}.generator"
    generator = get(params, key, str)
    runs, wanted = get(params, "sr.runs", dict, default={}), SPECS[net].gan.generator
    if generator not in runs:
        raise SrtwinsError(f"params: '{key}' = {generator!r} is not in sr.runs (runs: {', '.join(runs) or 'none'})")
    if get(params, f"sr.runs.{generator}.net", str) != wanted:
        raise SrtwinsError(f"params: '{key}' = {generator!r} does not train {wanted} (the net {net} fine-tunes)")
    if get(params, f"sr.runs.{generator}.scale", int) != scale:
        raise SrtwinsError(f"params: '{key}' = {generator!r} is not at x{scale}, the scale of {run}")
    return generator

