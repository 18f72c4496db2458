"""Training SR nets with Keras: named losses, callbacks, dvclive logging, best-checkpointing."""
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
from keras import ops

from srtwins import BadValue, SrtwinsError, compute, paths
from srtwins.io import atomic_file, scratch_name
from srtwins.sr import nets
from srtwins.sr.losses import DISTANCES


@keras.saving.register_keras_serializable(package="srtwins")
class SRLoss(keras.losses.Loss):
    """Pixel loss (mse or l1), plus ``perceptual_weight`` x a VGG feature loss: a named, serializable loss.

    The VGG extractor is rebuilt from its spec on load, so a saved model loads compiled in safe mode.
    """

    def __init__(self, pixel="mse", perceptual_weight=0.0, perceptual_spec=None, name="sr_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        if pixel not in DISTANCES:
            raise SrtwinsError(f"unknown pixel loss {pixel!r}; allowed: {', '.join(DISTANCES)}")
        self.pixel, self.perceptual_weight, self.perceptual_spec = pixel, float(perceptual_weight), perceptual_spec
        self._perceptual = None

    def call(self, y_true, y_pred):
        loss = DISTANCES[self.pixel](y_true, y_pred)
        if self.perceptual_weight:
            loss = loss + self.perceptual_weight * self.perceptual(y_true, y_pred)
        return loss

    @property
    def perceptual(self):
        if self._perceptual is None:
            from srtwins.sr.perceptual import PerceptualLoss

            self._perceptual = PerceptualLoss.from_spec(self.perceptual_spec)
        return self._perceptual

    def get_config(self):
        return {**super().get_config(), "pixel": self.pixel, "perceptual_weight": self.perceptual_weight,
                "perceptual_spec": self.perceptual_spec}


class LiveLogger(keras.callbacks.Callback):
    """Log every epoch's metrics (and the learning rate) to dvclive without TensorFlow-only helpers."""

    def __init__(self, live):
        super().__init__()
        self.live = live

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.live.log_metric(key, float(value))
        lr = self.model.optimizer.learning_rate
        self.live.log_metric("learning_rate", float(ops.convert_to_numpy(lr)))
        self.live.next_step()


class NaNGuard(keras.callbacks.Callback):
    """Stop at the first non-finite loss and remember where, so no broken model is written."""

    def __init__(self):
        super().__init__()
        self.bad = None

    def _check(self, where, logs):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.bad = where
            self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        self._check(f"batch {batch}", logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.bad:
            self.bad = f"epoch {epoch + 1}, {self.bad}"


def fit(model, train_data, val_data, *, epochs, learning_rate, loss, out_path, live=None,
        patience=5, reduce_lr_patience=2, jit_compile="auto", name="model"):
    """Train with early stopping, LR reduction and best-model checkpointing; save the best model atomically.

    Returns (stats with the compute record of compute.describe, the best model). Raises SrtwinsError on a
    non-finite loss, before anything is written to ``out_path``.
    """
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, jit_compile=jit_compile)
    record = compute.describe(model, jit_compile)
    if record["backend"] == "jax":
        check_even_batches(train_data.batch_size, len(val_data[0]), record["replicas"], name)
    folder, prefix = scratch_name(Path(out_path).with_suffix(".ckpt"))  # cleared if a killed run left it
    work = tempfile.mkdtemp(prefix=prefix, dir=folder)
    best = os.path.join(work, "best.keras")
    guard = NaNGuard()
    callbacks = [
        guard,
        keras.callbacks.ModelCheckpoint(best, monitor="val_loss", save_best_only=True),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=reduce_lr_patience),
    ]
    if live is not None:
        callbacks.append(LiveLogger(live))
    try:
        start = time.perf_counter()
        history = model.fit(train_data, validation_data=val_data, epochs=epochs, callbacks=callbacks, verbose=2)
        seconds = time.perf_counter() - start
        if guard.bad:
            raise SrtwinsError(f"{name}: training stopped, loss became NaN/inf at {guard.bad}; no model written")
        if not os.path.exists(best):
            raise SrtwinsError(f"{name}: no finite validation loss was reached; no model written")
        trained = keras.saving.load_model(best, safe_mode=True)
        save_model(trained, out_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    val = history.history.get("val_loss", [])
    stats = {"epochs_run": len(val), "best_val_loss": float(np.nanmin(val)), "train_seconds": round(seconds, 1)}
    return {**stats, "compute": record}, trained


VAL_BATCH = 32  # Keras's batch for validation arrays


def check_even_batches(batch_size, val_patches, replicas, name):
    """JAX shards every batch evenly over the replicas (TensorFlow splits uneven ones): refuse, before
    training, batch sizes that would stop the run at its first validation."""
    sizes = [("batch_size", batch_size), ("val_patches", min(val_patches, VAL_BATCH)),
             ("val_patches", val_patches % VAL_BATCH)]
    for key, size in sizes:
        if size % replicas:
            raise BadValue(key, f"gives {name} batches of {size}, which JAX cannot split over {replicas} "
                                f"replicas (validation runs in batches of {VAL_BATCH}); use multiples of {replicas}")


def save_model(model, path):
    """Save a Keras model atomically (the temp name keeps the .keras suffix Keras requires)."""
    with atomic_file(path) as tmp:
        model.save(tmp)


def train_net(run, data, val, live, summary):
    """Build and train an sr.runs net on its pixel (and perceptual) loss; adds its training to ``summary``."""
    t = run.train
    spec = {"vgg_weights": run.vgg_weights, "seed": t.seed}
    loss = SRLoss(t.loss, t.perceptual_weight, spec if t.perceptual_weight else None)
    if t.perceptual_weight:
        summary["perceptual_features"] = loss.perceptual.description
    with compute.distribution_scope():
        model = compute.float32_output(nets.build(run.net, run.scale, **run.arch))
        summary["train"], _ = fit(
            model, data, val, epochs=t.epochs, learning_rate=t.learning_rate, loss=loss,
            out_path=paths.sr_model(run.name), live=live, patience=t.patience,
            reduce_lr_patience=t.reduce_lr_patience, jit_compile=t.jit_compile, name=run.name)
