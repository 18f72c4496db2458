"""VGG19 feature losses for SR training (SRGAN's VGG54, ESRGAN's pre-activation L1), with a logged fallback.

``vgg_weights`` is ``imagenet`` (Keras downloads them when online), a path to a weights file,
or ``none``. Without ImageNet weights the extractor is a VGG19 with fixed random weights (seeded):
random conv features still measure local structure, but weaker than ImageNet ones, so the run
says so in its log and in metrics/sr_nets.json. It never silently drops the term.
"""
from pathlib import Path

import keras
from keras import ops

from srtwins import SrtwinsError
from srtwins.sr.losses import DISTANCES

VGG_MEAN_BGR = (103.939, 116.779, 123.68)
SPEC_KEYS = ("vgg_weights", "layer", "pre_activation", "distance", "seed")


def feature_extractor(vgg_weights, layer="block5_conv4", pre_activation=False, seed=0):
    """(model, description): a frozen VGG19 up to ``layer``, on inputs already ``vgg_preprocess``-ed.

    ``pre_activation`` (ESRGAN) drops the ReLU of ``layer`` only: the VGG19 is built for this
    extractor alone, so no other model shares the changed layer.
    """
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
    if pre_activation:  # the functional graph calls the layer anew, so the conv output comes out linear
        out_layer.activation = keras.activations.linear
    model = keras.Model(vgg.input, out_layer.output, name=f"vgg19_{layer}")
    model.trainable = False
    return model, description + (" pre-activation" if pre_activation else "")


def vgg_preprocess(x):
    """RGB [0, 1] -> the BGR, mean-subtracted 0-255 input Keras' VGG19 weights were trained on (caffe style)."""
    x = ops.flip(ops.cast(x, "float32") * 255.0, axis=-1)
    return x - ops.convert_to_tensor(VGG_MEAN_BGR, dtype="float32")


class PerceptualLoss:
    """The plain ``distance`` (mse | l1) between VGG features of two RGB [0, 1] images, in float32.

    SRGAN's VGG54: mse of ``block5_conv4`` after the ReLU. The paper rescales features by 1/12.75,
    which is a 1/12.75**2 ~ 0.006 weight on this mse: that weight lives in params
    (``gan.weights.perceptual``) and is applied once, never here. ESRGAN: l1 of ``block5_conv4``
    before the ReLU, weight 1.
    """

    def __init__(self, extractor, distance="mse", description=""):
        if distance not in DISTANCES:
            raise SrtwinsError(f"unknown perceptual distance {distance!r}; allowed: {', '.join(DISTANCES)}")
        if extractor is not None:
            extractor.trainable = False  # a fixed measure: no optimizer ever moves it
        self.extractor, self.distance, self.description = extractor, distance, description

    @classmethod
    def from_spec(cls, spec):
        """Build from a plain dict (vgg_weights, layer, pre_activation, distance, seed): what a saved loss stores."""
        unknown = set(spec) - set(SPEC_KEYS)
        if unknown:
            raise SrtwinsError(f"perceptual spec: unknown keys {', '.join(sorted(unknown))}; "
                               f"allowed: {', '.join(SPEC_KEYS)}")
        extractor, description = feature_extractor(spec["vgg_weights"], spec.get("layer", "block5_conv4"),
                                                   spec.get("pre_activation", False), spec.get("seed", 0))
        return cls(extractor, spec.get("distance", "mse"), description)

    def __call__(self, y_true, y_pred):
        ft = ops.cast(self.extractor(vgg_preprocess(y_true)), "float32")  # float16 under mixed precision
        fp = ops.cast(self.extractor(vgg_preprocess(y_pred)), "float32")
        return DISTANCES[self.distance](ft, fp)
