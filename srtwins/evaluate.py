"""Scoring of SR outputs and interpolation baselines against HR, per image and per dataset; model cost in FLOPs."""
import keras
import numpy as np
from keras import layers

from srtwins.imresize import imresize, modcrop
from srtwins.metrics import score
from srtwins.nets import BicubicUpsample

BASELINES = ("bicubic", "bilinear")


def upscale(lr, hr_shape, method):
    """Interpolate an LR image (or batch) back to ``hr_shape`` (H, W) by MATLAB-style resizing."""
    return imresize(lr, output_shape=hr_shape, method=method)


def score_images(outputs, references, scale):
    """Per-image metric rows for paired iterables of uint8 outputs and HR references (modcropped here)."""
    return [score(out, modcrop(hr, scale), scale) for out, hr in zip(outputs, references)]


def baseline_rows(lr_images, hr_images, scale, method):
    """Per-image scores of an interpolation baseline; ``lr_images``/``hr_images`` are aligned lists."""
    outs = (upscale(lr, modcrop(hr, scale).shape[:2], method) for lr, hr in zip(lr_images, hr_images))
    return score_images(outs, hr_images, scale)


def cifar_baseline_rows(lr, hr, scale, method, batch=1024):
    """Baseline scores for a CIFAR-10 batch array (N, h, w, 3) against HR (N, 32, 32, 3)."""
    hr = modcrop(hr, scale, batched=True)
    rows = []
    for i in range(0, len(lr), batch):
        up = upscale(np.asarray(lr[i : i + batch]), hr.shape[1:3], method)
        rows += score_images(up, hr[i : i + batch], scale)
    return rows


def model_flops(model, input_shape):
    """FLOPs (2 x multiply-adds of the conv, dense and bicubic layers) of one forward pass on ``input_shape``.

    Measured by probing every such layer's input and output shapes; returns (flops, output shape)."""
    kinds = (layers.Conv2D, layers.Conv2DTranspose, layers.Dense, BicubicUpsample)
    targets = [l for l in model.layers if isinstance(l, kinds)]
    probe = keras.Model(model.inputs, [t for l in targets for t in (l.input, l.output)] + [model.output])
    shapes = [tuple(o.shape) for o in probe([np.zeros((1, *input_shape), "float32")])]
    total = 0
    for i, layer in enumerate(targets):
        (_, *inner), out = shapes[2 * i], shapes[2 * i + 1]
        if isinstance(layer, layers.Conv2DTranspose):
            kh, kw = layer.kernel_size
            total += 2 * kh * kw * inner[-1] * out[-1] * inner[0] * inner[1]
        elif isinstance(layer, layers.Conv2D):
            kh, kw = layer.kernel_size
            total += 2 * kh * kw * inner[-1] * out[-1] * out[1] * out[2]
        elif isinstance(layer, BicubicUpsample):
            total += 2 * 25 * inner[-1] ** 2 * layer.scale**2 * inner[0] * inner[1]
        else:
            total += 2 * int(np.prod(inner)) * out[-1]
    return total, shapes[-1]


def flops_per_output_mpx(model, lr_size=48):
    """An SR net's FLOPs per megapixel of output, measured on an lr_size^2 input."""
    total, (_, ho, wo, _) = model_flops(model, (lr_size, lr_size, model.input_shape[-1]))
    return total / (ho * wo) * 1e6
