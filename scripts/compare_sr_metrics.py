"""Which cells of metrics/sr.json differ from those at a git revision (bit for bit), by dataset.

Shows that a refactor left the SR numbers unchanged:  python scripts/compare_sr_metrics.py <revision>
"""
import json
import subprocess
import sys
from pathlib import Path


def cells(report):
    return {(d, s, m, k): v for d, by_s in report.items() for s, by_m in by_s.items()
            for m, scores in by_m.items() for k, v in scores.items()}


def main(revision):
    old = cells(json.loads(subprocess.run(["git", "show", f"{revision}:metrics/sr.json"], capture_output=True,
                                          text=True, check=True).stdout))
    new = cells(json.loads(Path("metrics/sr.json").read_text()))
    for dataset in sorted({key[0] for key in old | new}):
        keys = [k for k in old.keys() | new.keys() if k[0] == dataset]
        changed = [k for k in keys if old.get(k) != new.get(k)]
        print(f"{dataset}: {len(changed)} of {len(keys)} cells differ")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "HEAD"))
