"""The run plan of a params file before anything runs: DVC's stages, their outputs' bytes and times (docs/plan.md)."""
import argparse
import os
import shutil
import sys
import tempfile
from collections import namedtuple
from pathlib import Path

import numpy as np
from dvc.exceptions import DvcException
from dvc.repo import Repo
from dvc_objects.fs import generic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from srtwins import SrtwinsError, cli, paths  # noqa: E402
from srtwins.config import get, load  # noqa: E402
from srtwins.config.twins import source_arms, source_seeds  # noqa: E402
from srtwins.data.fetch import MANIFESTS, read_manifest  # noqa: E402
from srtwins.io import read_json, read_tsv  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CPU_RATES, SR_NETS = ROOT / "benchmarks" / "throughput-cpu.json", ROOT / paths.METRICS / "sr_nets.json"
SIDE, POOL = 32, 60_000  # CIFAR-10's side and images
Plan = namedtuple("Plan", "params rates machine rows")  # rows: (stage, cached bytes, git outputs, seconds, note)


def dvc_stages(params_path):
    """(name, {param: value}, [(out path, cached)]) of every stage, from DVC itself on a copy of dvc.yaml."""
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(ROOT / "dvc.yaml", tmp)
        shutil.copy(params_path, Path(tmp, "params.yaml"))
        try:
            with Repo(tmp, uninitialized=True, config={"core": {"no_scm": True}}) as repo:
                return [(s.name, {k: v for d in s.deps if hasattr(d, "read_params") for k, v in d.read_params().items()
                                  }, [(str(o.def_path), o.use_cache) for o in s.outs]) for s in repo.index.stages]
        except DvcException as e:
            raise SrtwinsError(f"{params_path}: DVC cannot generate the stages ({str(e).splitlines()[0]})") from None


def npy_bytes(shape, dtype="u1"):
    """``np.save``'s file of that shape: its header (128 bytes for any shape the study saves) and the items."""
    return 128 + int(np.prod(shape)) * np.dtype(dtype).itemsize


def model_bytes(n_params, mixed_precision):
    """A .keras file's arrays: float32 weights and Adam's two slots (twice under mixed precision's loss scaling)."""
    return 4 * n_params * (5 if mixed_precision else 3)


def sr_params(params, run):
    """(parameter count or None, the net it is built as) of an SR run; a GAN run is built as its generator."""
    runs, known = {**params["sr"]["runs"], **params["sr"]["gan_runs"]}, read_json(SR_NETS) if SR_NETS.is_file() else {}
    base = runs[runs[run]["generator"]]["net"] if "generator" in runs[run] else runs[run]["net"]
    key = (runs[run]["net"], runs[run]["scale"], (params["sr"]["nets"].get(base) or {}).get("arch", {}))
    return next((e["params"] for e in known.values() if (e["net"], e["scale"], e["arch"]) == key), None), base


def classifier_params(recipe):
    """The classifier's parameters at 32x32, in closed form: bn_cnn at its width and small_cnn; else None."""
    w, h = recipe.get("width", 32), recipe.get("width", 32) // 2
    return {"bn_cnn": 31 * h + 9 * h * w + 90 * w * w + 68 * w + 10, "small_cnn": 77_098}.get(recipe["model"])


def image_bytes(sets, scale=1, crop=False):
    """Raw pixels of the SR sets' images downscaled by ``scale`` (modcrop, then divide), or only cropped."""
    shapes = [r.shape for name in sets for r in read_manifest(MANIFESTS / f"{name}.tsv")]
    return sum((h - h % scale) * (w - w % scale) * (c or [1])[0] // (1 if crop else scale**2) for h, w, *c in shapes)


def cifar(params):
    """(train, test, exact) images: test defaults to all not trained on; exact: the pixel-exact official test ones."""
    train, source = get(params, "cifar.train_size", int, minimum=1), get(params, "fetch.source", str)
    test = get(params, "cifar.test_size", (int, type(None)), minimum=1) or POOL - train
    return train, test, 10_000 if source == "download" else 1_017


def _data(sp, params, rates, name):
    """data/raw (CIFAR-10 and labels, the SR sets, DIV2K's archives when fetched) or data/lr (both at each scale)."""
    raw, scales = name == "raw", [1] if name == "raw" else sp["degrade"]["scales"]
    arrays = sum(npy_bytes((k, SIDE // s, SIDE // s, 3)) + raw * npy_bytes((k,)) for k in cifar(params) for s in scales)
    div2k = raw and sp["fetch"]["div2k"] and sum(int(r["bytes"]) for r in read_tsv(MANIFESTS / "div2k.tsv")
                                                 if r["scale"] == "-" or int(r["scale"]) in sp["degrade.scales"])
    return arrays + sum(image_bytes(paths.IMAGE_SETS, s) for s in scales) + div2k, None, []


def _train(sp, params, rates, run):
    """A trained SR model's bytes, and its training time at the benchmark's patches/s of the net it is built as."""
    (count, base), entry = sr_params(params, run), sp.get(f"sr.runs.{run}") or sp[f"sr.gan_runs.{run}"]
    net, nets = sp[f"sr.nets.{entry['net']}"] or {}, rates.get("nets", {})
    t, gan = {**sp["sr.train"], **net.get("train", {})}, net.get("gan") if "generator" in entry else None
    size, notes = model_bytes(count or 0, t["mixed_precision"]), [] if count else ["model not counted"]
    if not (rate := nets.get("train_patches_per_s", {}).get(base)):
        return size, None, [*notes, "no training rate"]
    notes += [f"x{nets['scale']} rate"] * (entry["scale"] != nets["scale"])
    patches = (gan["epochs"] * gan["steps_per_epoch"] * t["batch_size"] if gan
               else t["epochs"] * (t["steps_per_epoch"] * t["batch_size"] + t["val_patches"] / 3))
    seconds = patches * (t["lr_patch"] / nets["lr_patch"]) ** 2 / rate
    return size, seconds, [*notes, "at least" if gan else "at most (early stopping)"]


def _superres(sp, params, rates, run):
    """An SR run's outputs (exact CIFAR-10; an arm's also the study's, and their HR with hr_sr; test sets), time."""
    entry, (*ours, exact) = sp.get(f"sr.runs.{run}") or sp[f"sr.gan_runs.{run}"], cifar(params)
    s, ours = entry["scale"], ours if run in sp["classify.sr_runs"] else []
    hr, counts = bool(ours) and entry["net"] in sp["classify.hr_sr"], [exact, *ours]
    size = sum(npy_bytes((k, SIDE // s * s, SIDE // s * s, 3)) for k in counts) + hr * sum(
        npy_bytes((k, SIDE * s, SIDE * s, 3)) for k in ours) + image_bytes(paths.TEST_SETS, s, crop=True)
    if not (rate := rates.get("nets", {}).get("infer_images_per_s", {}).get(sr_params(params, run)[1])):
        return size, None, ["no inference rate"]
    lr_pixels = image_bytes(paths.TEST_SETS, s) / 3 + sum(counts) * (SIDE // s) ** 2 + hr * sum(ours) * SIDE**2
    side, at = rates["nets"]["infer_lr_side"], rates["nets"]["scale"]
    return size, lr_pixels / (rate * side**2), [f"x{at} rate"] * (s != at)


def _classifier(sp, params, rates, source):
    """One source's arms: a model and the test probabilities per classifier seed, and the training time."""
    rec, (n_train, n_test, _), arms = sp["classify.recipe"], cifar(params), source_arms(params, source)
    count, seeds = classifier_params(rec), source_seeds(params, source)
    size = len(arms) * len(seeds) * (npy_bytes((n_test, 10), "f4") + model_bytes(count or 0, rec["mixed_precision"]))
    notes = [] if count else ["model not counted"]
    measured = {int(k): v for k, v in rates.get("classifiers", {}).get("train_images_per_s", {}).items()}
    if not measured:
        return size, None, [*notes, "no classifier rate"]
    sides = [SIDE * sp["classify.scale"] if a.kind.startswith("hr-") else SIDE for a in arms]
    refs = [(min((k for k in measured if k >= d), default=max(measured)), d) for d in sides]  # the next size up
    seconds = sum(len(seeds) * sp["epochs"] * n_train / (measured[r] * min(1.0, (r / d) ** 2)) for r, d in refs)
    return size, seconds, notes + sorted({f"{d} px at the {r} px rate" for r, d in refs if r != d})


def build(params_path, rates_path=CPU_RATES):
    """The plan of a params file: per stage DVC generates, its cached outputs' bytes, git outputs, time, notes."""
    params, rates, rows = load(params_path), read_json(rates_path), []
    if not isinstance(rates, dict) or not isinstance(rates.get("machine"), str):
        raise SrtwinsError(f"{rates_path}: not a throughput file (python -m benchmarks.bench ... --json writes one)")
    where = {paths.RAW: _data, paths.LR: _data, paths.SR / "*": _superres, paths.CLS_MODELS / "*": _classifier,
             paths.SR_MODELS / "*.keras": _train}  # the other outputs are small files
    for name, sp, outs in dvc_stages(params_path):
        try:
            sized = [f(sp, params, rates, Path(p).stem) for p, cached in outs for pattern, f in where.items()
                     if cached and Path(p).match(str(pattern))]
        except KeyError as e:
            raise SrtwinsError(f"stage {name}: the plan reads {e}, which is not among its params") from None
        times = [t for _, t, _ in sized if t is not None]
        rows.append((name, sum(b for b, _, _ in sized), sum(not cached for _, cached in outs),
                     sum(times) if times else None, "; ".join(n for *_, notes in sized for n in notes)))
    return Plan(*(os.path.relpath(Path(p).resolve(), ROOT) for p in (params_path, rates_path)), rates["machine"], rows)


def table(plan):
    """The plan as text: the rates' source, one row per stage, the totals."""
    known, cached = [r[3] for r in plan.rows if r[3] is not None], sum(r[1] for r in plan.rows)
    lines = [f"Run plan of {plan.params}: {len(plan.rows)} stages", f"Times from {plan.rates}: {plan.machine}", "",
             f"{'stage':<34} {'DVC-cached':>11} {'git outs':>8} {'est. time':>10}  note", "-" * 96]
    lines += [f"{n:<34} {human(c):>11} {g or '':>8} {human(t, True):>10}  {note}" for n, c, g, t, note in plan.rows]
    lines += ["-" * 96, f"{'total':<34} {human(cached):>11} {'':>8} {human(sum(known), True):>10}  the {len(known)} "
              f"timed stages; a DVC cache that copies adds {human(cached)}", "How the figures are made: docs/plan.md."]
    return "\n".join(line.rstrip() for line in lines)


def disk(plan, folder=ROOT):
    """(bytes on disk, free bytes, a line): the cache adds a copy of every output unless DVC links it (docs/plan.md)."""
    with Repo(str(folder)) as repo:
        odb, types = repo.cache.local, repo.config["cache"].get("type") or ["reflink", "copy"]
        works = generic.test_links(["reflink", "hardlink", "symlink"], odb.fs, odb.path, repo.fs, repo.root_dir)
    used, cached = next((t for t in types if t in [*works, "copy"]), "copy"), sum(r[1] for r in plan.rows)
    total, free = cached * (2 - (used == "reflink" or used == types[0] == "hardlink")), shutil.disk_usage(folder).free
    return total, free, f"DVC cache.type {','.join(types)}: {used} here; on disk {human(total)}, free {human(free)}"


def human(x, seconds=False):
    """Bytes in B, kB, MB, GB; seconds in s, min, h, d; None as '-'."""
    units = ((("d", 86400, 1), ("h", 3600, 1), ("min", 60, 1), ("s", 0, 0)) if seconds else
             (("GB", 1e9, 2), ("MB", 1e6, 2), ("kB", 1e3, 2), ("B", 0, 0)))
    return "-" if x is None else next(f"{x / (s or 1):.{d}f} {u}" for u, s, d in units if x >= s)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("params", nargs="?", default="params.yaml", help="params file (default: params.yaml)")
    p.add_argument("--rates", default=CPU_RATES, help="throughput file (default: this project's CPU figures)")
    p.add_argument("--check", action="store_true", help="exit 2 when the plan does not fit the free space")
    p.add_argument("--markdown", metavar="FILE", help="also write the plan as a page (docs/plan.md)")
    args = p.parse_args(argv)
    plan = build(args.params, args.rates)
    if args.markdown:  # the page's prose up to its text block stays as written; the block becomes the plan
        page = Path(args.markdown)
        prose = page.read_text().split("```text\n")[0] if page.is_file() else f"# Run plan of {plan.params}\n\n"
        page.write_text(f"{prose}```text\n{table(plan)}\n```\n")
    total, free, line = disk(plan)
    print(f"{table(plan)}\n\n{line}")
    if total > free:
        print(f"warning: the plan needs {human(total)}, {ROOT} has {human(free)} free", file=sys.stderr)
        if args.check:
            sys.exit(2)


if __name__ == "__main__":
    cli.run(main)
