"""train_classifier: the twin classifiers of one source (``--source lr | hr | <SR run>``), cross-validated.

Every arm uses classify.recipe and the top-level ``epochs``; only the input differs. For each arm of the
source: models/cls/<source>/<arm>/{probs.npy (seeds, images, 10) out-of-fold softmax, folds.npy,
train.json, model-s<seed>-f<fold>.keras}, and its mean learning curves in plots/train_cls/<source>/<arm>.csv.
"""
import argparse
import json

import numpy as np
import pandas as pd

from srtwins import cli, paths
from srtwins.config import get, load
from srtwins.io import atomic_dir, atomic_file, write_json
from srtwins.twins import arm_inputs, arms, crossval
from srtwins.twins.stats import stratified_folds


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", required=True)
    params = load()
    source = parser.parse_args().source
    study_arms = arms.source_arms(params, source)
    rec, seeds = crossval.recipe(params), arms.seeds(params)
    crossval.check_devices(params, rec)
    scale = arms.study_scale(params)
    y = arm_inputs.labels()
    folds = stratified_folds(y, get(params, "classify.folds", int))
    inputs = {arm.name: arm_inputs.images(arm, scale) for arm in study_arms}  # every input checked before training

    from srtwins.sr.flops import model_flops

    curves = {}
    with atomic_dir(paths.CLS_MODELS / source) as out:
        for arm in study_arms:
            folder = out / arm.name
            folder.mkdir()
            def keep(seed, fold, model, folder=folder):
                model.save(folder / f"model-s{seed}-f{fold}.keras")

            probs, curves[arm.name], summary = crossval.cross_validate(inputs[arm.name], y, folds, seeds, rec, keep)
            model = crossval.build_for(rec, inputs[arm.name].shape[1:])
            val = curves[arm.name]["val_accuracy"]
            summary.update(arm=arm.name, flops=model_flops(model, inputs[arm.name].shape[1:])[0],
                           accuracy_per_seed=[float(np.mean(p.argmax(1) == y)) for p in probs],
                           val_accuracy_final=round(float(val[-1]), 4),
                           val_accuracy_gain_last_quarter=round(float(val[-1] - val[(3 * len(val)) // 4 - 1]), 4))
            np.save(folder / "probs.npy", probs)
            np.save(folder / "folds.npy", folds)
            write_json(folder / "train.json", summary)
            print(json.dumps(summary))
    for name, curve in curves.items():
        with atomic_file(paths.PLOTS / "train_cls" / source / f"{name}.csv") as tmp:
            frame = pd.DataFrame(curve).round(5)
            frame.insert(0, "epoch", np.arange(1, len(frame) + 1))
            frame.to_csv(tmp, index=False)


if __name__ == "__main__":
    cli.run(main)
