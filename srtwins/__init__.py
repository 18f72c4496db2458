"""srtwins: does super-resolving low-resolution images make a classifier better?"""


class SrtwinsError(Exception):
    """A user-facing error: bad params, bad input data, a failed download.

    Stage entry points print it as one line and exit non-zero.
    """
