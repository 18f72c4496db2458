"""train_classifier: the twin classifiers of one source (``--source lr | hr | <SR run>``).

Every arm uses classify.recipe and the top-level ``epochs``; only the input differs. Each classifier seed
trains on the study's training images and predicts every test image. For each arm of the source:
models/cls/<source>/<arm>/{probs.npy (seeds, test images, 10) softmax, train.json, model-s<seed>.keras}, and
its mean learning curves in plots/train_cls/<source>/<arm>.csv.
"""

import numpy as np
import pandas as pd

from srtwins import cli, config, paths
from srtwins.config import devices, twins
from srtwins.io import atomic_dir, atomic_file
from srtwins.twins import arm_inputs, training


def main():
    params = config.load()
    source = cli.option("source", __doc__)
    study_arms, scale = twins.source_arms(params, source), twins.scale(params)
    rec, seeds, switches = twins.training(params, source)
    devices.check(params, switches)
    labels = tuple(arm_inputs.labels(split) for split in paths.SPLITS)
    inputs = {arm.name: tuple(arm_inputs.images(arm, source, scale, split) for split in paths.SPLITS)
              for arm in study_arms}  # every input checked first
    with config.naming(twins.KEYS), atomic_dir(paths.CLS_MODELS / source) as out:
        curves = training.train_arms(out, inputs, labels, seeds, rec)
    for name, curve in curves.items():
        with atomic_file(paths.PLOTS / "train_cls" / source / f"{name}.csv") as tmp:
            frame = pd.DataFrame(curve).round(5)
            frame.insert(0, "epoch", np.arange(1, len(frame) + 1))
            frame.to_csv(tmp, index=False)


if __name__ == "__main__":
    cli.run(main)
