"""The pipeline's file layout in one place: stages, dvc.yaml's deps (checked by a test) and tests read it here.

Arrays are uint8 ``.npy``; CIFAR-10 folders hold ``x_{train,test}.npy`` (and the raw one ``y_*``): ``cifar10`` the
study's split, ``cifar10_exact`` only ``x_test.npy``, the pixel-exact official test images SR quality is scored on.
"""
from pathlib import Path

IMAGE_SETS = ("set5", "set14", "bsd100", "t91")  # the fetched SR image sets
TEST_SETS = ("set5", "set14", "bsd100")  # scored; T91 is for training only
SPLITS = ("train", "test")

RAW, LR, SR = Path("data/raw"), Path("data/lr"), Path("data/sr")
SR_MODELS, CLS_MODELS = Path("models/sr"), Path("models/cls")
DOWNLOADS = Path("data/downloads")
TMP = Path(".srtwins-tmp")  # temporary outputs: no stage depends on it; cleared at the next start
METRICS, PLOTS = Path("metrics"), Path("plots")
CIFAR = "cifar10"  # the study: the classifiers' training images and every image they are tested on
CIFAR_EXACT = "cifar10_exact"  # pixel-exact official binary test images (the mirror: 1,017), for SR quality
CIFAR_ARRAYS = ((CIFAR, "train"), (CIFAR, "test"), (CIFAR_EXACT, "test"))  # what is degraded and super-resolved
DIV2K = "div2k"  # training only: data/raw/div2k/{hr,x2,x3,x4}/ and index.json (what was fetched)


def raw(dataset):
    return RAW / dataset


def lr(scale, dataset):
    return LR / f"x{scale}" / dataset


def div2k(scale=None):
    """DIV2K's HR training images (``hr/0001.png``), or its official bicubic LR at ``scale`` (``x2/0001x2.png``).

    The LR comes with the dataset, so it lives under data/raw (the fetch stage's output), not data/lr."""
    return RAW / DIV2K / ("hr" if scale is None else f"x{scale}")


def div2k_index():
    return RAW / DIV2K / "index.json"


def sr(run, dataset=None):
    return SR / run if dataset is None else SR / run / dataset


def sr_model(run):
    return SR_MODELS / f"{run}.keras"


def sr_summary(run):
    return SR_MODELS / f"{run}.json"


def array(folder, split, prefix="x"):
    """A CIFAR-10 array in ``folder``: ``x_train.npy``, ``y_test.npy``, ``hr_x_train.npy`` ..."""
    return Path(folder) / f"{prefix}_{split}.npy"


def labels(split):
    return array(raw(CIFAR), split, "y")
