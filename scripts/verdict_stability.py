"""Do the twin verdicts survive the numerical noise another machine brings?

Reruns the twin study (every train_classifier stage, then evaluate_classify) in a scratch copy of this
repo under a perturbation that changes floating-point results the way a different CPU does (oneDNN's
kernels switched off or on: TF_ENABLE_ONEDNN_OPTS flipped), on the same SR outputs, and compares it with
the committed metrics/classify.json: verdicts, accuracies, differences. Writes metrics/stability.json,
which the report stage renders in the README. Run from the repo root after `dvc repro`:

    python scripts/verdict_stability.py && dvc repro   # about as long as the twin study; then the README
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def perturbed_env():
    flip = "0" if os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") != "0" else "1"
    return {**os.environ, "TF_ENABLE_ONEDNN_OPTS": flip, "PYTHONPATH": str(ROOT)}, f"TF_ENABLE_ONEDNN_OPTS={flip}"


def rerun(work, env):
    """The study's stages, run directly (DVC would skip them: nothing it hashes has changed)."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for source in ["lr", "hr", *params["classify"]["sr_runs"]]:
        subprocess.run([sys.executable, "-m", "stages.train_classifier", "--source", source], cwd=work, env=env,
                       check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "stages.evaluate_classify"], cwd=work, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return json.loads((work / "metrics/classify.json").read_text())


def compare(reference, perturbed, label):
    arms = {n: {"reference": a["accuracy"], "perturbed": perturbed["arms"][n]["accuracy"]}
            for n, a in reference["arms"].items()}
    twins = {k: {"reference": t["verdict"], "perturbed": perturbed["twins"][k]["verdict"],
                 "delta_reference": t["delta_accuracy"], "delta_perturbed": perturbed["twins"][k]["delta_accuracy"]}
             for k, t in reference["twins"].items()}
    return {"perturbation": label, "verdicts_identical": all(t["reference"] == t["perturbed"] for t in twins.values()),
            "max_abs_accuracy_change": max(abs(a["reference"] - a["perturbed"]) for a in arms.values()),
            "max_abs_delta_change": max(abs(t["delta_reference"] - t["delta_perturbed"]) for t in twins.values()),
            "arms": arms, "twins": twins}


def main():
    reference = json.loads((ROOT / "metrics/classify.json").read_text())
    env, label = perturbed_env()
    with tempfile.TemporaryDirectory(prefix="srtwins-stability-") as tmp:
        work = Path(tmp)
        for name in ("params.yaml", "stages", "srtwins"):
            (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(ROOT / name, work / name)
        (work / "metrics").mkdir()
        shutil.copy2(ROOT / "metrics/sr.json", work / "metrics/sr.json")
        (work / "data").symlink_to(ROOT / "data")  # read only: the SR outputs and labels
        result = compare(reference, rerun(work, env), label)
    (ROOT / "metrics/stability.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("arms", "twins")}, indent=2))
    sys.exit(0 if result["verdicts_identical"] else 1)


if __name__ == "__main__":
    main()
