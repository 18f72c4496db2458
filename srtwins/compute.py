"""The compute switches behind params: seeding and determinism, mixed precision, XLA, data parallelism,
the GPUs the backend sees, and the record of what a training run really ran on.

Kept apart from training so that the GPU paths (precision, XLA, replicas) grow in one place.
"""
import contextlib
import functools

import keras


def setup(seed, mixed_precision=False, jit_compile="auto"):
    """Seed everything; mixed_float16 policy when asked; deterministic ops on TensorFlow unless XLA is asked.

    Keras turns XLA off under TensorFlow's op determinism, so ``jit_compile=True`` trades it for XLA."""
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        from tensorflow.python.framework import config

        if jit_compile is True:
            config.disable_op_determinism()
        else:
            tf.config.experimental.enable_op_determinism()
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed_precision else "float32")


def gpus():
    """Names of the GPUs the Keras backend sees (empty on a CPU-only install, even on a GPU machine)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return [tf.config.experimental.get_device_details(d).get("device_name", d.name)
                for d in tf.config.list_physical_devices("GPU")]
    if backend == "jax":
        import jax

        return [d.device_kind for d in jax.devices() if d.platform == "gpu"]
    return []


def distribution_scope(platform="gpu"):
    """Data parallelism over every visible device of ``platform`` when there are several (MirroredStrategy
    on TF, DataParallel on JAX); a no-op otherwise. ``"cpu"`` uses logical CPU devices (tests)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        found = tf.config.list_logical_devices(platform.upper())
        if len(found) > 1:
            return _mirrored(tuple(d.name for d in found)).scope()
    elif backend == "jax":
        import jax

        try:
            found = jax.devices(platform)
        except RuntimeError:  # no such backend in this install
            found = []
        if len(found) > 1:
            keras.distribution.set_distribution(keras.distribution.DataParallel(devices=found))
    return contextlib.nullcontext()


@functools.cache
def _mirrored(names):
    """One MirroredStrategy per process: a second one over the same devices reuses the first one's
    collective keys, and the all-reduce of the next model fails with a shape mismatch."""
    import tensorflow as tf

    return tf.distribute.MirroredStrategy(list(names))


def float32_output(model):
    """Under mixed precision, cast the output back to float32 for a stable loss (once: a model saved so keeps it)."""
    if keras.mixed_precision.global_policy().name == "float32" or model.layers[-1].name == "to_float32":
        return model
    out = keras.layers.Activation("linear", dtype="float32", name="to_float32")(model.output)
    return keras.Model(model.input, out, name=model.name)


def under_policy(model):
    """A copy of a loaded model whose layers compute in the global dtype policy, with its weights.

    A saved model keeps the policy it was trained with: a float32-trained generator fine-tuned under
    mixed precision would otherwise stay float32. The float32 output cast is kept as it is."""
    policy = keras.mixed_precision.global_policy()
    if all(layer.dtype_policy.name == policy.name for layer in model.layers if layer.name != "to_float32"):
        return model

    def clone(layer):
        config = layer.get_config()
        return layer.__class__.from_config(config if layer.name == "to_float32" else {**config, "dtype": policy})

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


def describe(model, jit_compile):
    """What a compiled model trains on, for the training summary: device, backend, precision policy,
    data-parallel replicas, and whether XLA is really used (``jit_compile`` as asked; why not, when not)."""
    backend = keras.backend.backend()
    names = gpus()
    record = {"device": f"gpu: {names[0]} x{len(names)}" if names else "cpu", "backend": backend,
              "precision": model.dtype_policy.name, "replicas": _replicas(model), "xla": bool(model.jit_compile),
              "xla_off_because": None}
    if backend == "tensorflow":
        from tensorflow.python.framework import config

        record["deterministic_ops"] = config.is_op_determinism_enabled()
        if not record["xla"]:
            record["xla_off_because"] = _why_no_xla(jit_compile, names, record)
    elif not record["xla"]:
        record["xla_off_because"] = "jit_compile: false (the train step runs op by op)"
    return record


def _replicas(model):
    if keras.backend.backend() == "tensorflow":
        return model.distribute_strategy.num_replicas_in_sync
    dist = keras.distribution.distribution()
    return int(dist.device_mesh.devices.size) if dist is not None else 1


def _why_no_xla(jit_compile, names, record):
    """Why Keras on TensorFlow compiled this model without XLA."""
    if jit_compile is False:
        return "jit_compile: false"
    if jit_compile == "auto" and not names:
        return "jit_compile: auto, and Keras uses XLA on TensorFlow only with a GPU"
    if jit_compile == "auto" and record["replicas"] > 1:
        return "jit_compile: auto, and Keras turns XLA off under tf.distribute"
    if record["deterministic_ops"]:
        return "TensorFlow op determinism is on (Keras turns XLA off under it; jit_compile: true turns it off)"
    return "a layer does not support XLA"
