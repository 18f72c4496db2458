"""Resolve and validate one SR training run from params.yaml (``sr.runs.<run>``)."""
from dataclasses import dataclass

from srtwins import SrtwinsError
from srtwins import params as P
from srtwins.nets import BUILDERS, GAN_NETS

DATA_SOURCES = ("t91", "cifar10")


@dataclass
class Run:
    name: str
    net: str
    scale: int
    arch: dict
    train: dict
    gan: dict
    perceptual: dict


def resolve(params, run):
    runs = P.get(params, "sr.runs", dict)
    if run not in runs:
        raise SrtwinsError(f"params: sr.runs has no run {run!r}; runs: {', '.join(runs) or '(none)'}")
    net = P.get(params, f"sr.runs.{run}.net", str, choices=(*BUILDERS, *GAN_NETS))
    scale = P.get(params, f"sr.runs.{run}.scale", int, choices=P.SCALES)
    net_cfg = P.get(params, f"sr.nets.{net}", dict, default={})
    train = {**P.get(params, "sr.train", dict), **net_cfg.get("train", {})}
    key = f"sr.nets.{net}.train"  # name overridden keys where they were set
    where = lambda k: f"{key}.{k}" if k in net_cfg.get("train", {}) else f"sr.train.{k}"  # noqa: E731
    checks = dict(lr_patch=(int, 4), batch_size=(int, 1), epochs=(int, 1), steps_per_epoch=(int, 1),
                  val_patches=(int, 1), patience=(int, 1), reduce_lr_patience=(int, 1), seed=(int, 0))
    check = lambda k, kind, **kw: P.get(train, k, kind, label=where(k), **kw)  # noqa: E731
    for k, (kind, minimum) in checks.items():
        check(k, kind, minimum=minimum)
    check("learning_rate", (int, float), minimum=1e-12)
    check("perceptual_weight", (int, float), minimum=0)
    check("val_fraction", (int, float), minimum=0.01)
    check("loss", str, choices=("mse", "l1"))
    check("mixed_precision", bool)
    if train["val_fraction"] > 0.5:
        raise SrtwinsError(f"params: '{where('val_fraction')}' must be <= 0.5")
    P.get_list(train, "data", str, choices=DATA_SOURCES, label=where("data"))
    if train.get("jit_compile", "auto") not in ("auto", True, False):
        raise SrtwinsError(f"params: '{where('jit_compile')}' must be auto, true or false")
    gan = net_cfg.get("gan", {}) if net in GAN_NETS else {}
    if net in GAN_NETS:
        for k, (kind, minimum) in dict(epochs=(int, 1), steps_per_epoch=(int, 1)).items():
            P.get(params, f"sr.nets.{net}.gan.{k}", kind, minimum=minimum)
        P.get(params, f"sr.nets.{net}.gan.learning_rate", (int, float), minimum=1e-12)
        for k in P.get(params, f"sr.nets.{net}.gan.weights", dict):
            P.get(params, f"sr.nets.{net}.gan.weights.{k}", (int, float), minimum=0)
    perceptual = P.get(params, "sr.perceptual", dict)
    P.get(params, "sr.perceptual.vgg_weights", str)
    return Run(run, net, scale, dict(net_cfg.get("arch", {})), train, gan, perceptual)

