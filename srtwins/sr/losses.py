"""Pixel distances in float32, shared by the pixel losses, the VGG feature loss and the GAN content term."""
from keras import ops


def mse(y, p):
    return ops.mean(ops.square(ops.cast(y, "float32") - ops.cast(p, "float32")))


def l1(y, p):
    return ops.mean(ops.abs(ops.cast(y, "float32") - ops.cast(p, "float32")))


DISTANCES = {"mse": mse, "l1": l1}
