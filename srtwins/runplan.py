"""The run plan of a params file: every stage dvc.yaml generates, the bytes it writes, its estimated time,
the totals with the DVC cache, and whether they fit the free space. Printed before anything runs."""
import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from srtwins import SrtwinsError, stagegraph
from srtwins.config import load

CPU_RATES = Path(__file__).resolve().parents[1] / "benchmarks" / "throughput-cpu.json"


@dataclass(frozen=True)
class Row:
    stage: str
    cached: int  # bytes of its outputs in the DVC cache's care
    git: int  # bytes of its cache: false outputs (metrics, plots: committed to git)
    estimate: object  # throughput.Estimate


@dataclass(frozen=True)
class Plan:
    rows: list
    untracked: dict  # files outside DVC's outputs: {path: bytes}
    types: tuple  # cache.type
    link: str  # the type DVC will use in the target folder
    cache_extra: int
    copy_extra: int  # what a copying cache would add (DVC's default reflink,copy where reflink fails)
    free: int
    rates: object  # throughput.Rates

    @property
    def workspace(self):
        return sum(r.cached + r.git for r in self.rows) + sum(self.untracked.values())

    @property
    def total(self):
        return self.workspace + self.cache_extra


def build(params, dvc_yaml, rates, target):
    """The plan of ``params`` for the pipeline ``dvc_yaml`` writing into ``target`` (where .dvc/cache lives)."""
    from srtwins import budget  # builds the nets (Keras): imported once the params have loaded
    from srtwins.throughput import stage_estimate

    rows, sizes = [], []
    for stage in stagegraph.stages(params, dvc_yaml):
        outs = budget.out_sizes(params, stage)
        sizes += outs
        rows.append(Row(stage.name, sum(o.bytes for o in outs if o.cached), sum(o.bytes for o in outs if not o.cached),
                        stage_estimate(params, stage, rates)))
    types = budget.cache_types(Path(dvc_yaml).parent / ".dvc")
    extra, link = budget.cache_extra(sizes, types, budget.working_links(target))
    copies, _ = budget.cache_extra(sizes, ("copy",), {"copy"})
    return Plan(rows, budget.untracked(params), types, link, extra, copies, budget.free_bytes(target), rates)


def space_warning(plan, target):
    """One line when the plan does not fit the target folder's free space, else None."""
    if plan.total <= plan.free:
        return None
    return (f"warning: the plan needs {size(plan.total)} (workspace {size(plan.workspace)} + DVC cache "
            f"{size(plan.cache_extra)}) but {_shown(target)} has {size(plan.free)} free")


def table(plan, params_path, target):
    """The plan as a text table: a header naming the throughput source, one row per stage, the totals."""
    known = [r.estimate.seconds for r in plan.rows if r.estimate.seconds is not None]
    source = "the default: this project's CPU figures" if Path(plan.rates.path) == CPU_RATES else "--rates"
    lines = [f"Run plan of {params_path}: {len(plan.rows)} stages",
             f"Times from {_shown(plan.rates.path)} ({source}): {plan.rates.machine}",
             "", f"{'stage':<34} {'DVC-cached':>11} {'git':>9} {'est. time':>10}  note", "-" * 96]
    lines += [f"{r.stage:<34} {size(r.cached):>11} {size(r.git):>9} {duration(r.estimate.seconds):>10}  "
              f"{r.estimate.note}" for r in plan.rows]
    lines += [f"{path + ' (not a DVC output)':<34} {size(b):>11}" for path, b in plan.untracked.items()]
    lines += ["-" * 96,
              f"{'workspace':<34} {size(plan.workspace):>11} {'':>9} {duration(sum(known)):>10}  "
              f"sum of the {len(known)} estimated stages",
              f"DVC cache: cache.type {','.join(plan.types)}; {plan.link} works in {_shown(target)}: adds "
              f"{size(plan.cache_extra)} (a copying cache would add {size(plan.copy_extra)})",
              f"total on disk {size(plan.total)}; free in {_shown(target)}: {size(plan.free)}", "", *NOTES]
    return "\n".join(line.rstrip() for line in lines)


NOTES = (
    "Bytes: arrays exact (.npy header + N x H x W x C); PNGs as uncompressed pixels (an upper bound); .keras as",
    "weights + Adam state (+ measured overhead, within 2%); logs, CSVs and figures from the CPU default's sizes.",
    "Times: the nets' compute at the measured rates, scaled by forward FLOPs to each net, scale and patch size:",
    "SR training = epochs x steps x batch patches + validation (1/3 of a training patch each), the adversarial",
    "phase adding the discriminator's and VGG19's FLOPs; classifiers = seeds x folds x epochs x training images",
    "at the rate measured for the input size (interpolated log-log between measured sizes). Not counted: data",
    "loading, checkpoints, start-up (the CPU default's SR stages took 1.6-2.8x these); early stopping can end",
    "SR training sooner. A stage rerun keeps its previous outputs in the DVC cache until `dvc gc -w`.",
)


def _shown(path):
    """A path relative to the working folder when it lies inside it."""
    rel = os.path.relpath(Path(path).resolve(), Path.cwd())
    return str(path) if rel.startswith("..") else rel


def size(n):
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} B"


def duration(seconds):
    if seconds is None:
        return "-"
    for unit, scale in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= scale:
            return f"{seconds / scale:.1f} {unit}"
    return f"{seconds:.0f} s"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("params", nargs="?", default="params.yaml", help="params file (default: params.yaml)")
    p.add_argument("--rates", default=str(CPU_RATES),
                   help="throughput JSON of the machine it will run on (python -m benchmarks.bench ... --json); "
                        "default: this project's 2-core CPU figures")
    p.add_argument("--dvc-yaml", default="dvc.yaml")
    p.add_argument("--target", default=None, help="folder the pipeline writes to (default: dvc.yaml's folder)")
    p.add_argument("--check", action="store_true", help="exit 2 when the plan does not fit the free space")
    args = p.parse_args(argv)
    params = load(args.params)

    from srtwins.throughput import load_rates

    target = Path(args.target) if args.target else Path(args.dvc_yaml).resolve().parent
    if not target.is_dir():
        raise SrtwinsError(f"{target}: target folder does not exist")
    plan = build(params, args.dvc_yaml, load_rates(args.rates), target)
    print(table(plan, args.params, target))
    warning = space_warning(plan, target)
    if warning:
        print(warning, file=sys.stderr)
        if args.check:
            sys.exit(2)
