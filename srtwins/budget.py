"""Bytes of every file each stage writes, from params alone, and what the DVC cache adds on disk.

Arrays are exact (the ``.npy`` header plus N x H x W x C items); PNGs count as their uncompressed pixels
(an upper bound); ``.keras`` files as weights plus Adam state plus measured overhead; logs, CSVs and figures
from per-row and per-file sizes measured on the CPU default's outputs (small next to the arrays).
"""
import functools
import inspect
import io
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from srtwins import SrtwinsError, paths
from srtwins.config import get, get_list, run_names, scales
from srtwins.data.fetch import MANIFESTS, read_manifest
from srtwins.sr import srconfig
from srtwins.twins import arms

CIFAR_SIDE = 32
PROBE_SIDE = 8  # LR side the SR nets are probed at: their FLOPs and sizes scale with pixels from there
CLASSES_TXT = 61  # the ten class names, one a line
CIFAR_DOWNLOAD = 170_052_171 + 184_380_149  # cifar-10-binary.tar.gz and the batches it unpacks to
# Measured on the CPU default's outputs (metrics/, plots/, a saved ESPCN and small CNN):
SCORE_ROW = 80  # a per-image score row (metrics/sr_per_image.csv: 95,247 bytes, 1,190 rows)
PREDICTION_ROW = 12  # a plots/classify/predictions row (about 11,850 bytes for 1,000 images)
CURVE_ROW = 50  # a learning-curve row of plots/train_cls
LIVE_ROW = 40  # a dvclive .tsv row (timestamp, step, value)
SR_JSON_CELL = 230  # one dataset x scale x method entry of metrics/sr.json
CLASSIFY_JSON_ENTRY = 500  # one arm or twin pair of metrics/classify.json
ROC_CSV = 1_400  # a ROC curve resampled on 101 points
TRIPLET_PNG = 370_000
FIGURE_PNG = 35_000
SMALL_JSON = 2_000  # summaries: train.json, models/sr/<run>.json, speed.json, sr_nets.json entries
README_BYTES = 40_000
KERAS_VAR = 1_300  # HDF5 overhead per stored variable of a .keras file (measured 870-1,270)
KERAS_LAYER = 1_000  # config.json bytes per layer (measured 770-850)
DVC_DEFAULT_LINKS = ("reflink", "copy")  # cache.type when .dvc/config sets none


@dataclass(frozen=True)
class ModelFacts:
    """What a saved model's size and cost follow from: parameter and variable counts, FLOPs per LR pixel."""

    params: int
    trainable: int
    weights: int  # stored variables (trainable and not)
    trainable_weights: int
    layers: int
    flops_per_px: float  # forward FLOPs per input pixel (SR nets are fully convolutional)


@dataclass(frozen=True)
class OutSize:
    path: str
    cached: bool
    bytes: int
    is_dir: bool


def npy_bytes(shape, dtype="u1"):
    """Exact size of ``np.save`` of an array: its header (padded to 64 bytes) plus the items."""
    header = {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": tuple(shape)}
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.tell() + int(np.prod(shape)) * np.dtype(dtype).itemsize


def keras_bytes(facts, mixed_precision):
    """A compiled, trained model saved as ``.keras``: float32 weights, Adam's two slots per trainable weight
    (four under mixed precision: the LossScaleOptimizer stores its inner Adam's slots again), and overhead."""
    slots = 2 * (2 if mixed_precision else 1)
    data = 4 * (facts.params + slots * facts.trainable)
    variables = facts.weights + slots * facts.trainable_weights + 2 * (2 if mixed_precision else 1)
    return data + KERAS_VAR * variables + KERAS_LAYER * facts.layers


def net_facts(net, scale, arch):
    """Facts of one SR net (built once per distinct architecture: srgan shares srresnet's)."""
    from srtwins.sr import nets

    builder = nets.spec(net).builder
    defaults = {k: p.default for k, p in inspect.signature(builder).parameters.items() if p.default is not p.empty}
    return _built_facts(builder.__name__, scale, tuple(sorted({**defaults, **arch}.items())))


@functools.lru_cache(maxsize=None)
def _built_facts(net, scale, arch):
    from srtwins.sr import nets

    return model_facts(nets.build(net, scale, **dict(arch)), (PROBE_SIDE, PROBE_SIDE, 3))


@functools.lru_cache(maxsize=None)
def classifier_facts(rec, side):
    """Facts of the recipe's classifier for a side x side input."""
    from srtwins.twins.classifiers import build

    return model_facts(build(rec.model, (side, side, 3), grid=rec.grid, augment=rec.augment), (side, side, 3))


def model_facts(model, probe_shape):
    """Counts and FLOPs per input pixel of a built model, probed once at ``probe_shape``."""
    from srtwins.sr.flops import model_flops

    flops, _ = model_flops(model, probe_shape)
    def count(weights):
        return sum(int(np.prod(w.shape)) for w in weights)

    return ModelFacts(count(model.weights), count(model.trainable_weights), len(model.weights),
                      len(model.trainable_weights), len(model.layers), flops / (probe_shape[0] * probe_shape[1]))


def arm_side(kind, scale):
    """Side of the images an arm's classifier sees (CIFAR-10's 32 px, cropped to a multiple of the scale)."""
    lr = CIFAR_SIDE // scale
    return {"lr": lr, "bicubic": lr * scale, "hr": lr * scale, "sr": lr * scale,
            "hr-bicubic": CIFAR_SIDE * scale, "hr-sr": CIFAR_SIDE * scale}[kind]


def cifar_counts(params):
    """{split: images} of CIFAR-10 the params ask for."""
    return {split: get(params, f"cifar.{split}_size", int, minimum=1) for split in paths.SPLITS}


@functools.lru_cache(maxsize=None)
def image_shapes(name):
    """(stem, (H, W[, C])) of every image of a fixed SR set, from its committed manifest."""
    return tuple((Path(r.path).stem, r.shape) for r in read_manifest(MANIFESTS / f"{name}.tsv"))


def image_pixels(shape, scale=1, crop_only=False):
    """Pixels x channels of an image downscaled by ``scale`` (modcrop then divide), or only cropped to it."""
    h, w, *c = shape
    h, w = (h - h % scale, w - w % scale) if crop_only else (h // scale, w // scale)
    return h * w * (c[0] if c else 1)


def _fetch(params, stage):
    for split, n in cifar_counts(params).items():
        yield paths.array(paths.raw(paths.CIFAR), split), npy_bytes((n, CIFAR_SIDE, CIFAR_SIDE, 3))
        yield paths.labels(split), npy_bytes((n,))
    yield paths.raw(paths.CIFAR) / "classes.txt", CLASSES_TXT
    for name in paths.IMAGE_SETS:
        for stem, shape in image_shapes(name):
            yield paths.raw(name) / f"{stem}.png", image_pixels(shape)


def _degrade(params, stage):
    for s in scales(params):
        for name in paths.IMAGE_SETS:
            for stem, shape in image_shapes(name):
                yield paths.lr(s, name) / f"{stem}.png", image_pixels(shape, s)
        for split, n in cifar_counts(params).items():
            side = CIFAR_SIDE // s
            yield paths.array(paths.lr(s, paths.CIFAR), split), npy_bytes((n, side, side, 3))


def _train_sr(params, stage):
    run = srconfig.resolve(params, stage.key)
    yield paths.sr_model(run.name), keras_bytes(net_facts(run.net, run.scale, run.arch), run.train["mixed_precision"])
    yield paths.sr_summary(run.name), SMALL_JSON
    metrics = 13 if run.gan else 3  # loss, val_loss, learning_rate; adversarial fine-tuning: every term, train and val
    epochs = run.gan["epochs"] if run.gan else run.train["epochs"]
    yield paths.PLOTS / "train_sr" / run.name / "plots" / "metrics", LIVE_ROW * epochs * metrics


def _super_resolve(params, stage):
    run = srconfig.resolve(params, stage.key)
    s = run.scale
    for name in paths.TEST_SETS:
        for stem, shape in image_shapes(name):
            yield paths.sr(run.name, name) / f"{stem}.png", image_pixels(shape, s, crop_only=True)
    side = (CIFAR_SIDE // s) * s
    hr_sr = run.name in arms.hr_sr_names(params)  # as the stage decides it
    for split, n in cifar_counts(params).items():
        yield paths.array(paths.sr(run.name, paths.CIFAR), split), npy_bytes((n, side, side, 3))
        if hr_sr:
            hr_side = CIFAR_SIDE * s  # the native 32x32 images super-resolved
            yield paths.array(paths.sr(run.name, paths.CIFAR), split, "hr_x"), npy_bytes((n, hr_side, hr_side, 3))
    yield paths.sr(run.name) / "speed.json", SMALL_JSON


def _evaluate(params, stage):
    runs = run_names(params)
    methods = len(get_list(params, "evaluate.baselines", str)) * len(scales(params)) + len(runs)
    set_images = sum(len(image_shapes(name)) for name in paths.TEST_SETS)
    yield Path("data/scores/sr_per_image_cifar10.csv"), SCORE_ROW * (cifar_counts(params)["test"] * methods + 1)
    yield paths.METRICS / "sr_per_image.csv", SCORE_ROW * (set_images * methods + 1)
    yield paths.METRICS / "sr.json", SR_JSON_CELL * (len(paths.TEST_SETS) + 1) * methods
    yield paths.METRICS / "sr_nets.json", SMALL_JSON // 4 * len(runs)
    yield paths.METRICS / "sr_speed.json", SMALL_JSON // 20 * len(runs)
    for run in runs:
        yield paths.PLOTS / "sr_triplets" / f"{run}.png", TRIPLET_PNG
    yield paths.PLOTS / "sr_psnr_vs_params.png", FIGURE_PNG


def _train_classifier(params, stage):
    from srtwins.twins.crossval import recipe

    source, rec, seeds = str(stage.item), recipe(params), arms.seeds(params)
    folds, scale = get(params, "classify.folds", int, minimum=2), arms.study_scale(params)
    n = sum(cifar_counts(params).values())
    for arm in arms.source_arms(params, source):
        folder = paths.CLS_MODELS / source / arm.name
        model = keras_bytes(classifier_facts(rec, arm_side(arm.kind, scale)), rec.mixed_precision)
        for seed in seeds:
            for fold in range(folds):
                yield folder / f"model-s{seed}-f{fold}.keras", model
        yield folder / "probs.npy", npy_bytes((len(seeds), n, 10), "f4")
        yield folder / "folds.npy", npy_bytes((n,), "i8")
        yield folder / "train.json", SMALL_JSON
        yield paths.PLOTS / "train_cls" / source / f"{arm.name}.csv", CURVE_ROW * (rec.epochs + 1)


def _evaluate_classify(params, stage):
    study_arms, twins = arms.study(params)
    n = sum(cifar_counts(params).values())
    yield paths.METRICS / "classify.json", CLASSIFY_JSON_ENTRY * (len(study_arms) + len(twins) + 2)
    for arm in study_arms:
        yield paths.PLOTS / "classify" / "roc" / f"{arm.name}.csv", ROC_CSV
        yield paths.PLOTS / "classify" / "predictions" / f"{arm.name}.csv", PREDICTION_ROW * (n + 1)
    for name in ("per_class_accuracy.png", "accuracy_gain_vs_psnr.png"):
        yield paths.PLOTS / "classify" / name, FIGURE_PNG


def _report(params, stage):
    yield Path("README.md"), README_BYTES


# One entry per dvc.yaml stage group: the files its command writes. A new group needs its entry here
# (the plan refuses a stage it cannot size); the GAN groups write what train_sr and super_resolve write.
FILES = {"fetch": _fetch, "degrade": _degrade, "train_sr": _train_sr, "train_gan": _train_sr,
         "super_resolve": _super_resolve, "super_resolve_gan": _super_resolve,
         "evaluate": _evaluate, "train_classifier": _train_classifier, "train_classifier_sr": _train_classifier,
         "evaluate_classify": _evaluate_classify, "report": _report}


def stage_files(params, stage):
    """{file path: bytes} of everything one stage writes."""
    if stage.group not in FILES:
        raise SrtwinsError(f"dvc.yaml stage {stage.name!r}: srtwins/budget.py has no size model for '{stage.group}'")
    return {Path(p).as_posix(): int(b) for p, b in FILES[stage.group](params, stage)}


def out_sizes(params, stage):
    """Each dvc.yaml output of the stage with the bytes of the files under it; files and outputs must match."""
    files = stage_files(params, stage)
    sizes = []
    for out in stage.outs:
        inside = {p: b for p, b in files.items() if p == out.path or p.startswith(out.path.rstrip("/") + "/")}
        if not inside:
            raise SrtwinsError(f"dvc.yaml stage {stage.name!r}: output {out.path} has no size model "
                               "in srtwins/budget.py")
        sizes.append(OutSize(out.path, out.cached, sum(inside.values()), set(inside) != {out.path}))
        files = {p: b for p, b in files.items() if p not in inside}
    if files:
        raise SrtwinsError(f"dvc.yaml stage {stage.name!r}: {next(iter(files))} is sized but is no output of the stage")
    return sizes


def untracked(params):
    """Files the stages keep outside DVC's outputs: the downloads when CIFAR-10 comes from the web."""
    if get(params, "fetch.source", str) == "download" and not os.environ.get("SRTWINS_MIRROR"):
        sets = sum(image_pixels(shape) for name in paths.IMAGE_SETS for _, shape in image_shapes(name))
        return {paths.DOWNLOADS.as_posix(): CIFAR_DOWNLOAD + sets}
    return {}


def cache_types(dvc_dir=".dvc"):
    """cache.type as DVC reads it (repo, local, global and system config), or DVC's default."""
    from dvc.config import Config

    types = Config(dvc_dir=str(dvc_dir))["cache"].get("type") or DVC_DEFAULT_LINKS
    return tuple(types.split(",") if isinstance(types, str) else types)


def working_links(folder):
    """The link types that work inside ``folder`` (probed with two small files, as DVC probes them)."""
    from dvc_objects.fs.system import reflink

    works = {"copy"}
    with tempfile.TemporaryDirectory(dir=folder, prefix=".srtwins-linkprobe-") as tmp:
        src = Path(tmp, "src")
        src.write_bytes(b"probe")
        for kind, link in (("reflink", reflink), ("hardlink", os.link), ("symlink", os.symlink)):
            try:
                link(src, Path(tmp, kind))
                works.add(kind)
            except OSError:
                pass
    return works


def cache_extra(sizes, types, works):
    """Bytes the DVC cache adds to the workspace's while the pipeline runs from nothing (DVC 3, measured).

    Copies are clones where reflink works; with hardlink first every output is hard-linked into the cache;
    otherwise DVC copies directory outputs into the cache at commit (it links them only at a later
    checkout) and links file outputs with the first type that works (a copy if that is copy)."""
    used = next((t for t in types if t in works), None)
    if used is None:
        raise SrtwinsError(f"cache.type {','.join(types)}: none of these link types works here (DVC would fail)")
    if "reflink" in works or (types[0] == "hardlink" and used == "hardlink"):
        return 0, used
    return sum(o.bytes for o in sizes if o.cached and (o.is_dir or used == "copy")), used


def free_bytes(folder):
    return shutil.disk_usage(folder).free
