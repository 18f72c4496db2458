"""Do the twin verdicts survive another machine? Record runs of the same study and compare their verdicts.

metrics/stability.json holds one summary per run of the same params; the report stage renders them side
by side in the README (run `dvc repro` after either command). From the repo root, after `dvc repro`:

    python scripts/verdict_stability.py record --label "machine B"    # this checkout's results, this CPU
    python scripts/verdict_stability.py record --label "machine A" --rev 440f157 --cpu "..."   # a commit's
    python scripts/verdict_stability.py perturb    # rerun the twin study here with oneDNN's ISA capped
    python scripts/verdict_stability.py folder ../shared/runs/amd-epyc-2026-12-07   # a run kept elsewhere

`record` adds the metrics/classify.json and metrics/sr.json of the working tree (or of a git revision,
e.g. a run committed from another machine). `perturb` reruns every train_classifier stage and evaluate_classify in a
scratch copy, on this checkout's SR outputs, with oneDNN on and its instruction set capped one step below
this CPU's best (ONEDNN_MAX_CPU_ISA=AVX2 on a CPU with AVX-512, AVX on one whose best is AVX2: other
floating-point kernels, as another CPU brings), and adds that run. Both print whether the recorded verdict
tables agree; `perturb` also prints stability.calibration of the perturbed run against the recorded run it
perturbs (does it agree within the stated errors, at the design's alpha). `folder` adds a complete run kept
outside the repo (params.yaml, probs/<source>/<arm>/, y_test.npy, metrics/sr.json, README.json with its label
and CPU), its twin statistics recomputed by this checkout's code from its saved predictions on the design it
ran, and prints its calibration against every recorded run of the same params.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from srtwins import SrtwinsError, cli, config, paths  # noqa: E402
from srtwins.config import twins  # noqa: E402
from srtwins.io import load_npy, read_json, write_json  # noqa: E402
from srtwins.report import stability  # noqa: E402
from srtwins.twins import decision  # noqa: E402

RECORD = ROOT / "metrics/stability.json"


def cpu_flags(cpuinfo=Path("/proc/cpuinfo")):
    """This CPU's feature flags (empty where /proc/cpuinfo is not there)."""
    lines = cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []
    return set(next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), []))


def isa_cap(flags):
    """The oneDNN ISA one step below this CPU's best: a cap at or above the best would change no kernel."""
    if any(f.startswith(("avx512", "amx")) for f in flags):
        return "AVX2"
    if "avx2" in flags:
        return "AVX"  # no FMA: other rounding
    raise SrtwinsError("perturb: this CPU has neither AVX-512 nor AVX2 (or /proc/cpuinfo has no flags); capping "
                       "oneDNN's instruction set would change no kernel")


def perturbed_env():
    """The stages' environment with oneDNN on (TF_ENABLE_ONEDNN_OPTS=1, so the cap applies) and its ISA capped."""
    isa = isa_cap(cpu_flags())
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": isa, "PYTHONPATH": str(ROOT)}
    return env, f"ONEDNN_MAX_CPU_ISA={isa}"


def rerun(work, env):
    """The study's stages, run directly (DVC would skip them: nothing it hashes has changed)."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for source in ["lr", "hr", *params["classify"]["sr_runs"]]:
        subprocess.run([sys.executable, "-m", "stages.train_classifier", "--source", source], cwd=work, env=env,
                       check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "stages.evaluate_classify"], cwd=work, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return json.loads((work / "metrics/classify.json").read_text())


def perturbed_run():
    """metrics/classify.json of the twin study rerun in a scratch copy under the perturbation, and its label."""
    env, flag = perturbed_env()
    with tempfile.TemporaryDirectory(prefix="srtwins-stability-") as tmp:
        work = Path(tmp)
        for name in ("params.yaml", "stages", "srtwins"):
            (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(ROOT / name, work / name)
        (work / "metrics").mkdir()
        shutil.copy2(ROOT / "metrics/sr.json", work / "metrics/sr.json")
        (work / "data").symlink_to(ROOT / "data")  # read only: the SR outputs and labels
        return rerun(work, env), flag


def at(rev, name):
    """The text of ``name`` (relative to the repo) in the working tree, or as committed at git revision ``rev``."""
    if rev is None:
        if not (ROOT / name).is_file():
            raise SrtwinsError(f"{ROOT / name}: not found (run `dvc repro` first)")
        return (ROOT / name).read_text()
    shown = subprocess.run(["git", "show", f"{rev}:{name}"], cwd=ROOT, capture_output=True, text=True)
    if shown.returncode:
        raise SrtwinsError(f"--rev {rev}: {shown.stderr.strip()}")
    return shown.stdout


def metrics_of(rev):
    """metrics/classify.json and metrics/sr.json of the working tree (or of ``rev``); bad JSON names the file."""
    metrics = []
    for name in ("classify", "sr"):
        try:
            metrics.append(json.loads(at(rev, f"metrics/{name}.json")))
        except json.JSONDecodeError as e:
            raise SrtwinsError(f"metrics/{name}.json{f' at {rev}' if rev else ''}: not valid JSON ({e.msg})") from None
    return metrics


def up_to_date():
    """Refuse to record a working tree whose metrics are not the outputs of its code and params (mid-run, edited)."""
    r = subprocess.run([sys.executable, "-m", "dvc", "status", "--quiet", "evaluate", "evaluate_classify"], cwd=ROOT,
                       capture_output=True)
    if r.returncode:
        raise SrtwinsError("dvc status: evaluate or evaluate_classify is not up to date; run `dvc repro` first")


def folder_design(folder, current=ROOT / "params.yaml"):
    """(arms, pairs, seeds, SR classifier seeds, decision, scale, params text, a note) of a recorded run's
    params.yaml; params older than classify.decision.pairing_correlation get ``current``'s, as the note says."""
    path, note = folder / "params.yaml", ""
    params = config.load(path)
    rule = naming(path, lambda: config.get(params, "classify.decision", dict))
    if "pairing_correlation" not in rule:
        now = config.load(current)
        rule["pairing_correlation"] = naming(current, lambda: twins.decision(now)).pairing_correlation
        note = (f"; its params lack classify.decision.pairing_correlation: the current params.yaml's "
                f"{rule['pairing_correlation']} was used")
    design = naming(path, lambda: (*twins.study(params), twins.seeds(params), twins.sr_classifier_seeds(params),
                                   twins.decision(params), f"x{twins.scale(params)}"))
    return (*design, path.read_text(), note)


def naming(path, read):
    """read(), a params error in it naming the file ``path`` it is about."""
    try:
        return read()
    except SrtwinsError as e:
        raise SrtwinsError(f"{path}: {e}") from None


def folder_about(folder, label, cpu):
    """(label, cpu, how it was made) of a recorded run: the options given, else its README.json's."""
    about = read_json(folder / "README.json") if (folder / "README.json").is_file() else {}
    label, cpu = label or about.get("label"), cpu or about.get("cpu")
    for key, value in (("label", label), ("cpu", cpu)):
        if not value:
            raise SrtwinsError(f"{folder / 'README.json'}: no '{key}'; give --{key}")
    return label, cpu, about.get("how", f"a run kept in {folder}")


def folder_run(folder, label=None, cpu=None, current=ROOT / "params.yaml"):
    """(the stability summary, alpha) of a complete run kept in ``folder`` (read only), its twin statistics
    recomputed with this checkout's code from its predictions, on the design its own params.yaml ran."""
    folder = Path(folder)
    arms, pairs, seeds, sr_seeds, rule, scale, text, pairing = folder_design(folder, current)
    label, cpu, how = folder_about(folder, label, cpu)
    y = load_npy(folder / "y_test.npy", mmap=False)
    sr = read_json(folder / "metrics/sr.json")
    if scale not in sr.get(paths.CIFAR, {}):
        raise SrtwinsError(f"{folder / 'metrics/sr.json'}: no '{paths.CIFAR}.{scale}' (the study's CIFAR-10 PSNRs)")
    report, _, _ = decision.evaluate(arms, pairs, y, seeds, sr_seeds, rule, sr[paths.CIFAR][scale],
                                     root=folder / "probs")
    note = f"{how}; recomputed from its saved predictions with the current statistics{pairing}"
    return stability.summary(report, sr, text, label, cpu, note), rule.alpha


def parse():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="add this checkout's (or a revision's) results")
    rec.add_argument("--label", required=True)
    rec.add_argument("--rev", help="a git revision whose committed metrics (and params.yaml) to add")
    rec.add_argument("--cpu", help="the CPU the run used (default: this machine's; required with --rev)")
    rec.add_argument("--note", default="dvc repro from nothing", help="how the run was made")
    per = sub.add_parser("perturb", help="rerun the twin study here with oneDNN's ISA capped and add it")
    per.add_argument("--label", help="default: the label of the recorded run it perturbs, and the flag")
    fol = sub.add_parser("folder", help="add a complete run kept outside the repo, recomputed by this code")
    fol.add_argument("path", type=Path, help="the run's folder (read only): params.yaml, probs/, y_test.npy, ...")
    fol.add_argument("--label", help="default: its README.json's label")
    fol.add_argument("--cpu", help="default: its README.json's cpu")
    args = parser.parse_args()
    if args.command == "record" and args.rev and not args.cpu:
        parser.error("--rev needs --cpu (the CPU of the machine that made that run)")
    return args


def printout(record, run, references=(), alpha=None):
    """What the script prints: the recorded runs of ``run``'s params, whether their verdict tables agree, those
    of other params, and ``run``'s calibration against each of ``references`` at ``alpha``."""
    same = [r for r in record["runs"] if r["params_md5"] == run["params_md5"]]
    out = {"runs": [r["label"] for r in same], **stability.compare(same),
           "other_params": [r["label"] for r in record["runs"] if r["params_md5"] != run["params_md5"]]}
    if references:
        out["calibration"] = [{"against": r["label"], "alpha": alpha, **stability.calibration(r, run, alpha)}
                              for r in references]
    return out


def main():
    args = parse()
    record = stability.validate(read_json(RECORD), RECORD) if RECORD.is_file() else {"runs": []}
    references, alpha = [], None
    if args.command == "folder":
        run, alpha = folder_run(args.path, args.label, args.cpu)
        references = [r for r in record["runs"] if r["params_md5"] == run["params_md5"] and r["label"] != run["label"]]
    elif args.command == "record":
        if args.rev is None:
            up_to_date()
        run = stability.summary(*metrics_of(args.rev), at(args.rev, "params.yaml"), args.label,
                                args.cpu or stability.cpu_name(), args.note)
    else:
        up_to_date()
        cls, sr = metrics_of(None)
        base = stability.current(record, cls)
        if base is None and not args.label:
            raise SrtwinsError("perturb: this checkout's results are not recorded; `record` them first or give --label")
        params_text = at(None, "params.yaml")
        reference = base or stability.summary(cls, sr, params_text, "this checkout", stability.cpu_name(), "")
        references = [reference]
        perturbed, flag = perturbed_run()
        name = reference["label"]
        run = stability.summary(perturbed, sr, params_text, args.label or f"{name}, {flag}",
                                stability.cpu_name(), f"{flag}: the twin study rerun on the SR outputs of {name}")
        alpha = cls["design"]["alpha"]
    record = stability.add(record, run)
    write_json(RECORD, record)
    print(json.dumps(printout(record, run, references, alpha), indent=2))


if __name__ == "__main__":
    cli.run(main)
