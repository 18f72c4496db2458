"""srtwins: does super-resolving low-resolution images make a classifier better?"""


class SrtwinsError(Exception):
    """A user-facing error: bad params, bad input data, a failed download.

    Stage entry points print it as one line and exit non-zero.
    """


class BadValue(SrtwinsError):
    """A library's error about one named value (``lr_patch``, ``grid``, ``folds``...), raised without knowing
    where it was set: ``srtwins.config.naming`` names the params key."""

    def __init__(self, name, detail):
        super().__init__(f"{name} {detail}")
        self.name, self.detail = name, detail
