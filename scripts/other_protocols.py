"""Two questions the twin table leaves open, answered by inference only on a finished `dvc repro`:

1. The other common protocol: the classifiers trained on `hr`, tested on every arm's test inputs.
2. How far the JPEG source shifts `hr` and `bicubic`: their classifiers on the pixel-exact official test images
   of the mirror's binary subset against the JPEG copies of the same images in the study's test split.

From the repo root: `python scripts/other_protocols.py [--out FILE.json]` (prints the JSON too).
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from srtwins import SrtwinsError, cli, config, paths  # noqa: E402
from srtwins.config import data, twins  # noqa: E402
from srtwins.data import cifar  # noqa: E402
from srtwins.data.imresize import imresize  # noqa: E402
from srtwins.io import load_npy, write_json  # noqa: E402
from srtwins.sr.infer import load_model  # noqa: E402
from srtwins.sr.quality import psnr  # noqa: E402
from srtwins.twins import arm_inputs  # noqa: E402
from srtwins.twins.training import PREDICT_BATCH  # noqa: E402


def models(source, arm, seeds):
    """The saved classifiers of one arm, one per seed (safe mode; a missing or broken file is a one-line error)."""
    return [load_model(paths.CLS_MODELS / source / arm / f"model-s{s}.keras") for s in seeds]


def correct(model, x, y):
    """Per image: did ``model`` classify it right."""
    return model.predict(x, batch_size=PREDICT_BATCH, verbose=0).argmax(1) == y


def hr_on_every_arm(params):
    """{arm: accuracy of the hr classifiers on its test inputs, averaged over hr seeds and the arm's runs}."""
    scale, y = twins.scale(params), arm_inputs.labels("test")
    hr_models = models("hr", "hr", twins.source_seeds(params, "hr"))
    scores = {}
    for source in ["lr", "hr", *(r for runs in twins.sr_runs(params).values() for r in runs)]:
        for arm in twins.source_arms(params, source):
            if arm.kind.startswith("hr-"):  # native images upscaled: not the hr models' input size
                continue
            x = arm_inputs.images(arm, source, scale, "test")
            scores.setdefault(arm.name, []).extend(float(correct(m, x, y).mean()) for m in hr_models)
    return {arm: {"accuracy": float(np.mean(v)), "runs": len(v)} for arm, v in scores.items()}


def exact_positions(pool_rows, classes, test_index, y_exact):
    """Where each exact test image sits in the study's test split: the k-th exact image of a class is the
    JPEG export's test/<class>/<k:04d>.jpg (both in official order); -1 where the split left it out."""
    row_of = {r.path: i for i, r in enumerate(pool_rows)}
    rank = np.zeros(10, np.int64)
    pos = np.full(len(y_exact), -1)
    for j, c in enumerate(y_exact):
        r = row_of[f"test/{classes[c]}/{rank[c]:04d}.jpg"]
        rank[c] += 1
        at = np.searchsorted(test_index, r)
        if at < len(test_index) and test_index[at] == r:
            pos[j] = at
    return pos


def jpeg_shift(params):
    """Accuracy on the exact images minus on their JPEG copies, for hr and bicubic (mean over seeds), with
    the image-level standard error of that difference."""
    cfg, scale = data.fetch(params), twins.scale(params)
    if not cfg.mirror:
        raise SrtwinsError("fetch.source: download uses the exact binary images throughout; no JPEG shift")
    root = Path(cfg.mirror) / cifar.JPEG_MIRROR
    rows = cifar.read_jpeg_manifest(root / "MANIFEST.tsv")
    labels = np.array([r.label for r in rows])
    _, test_index = cifar.study_split(labels, np.array([r.path.startswith("train/") for r in rows]),
                                      cfg.train_size, cfg.test_size)
    exact = paths.raw(paths.CIFAR_EXACT)
    x_exact, y_exact = (load_npy(paths.array(exact, "test", p), mmap=False) for p in ("x", "y"))
    classes = (paths.raw(paths.CIFAR) / "classes.txt").read_text().split()
    pos = exact_positions(rows, classes, test_index, y_exact)
    keep = pos >= 0
    x_jpeg = load_npy(paths.array(paths.raw(paths.CIFAR), "test"), mmap=False)[pos[keep]]
    if not np.array_equal(arm_inputs.labels("test")[pos[keep]], y_exact[keep]):
        raise SrtwinsError("exact and JPEG test images do not line up by label; the study split has changed")
    lr_exact = load_npy(paths.array(paths.lr(scale, paths.CIFAR_EXACT), "test"), mmap=False)[keep]
    lr_jpeg = load_npy(paths.array(paths.lr(scale, paths.CIFAR), "test"), mmap=False)[pos[keep]]
    inputs = {"hr": ("hr", x_exact[keep], x_jpeg), "bicubic": ("lr", imresize(lr_exact, scale),
                                                              imresize(lr_jpeg, scale))}
    out = {"images": int(keep.sum()), "jpeg_psnr_median_db": _median_psnr(x_exact[keep], x_jpeg)}
    for arm, (source, a, b) in inputs.items():
        diffs = [correct(m, a, y_exact[keep]).astype(float) - correct(m, b, y_exact[keep])
                 for m in models(source, arm, twins.source_seeds(params, source))]
        per_image = np.mean(diffs, axis=0)
        out[arm] = {"exact_minus_jpeg": float(per_image.mean()),
                    "se_images": float(per_image.std(ddof=1) / np.sqrt(len(per_image)))}
    return out


def _median_psnr(a, b):
    return float(np.median([psnr(x, y) for x, y in zip(a, b, strict=True)]))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    params = config.load()
    result = {"hr_classifier_on_every_arm": hr_on_every_arm(params), "jpeg_shift": jpeg_shift(params)}
    if args.out:
        write_json(args.out, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    cli.run(main)
