"""report: regenerate the README's results section from metrics/."""
import json
from pathlib import Path

from srtwins import cli, report
from srtwins.io import atomic_file

README = Path("README.md")


def main():
    load = lambda name: json.loads(Path(f"metrics/{name}.json").read_text())  # noqa: E731
    text = report.replace_section(README.read_text(), report.render(load("sr"), load("sr_nets"), load("classify")))
    with atomic_file(README) as tmp:
        tmp.write_text(text)


if __name__ == "__main__":
    cli.run(main)
