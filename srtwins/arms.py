"""The twin arms of the study: which images each classifier sees, resolved from params."""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from srtwins import SrtwinsError
from srtwins import params as P
from srtwins.imresize import imresize, modcrop
from srtwins.io import load_npy

BASE_ARMS = ("lr", "bicubic", "hr")


@dataclass
class Arm:
    name: str
    kind: str  # lr | bicubic | hr | sr | hr-sr
    run: str | None = None


def study_scale(params):
    return P.get(params, "classify.scale", int, choices=P.SCALES)


def resolve(params, name):
    """An arm by name: lr, bicubic, hr, sr-<net>, hr-sr-<net>; an SR arm needs a trained <net>_x<scale> run."""
    scale = study_scale(params)
    if name in BASE_ARMS:
        return Arm(name, name)
    for prefix, kind in (("hr-sr-", "hr-sr"), ("sr-", "sr")):
        if name.startswith(prefix):
            net = name[len(prefix):]
            run = f"{net}_x{scale}"
            runs = P.get(params, "sr.runs", dict)
            if run not in runs:
                raise SrtwinsError(f"params: twin arm {name!r} needs SR run {run!r}, which is not in sr.runs "
                                   f"(trained runs: {', '.join(runs) or 'none'})")
            if kind == "hr-sr" and not P.get(params, "classify.hr_sr", bool):
                raise SrtwinsError(f"params: arm {name!r} needs classify.hr_sr: true")
            return Arm(name, kind, run)
    raise SrtwinsError(f"params: unknown arm {name!r}; arms are lr, bicubic, hr, sr-<net>, hr-sr-<net>")


def arm_names(params):
    arms = P.get(params, "classify.arms", list)
    if not arms:
        raise SrtwinsError("params: 'classify.arms' must not be empty")
    for i, a in enumerate(arms):
        P.get({"arm": a}, "arm", dict, label=f"classify.arms[{i}]")
    return [P.get(a, "name", str, label=f"classify.arms[{i}].name") for i, a in enumerate(arms)]


def load(arm, params, split):
    """uint8 images (N, H, W, 3) and labels for one arm and split ('train' or 'test')."""
    s = study_scale(params)
    y = load_npy(Path("data/raw/cifar10") / f"y_{split}.npy", mmap=False)
    if arm.kind == "hr":
        x = modcrop(load_npy(Path("data/raw/cifar10") / f"x_{split}.npy"), s, batched=True)
    elif arm.kind == "lr":
        x = load_npy(Path(f"data/lr/x{s}/cifar10") / f"x_{split}.npy")
    elif arm.kind == "bicubic":
        lr = load_npy(Path(f"data/lr/x{s}/cifar10") / f"x_{split}.npy", mmap=False)
        x = np.concatenate([imresize(lr[i : i + 1024], s) for i in range(0, len(lr), 1024)])
    else:
        prefix = "hr_x" if arm.kind == "hr-sr" else "x"
        x = load_npy(Path(f"data/sr/{arm.run}/cifar10") / f"{prefix}_{split}.npy")
    from srtwins.classify import check_inputs

    check_inputs(x, y, f"{arm.name} {split}")
    return x, y


def input_path(arm, params):
    """The folder an arm reads: declared in classify.arms so DVC tracks exactly that dependency."""
    s = study_scale(params)
    return {"hr": "data/raw/cifar10", "lr": f"data/lr/x{s}/cifar10", "bicubic": f"data/lr/x{s}/cifar10"}.get(
        arm.kind, f"data/sr/{arm.run}/cifar10")


def check_declared(params, name):
    """The arm's ``input`` in params must be the folder it really reads (else DVC's deps would lie)."""
    arm = resolve(params, name)
    declared = {a["name"]: a.get("input") for a in P.get(params, "classify.arms", list)}.get(name)
    expected = input_path(arm, params)
    if declared != expected:
        raise SrtwinsError(f"params: classify.arms entry {name!r} has input {declared!r}; it reads {expected!r}")
    return arm
