"""train_classifier: the twin classifiers of one source (``--source lr | hr | <SR run>``), cross-validated.

Every arm uses classify.recipe and the top-level ``epochs``; only the input differs. For each arm of the
source: models/cls/<source>/<arm>/{probs.npy (seeds, images, 10) out-of-fold softmax, folds.npy,
train.json, model-s<seed>-f<fold>.keras}, and its mean learning curves in plots/train_cls/<source>/<arm>.csv.
"""

import numpy as np
import pandas as pd

from srtwins import cli, config, paths
from srtwins.config import devices, twins
from srtwins.io import atomic_dir, atomic_file
from srtwins.twins import arm_inputs, crossval
from srtwins.twins.stats import stratified_folds


def main():
    params = config.load()
    source = cli.option("source", __doc__)
    study_arms, scale = twins.source_arms(params, source), twins.scale(params)
    rec, seeds, k, switches = twins.training(params)
    devices.check(params, switches)
    y = arm_inputs.labels()
    with config.naming(twins.KEYS):
        folds = stratified_folds(y, k)
        inputs = {arm.name: arm_inputs.images(arm, scale) for arm in study_arms}  # every input checked first
        with atomic_dir(paths.CLS_MODELS / source) as out:
            curves = crossval.train_arms(out, inputs, y, folds, seeds, rec)
    for name, curve in curves.items():
        with atomic_file(paths.PLOTS / "train_cls" / source / f"{name}.csv") as tmp:
            frame = pd.DataFrame(curve).round(5)
            frame.insert(0, "epoch", np.arange(1, len(frame) + 1))
            frame.to_csv(tmp, index=False)


if __name__ == "__main__":
    cli.run(main)
