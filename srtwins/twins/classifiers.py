"""Twin classifiers: one architecture and recipe for every arm; only the input differs."""
import keras
import numpy as np
from keras import layers

from srtwins import BadValue

MODELS = ("bn_cnn", "small_cnn", "resnet")


def bn_cnn(input_shape, n_classes=10, width=32, augment=True, seed=0):
    """A batch-normed plain CNN in the fast CIFAR-10 trainers' style: a strided 3x3 stem of width / 2 (it sees
    every pixel, at a quarter of the full-size activations' cost), then three stages of 3x3 conv, BN, ReLU and
    2x2 max-pooling with width doubling, global average pooling and the logits."""
    inp = keras.Input(input_shape, name="image")
    x = _conv_bn(_stem(inp, augment, seed), width // 2, "stem", strides=2)
    for stage in range(3):
        x = _conv_bn(x, width * 2**stage, f"s{stage + 1}")
        x = layers.MaxPooling2D(2, name=f"s{stage + 1}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inp, layers.Dense(n_classes, name="logits")(x), name="bn_cnn")


def _conv_bn(x, filters, name, strides=1):
    x = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    return layers.ReLU(name=f"{name}_relu")(layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x))


def small_cnn(input_shape, n_classes=10, dense=128, grid=4, augment=True, seed=0):
    """The original study's CNN (two 3x3x32 SAME convs, each with 2x2 max-pooling, a ReLU dense layer,
    logits), the features average-pooled to grid x grid (77,098 parameters at 32x32 and grid 4)."""
    inp = keras.Input(input_shape, name="image")
    x = _stem(inp, augment, seed)
    for i in range(2):
        x = layers.Conv2D(32, 3, padding="same", activation="relu", name=f"conv{i + 1}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i + 1}")(x)
    if x.shape[1] >= 2 * grid:
        x = layers.AveragePooling2D(x.shape[1] // grid, name="to_grid")(x)
    x = layers.Dense(dense, activation="relu", name="dense")(layers.Flatten(name="flatten")(x))
    return keras.Model(inp, layers.Dense(n_classes, name="logits")(x), name="small_cnn")


def resnet(input_shape, n_classes=10, width=32, blocks=(1, 1, 1), augment=True, seed=0):
    """A small pre-activation ResNet (three stages, global pooling): the stronger classifier option."""
    inp = keras.Input(input_shape, name="image")
    x = layers.Conv2D(width, 3, padding="same", name="stem")(_stem(inp, augment, seed))
    for stage, n in enumerate(blocks):
        for b in range(n):
            stride = 2 if stage > 0 and b == 0 else 1
            filters = width * 2**stage
            name = f"s{stage + 1}b{b + 1}"
            y = layers.ReLU(name=f"{name}_relu1")(layers.BatchNormalization(name=f"{name}_bn1")(x))
            shortcut = x if stride == 1 and x.shape[-1] == filters else layers.Conv2D(
                filters, 1, strides=stride, name=f"{name}_proj")(y)
            y = layers.Conv2D(filters, 3, strides=stride, padding="same", name=f"{name}_conv1")(y)
            y = layers.ReLU(name=f"{name}_relu2")(layers.BatchNormalization(name=f"{name}_bn2")(y))
            y = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(y)
            x = layers.Add(name=f"{name}_add")([shortcut, y])
    x = layers.ReLU(name="head_relu")(layers.BatchNormalization(name="head_bn")(x))
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inp, layers.Dense(n_classes, name="logits")(x), name="resnet")


def _stem(inp, augment, seed):
    x = layers.Rescaling(1 / 255.0, name="to_unit")(inp)
    return layers.RandomFlip("horizontal", seed=seed, name="flip")(x) if augment else x


def build(name, input_shape, width=32, **options):
    """A classifier by name; ``width`` is the first stage's channels (small_cnn's are the paper's 32)."""
    if name not in MODELS:
        raise BadValue("model", f"= {name!r} is not allowed; allowed: {', '.join(MODELS)}")
    if name == "small_cnn":
        return small_cnn(input_shape, **options)
    return {"bn_cnn": bn_cnn, "resnet": resnet}[name](input_shape, width=width, **options)


def softmax(logits):
    z = np.asarray(logits, np.float64)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)

