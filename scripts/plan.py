"""The run plan of a params file before anything runs: every stage DVC generates from dvc.yaml, the bytes of its
outputs from shapes and parameter counts, its time from a throughput file (benchmarks/bench.py writes one).

    python scripts/plan.py profiles/full.yaml [--rates benchmarks/throughput-gpu.json] [--check] [--markdown FILE]

--check exits 2 when the plan does not fit the free space; a bad params file is a one-line error (exit 1).
"""
import argparse
import io
import json
import shutil
import sys
import tempfile
from collections import namedtuple
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from srtwins import SrtwinsError, cli, paths  # noqa: E402
from srtwins.config import get, load  # noqa: E402
from srtwins.config.twins import source_arms, source_seeds  # noqa: E402
from srtwins.data.fetch import MANIFESTS, read_manifest  # noqa: E402
from srtwins.io import read_json, read_tsv  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CPU_RATES, SR_NETS = ROOT / "benchmarks" / "throughput-cpu.json", ROOT / paths.METRICS / "sr_nets.json"
SIDE, POOL, EXACT = 32, 60_000, 1_017  # CIFAR-10's side, its images, and the exact subset the mirror holds
Plan = namedtuple("Plan", "params rates machine rows")  # rows: (stage, cached bytes, git outputs, seconds, note)


def dvc_stages(params_path):
    """(name, {param: value}, [(out path, cached)]) of every stage, from DVC itself on a copy of dvc.yaml."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(ROOT / "dvc.yaml", tmp)
        shutil.copy(params_path, Path(tmp, "params.yaml"))
        Path(tmp, ".dvc").mkdir()
        Path(tmp, ".dvc", "config").write_text("[core]\n    no_scm = true\n")
        try:
            with Repo(tmp) as repo:
                return [(s.name, {k: v for d in s.deps if hasattr(d, "read_params") for k, v in d.read_params().items()
                                  }, [(str(o.def_path), o.use_cache) for o in s.outs]) for s in repo.index.stages]
        except DvcException as e:
            raise SrtwinsError(f"{params_path}: DVC cannot generate the stages ({str(e).splitlines()[0]})") from None


def npy_bytes(shape, dtype="u1"):
    """The size of ``np.save`` of an array of that shape: its header (padded to 64 bytes) plus the items."""
    header, descr = io.BytesIO(), {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": tuple(shape)}
    np.lib.format.write_array_header_1_0(header, descr)
    return header.tell() + int(np.prod(shape)) * np.dtype(dtype).itemsize


def model_bytes(n_params, mixed_precision):
    """The arrays a trained model's .keras file stores: float32 weights and Adam's two slots per weight, which
    the loss-scale optimizer of mixed precision keeps twice."""
    return 4 * n_params * (5 if mixed_precision else 3)


def sr_params(params, run):
    """(parameter count or None, the net it is built as) of an SR run; a GAN run is built as its generator."""
    runs = {**params["sr"]["runs"], **params["sr"]["gan_runs"]}
    net, scale, generator = runs[run]["net"], runs[run]["scale"], runs[run].get("generator")
    base = runs[generator]["net"] if generator else net
    arch = (params["sr"]["nets"].get(base) or {}).get("arch", {})
    known = json.loads(SR_NETS.read_text()).values() if SR_NETS.is_file() else []
    return next((e["params"] for e in known if (e["net"], e["scale"], e["arch"]) == (net, scale, arch)), None), base


def classifier_params(recipe):
    """small_cnn's parameters at 32x32 (its features pooled to 4x4); the other models are not counted."""
    return 77_098 if recipe["model"] == "small_cnn" else None


def image_bytes(sets, scale=1, crop=False):
    """Raw pixels of the SR sets' images downscaled by ``scale`` (modcrop, then divide), or only cropped."""
    shapes = [r.shape for name in sets for r in read_manifest(MANIFESTS / f"{name}.tsv")]
    return sum((h - h % scale) * (w - w % scale) * (c or [1])[0] // (1 if crop else scale**2) for h, w, *c in shapes)


def cifar(params):
    """(train, test) images: the test split defaults to every image of the 60,000 not trained on."""
    train = get(params, "cifar.train_size", int, minimum=1)
    return train, get(params, "cifar.test_size", (int, type(None)), minimum=1) or POOL - train


def _data(sp, params, rates, name):
    """data/raw (CIFAR-10, the SR sets, DIV2K's archives when fetched) or data/lr (both at each scale)."""
    if name == "lr":
        scales = sp["degrade"]["scales"]
        arrays = sum(npy_bytes((k, SIDE // s, SIDE // s, 3)) for k in (*cifar(params), EXACT) for s in scales)
        return arrays + sum(image_bytes(paths.IMAGE_SETS, s) for s in scales), None, ""
    rows = read_tsv(MANIFESTS / "div2k.tsv")
    div2k = sum(int(r["bytes"]) for r in rows if r["scale"] == "-" or int(r["scale"]) in sp["degrade.scales"])
    cifar_bytes = sum(npy_bytes((k, SIDE, SIDE, 3)) + npy_bytes((k,)) for k in (*cifar(params), EXACT))
    return cifar_bytes + image_bytes(paths.IMAGE_SETS) + sp["fetch"]["div2k"] * div2k, None, ""


def _train(sp, params, rates, run):
    """A trained SR model's bytes, and its training time at the benchmark's patches/s of the net it is built as."""
    (count, base), entry = sr_params(params, run), sp.get(f"sr.runs.{run}") or sp[f"sr.gan_runs.{run}"]
    net, nets = sp[f"sr.nets.{entry['net']}"] or {}, rates.get("nets", {})
    t, gan = {**sp["sr.train"], **net.get("train", {})}, net.get("gan") if "generator" in entry else None
    size, note = model_bytes(count or 0, t["mixed_precision"]), "" if count else "model not counted; "
    if not (rate := nets.get("train_patches_per_s", {}).get(base)):
        return size, None, note + "no training rate"
    note += f"x{nets['scale']} rate; " if entry["scale"] != nets["scale"] else ""
    patches = (gan["epochs"] * gan["steps_per_epoch"] * t["batch_size"] if gan
               else t["epochs"] * (t["steps_per_epoch"] * t["batch_size"] + t["val_patches"] / 3))
    seconds = patches * (t["lr_patch"] / nets["lr_patch"]) ** 2 / rate
    return size, seconds, note + ("at least" if gan else "at most (early stopping)")


def _superres(sp, params, rates, run):
    """An SR run's outputs: the exact CIFAR-10 subset, the study's images for an arm's run (and its native images
    with hr_sr) and the test sets, with the time."""
    entry = sp.get(f"sr.runs.{run}") or sp[f"sr.gan_runs.{run}"]
    study = run in sp["classify.sr_runs"]
    s, hr = entry["scale"], study and entry["net"] in sp["classify.hr_sr"]
    ours = list(cifar(params)) if study else []  # the study's (train, test); hr_sr only super-resolves these
    counts = [EXACT, *ours]
    size = sum(npy_bytes((k, SIDE // s * s, SIDE // s * s, 3)) for k in counts) + hr * sum(
        npy_bytes((k, SIDE * s, SIDE * s, 3)) for k in ours) + image_bytes(paths.TEST_SETS, s, crop=True)
    nets = rates.get("nets", {})
    rate = nets.get("infer_images_per_s", {}).get(sr_params(params, run)[1])
    lr_pixels = image_bytes(paths.TEST_SETS, s) / 3 + sum(counts) * (SIDE // s) ** 2 + hr * sum(ours) * SIDE**2
    if not rate:
        return size, None, "no inference rate"
    return size, lr_pixels / (rate * nets["infer_lr_side"] ** 2), f"x{nets['scale']} rate" if s != nets["scale"] else ""


def _classifier(sp, params, rates, source):
    """One source's arms: a model and the test probabilities per classifier seed, and the training time."""
    rec, (n_train, n_test), arms, seeds = sp["classify.recipe"], cifar(params), source_arms(params, source), \
        source_seeds(params, source)
    size = len(arms) * len(seeds) * (npy_bytes((n_test, 10), "f4") + model_bytes(
        classifier_params(rec) or 0, rec["mixed_precision"]))
    measured = {int(k): v for k, v in rates.get("classifiers", {}).get("train_images_per_s", {}).items()}
    if not measured:
        return size, None, "no classifier rate"
    sides = [SIDE * sp["classify.scale"] if a.kind.startswith("hr-") else SIDE for a in arms]
    refs = [min((k for k in measured if k >= side), default=max(measured)) for side in sides]  # the next size up
    seconds = sum(len(seeds) * sp["epochs"] * n_train / (measured[r] * min(1.0, (r / d) ** 2))
                  for r, d in zip(refs, sides, strict=True))
    notes = {f"{d} px at the {r} px rate" for r, d in zip(refs, sides, strict=True) if r != d}
    return size, seconds, "; ".join(sorted(notes))


def build(params_path, rates_path=CPU_RATES):
    """The plan of a params file: per stage DVC generates, the bytes of its cached outputs, by where they lie
    (the other outputs are small files), its git outputs, time and notes."""
    params, rates, rows = load(params_path), read_json(rates_path), []
    if not isinstance(rates, dict) or not isinstance(rates.get("machine"), str):
        raise SrtwinsError(f"{rates_path}: not a throughput file (python -m benchmarks.bench ... --json writes one)")
    where = {paths.RAW: _data, paths.LR: _data, paths.SR / "*": _superres, paths.CLS_MODELS / "*": _classifier,
             paths.SR_MODELS / "*.keras": _train}
    for name, sp, outs in dvc_stages(params_path):
        sizers = [(next((f for pattern, f in where.items() if Path(p).match(str(pattern))), None), Path(p).stem)
                  for p, cached in outs if cached]
        try:
            sized = [f(sp, params, rates, key) for f, key in sizers if f]
        except KeyError as e:
            raise SrtwinsError(f"stage {name}: the plan reads {e}, which is not among its params") from None
        times = [t for _, t, _ in sized if t is not None]
        rows.append((name, sum(b for b, _, _ in sized), sum(not cached for _, cached in outs),
                     sum(times) if times else None, "; ".join(n for *_, n in sized if n)))
    return Plan(shown(params_path), shown(rates_path), rates["machine"], rows)


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
    """(bytes on disk, free bytes, a line): the DVC cache adds nothing where it links (reflink, or hardlink
    first: DVC 3 then links directories too), else up to a copy of every cached output."""
    from dvc.repo import Repo
    from dvc_objects.fs import generic
    with Repo(str(folder)) as repo:
        odb, types = repo.cache.local, repo.config["cache"].get("type") or ["reflink", "copy"]
        works = generic.test_links(["reflink", "hardlink", "symlink"], odb.fs, odb.path, repo.fs, repo.root_dir)
    used, cached = next((t for t in types if t in [*works, "copy"]), "copy"), sum(r[1] for r in plan.rows)
    total = cached * (1 if used == "reflink" or used == types[0] == "hardlink" else 2)
    free = shutil.disk_usage(folder).free
    return total, free, f"DVC cache.type {','.join(types)}: {used} here; on disk {human(total)}, free {human(free)}"


def shown(path):
    return str(Path(path).resolve().relative_to(ROOT)) if Path(path).resolve().is_relative_to(ROOT) else str(path)


def human(x, seconds=False):
    """Bytes in B, kB, MB, GB; seconds in s, min, h, d; None as '-'."""
    units = (("d", 86400), ("h", 3600), ("min", 60)) if seconds else (("GB", 1e9), ("MB", 1e6), ("kB", 1e3))
    if x is None or x < units[-1][1]:
        return "-" if x is None else f"{x:.0f} {'s' if seconds else 'B'}"
    return next(f"{x / s:.{1 if seconds else 2}f} {u}" for u, s in units if x >= s)


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
