"""report: regenerate the README's results section from metrics/."""
from pathlib import Path

from srtwins import cli, paths
from srtwins.io import atomic_file, read_json
from srtwins.report import readme, stability

README = Path("README.md")


def main():
    metrics = {name: read_json(paths.METRICS / f"{name}.json") for name in ("sr", "sr_nets", "sr_speed", "classify")}
    record = paths.METRICS / "stability.json"  # written by scripts/verdict_stability.py, committed
    if record.is_file():
        metrics["stability_record"] = stability.validate(read_json(record), record)
    text = readme.replace_section(README.read_text(), readme.render(**metrics))
    with atomic_file(README) as tmp:
        tmp.write_text(text)


if __name__ == "__main__":
    cli.run(main)
