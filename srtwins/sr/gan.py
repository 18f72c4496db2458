"""Adversarial SR training: SRGAN (Ledig et al. 2017) and ESRGAN's relativistic average GAN (Wang et al. 2018).

Generator loss = sum of weights[term] x term over content (pixel), adversarial, perceptual (VGG
features, ``srtwins.sr.perceptual``) and total variation; every term is float32 before the sum.
One ``keras.Model`` trains both nets through ``fit`` on TensorFlow (GradientTape) and on JAX
(stateless step), so callbacks, XLA, MirroredStrategy and DataParallel work as for any model.
"""
import time

import keras
from keras import ops

from srtwins import SrtwinsError, compute, paths
from srtwins.sr import nets
from srtwins.sr.gan_recipes import TERMS, check_weights
from srtwins.sr.infer import load_model
from srtwins.sr.losses import DISTANCES
from srtwins.sr.perceptual import PerceptualLoss
from srtwins.sr.train import LiveLogger, NaNGuard, save_model


def adversarial_losses(real, fake, relativistic):
    """(discriminator loss, generator adversarial loss) from the logits C(x_r) on HR and C(x_f) on SR, float32.

    Standard (SRGAN): L_D = -E[log D(x_r)] - E[log(1 - D(x_f))], L_G = -E[log D(x_f)], D = sigmoid(C).
    Relativistic average (ESRGAN): D_Ra(a, b) = sigmoid(C(a) - E[C(b)]);
    L_D = -E[log D_Ra(x_r, x_f)] - E[log(1 - D_Ra(x_f, x_r))],
    L_G = -E[log(1 - D_Ra(x_r, x_f))] - E[log D_Ra(x_f, x_r)].
    Written with -log sigmoid(z) = softplus(-z) and -log(1 - sigmoid(z)) = softplus(z), which stay finite.
    """
    real, fake = ops.cast(real, "float32"), ops.cast(fake, "float32")
    if relativistic:
        real, fake = real - ops.mean(fake), fake - ops.mean(real)
        return _softplus_mean(-real) + _softplus_mean(fake), _softplus_mean(real) + _softplus_mean(-fake)
    return _softplus_mean(-real) + _softplus_mean(fake), _softplus_mean(-fake)


def _softplus_mean(z):
    return ops.mean(ops.softplus(z))


def total_variation(x):
    """Mean absolute difference of vertically and of horizontally adjacent pixels (anisotropic TV), float32."""
    x = ops.cast(x, "float32")
    return ops.mean(ops.abs(x[:, 1:] - x[:, :-1])) + ops.mean(ops.abs(x[:, :, 1:] - x[:, :, :-1]))


class _Adversarial(keras.Model):
    """Generator and discriminator with their losses; the backend's train/test steps are in the subclasses."""

    def __init__(self, generator, discriminator, content_loss, perceptual, weights, relativistic, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.content_loss, self.perceptual = content_loss, perceptual
        self.extractor = None if perceptual is None else perceptual.extractor  # tracked: JAX's state carries it
        self.w = check_weights(weights)
        if self.w["perceptual"] and perceptual is None:
            raise SrtwinsError("gan weights.perceptual > 0 needs a perceptual feature extractor")
        self.relativistic = relativistic
        self.trackers = [keras.metrics.Mean(name=name) for name in ("loss", "d_loss", *TERMS)]

    @property
    def metrics(self):
        return self.trackers

    def compile(self, g_optimizer, d_optimizer, **kwargs):
        """Under mixed_float16 ``compile`` wraps the generator's optimizer in a LossScaleOptimizer; the
        discriminator's gets its own. Both are built here, on their own net's variables only."""
        super().compile(optimizer=g_optimizer, **kwargs)
        if isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer):
            d_optimizer = keras.optimizers.LossScaleOptimizer(d_optimizer)
        self.optimizer.build(self.generator.trainable_variables)
        d_optimizer.build(self.discriminator.trainable_variables)
        self.d_optimizer = d_optimizer
        self.d_optimizer_state = list(d_optimizer.variables)  # tracked as non-trainable: JAX's state carries them

    def call(self, x, training=False):
        return self.generator(x, training=training)

    def compute_losses(self, lr, hr, training):
        """(generator loss, discriminator loss, {term: value}) for one batch, all float32."""
        sr = self.generator(lr, training=training)
        real = self.discriminator(hr, training=training)
        fake = self.discriminator(sr, training=training)
        d_loss, adversarial = adversarial_losses(real, fake, self.relativistic)
        parts = {"content": ops.cast(self.content_loss(hr, sr), "float32"), "adversarial": adversarial,
                 "perceptual": self.perceptual(hr, sr) if self.w["perceptual"] else ops.zeros(()),
                 "tv": total_variation(sr)}
        g_loss = sum(self.w[k] * parts[k] for k in TERMS)
        return g_loss, d_loss, parts

    def log(self, g_loss, d_loss, parts):
        values = {"loss": g_loss, "d_loss": d_loss, **parts}
        for tracker in self.trackers:
            tracker.update_state(values[tracker.name])
        return {tracker.name: tracker.result() for tracker in self.trackers}


class _TensorFlowSteps(_Adversarial):
    def train_step(self, data):
        import tensorflow as tf

        lr, hr, _ = keras.utils.unpack_x_y_sample_weight(data)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync  # the optimizers sum replicas' gradients
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            g_loss, d_loss, parts = self.compute_losses(lr, hr, training=True)
            g_scaled = self.optimizer.scale_loss(g_loss / replicas)
            d_scaled = self.d_optimizer.scale_loss(d_loss / replicas)
        for optimizer, tape, loss, net in ((self.optimizer, g_tape, g_scaled, self.generator),
                                           (self.d_optimizer, d_tape, d_scaled, self.discriminator)):
            variables = net.trainable_variables
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return self.log(g_loss, d_loss, parts)

    def test_step(self, data):
        lr, hr, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self.log(*self.compute_losses(lr, hr, training=False))


class _JaxSteps(_Adversarial):
    """Keras' JAX trainer passes (trainable, non-trainable, optimizer, metrics) values and takes new ones back.

    One forward pass gives both scaled losses; ``jax.vjp`` pulls each back to its own net's
    variables (XLA drops the unused halves).
    """

    def train_step(self, state, data):
        import jax

        trainable, non_trainable, g_opt, metrics = state
        lr, hr, _ = keras.utils.unpack_x_y_sample_weight(data)
        g_vars, d_vars = self.generator.trainable_variables, self.discriminator.trainable_variables
        g_at, d_at = _positions(self.trainable_variables, g_vars), _positions(self.trainable_variables, d_vars)
        trained = {id(v) for v in g_vars + d_vars}
        others = [(v, x) for v, x in zip(self.trainable_variables, trainable) if id(v) not in trained]  # kept as is
        fixed = [*others, *zip(self.non_trainable_variables, non_trainable), *zip(self.optimizer.variables, g_opt)]

        def scaled_losses(g_values, d_values):
            with keras.StatelessScope(state_mapping=[*zip(g_vars, g_values), *zip(d_vars, d_values), *fixed]) as scope:
                g_loss, d_loss, parts = self.compute_losses(lr, hr, training=True)
                scaled = self.optimizer.scale_loss(g_loss), self.d_optimizer.scale_loss(d_loss)
            return scaled, (g_loss, d_loss, parts, _current(scope, self.non_trainable_variables, non_trainable))

        values = [trainable[i] for i in g_at], [trainable[i] for i in d_at]
        _, pull_back, (g_loss, d_loss, parts, non_trainable) = jax.vjp(scaled_losses, *values, has_aux=True)
        one, zero = jax.numpy.ones((), "float32"), jax.numpy.zeros((), "float32")
        g_new, g_opt = self.optimizer.stateless_apply(g_opt, pull_back((one, zero))[0], values[0])
        d_opt_at = _positions(self.non_trainable_variables, self.d_optimizer.variables)
        d_new, d_opt = self.d_optimizer.stateless_apply([non_trainable[i] for i in d_opt_at],
                                                        pull_back((zero, one))[1], values[1])
        trainable = _put(_put(trainable, g_at, g_new), d_at, d_new)
        logs, metrics = self._stateless_log(metrics, g_loss, d_loss, parts)
        return logs, (trainable, _put(non_trainable, d_opt_at, d_opt), g_opt, metrics)

    def test_step(self, state, data):
        trainable, non_trainable, metrics = state
        lr, hr, _ = keras.utils.unpack_x_y_sample_weight(data)
        mapping = [*zip(self.trainable_variables, trainable), *zip(self.non_trainable_variables, non_trainable)]
        with keras.StatelessScope(state_mapping=mapping):
            losses = self.compute_losses(lr, hr, training=False)
        logs, metrics = self._stateless_log(metrics, *losses)
        return logs, (trainable, non_trainable, metrics)

    def _stateless_log(self, metrics, g_loss, d_loss, parts):
        with keras.StatelessScope(state_mapping=list(zip(self.metrics_variables, metrics))) as scope:
            logs = self.log(g_loss, d_loss, parts)
        return logs, _current(scope, self.metrics_variables, metrics)


def _positions(variables, subset):
    where = {id(v): i for i, v in enumerate(variables)}
    return [where[id(v)] for v in subset]


def _put(values, positions, new):
    values = list(values)
    for i, value in zip(positions, new):
        values[i] = value
    return values


def _current(scope, variables, old):
    """The values a StatelessScope ended with: the assigned ones, else the ones it started from."""
    return [old_value if (value := scope.get_current_value(v)) is None else value
            for v, old_value in zip(variables, old)]


STEPS = {"tensorflow": _TensorFlowSteps, "jax": _JaxSteps}


def adversarial_model(generator, discriminator, content_loss, perceptual, weights, relativistic):
    """The training model for the running backend (TensorFlow or JAX); another backend is a clear error."""
    backend = keras.backend.backend()
    if backend not in STEPS:
        raise SrtwinsError(f"GAN training runs on KERAS_BACKEND=tensorflow or jax, not {backend}")
    return STEPS[backend](generator, discriminator, content_loss, perceptual, weights, relativistic,
                          name="adversarial")


def fit_adversarial(generator, discriminator, data, val, *, content_loss, perceptual, weights, relativistic,
                    epochs, learning_rate, live=None, jit_compile="auto", name="gan"):
    """Adversarial training of ``generator`` (Adam for both nets); returns (stats, the trained generator).

    Call it inside the caller's distribution scope, with the nets and ``perceptual`` built there:
    the optimizers and metrics are made here. A non-finite loss raises SrtwinsError; nothing is written.
    """
    model = adversarial_model(generator, discriminator, content_loss, perceptual, weights, relativistic)
    model.compile(keras.optimizers.Adam(learning_rate), keras.optimizers.Adam(learning_rate), jit_compile=jit_compile)
    guard = NaNGuard()
    start = time.perf_counter()
    history = model.fit(data, validation_data=val, epochs=epochs, verbose=2,
                        callbacks=[guard] + ([LiveLogger(live)] if live is not None else [])).history
    if guard.bad:
        raise SrtwinsError(f"{name}: adversarial training stopped, loss became NaN/inf at {guard.bad}; "
                           "no model written")
    last = {key: float(values[-1]) for key, values in history.items()}
    return {"epochs_run": len(history["loss"]), "train_seconds": round(time.perf_counter() - start, 1),
            "compute": compute.describe(model, jit_compile), "last_epoch": last}, generator


def fine_tune(run, data, val, live, summary):
    """Fine-tune a GAN run's trained generator against a new discriminator; saves it, adds its training to
    ``summary``."""
    t, g = run.train, run.gan
    with compute.distribution_scope():
        generator = compute.float32_output(compute.under_policy(load_model(paths.sr_model(run.generator))))
        perceptual = PerceptualLoss.from_spec(
            {"vgg_weights": run.vgg_weights, "seed": t.seed, "layer": g.recipe.vgg_layer,
             "pre_activation": g.recipe.pre_activation, "distance": g.recipe.feature_distance})
        summary["perceptual_features"] = perceptual.description
        summary["gan"], generator = fit_adversarial(
            generator, nets.build_discriminator(**g.discriminator), data, val,
            content_loss=DISTANCES[t.loss], perceptual=perceptual, weights=g.weights,
            relativistic=g.recipe.relativistic, epochs=g.epochs, learning_rate=g.learning_rate, live=live,
            jit_compile=t.jit_compile, name=run.name)
    save_model(generator, paths.sr_model(run.name))
