"""Render the README's results section from metrics/*.json, so the two never disagree."""
import re

from srtwins import SrtwinsError

START, END = "<!-- results:start -->", "<!-- results:end -->"
DATASETS = ("set5", "set14", "bsd100", "cifar10")
NAMES = {"set5": "Set5", "set14": "Set14", "bsd100": "B100", "cifar10": "CIFAR-10 test"}


def sr_table(sr):
    """One row per method, one column per dataset x scale: PSNR-Y / SSIM-Y."""
    cols = [(d, s) for d in DATASETS if d in sr for s in sorted(sr[d], key=lambda k: int(k[1:]))]
    methods = sorted({m for d, s in cols for m in sr[d][s]}, key=lambda m: (m not in ("bicubic", "bilinear"), m))
    head = "| method | " + " | ".join(f"{NAMES[d]} {s}" for d, s in cols) + " |"
    rule = "|---|" + "---|" * len(cols)
    rows = []
    for m in methods:
        cells = [f"{sr[d][s][m]['psnr_y']:.2f} / {sr[d][s][m]['ssim_y']:.4f}" if m in sr[d][s] else "-" for d, s in cols]
        rows.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join([head, rule, *rows])


def render(sr, extra_sections=()):
    parts = ["### Super-resolution quality (Y channel, PSNR dB / SSIM, `metrics/sr.json`)", "", sr_table(sr)]
    for section in extra_sections:
        parts += ["", section]
    return "\n".join(parts)


def replace_section(readme, body):
    """Swap the text between the results markers; refuse a README without them."""
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(readme):
        raise SrtwinsError(f"README.md: results markers {START} ... {END} not found")
    return pattern.sub(lambda _: f"{START}\n{body}\n{END}", readme)
