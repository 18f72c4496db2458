"""Which cells of metrics/sr.json differ (bit for bit) from what a git revision gives, by dataset.

Shows that a refactor left the SR numbers unchanged:
    python scripts/compare_sr_metrics.py <revision>           # against the revision's committed metrics
    python scripts/compare_sr_metrics.py <revision> --rerun   # runs the revision's pipeline up to `evaluate`
                                                              # here, in a scratch git worktree, and compares
Committed metrics may come from another machine (SR PSNR drifts by up to 0.1 dB between CPUs); --rerun
compares on this one. Only the cells both sides have are compared; the exit status is 1 if any differs.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cells(report):
    return {(d, s, m, k): v for d, by_s in report.items() for s, by_m in by_s.items()
            for m, scores in by_m.items() for k, v in scores.items()}


def committed(revision):
    """metrics/sr.json as committed at the revision."""
    shown = subprocess.run(["git", "show", f"{revision}:metrics/sr.json"], cwd=ROOT, capture_output=True,
                           text=True, check=True)
    return json.loads(shown.stdout)


def rerun(revision):
    """metrics/sr.json from running the revision's own code and params here, with an empty DVC cache."""
    mirror = os.environ.get("SRTWINS_MIRROR", str((ROOT / "../shared/datasets").resolve()))
    with tempfile.TemporaryDirectory(prefix="srtwins-compare-") as tmp:
        work = Path(tmp) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", str(work), revision], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        try:
            subprocess.run(["dvc", "repro", "evaluate"], cwd=work, env={**os.environ, "SRTWINS_MIRROR": mirror},
                           check=True, stdout=subprocess.DEVNULL)
            return json.loads((work / "metrics/sr.json").read_text())
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(work)], cwd=ROOT, check=True)


def main(revision, again):
    old = cells(rerun(revision) if again else committed(revision))
    new = cells(json.loads((ROOT / "metrics/sr.json").read_text()))
    common = old.keys() & new.keys()
    changed = sorted(k for k in common if old[k] != new[k])
    for dataset in sorted({key[0] for key in common}):
        keys = [k for k in common if k[0] == dataset]
        ours = [k for k in changed if k[0] == dataset]
        print(f"{dataset}: {len(ours)} of {len(keys)} common cells differ ({', '.join(sorted({k[2] for k in keys}))})")
        for k in ours:
            print(f"  {k[1]} {k[2]} {k[3]}: {old[k]!r} -> {new[k]!r}")
    return int(bool(changed))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revision", nargs="?", default="HEAD")
    parser.add_argument("--rerun", action="store_true", help="run the revision's pipeline here and compare")
    args = parser.parse_args()
    sys.exit(main(args.revision, args.rerun))
