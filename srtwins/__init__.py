"""srtwins: does super-resolving low-resolution images make a classifier better?"""
from srtwins import quiet

quiet.install()  # TensorFlow's start-up notices off the terminal (TF_CPP_MIN_LOG_LEVEL=0 shows them)


class SrtwinsError(Exception):
    """A user-facing error: bad params, bad input data, a failed download.

    Stage entry points print it as one line and exit non-zero.
    """
