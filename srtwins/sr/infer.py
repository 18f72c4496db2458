"""Loading trained models and running SR inference: what super-resolving and evaluation need, without training."""
import os

import keras
import numpy as np

from srtwins import SrtwinsError
from srtwins.io import map_batches


def load_model(path):
    """Load a saved SR or classifier model with safe mode on (no arbitrary code), uncompiled."""
    import srtwins.sr.nets  # noqa: F401  (registers the custom layers before deserializing)

    if not os.path.isfile(path):
        raise SrtwinsError(f"{path}: model not found (train it first)")
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as e:  # a truncated or foreign file: zip, JSON or HDF5 errors of many kinds
        raise SrtwinsError(f"{path}: not a loadable Keras model ({type(e).__name__}); retrain it") from None


def predict_uint8(model, lr_batch, batch_size=64):
    """Run an SR model on uint8 LR images (N, h, w, C); clip and round to uint8 HR images."""
    x = np.asarray(lr_batch, np.float32) / 255.0
    grey = x.ndim == 3
    if grey:
        x = np.repeat(x[..., None], 3, -1)
    # direct calls, batch by batch: ~1.5x faster than Model.predict on CPU for these small nets
    def run(batch):
        return np.asarray(model(batch, training=False), np.float32)

    y = map_batches(run, x, batch_size)
    if grey:
        y = y.mean(-1)
    return np.clip(np.round(y * 255.0), 0, 255).astype(np.uint8)
