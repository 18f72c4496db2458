"""Model cost in FLOPs, measured from layer shapes: for SR nets (per output megapixel) and classifiers.

Kept apart from the SR code so that counting a classifier's FLOPs does not make it depend on the nets."""
import keras
import numpy as np
from keras import layers


def model_flops(model, input_shape):
    """FLOPs (2 x multiply-adds of the conv and dense layers, and of layers with a ``forward_flops`` method)
    of one forward pass on ``input_shape``.

    Measured by probing every such layer's input and output shapes; returns (flops, output shape)."""
    kinds = (layers.Conv2D, layers.Conv2DTranspose, layers.Dense)
    targets = [layer for layer in model.layers if isinstance(layer, kinds) or hasattr(layer, "forward_flops")]
    probe = keras.Model(model.inputs, [t for layer in targets for t in (layer.input, layer.output)] + [model.output])
    shapes = [tuple(o.shape) for o in probe([np.zeros((1, *input_shape), "float32")])]
    total = 0
    for i, layer in enumerate(targets):
        (_, *inner), out = shapes[2 * i], shapes[2 * i + 1]
        if hasattr(layer, "forward_flops"):
            total += layer.forward_flops(inner)
        elif isinstance(layer, layers.Conv2DTranspose):
            kh, kw = layer.kernel_size
            total += 2 * kh * kw * inner[-1] * out[-1] * inner[0] * inner[1]
        elif isinstance(layer, layers.Conv2D):
            kh, kw = layer.kernel_size
            total += 2 * kh * kw * inner[-1] * out[-1] * out[1] * out[2]
        else:
            total += 2 * int(np.prod(inner)) * out[-1]
    return total, shapes[-1]


def flops_per_output_mpx(model, lr_size=48):
    """An SR net's FLOPs per megapixel of output, measured on an lr_size^2 input."""
    total, (_, ho, wo, _) = model_flops(model, (lr_size, lr_size, model.input_shape[-1]))
    return total / (ho * wo) * 1e6
