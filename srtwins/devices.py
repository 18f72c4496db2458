"""The compute switches behind params: seeding and determinism, mixed precision, data parallelism.

Kept apart from training so that the GPU paths (precision, XLA, replicas) grow in one place.
"""
import contextlib

import keras


def setup(seed, mixed_precision=False):
    """Seed everything; deterministic ops on TensorFlow; mixed_float16 policy when asked."""
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed_precision else "float32")


def distribution_scope():
    """Data parallelism over all visible GPUs (MirroredStrategy on TF, DataParallel on JAX); a no-op otherwise."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        if len(tf.config.list_physical_devices("GPU")) > 1:
            return tf.distribute.MirroredStrategy().scope()
    elif backend == "jax":
        import jax

        if len([d for d in jax.devices() if d.platform == "gpu"]) > 1:
            keras.distribution.set_distribution(keras.distribution.DataParallel())
    return contextlib.nullcontext()


def float32_output(model):
    """Under mixed precision, cast the output back to float32 for a stable loss."""
    if keras.mixed_precision.global_policy().name == "float32":
        return model
    out = keras.layers.Activation("linear", dtype="float32", name="to_float32")(model.output)
    return keras.Model(model.input, out, name=model.name)
