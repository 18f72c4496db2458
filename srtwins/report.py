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


def nets_table(nets):
    head = "| run | parameters | GFLOPs / output MPx | inference CIFAR img/s | training | perceptual features |"
    rows = [head, "|---|---|---|---|---|---|"]
    for run, n in nets.items():
        t = n["training"].get("train") or n["training"].get("pretrain") or {}
        rows.append(f"| {run} | {n['params']:,} | {n['gflops_per_output_mpx']:.2f} | {n['inference_images_per_s']} | "
                    f"{t.get('epochs_run', '-')} epochs, {t.get('train_seconds', '-')} s | {n['perceptual_features']} |")
    return "\n".join(rows)


def classify_tables(cls):
    arms = ["| arm | accuracy (mean ± sd over seeds) | macro F1 | macro AUC |", "|---|---|---|---|"]
    for name, a in cls["arms"].items():
        arms.append(f"| {name} | {a['accuracy']:.4f} ± {a['accuracy_std']:.4f} | {a['f1_macro']:.4f} | {a['auc_macro']:.4f} |")
    twins = ["| twin pair | accuracy difference | 95% CI | McNemar p (seed 0) | verdict |", "|---|---|---|---|---|"]
    for name, t in cls["twins"].items():
        twins.append(f"| {name.replace('_vs_', ' vs ')} | {t['delta_accuracy']:+.4f} | "
                     f"[{t['ci95_low']:+.4f}, {t['ci95_high']:+.4f}] | {t['mcnemar_p']:.3g} | {verdict(name, t)} |")
    n = f"{cls['test_images']} CIFAR-10 test images, seeds {cls['seeds']}"
    return (f"### Twin classifiers ({n}, `metrics/classify.json`)\n\n" + "\n".join(arms)
            + "\n\n" + "\n".join(twins))


def verdict(name, t):
    """Plain words for one twin pair, from its interval alone."""
    arm, base = name.split("_vs_")
    if t["ci95_low"] > 0:
        return f"{arm} better"
    if t["ci95_high"] < 0:
        return f"{base} better"
    return "no significant difference"


def render(sr, nets=None, cls=None):
    parts = ["### Super-resolution quality (Y channel, PSNR dB / SSIM, `metrics/sr.json`)", "", sr_table(sr)]
    if nets:
        parts += ["", "### SR nets (`metrics/sr_nets.json`)", "", nets_table(nets)]
    if cls:
        parts += ["", classify_tables(cls)]
    return "\n".join(parts)


def replace_section(readme, body):
    """Swap the text between the results markers; refuse a README without them."""
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(readme):
        raise SrtwinsError(f"README.md: results markers {START} ... {END} not found")
    return pattern.sub(lambda _: f"{START}\n{body}\n{END}", readme)
