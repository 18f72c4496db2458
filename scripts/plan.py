"""Print the run plan of a params file before anything runs: every stage DVC generates, its bytes, its time.

    python scripts/plan.py profiles/full.yaml [--rates benchmarks/throughput-gpu.json] [--check] [--markdown FILE]

--check exits 2 when the plan does not fit the free space; a bad params file is a one-line error (exit 1).
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts import runplan  # noqa: E402
from srtwins import cli  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("params", nargs="?", default="params.yaml", help="params file (default: params.yaml)")
    p.add_argument("--rates", default=runplan.CPU_RATES, help="throughput file (default: this project's CPU figures)")
    p.add_argument("--check", action="store_true", help="exit 2 when the plan does not fit the free space")
    p.add_argument("--markdown", metavar="FILE", help="also write the plan as a page (docs/plan.md)")
    args = p.parse_args(argv)
    plan = runplan.build(args.params, args.rates)
    if args.markdown:  # the page's prose up to its text block stays as written; the block becomes the plan
        page = Path(args.markdown)
        prose = page.read_text().split("```text\n")[0] if page.is_file() else f"# Run plan of {plan.params}\n\n"
        page.write_text(f"{prose}```text\n{runplan.table(plan)}\n```\n")
    total, free, line = runplan.disk(plan)
    print(f"{runplan.table(plan)}\n\n{line}")
    if total > free:
        print(f"warning: the plan needs {runplan.human(total)}, {runplan.ROOT} has {runplan.human(free)} free",
              file=sys.stderr)
        if args.check:
            sys.exit(2)


if __name__ == "__main__":
    cli.run(main)
