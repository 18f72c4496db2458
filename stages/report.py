"""report: regenerate the README's results section and the results page (docs/results.md) from metrics/."""
from pathlib import Path

from srtwins import cli, paths
from srtwins.io import atomic_file, read_json
from srtwins.report import readme, stability


def main():
    metrics = {name: read_json(paths.METRICS / f"{name}.json") for name in ("sr", "sr_nets", "sr_speed", "classify")}
    record = paths.METRICS / "stability.json"  # written by scripts/verdict_stability.py, committed
    record = stability.validate(read_json(record), record) if record.is_file() else None
    pages = {Path("README.md"): readme.render(metrics["sr"], metrics["classify"], record),
             Path(readme.DETAILS): readme.render_details(metrics["sr_nets"], metrics["sr_speed"], metrics["classify"],
                                                         record)}
    texts = {page: readme.replace_section(page.read_text(), body, str(page)) for page, body in pages.items()}
    for page, text in texts.items():  # both rendered before either is written
        with atomic_file(page) as tmp:
            tmp.write_text(text)


if __name__ == "__main__":
    cli.run(main)
