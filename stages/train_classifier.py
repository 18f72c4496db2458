"""train_classifier: one twin classifier, one arm, one seed (``--arm``, ``--seed``).

Every arm uses classify.model and classify.recipe and the top-level ``epochs``; only the input differs.
Writes models/cls/<arm>-s<seed>/{model.keras, test_probs.npy, train.json} and dvclive curves.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

from srtwins import arms, cli
from srtwins import params as P
from srtwins.io import atomic_dir


def recipe(params):
    epochs = P.get(params, "epochs", int, minimum=1)
    r = dict(
        model=P.get(params, "classify.recipe.model", str),
        batch_size=P.get(params, "classify.recipe.batch_size", int, minimum=1),
        learning_rate=P.get(params, "classify.recipe.learning_rate", (int, float), minimum=1e-12),
        augment=P.get(params, "classify.recipe.augment", bool),
        jit_compile=P.get(params, "classify.recipe.jit_compile", (bool, str), default="auto"),
        mixed_precision=P.get(params, "classify.recipe.mixed_precision", bool, default=False),
    )
    return epochs, r


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--arm", required=True)
    parser.add_argument("--seed", type=int, required=True)
    args = parser.parse_args()
    params = P.load()
    epochs, r = recipe(params)
    arm = arms.check_declared(params, args.arm)
    x_train, y_train = arms.load(arm, params, "train")
    x_test, y_test = arms.load(arm, params, "test")

    import keras
    from dvclive import Live

    from srtwins import classify, train

    train.setup(args.seed, r["mixed_precision"])
    name = f"{arm.name}-s{args.seed}"
    with Live(dir=f"plots/train_cls/{name}", dvcyaml=False, save_dvc_exp=False) as live:
        with train.distribution_scope():
            model = train.float32_output(classify.build(r["model"], x_train.shape[1:], augment=r["augment"], seed=args.seed))
            model.compile(optimizer=keras.optimizers.Adam(r["learning_rate"]),
                          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                          metrics=["accuracy"], jit_compile=r["jit_compile"])
        guard = train.NaNGuard()
        start = time.perf_counter()
        model.fit(np.asarray(x_train, np.float32), y_train, batch_size=r["batch_size"], epochs=epochs, shuffle=True,
                  callbacks=[guard, train.LiveLogger(live)], verbose=2)
        seconds = time.perf_counter() - start
    if guard.bad:
        raise cli.SrtwinsError(f"{name}: loss became NaN/inf at {guard.bad}; no model written")
    probs = classify.softmax(model.predict(np.asarray(x_test, np.float32), batch_size=512, verbose=0))
    summary = {"arm": arm.name, "seed": args.seed, "input_shape": list(x_train.shape[1:]), "epochs": epochs,
               "train_images": int(len(y_train)), "train_seconds": round(seconds, 1),
               "images_per_s": round(len(y_train) * epochs / seconds, 1),
               "test_accuracy": float((probs.argmax(1) == y_test).mean()), **r}
    with atomic_dir(Path("models/cls") / name) as out:
        model.save(out / "model.keras")
        np.save(out / "test_probs.npy", probs.astype(np.float32))
        (out / "train.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary))


if __name__ == "__main__":
    cli.run(main)
