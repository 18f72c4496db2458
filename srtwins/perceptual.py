"""VGG19 feature losses for SR training, with an explicit, logged fallback when no weights exist.

``vgg_weights`` is ``imagenet`` (Keras downloads them when online), a path to a weights file,
or ``none``. Without ImageNet weights the extractor is a VGG19 with fixed random weights (seeded):
random conv features still measure local structure, but weaker than ImageNet ones, so the run
says so in its log and in metrics/sr_nets.json. It never silently drops the term.
"""
from pathlib import Path

import keras
from keras import ops

from srtwins import SrtwinsError

VGG_MEAN_BGR = (103.939, 116.779, 123.68)


def feature_extractor(vgg_weights, layer="block5_conv4", pre_activation=False, seed=0):
    """(model, description): a frozen VGG19 up to ``layer``; input RGB in [0, 1]."""
    from keras.applications import VGG19

    source = str(vgg_weights)
    if source not in ("imagenet", "none") and not Path(source).is_file():
        raise SrtwinsError(f"perceptual.vgg_weights: file {source} not found")
    description = None
    if source == "imagenet":
        try:
            vgg = VGG19(weights="imagenet", include_top=False)
            description = "vgg19-imagenet"
        except Exception as e:  # offline: the download fails
            print(f"warning: ImageNet VGG19 weights unavailable ({type(e).__name__}); "
                  f"perceptual loss falls back to a random-weight VGG19 (seed {seed})")
            source = "none"
    if source == "none":
        keras.utils.set_random_seed(seed)
        vgg = VGG19(weights=None, include_top=False)
        description = f"vgg19-random-seed{seed} (fallback: no ImageNet weights)"
        print(f"perceptual loss: {description}")
    elif description is None:
        vgg = VGG19(weights=None, include_top=False)
        try:
            vgg.load_weights(source)
        except Exception as e:
            raise SrtwinsError(f"perceptual.vgg_weights: cannot load {source} ({e})") from None
        description = f"vgg19-file:{Path(source).name}"
    out_layer = vgg.get_layer(layer)
    if pre_activation:  # ESRGAN: features before the ReLU
        out_layer.activation = keras.activations.linear
    model = keras.Model(vgg.input, out_layer.output, name=f"vgg19_{layer}")
    model.trainable = False
    return model, description + (" pre-activation" if pre_activation else "")


def vgg_preprocess(x):
    """RGB [0, 1] -> the BGR, mean-subtracted 0-255 input VGG19 was trained on."""
    x = ops.flip(x * 255.0, axis=-1)
    return x - ops.convert_to_tensor(VGG_MEAN_BGR, dtype=x.dtype)


class PerceptualLoss:
    """Mean squared distance of VGG features, scaled by ``1/feature_scale`` (SRGAN uses 1/12.75**2)."""

    def __init__(self, extractor, feature_scale=12.75, description=""):
        self.extractor, self.feature_scale, self.description = extractor, feature_scale, description

    @classmethod
    def from_spec(cls, spec):
        """Build from a plain dict (vgg_weights, layer, pre_activation, seed): what a saved loss stores."""
        extractor, description = feature_extractor(spec["vgg_weights"], spec.get("layer", "block5_conv4"),
                                                   spec.get("pre_activation", False), spec.get("seed", 0))
        return cls(extractor, description=description)

    def __call__(self, y_true, y_pred):
        ft = self.extractor(vgg_preprocess(ops.cast(y_true, "float32"))) / self.feature_scale
        fp = self.extractor(vgg_preprocess(ops.cast(y_pred, "float32"))) / self.feature_scale
        return ops.mean(ops.square(ft - fp))
