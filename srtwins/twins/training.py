"""Training the twin classifiers: one recipe for every arm, so only the input differs. Each classifier trains on
the study's training images and predicts every test image, none of which it saw.
"""
import json
import time
from dataclasses import asdict

import keras
import numpy as np

from srtwins import SrtwinsError, compute
from srtwins.flops import model_flops
from srtwins.io import write_json
from srtwins.twins.classifiers import build, softmax

PREDICT_BATCH = 512


def build_for(rec, input_shape, seed=0):
    """The recipe's classifier for one input shape (float32 output under mixed precision)."""
    return compute.float32_output(build(rec.model, input_shape, width=rec.width, augment=rec.augment, seed=seed))


def schedule(rec, steps):
    """One cycle: a linear warm-up over ``warmup`` of the steps to the peak rate, then a cosine decay to 0."""
    warm = int(rec.warmup * steps)
    if not warm:
        return keras.optimizers.schedules.CosineDecay(rec.learning_rate, steps)
    return keras.optimizers.schedules.CosineDecay(0.0, steps - warm, warmup_target=rec.learning_rate,
                                                  warmup_steps=warm)


def fit(x, y, rec, seed):
    """Train one classifier on uint8 images (scaled inside the model). Returns (model, history dict, seconds)."""
    compute.setup(seed, rec.mixed_precision, rec.jit_compile)
    with compute.distribution_scope():
        model = build_for(rec, x.shape[1:], seed)
        model.compile(optimizer=keras.optimizers.Adam(schedule(rec, rec.epochs * -(-len(y) // rec.batch_size))),
                      loss=keras.losses.CategoricalCrossentropy(from_logits=True,
                                                                label_smoothing=rec.label_smoothing),
                      metrics=["accuracy"], jit_compile=rec.jit_compile)
    start = time.perf_counter()
    history = model.fit(x, np.eye(10, dtype=np.float32)[y], batch_size=rec.batch_size, epochs=rec.epochs,
                        shuffle=True, verbose=0)
    seconds = time.perf_counter() - start
    if not np.all(np.isfinite(history.history["loss"])):
        raise SrtwinsError(f"classifier (seed {seed}): loss became NaN/inf; no model written")
    return model, history.history, seconds


def train_seeds(train, test, seeds, rec, keep=None):
    """Test-set softmax probabilities (S, N, 10) of one classifier per seed, the mean curves, and a summary.

    ``train``, ``test``: (images, labels); ``keep(seed, model)`` is called with each trained model (to save it)."""
    (x, y), (x_test, y_test) = train, test
    probs = np.zeros((len(seeds), len(y_test), 10), np.float32)
    curves, seconds = [], 0.0
    for i, seed in enumerate(seeds):
        model, history, secs = fit(x, y, rec, seed)
        probs[i] = softmax(model.predict(x_test, batch_size=PREDICT_BATCH, verbose=0))
        curves.append(history)
        seconds += secs
        print(f"seed {seed}: train accuracy {history['accuracy'][-1]:.3f}, test accuracy "
              f"{np.mean(probs[i].argmax(1) == y_test):.3f}, {secs:.0f} s", flush=True)
        if keep:
            keep(seed, model)
    mean_curves = {k: np.mean([c[k] for c in curves], axis=0) for k in curves[0]}
    summary = {"recipe": asdict(rec), "seeds": list(seeds), "models": len(curves), "train_images": len(y),
               "test_images": len(y_test), "input_shape": list(x.shape[1:]), "params": int(model.count_params()),
               "train_seconds": round(seconds, 1), "compute": compute.describe(model, rec.jit_compile)}
    return probs, mean_curves, summary


def train_arms(out, inputs, labels, seeds, rec):
    """Train every arm of ``inputs`` ({arm: (train images, test images)}) into ``out/<arm>/``: its models,
    test probs.npy (seeds, images, 10) and train.json. ``labels``: (train, test). Returns the mean curves."""
    curves = {}
    for name, (x, x_test) in inputs.items():
        folder = out / name
        folder.mkdir()

        def keep(seed, model, folder=folder):
            model.save(folder / f"model-s{seed}.keras")

        probs, curves[name], summary = train_seeds((x, labels[0]), (x_test, labels[1]), seeds, rec, keep)
        summary.update(arm=name, flops=model_flops(build_for(rec, x.shape[1:]), x.shape[1:])[0],
                       accuracy_per_seed=[float(np.mean(p.argmax(1) == labels[1])) for p in probs])
        np.save(folder / "probs.npy", probs)
        write_json(folder / "train.json", summary)
        print(json.dumps(summary))
    return curves
