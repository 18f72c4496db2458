"""Resolve and validate one SR training run from params.yaml (``sr.runs.<run>``)."""
from dataclasses import dataclass

from srtwins import SrtwinsError
from srtwins.params import SCALES, get, get_list
from srtwins.nets import SPECS, NetSpec

DATA_SOURCES = ("t91", "cifar10", "div2k")  # srtwins/trainsets.py loads each


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


def resolve(params, run):
    runs = get(params, "sr.runs", dict)
    if run not in runs:
        raise SrtwinsError(f"params: sr.runs has no run {run!r}; runs: {', '.join(runs) or '(none)'}")
    net = get(params, f"sr.runs.{run}.net", str, choices=tuple(SPECS))
    scale = get(params, f"sr.runs.{run}.scale", int, choices=SCALES)
    net_cfg = get(params, f"sr.nets.{net}", dict, default={})
    train = {**get(params, "sr.train", dict), **net_cfg.get("train", {})}
    key = f"sr.nets.{net}.train"  # name overridden keys where they were set
    where = lambda k: f"{key}.{k}" if k in net_cfg.get("train", {}) else f"sr.train.{k}"  # noqa: E731
    checks = dict(lr_patch=(int, 4), batch_size=(int, 1), epochs=(int, 1), steps_per_epoch=(int, 1),
                  val_patches=(int, 1), patience=(int, 1), reduce_lr_patience=(int, 1), seed=(int, 0))
    check = lambda k, kind, **kw: get(train, k, kind, label=where(k), **kw)  # noqa: E731
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
    gan = net_cfg.get("gan", {}) if SPECS[net].gan else {}
    if SPECS[net].gan:
        for k, (kind, minimum) in dict(epochs=(int, 1), steps_per_epoch=(int, 1)).items():
            get(params, f"sr.nets.{net}.gan.{k}", kind, minimum=minimum)
        get(params, f"sr.nets.{net}.gan.learning_rate", (int, float), minimum=1e-12)
        for k in get(params, f"sr.nets.{net}.gan.weights", dict):
            get(params, f"sr.nets.{net}.gan.weights.{k}", (int, float), minimum=0)
    perceptual = get(params, "sr.perceptual", dict)
    get(params, "sr.perceptual.vgg_weights", str)
    return Run(run, net, SPECS[net], scale, dict(net_cfg.get("arch", {})), train, gan, perceptual)

