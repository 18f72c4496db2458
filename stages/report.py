"""report: regenerate the README's results section from metrics/."""
import json
from pathlib import Path

from srtwins import cli, report
from srtwins.io import atomic_file

README = Path("README.md")


def main():
    sr = json.loads(Path("metrics/sr.json").read_text())
    text = report.replace_section(README.read_text(), report.render(sr))
    with atomic_file(README) as tmp:
        tmp.write_text(text)


if __name__ == "__main__":
    cli.run(main)
