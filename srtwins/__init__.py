"""srtwins: does super-resolving low-resolution images make a classifier better?"""
import os

# Quiet TensorFlow's and XLA's start-up logs (CUDA probing on CPU machines, oneDNN notices): they read as
# failures to a new user. Set TF_CPP_MIN_LOG_LEVEL=0 to see them.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


class SrtwinsError(Exception):
    """A user-facing error: bad params, bad input data, a failed download.

    Stage entry points print it as one line and exit non-zero.
    """
