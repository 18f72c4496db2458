"""The twin study's arms and pairs: small values carried to the metrics (``srtwins.config.twins`` resolves them).

An arm is one classifier input at the HR size; a *source* is what a train_classifier stage reads: ``lr``
(arms lr: the LR pixels replicated, and bicubic), ``hr`` (hr, and hr-bicubic when classify.hr_sr names nets)
or one SR run (sr-<net>, and hr-sr-<net> when classify.hr_sr names the net). An SR arm pools the runs of
its net's SR seeds.
"""
from dataclasses import dataclass

CONTROLS = ("lr", "hr")  # the sources that are not SR runs


@dataclass(frozen=True)
class Arm:
    name: str  # lr, bicubic, hr, hr-bicubic, sr-<net>, hr-sr-<net>
    kind: str  # lr | bicubic | hr | hr-bicubic | sr | hr-sr
    sources: tuple  # ("lr",), ("hr",), or the SR runs it pools (one per SR seed)
    net: str | None = None


@dataclass(frozen=True)
class Twin:
    """Two arms that differ only in their input: ``arm`` is tested against ``baseline``."""

    arm: Arm
    baseline: Arm

    @property
    def name(self):
        return f"{self.arm.name} vs {self.baseline.name}"

    @property
    def key(self):
        """The pair's key in metrics/classify.json (dots and spaces kept out for `dvc metrics`)."""
        return f"{self.arm.name}_vs_{self.baseline.name}"
