"""Training twin classifiers by stratified k-fold cross-validation: every image is predicted once per seed
by a classifier that never saw it. One recipe for every arm, so only the input differs.
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


def build_for(rec, input_shape, seed=0):
    """The recipe's classifier for one input shape (float32 output under mixed precision)."""
    return compute.float32_output(build(rec.model, input_shape, grid=rec.grid, augment=rec.augment, seed=seed))


def fit(x, y, rec, seed):
    """Train one classifier on uint8 images (scaled inside the model), holding out ``val_fraction`` for
    the validation curve. Returns (model, history dict, seconds)."""
    compute.setup(seed, rec.mixed_precision, rec.jit_compile)
    order = np.random.default_rng(seed).permutation(len(y))
    n_val = max(1, round(rec.val_fraction * len(y)))
    val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
    with compute.distribution_scope():
        model = build_for(rec, x.shape[1:], seed)
        steps = rec.epochs * -(-len(train) // rec.batch_size)
        rate = (keras.optimizers.schedules.CosineDecay(rec.learning_rate, steps) if rec.schedule == "cosine"
                else rec.learning_rate)
        model.compile(optimizer=keras.optimizers.Adam(rate),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"], jit_compile=rec.jit_compile)
    start = time.perf_counter()
    history = model.fit(x[train], y[train], validation_data=(x[val], y[val]), batch_size=rec.batch_size,
                        epochs=rec.epochs, shuffle=True, verbose=0)
    seconds = time.perf_counter() - start
    if not np.all(np.isfinite(history.history["loss"])):
        raise SrtwinsError(f"classifier (seed {seed}): loss became NaN/inf; no model written")
    return model, history.history, seconds


def cross_validate(x, y, folds, seeds, rec, keep=None):
    """Out-of-fold softmax probabilities (S, N, 10) for every seed, the mean learning curves, and a summary.

    ``keep(seed, fold, model)`` is called with each trained model (to save it)."""
    probs = np.zeros((len(seeds), len(y), 10), np.float32)
    curves, seconds = [], 0.0
    for i, seed in enumerate(seeds):
        for fold in range(int(folds.max()) + 1):
            test = folds == fold
            run_seed = int(np.random.SeedSequence([seed, fold]).generate_state(1)[0])
            model, history, secs = fit(x[~test], y[~test], rec, run_seed)
            probs[i, test] = softmax(model.predict(x[test], batch_size=512, verbose=0))
            curves.append(history)
            seconds += secs
            print(f"seed {seed} fold {fold}: val. accuracy {history['val_accuracy'][-1]:.3f}, "
                  f"{len(history['loss'])} epochs in {secs:.0f} s", flush=True)
            if keep:
                keep(seed, fold, model)
    mean_curves = {k: np.mean([c[k] for c in curves], axis=0) for k in curves[0]}
    summary = {"recipe": asdict(rec), "seeds": list(seeds), "folds": int(folds.max()) + 1,
               "models": len(curves), "input_shape": list(x.shape[1:]), "params": int(model.count_params()),
               "train_seconds": round(seconds, 1), "compute": compute.describe(model, rec.jit_compile)}
    return probs, mean_curves, summary


def train_arms(out, inputs, y, folds, seeds, rec):
    """Cross-validate every arm of ``inputs`` ({arm: images}) into ``out/<arm>/``: its models, out-of-fold
    probs.npy (seeds, images, 10), folds.npy and train.json. Returns each arm's mean learning curves."""
    curves = {}
    for name, x in inputs.items():
        folder = out / name
        folder.mkdir()

        def keep(seed, fold, model, folder=folder):
            model.save(folder / f"model-s{seed}-f{fold}.keras")

        probs, curves[name], summary = cross_validate(x, y, folds, seeds, rec, keep)
        val = curves[name]["val_accuracy"]
        summary.update(arm=name, flops=model_flops(build_for(rec, x.shape[1:]), x.shape[1:])[0],
                       accuracy_per_seed=[float(np.mean(p.argmax(1) == y)) for p in probs],
                       val_accuracy_final=round(float(val[-1]), 4),
                       val_accuracy_gain_last_quarter=round(float(val[-1] - val[(3 * len(val)) // 4 - 1]), 4))
        np.save(folder / "probs.npy", probs)
        np.save(folder / "folds.npy", folds)
        write_json(folder / "train.json", summary)
        print(json.dumps(summary))
    return curves
