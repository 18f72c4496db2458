"""Keras super-resolution nets: one builder per paper, ``builder(scale, ...) -> keras.Model``.

Every net maps an LR image in [0, 1], shape (h, w, C), to an HR image (h*s, w*s, C), with
``keras.layers``/``keras.ops`` only, so it runs on TensorFlow and JAX. The builders' defaults
are the papers' forms; ``global_residual=True`` adds an exact MATLAB-bicubic skip (the net
learns the residual over bicubic), a documented departure that makes short CPU training pay.
"""
from dataclasses import dataclass
from typing import Callable

import keras
import numpy as np
from keras import layers, ops

from srtwins import SrtwinsError
from srtwins.data.imresize import cubic


@keras.saving.register_keras_serializable(package="srtwins")
class BicubicUpsample(layers.Layer):
    """Integer-factor upsampling identical to MATLAB ``imresize(x, s, 'bicubic')`` (before rounding).

    Each of the s*s output phases is a fixed 5x5 separable cubic filter on the symmetric-padded
    LR image; the phases are interleaved by depth_to_space.
    """

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = int(scale)

    def build(self, input_shape):
        s, c = self.scale, input_shape[-1]
        taps = np.arange(-2, 3)
        w1 = np.stack([cubic((r + 0.5) / s - 0.5 - taps) for r in range(s)])  # (s, 5)
        w1 /= w1.sum(axis=1, keepdims=True)
        kernel = np.zeros((5, 5, c, s * s * c), np.float32)
        for ry in range(s):
            for rx in range(s):
                for ch in range(c):
                    kernel[:, :, ch, (ry * s + rx) * c + ch] = np.outer(w1[ry], w1[rx])
        self.kernel = ops.convert_to_tensor(kernel)

    def call(self, x):
        padded = ops.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]], mode="symmetric")
        phases = ops.conv(padded, ops.cast(self.kernel, x.dtype), padding="valid")
        return ops.depth_to_space(phases, self.scale)

    def forward_flops(self, input_shape):
        """2 x multiply-adds of the 5x5 phase filters (srtwins.flops counts this layer through it)."""
        h, w, c = input_shape
        return 2 * 25 * c**2 * self.scale**2 * h * w

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        return (n, None if h is None else h * self.scale, None if w is None else w * self.scale, c)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package="srtwins")
class PixelShuffle(layers.Layer):
    """Sub-pixel convolution's rearrangement (Shi et al. 2016): (h, w, C*s*s) -> (h*s, w*s, C)."""

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = int(scale)

    def call(self, x):
        return ops.depth_to_space(x, self.scale)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        s = self.scale
        return (n, None if h is None else h * s, None if w is None else w * s, c // (s * s))

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def _lr_input(channels):
    return keras.Input((None, None, channels), name="lr")


def _finish(lr, out, scale, global_residual, name):
    if global_residual:
        out = layers.Add(name="plus_bicubic")([out, BicubicUpsample(scale, name="bicubic")(lr)])
    return keras.Model(lr, out, name=name)


def conv(filters, kernel, **kw):
    return layers.Conv2D(filters, kernel, padding="same", **kw)


# --------------------------------------------------------------------------- SRCNN
def srcnn(scale, channels=3, f1=9, f2=1, f3=5, n1=64, n2=32, global_residual=False):
    """SRCNN (Dong et al. 2014/2016), 9-1-5 by default, on the bicubic-upscaled input."""
    lr = _lr_input(channels)
    up = BicubicUpsample(scale, name="bicubic_in")(lr)
    x = conv(n1, f1, activation="relu", name="patch_extraction")(up)
    x = conv(n2, f2, activation="relu", name="nonlinear_mapping")(x)
    x = conv(channels, f3, name="reconstruction")(x)
    if global_residual:
        x = layers.Add(name="plus_bicubic")([x, up])
    return keras.Model(lr, x, name="srcnn")


# --------------------------------------------------------------------------- FSRCNN
def fsrcnn(scale, channels=3, d=56, s=12, m=4, global_residual=False):
    """FSRCNN (Dong et al. 2016): extract, shrink, m maps, expand, PReLU; deconvolution upsampling."""
    def prelu(name):
        return layers.PReLU(shared_axes=[1, 2], name=name)

    lr = _lr_input(channels)
    x = prelu("extract_prelu")(conv(d, 5, name="extract")(lr))
    x = prelu("shrink_prelu")(conv(s, 1, name="shrink")(x))
    for i in range(m):
        x = prelu(f"map{i + 1}_prelu")(conv(s, 3, name=f"map{i + 1}")(x))
    x = prelu("expand_prelu")(conv(d, 1, name="expand")(x))
    out = layers.Conv2DTranspose(channels, 9, strides=scale, padding="same", name="deconv")(x)
    return _finish(lr, out, scale, global_residual, "fsrcnn")


# --------------------------------------------------------------------------- ESPCN
def espcn(scale, channels=3, n1=64, n2=32, activation="tanh", global_residual=False):
    """ESPCN (Shi et al. 2016): 5x5-3x3-3x3 convolutions on the LR input, pixel-shuffle upsampling."""
    lr = _lr_input(channels)
    x = conv(n1, 5, activation=activation, name="conv1")(lr)
    x = conv(n2, 3, activation=activation, name="conv2")(x)
    x = conv(channels * scale * scale, 3, name="conv3")(x)
    out = PixelShuffle(scale, name="pixel_shuffle")(x)
    return _finish(lr, out, scale, global_residual, "espcn")


# --------------------------------------------------------------------------- compact transposed-conv CNN
def compact(scale, channels=3, global_residual=False):
    """Compact CNN: 2 convs, stride-2 transposed conv(s) of 128, 2 convs, a 3-channel sigmoid conv.

    225,027 parameters at x2; x4 stacks two transposed convs. With ``global_residual`` the
    last conv is linear and added to bicubic (a sigmoid cannot express a signed residual).
    """
    lr = _lr_input(channels)
    x = conv(64, 3, activation="relu", name="conv1")(lr)
    x = conv(64, 3, activation="relu", name="conv2")(x)
    for i in range({2: 1, 4: 2}[scale]):
        x = layers.Conv2DTranspose(128, 3, strides=2, padding="same", activation="relu", name=f"up{i + 1}")(x)
    x = conv(64, 3, activation="relu", name="conv3")(x)
    x = conv(64, 3, activation="relu", name="conv4")(x)
    out = conv(channels, 3, activation=None if global_residual else "sigmoid", name="out")(x)
    return _finish(lr, out, scale, global_residual, "compact")


# --------------------------------------------------------------------------- EDSR-baseline
def upsampler(x, scale, feats, name, activation=None):
    """Pixel-shuffle upsampler: one x2/x3 stage, or two x2 stages for x4 (EDSR, SRResNet)."""
    for i, f in enumerate([2, 2] if scale == 4 else [scale]):
        x = conv(feats * f * f, 3, name=f"{name}{i + 1}_conv")(x)
        x = PixelShuffle(f, name=f"{name}{i + 1}_shuffle")(x)
        if activation == "prelu":
            x = layers.PReLU(shared_axes=[1, 2], name=f"{name}{i + 1}_prelu")(x)
    return x


def edsr(scale, channels=3, n_blocks=16, n_feats=64, res_scale=1.0, global_residual=False):
    """EDSR-baseline (Lim et al. 2017): residual blocks without batch-norm, pixel-shuffle tail."""
    lr = _lr_input(channels)
    head = conv(n_feats, 3, name="head")(lr)
    x = head
    for i in range(n_blocks):
        y = conv(n_feats, 3, activation="relu", name=f"block{i + 1}_conv1")(x)
        y = conv(n_feats, 3, name=f"block{i + 1}_conv2")(y)
        if res_scale != 1.0:
            y = layers.Rescaling(res_scale, name=f"block{i + 1}_scale")(y)
        x = layers.Add(name=f"block{i + 1}_add")([x, y])
    x = layers.Add(name="body_add")([head, conv(n_feats, 3, name="body_conv")(x)])
    out = conv(channels, 3, name="tail")(upsampler(x, scale, n_feats, "up"))
    return _finish(lr, out, scale, global_residual, "edsr")


# --------------------------------------------------------------------------- SRResNet (SRGAN generator)
def srresnet(scale, channels=3, n_blocks=16, n_feats=64, global_residual=False):
    """SRResNet (Ledig et al. 2017): 9x9 head, residual blocks with batch-norm and PReLU, shuffle x2 stages."""
    lr = _lr_input(channels)
    head = layers.PReLU(shared_axes=[1, 2], name="head_prelu")(conv(n_feats, 9, name="head")(lr))
    x = head
    for i in range(n_blocks):
        y = layers.BatchNormalization(name=f"block{i + 1}_bn1")(conv(n_feats, 3, name=f"block{i + 1}_conv1")(x))
        y = layers.PReLU(shared_axes=[1, 2], name=f"block{i + 1}_prelu")(y)
        y = layers.BatchNormalization(name=f"block{i + 1}_bn2")(conv(n_feats, 3, name=f"block{i + 1}_conv2")(y))
        x = layers.Add(name=f"block{i + 1}_add")([x, y])
    x = layers.BatchNormalization(name="body_bn")(conv(n_feats, 3, name="body_conv")(x))
    x = layers.Add(name="body_add")([head, x])
    tail_init = "zeros" if global_residual else "glorot_uniform"  # a residual net starts as exactly bicubic
    up = upsampler(x, scale, n_feats, "up", activation="prelu")
    out = conv(channels, 9, kernel_initializer=tail_init, name="tail")(up)
    return _finish(lr, out, scale, global_residual, "srresnet")


# --------------------------------------------------------------------------- RRDB (ESRGAN generator)
def _dense_block(x, feats, growth, name):
    inputs = [x]
    for i in range(4):
        cat = layers.Concatenate(name=f"{name}_cat{i + 1}")(inputs) if len(inputs) > 1 else x
        y = layers.LeakyReLU(0.2, name=f"{name}_lrelu{i + 1}")(conv(growth, 3, name=f"{name}_conv{i + 1}")(cat))
        inputs.append(y)
    y = conv(feats, 3, name=f"{name}_conv5")(layers.Concatenate(name=f"{name}_cat5")(inputs))
    return layers.Add(name=f"{name}_add")([x, layers.Rescaling(0.2, name=f"{name}_scale")(y)])


def rrdb(scale, channels=3, n_blocks=23, n_feats=64, growth=32, global_residual=False):
    """RRDBNet (Wang et al. 2018, ESRGAN): residual-in-residual dense blocks, nearest+conv upsampling."""
    lr = _lr_input(channels)
    head = conv(n_feats, 3, name="head")(lr)
    x = head
    for i in range(n_blocks):
        y = x
        for j in range(3):
            y = _dense_block(y, n_feats, growth, f"rrdb{i + 1}_rdb{j + 1}")
        x = layers.Add(name=f"rrdb{i + 1}_add")([x, layers.Rescaling(0.2, name=f"rrdb{i + 1}_scale")(y)])
    x = layers.Add(name="trunk_add")([head, conv(n_feats, 3, name="trunk_conv")(x)])
    for i, f in enumerate([2, 2] if scale == 4 else [scale]):
        x = layers.UpSampling2D(f, interpolation="nearest", name=f"up{i + 1}")(x)
        x = layers.LeakyReLU(0.2, name=f"up{i + 1}_lrelu")(conv(n_feats, 3, name=f"up{i + 1}_conv")(x))
    x = layers.LeakyReLU(0.2, name="hr_lrelu")(conv(n_feats, 3, name="hr_conv")(x))
    out = conv(channels, 3, name="tail")(x)
    return _finish(lr, out, scale, global_residual, "rrdb")


# --------------------------------------------------------------------------- discriminator
def discriminator(channels=3, n_feats=64, batch_norm=True, name="discriminator"):
    """SRGAN's VGG-style discriminator (also ESRGAN's): 8 convs, strides 1/2, LeakyReLU 0.2, two dense.

    Global average pooling before the dense layers lets it take any patch size (the paper's
    Flatten fixes 96x96).
    """
    hr = keras.Input((None, None, channels), name="hr")
    x = hr
    for i, (f, stride) in enumerate([(1, 1), (1, 2), (2, 1), (2, 2), (4, 1), (4, 2), (8, 1), (8, 2)]):
        x = layers.Conv2D(n_feats * f, 3, strides=stride, padding="same", name=f"conv{i + 1}")(x)
        if batch_norm and i > 0:
            x = layers.BatchNormalization(name=f"bn{i + 1}")(x)
        x = layers.LeakyReLU(0.2, name=f"lrelu{i + 1}")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.LeakyReLU(0.2, name="dense_lrelu")(layers.Dense(n_feats * 16, name="dense1")(x))
    return keras.Model(hr, layers.Dense(1, name="logit")(x), name=name)


def build_discriminator(**options):
    """The discriminator with the given options; a bad option is a clear error."""
    try:
        return discriminator(**options)
    except TypeError as e:
        raise SrtwinsError(f"discriminator: bad option ({e})") from None


@dataclass(frozen=True)
class NetSpec:
    """One registry entry per net: its builder and the scales it can do."""

    builder: Callable
    scales: tuple = (2, 3, 4)


SPECS = {
    "srcnn": NetSpec(srcnn),
    "fsrcnn": NetSpec(fsrcnn),
    "espcn": NetSpec(espcn),
    "compact": NetSpec(compact, scales=(2, 4)),
    "edsr": NetSpec(edsr),
    "srresnet": NetSpec(srresnet),
    "rrdb": NetSpec(rrdb),
}


def spec(net):
    """The registry entry of a net; an unknown name is a clear error."""
    if net not in SPECS:
        raise SrtwinsError(f"unknown SR net {net!r}; known: {', '.join(SPECS)}")
    return SPECS[net]


def build(net, scale, **options):
    """Build a net by name at a scale it supports; unknown names, scales and options are clear errors."""
    entry = spec(net)
    if scale not in entry.scales:
        raise SrtwinsError(f"{net} cannot do x{scale}; it supports x{', x'.join(map(str, entry.scales))}")
    try:
        return entry.builder(scale, **options)
    except TypeError as e:
        raise SrtwinsError(f"{net}: bad architecture option ({e})") from None
