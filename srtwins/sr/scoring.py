"""Scoring of SR outputs and interpolation baselines against HR, per image and per dataset, and what each
trained net is (parameters, FLOPs, training length)."""
import json

import numpy as np

from srtwins import paths
from srtwins.data.imresize import imresize, modcrop
from srtwins.flops import flops_per_output_mpx
from srtwins.io import load_npy, read_image_dir
from srtwins.sr.infer import load_model
from srtwins.sr.quality import mean_scores, score

BASELINES = ("bicubic", "bilinear")


def upscale(lr, hr_shape, method):
    """Interpolate an LR image (or batch) back to ``hr_shape`` (H, W) by MATLAB-style resizing."""
    return imresize(lr, output_shape=hr_shape, method=method)


def score_images(outputs, references, scale):
    """Per-image metric rows for paired iterables of uint8 outputs and HR references (modcropped here)."""
    return [score(out, modcrop(hr, scale), scale) for out, hr in zip(outputs, references)]


def baseline_rows(lr_images, hr_images, scale, method):
    """Per-image scores of an interpolation baseline; ``lr_images``/``hr_images`` are aligned lists."""
    outs = (upscale(lr, modcrop(hr, scale).shape[:2], method) for lr, hr in zip(lr_images, hr_images))
    return score_images(outs, hr_images, scale)


def cifar_baseline_rows(lr, hr, scale, method, batch=1024):
    """Baseline scores for a CIFAR-10 batch array (N, h, w, 3) against HR (N, 32, 32, 3)."""
    hr = modcrop(hr, scale, batched=True)
    rows = []
    for i in range(0, len(lr), batch):
        up = upscale(np.asarray(lr[i : i + batch]), hr.shape[1:3], method)
        rows += score_images(up, hr[i : i + batch], scale)
    return rows


def load_images(wanted, runs):
    """Every image the scores and figures need, read once: {(kind, dataset, scale or run): images}; the
    CIFAR-10 entries (dataset ``cifar10``) hold cifar10_exact's test images."""
    images = {("hr", name, None): read_image_dir(paths.raw(name)) for name in paths.TEST_SETS}
    images |= {("lr", name, s): read_image_dir(paths.lr(s, name)) for name in paths.TEST_SETS for s in wanted}
    images |= {("sr", name, r.name): read_image_dir(paths.sr(r.name, name)) for name in paths.TEST_SETS for r in runs}
    exact = paths.CIFAR_EXACT  # CIFAR-10 is scored on the pixel-exact test images, not the study's (JPEG) ones
    images[("hr", paths.CIFAR, None)] = load_npy(paths.array(paths.raw(exact), "test"))
    images |= {("lr", paths.CIFAR, s): load_npy(paths.array(paths.lr(s, exact), "test")) for s in wanted}
    images |= {("sr", paths.CIFAR, r.name): load_npy(paths.array(paths.sr(r.name, exact), "test")) for r in runs}
    return images


def _rows(dataset, scale, method, scores, names):
    return [dict(dataset=dataset, scale=scale, method=method, image=k, **r) for k, r in zip(names, scores)]


def score_sets(images, wanted, methods, runs):
    """Per-image rows for Set5, Set14 and BSD100: every baseline at every scale, every run at its scale."""
    rows = []
    for name in paths.TEST_SETS:
        hr = images[("hr", name, None)]
        for s in wanted:
            lr = images[("lr", name, s)]
            for m in methods:
                rows += _rows(name, s, m, baseline_rows([lr[k] for k in hr], list(hr.values()), s, m), hr)
        for run in runs:
            sr = images[("sr", name, run.name)]
            rows += _rows(name, run.scale, run.net,
                          score_images([sr[k] for k in hr], list(hr.values()), run.scale), hr)
    return rows


def score_cifar(images, wanted, methods, runs):
    """Per-image rows for the CIFAR-10 test images (the pixel-exact ones, see :func:`load_images`), likewise."""
    hr = images[("hr", paths.CIFAR, None)]
    rows = []
    for s in wanted:
        for m in methods:
            scores = cifar_baseline_rows(images[("lr", paths.CIFAR, s)], hr, s, m)
            rows += _rows(paths.CIFAR, s, m, scores, range(len(scores)))
    for run in runs:
        scores = score_images(images[("sr", paths.CIFAR, run.name)], hr, run.scale)
        rows += _rows(paths.CIFAR, run.scale, run.net, scores, range(len(scores)))
    return rows


def group_rows(rows):
    """{(dataset, scale, method): [score rows]}, in first-seen order."""
    groups = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["scale"], r["method"]), []).append(r)
    return groups


def score_all(images, wanted, methods, runs):
    """(per-image rows, metrics/sr.json's table {dataset: {x<s>: {method: mean scores}}})."""
    rows = score_sets(images, wanted, methods, runs) + score_cifar(images, wanted, methods, runs)
    table = {}
    for (dataset, s, method), group in group_rows(rows).items():
        table.setdefault(dataset, {}).setdefault(f"x{s}", {})[method] = mean_scores(group)
    return rows, table


def describe_nets(runs):
    """(science, timings) per run: parameters, FLOPs and training length; measured speeds apart."""
    nets, speed = {}, []
    for run in runs:
        model = load_model(paths.sr_model(run.name))
        measured = json.loads((paths.sr(run.name) / "speed.json").read_text())
        summary = json.loads(paths.sr_summary(run.name).read_text())
        phases = {k: v for k, v in summary.items() if k in ("train", "pretrain", "gan")}
        steps = run.gan.steps_per_epoch if run.gan else run.train.steps_per_epoch
        nets[run.name] = {
            "net": run.net, "scale": run.scale, "params": int(model.count_params()), "arch": run.arch,
            "generator": run.generator, "steps_per_epoch": steps,
            "gflops_per_output_mpx": round(flops_per_output_mpx(model) / 1e9, 3),
            "perceptual_features": summary.get("perceptual_features", "none (no perceptual term)"),
            "training": {k: {f: v for f, v in p.items() if f != "train_seconds"} for k, p in phases.items()},
        }
        speed.append({"run": run.name, "inference_images_per_s": measured.get("cifar10_exact_test_images_per_s"),
                      "train_seconds": round(sum(p.get("train_seconds", 0) for p in phases.values()), 1)})
    return nets, speed
