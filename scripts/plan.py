"""Print the run plan of a params file before anything runs: every stage, its bytes and estimated time.

    python scripts/plan.py profiles/full.yaml [--rates benchmarks/throughput-gpu.json] [--check]

--check exits 2 when the plan does not fit the target folder's free space; a bad params file exits 1.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from srtwins import cli, runplan  # noqa: E402

if __name__ == "__main__":
    cli.run(runplan.main)
