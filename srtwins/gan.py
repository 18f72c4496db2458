"""Adversarial SR training: SRGAN (Ledig et al. 2017) and ESRGAN's relativistic average GAN (Wang et al. 2018).

Generator loss = sum of weights[term] x term over content (pixel), adversarial, perceptual (VGG
features, ``srtwins.perceptual``) and total variation; every term is float32 before the sum.
"""
import keras
from keras import ops

from srtwins import SrtwinsError

TERMS = ("content", "adversarial", "perceptual", "tv")


def adversarial_losses(real, fake, relativistic):
    """(discriminator loss, generator adversarial loss) from the logits C(x_r) on HR and C(x_f) on SR, float32.

    Standard (SRGAN): L_D = -E[log D(x_r)] - E[log(1 - D(x_f))], L_G = -E[log D(x_f)], D = sigmoid(C).
    Relativistic average (ESRGAN): D_Ra(a, b) = sigmoid(C(a) - E[C(b)]);
    L_D = -E[log D_Ra(x_r, x_f)] - E[log(1 - D_Ra(x_f, x_r))], L_G = -E[log(1 - D_Ra(x_r, x_f))] - E[log D_Ra(x_f, x_r)].
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


def check_weights(weights):
    """The generator loss weights with every term named (a term left out weighs 0); unknown terms are errors."""
    unknown = set(weights) - set(TERMS)
    if unknown:
        raise SrtwinsError(f"gan weights: unknown terms {', '.join(sorted(unknown))}; known: {', '.join(TERMS)}")
    return {term: float(weights.get(term, 0.0)) for term in TERMS}


class AdversarialSR(keras.Model):
    """Trains ``generator`` against ``discriminator``; ``relativistic=True`` is ESRGAN's RaGAN."""

    def __init__(self, generator, discriminator, content_loss, perceptual, weights, relativistic, **kwargs):
        super().__init__(**kwargs)
        if keras.backend.backend() != "tensorflow":
            raise SrtwinsError("GAN training needs KERAS_BACKEND=tensorflow (the nets themselves run on any backend)")
        self.generator, self.discriminator = generator, discriminator
        self.content_loss, self.perceptual = content_loss, perceptual
        self.w = check_weights(weights)
        if self.w["perceptual"] and perceptual is None:
            raise SrtwinsError("gan weights.perceptual > 0 needs a perceptual feature extractor")
        self.relativistic = relativistic

    def compile(self, g_optimizer, d_optimizer, **kwargs):
        super().compile(optimizer=g_optimizer, **kwargs)
        self.d_optimizer = d_optimizer

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

    def train_step(self, data):
        import tensorflow as tf

        lr, hr = data
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            g_loss, d_loss, parts = self.compute_losses(lr, hr, training=True)
        g_vars, d_vars = self.generator.trainable_variables, self.discriminator.trainable_variables
        self.optimizer.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars))
        self.d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars))
        return {"loss": g_loss, "d_loss": d_loss, **parts}

    def test_step(self, data):
        lr, hr = data
        g_loss, d_loss, parts = self.compute_losses(lr, hr, training=False)
        return {"loss": g_loss, "d_loss": d_loss, **parts}
