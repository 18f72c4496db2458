"""The GAN recipes: how SRGAN and ESRGAN fine-tune their PSNR-trained generators (which loss, which VGG
features). The architectures are ``srtwins.sr.nets``'; the training is ``srtwins.sr.gan``. No Keras here."""
from dataclasses import dataclass

from srtwins import BadValue

TERMS = ("content", "adversarial", "perceptual", "tv")  # the generator loss terms a GAN run weighs


@dataclass(frozen=True)
class GanRecipe:
    """The PSNR-trained net a GAN starts from and its losses."""

    generator: str  # the net whose trained model (an sr.runs run at the same scale) it starts from
    relativistic: bool  # ESRGAN's relativistic average GAN, or SRGAN's standard one
    vgg_layer: str = "block5_conv4"  # perceptual features (the papers' VGG54)
    pre_activation: bool = False  # ESRGAN compares features before the ReLU
    feature_distance: str = "mse"  # SRGAN: squared error of features; ESRGAN: L1


RECIPES = {
    "srgan": GanRecipe("srresnet", relativistic=False),
    "esrgan": GanRecipe("rrdb", relativistic=True, pre_activation=True, feature_distance="l1"),
}


def check_weights(weights):
    """The generator loss weights with every term named (a term left out weighs 0); unknown terms are errors."""
    unknown = set(weights) - set(TERMS)
    if unknown:
        raise BadValue("weights", f"has unknown terms {', '.join(sorted(unknown))}; known: {', '.join(TERMS)}")
    return {term: float(weights.get(term, 0.0)) for term in TERMS}
