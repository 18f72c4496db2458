"""Render the README's results section and the results page (docs/results.md) from metrics/*.json, so the
text never disagrees with them."""
import re

from srtwins import SrtwinsError, paths
from srtwins.report import stability

START, END = "<!-- results:start -->", "<!-- results:end -->"
DETAILS = "docs/results.md"
DATASETS = (*paths.TEST_SETS, paths.CIFAR)
NAMES = {"set5": "Set5", "set14": "Set14", "bsd100": "B100", "cifar10": "CIFAR-10 exact"}


def sr_table(sr):
    """One row per method, one column per dataset x scale: PSNR-Y / SSIM-Y."""
    cols = [(d, s) for d in DATASETS if d in sr for s in sorted(sr[d], key=lambda k: int(k[1:]))]
    methods = sorted({m for d, s in cols for m in sr[d][s]}, key=lambda m: (m not in ("bicubic", "bilinear"), m))
    head = "| method | " + " | ".join(f"{NAMES[d]} {s}" for d, s in cols) + " |"
    rule = "|---|" + "---|" * len(cols)
    rows = []
    for m in methods:
        cells = [f"{sr[d][s][m]['psnr_y']:.2f} / {sr[d][s][m]['ssim_y']:.4f}" if m in sr[d][s] else "-"
                 for d, s in cols]
        rows.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join([head, rule, *rows])


def nets_table(nets, speed):
    """Parameters, size options (the CPU default shrinks the heavy nets), cost and training of each run;
    measured speeds and wall seconds come from the timing file."""
    timing = {r["run"]: r for r in speed}
    head = ("| run | parameters | architecture options | GFLOPs / output MPx | inference CIFAR img/s | training "
            "| perceptual features |")
    rows = [head, "|---|---|---|---|---|---|---|"]
    for run, n in nets.items():
        phase = n["training"].get("gan") or n["training"].get("train") or {}
        s = timing.get(run, {})
        arch = ", ".join(f"{k} {v}" for k, v in n.get("arch", {}).items()) or (
            "its generator's" if n.get("generator") else "paper defaults")
        start = f"fine-tunes {n['generator']}: " if n.get("generator") else ""
        rows.append(f"| {run} | {n['params']:,} | {arch} | {n['gflops_per_output_mpx']:.2f} | "
                    f"{s.get('inference_images_per_s') or '-'} | {start}{phase.get('epochs_run', '-')} x "
                    f"{n.get('steps_per_epoch', '-')} steps, {s.get('train_seconds', '-')} s | "
                    f"{n['perceptual_features']} |")
    return "\n".join(rows)


def pct(x):
    return f"{100 * x:+.1f}"


def verdict_words(t, margin):
    """A pair's verdict in words: a difference significant yet inside the margin reads "better (within
    ±1.0 points)"."""
    within = t.get("within_margin") and t["verdict"] in ("better", "worse")
    return f"{t['verdict']} (within ±{100 * margin:.1f} points)" if within else t["verdict"]


def answer(cls):
    """The study's answer in words: the HR-bicubic gap, each SR arm's share of it, the verdicts and the pairs
    whose verdict the other analysis would change."""
    d, twins, gap = cls["design"], list(cls["twins"].values()), cls["gap_hr_vs_bicubic"]
    lines = [f"**The answer at x{d['scale']}** ({d['test_images']:,} CIFAR-10 test images, each predicted by "
             f"every classifier, none of which saw it; {d['train_images']:,} training images; "
             f"{d['sr_seeds']} SR seeds x {len(d['sr_classifier_seeds'])} classifier seeds per SR arm):",
             f"- the room for an effect: `hr` beats `bicubic` by {pct(gap['delta_accuracy'])} points "
             f"[{pct(gap['ci95_low'])}, {pct(gap['ci95_high'])}]."]
    for arm, sh in cls["share_recovered"].items():
        if sh["share"] is None:
            lines.append(f"- `{arm}`: no share of the gap to recover (`hr` and `bicubic` tie).")
        else:
            lines.append(f"- `{arm}` recovers **{sh['share']:.0%}** of that gap over bicubic (every run, "
                         f"{sh['analysis']} analysis), 95% interval [{sh['ci95_low']:.0%}, {sh['ci95_high']:.0%}].")
    for base in ("lr", "bicubic", "hr-bicubic"):
        rows = [t for t in twins if t["baseline"] == base]
        if rows:
            said = ", ".join(f"`{t['arm']}` {verdict_words(t, d['margin'])} ({pct(t['delta_accuracy'])} points)"
                             for t in rows)
            lines.append(f"- against `{base}`: {said}.")
    lines.append(_sensitivity_line(twins))
    c = cls["psnr_vs_gain"]
    if c.get("spearman_rho") is not None:
        lines.append(f"- does PSNR predict the gain over bicubic? Spearman rho across {len(c['nets'])} nets = "
                     f"{c['spearman_rho']:+.2f}, 95% interval [{c['ci95_low']:+.2f}, {c['ci95_high']:+.2f}].")
    return "\n".join(lines)


def _sensitivity_line(twins):
    """The pairs whose verdict differs between the analysis of record and the other one, or that none does."""
    moved = [f"`{t['arm']}` vs `{t['baseline']}` ({t['analysis']} {t['verdict']}, {s['analysis']} {s['verdict']})"
             for t in twins if (s := t.get("sensitivity")) and s["verdict"] != t["verdict"]]
    if not moved:
        return "- the sensitivity check (the other analysis, paired or unpaired) changes no verdict."
    return f"- the sensitivity check (the other analysis) changes the verdict of {', '.join(moved)}."


RULE = ("Decision rule, fixed before the table: for each twin pair, the mean accuracy difference over every run of "
        "both arms and every test image. Per-image correctness is modelled with SR seeds, classifier seeds and "
        "test images random and crossed, every two-way interaction once (the mean squares of the three-way "
        "layout). The standard error adds the seed parts (the seeds' main effects, their interaction and the "
        "seeds' per-image churn: what a rerun with fresh seeds would change) and the sampling of the test images "
        "every run shares; intervals and tests use t quantiles on Satterthwaite's degrees of freedom. Runs are "
        "paired by classifier seed only when the 95% lower bound of the arms' same-seed correlation exceeds "
        "{pairing}, else each arm's seeds are its own; the other analysis is shown beside it as a sensitivity "
        "check. Superiority (two-sided, difference 0) and equivalence (two one-sided tests, margin ±{points:.1f} "
        "points: the 1 - 2 alpha interval inside it, where the 95% CI shown may not be) p-values are each "
        "Holm-adjusted across all {m} pairs. Verdict: better or worse when the adjusted superiority p is below "
        "{alpha} (this wins over equivalence; it reads \"better (within ±{points:.1f} points)\" when the adjusted "
        "equivalence p is below {alpha} too), else equivalent when the adjusted equivalence p is below {alpha}, "
        "else undecided. "
        "Twin arms use models of the same size (the parameter column).")


def classify_tables(cls):
    """The rule, then the arms table and the twin pairs table of metrics/classify.json."""
    arms = ["| arm | input | parameters | runs | accuracy (mean ± sd over runs) | macro F1 | macro AUC |",
            "|---|---|---|---|---|---|---|"]
    for name, a in cls["arms"].items():
        shape = "x".join(map(str, a["input_shape"][:2]))
        arms.append(f"| {name} | {shape} | {a['params']:,} | {a['runs']} | {a['accuracy']:.4f} ± "
                    f"{a['accuracy_std']:.4f} | {a['f1_macro']:.4f} | {a['auc_macro']:.4f} |")
    d = cls["design"]
    twins = ["| twin pair | analysis | accuracy difference | 95% CI | SE (seeds / images) | df | p superiority (adj.) "
             "| p equivalence (adj.) | verdict | sensitivity |", "|---|---|---|---|---|---|---|---|---|---|"]
    for t in cls["twins"].values():
        s = t.get("sensitivity")
        other = f"{s['analysis']}: {verdict_words(s, d['margin'])} ({s['delta_accuracy']:+.4f})" if s else "-"
        twins.append(f"| {t['arm']} vs {t['baseline']} | {t['analysis']} | {t['delta_accuracy']:+.4f} | "
                     f"[{t['ci95_low']:+.4f}, {t['ci95_high']:+.4f}] | {t['se']:.4f} ({t['var_seeds'] ** 0.5:.4f} / "
                     f"{t['var_images'] ** 0.5:.4f}) | {t['df']:.1f} | {t['p_superiority_adjusted']:.3g} | "
                     f"{t['p_equivalence_adjusted']:.3g} | {verdict_words(t, d['margin'])} | {other} |")
    head = (f"### Twin classifiers ({d['train_images']:,} training and {d['test_images']:,} test images from "
            f"{d['source']['source']}, classifier seeds {d['classifier_seeds']}, `metrics/classify.json`)")
    rule = RULE.format(points=100 * d["margin"], m=d["pairs"], alpha=d["alpha"], pairing=d["pairing_correlation"])
    return "\n\n".join([head, rule, "\n".join(arms), "\n".join(twins)])


def stability_section(record, cls):
    """The recorded runs of this study's params (scripts/verdict_stability.py) side by side and calibrated
    against the one metrics/classify.json holds; runs of other params are listed, not compared."""
    head = "### Do the verdicts survive another machine? (`metrics/stability.json`)"
    this = stability.current(record, cls)
    if this is None:
        return (f"{head}\n\nNot checked for these results: none of the recorded runs is the one in "
                "`metrics/classify.json`; record it with `python scripts/verdict_stability.py record`.")
    others = [r for r in record["runs"] if r["label"] != this["label"] and r["params_md5"] == this["params_md5"]]
    apart = [r for r in record["runs"] if r["params_md5"] != this["params_md5"]]
    ordered = [this, *others]
    runs_text = "\n".join(f"- {r['label']} ({r['cpu']}; {_relation(r, this)}): {r['note']}"
                           for r in [*ordered, *apart])
    alpha = cls["design"]["alpha"]
    if not others:
        return (f"{head}\n\nOnly this run of these params is recorded: nothing to compare it with yet.\n\n"
                f"{runs_text}{_other_params(apart, alpha)}")
    params = f"The same params run {len(ordered)} times; the first column is the run these results come from."
    if apart:
        params += f" {len(apart)} run(s) of other params (params.yaml digests differ) are listed, not compared."
    return f"{head}\n\n{params}\n\n{runs_text}\n\n{_side_by_side(ordered, alpha)}{_other_params(apart, alpha)}"


def _side_by_side(ordered, alpha):
    """Runs of one params file: their verdict table, spreads, and each later run's calibration against the
    first."""
    c = stability.compare(ordered)
    keys = list(dict.fromkeys(k for r in ordered for k in r["twins"]))
    rows = ["| twin pair | " + " | ".join(r["label"] for r in ordered) + " |", "|---|" + "---|" * len(ordered)]
    for key in keys:
        cells = [_stability_cell(r["twins"].get(key)) for r in ordered]
        rows.append(f"| {key.replace('_vs_', ' vs ')} | " + " | ".join(cells) + " |")
    same = ("identical in every run" if c["verdicts_identical"] else
            f"**different**: {', '.join(k.replace('_vs_', ' vs ') for k in c['flipped'])} changed verdict")
    return ("\n".join(rows) + f"\n\nVerdict table {same}. Between runs, {_sr_spread(c)}, an arm's accuracy by up "
            f"to {100 * c['max_accuracy_spread']:.2f} points, a pair's difference by up to "
            f"{100 * c['max_delta_spread']:.2f} points.\n\n" + _calibration_text(ordered[0], ordered[1:], alpha))


def _other_params(apart, alpha):
    """Runs of other params files, each file's runs compared among themselves (never with these results)."""
    groups = {}
    for run in apart:
        groups.setdefault(run["params_md5"], []).append(run)
    return "".join(f"\n\n#### The {len(runs)} runs of params {md5[:8]} among themselves\n\n{_side_by_side(runs, alpha)}"
                   for md5, runs in groups.items() if len(runs) > 1)


def _relation(run, this):
    """How ``run`` differs from the run these results come from: another CPU (by model), the same CPU with
    oneDNN's kernels perturbed, the same CPU; and whether its params differ."""
    if run is this:
        return "these results"
    if stability.cpu_model(run["cpu"]) != stability.cpu_model(this["cpu"]):
        words = "another CPU"
    else:
        words = "same CPU, kernels perturbed" if "ONEDNN_MAX_CPU_ISA" in run["note"] else "same CPU"
    return words if run["params_md5"] == this["params_md5"] else f"{words}; other params, not compared"


def _calibration_text(this, others, alpha):
    """Each other run against this one by stability.calibration, in words: does it hold, and which pairs
    moved beyond their seed errors, flipped, moved to or from undecided at a borderline p, or are missing."""
    lines = []
    for run in others:
        c = stability.calibration(this, run, alpha)
        parts = [f"{name}: {', '.join(k.replace('_vs_', ' vs ') for k in c[key])}"
                 for key, name in (("moved_beyond_error", "moved beyond t x sqrt of their seed variances"),
                                   ("flipped", "flipped verdict"),
                                   ("borderline", "to or from undecided at a borderline p (within 2x alpha in "
                                                  "both runs)"),
                                   ("missing", "missing from one run")) if c[key]]
        verdict = "holds" if c["holds"] else "**fails**"
        lines.append(f"- Calibration of {run['label']} against {this['label']}: {verdict}"
                     + (f" ({'; '.join(parts)})." if parts else " (every pair within its errors, no verdict moved)."))
    return "\n".join(lines)


def _sr_spread(c):
    """The largest SR PSNR spread between runs, in words."""
    if not c["sr_cells_compared"]:
        return "no SR metrics in common"
    if c["widest_sr_cell"] is None:
        return f"SR PSNR is identical in all {c['sr_cells_compared']} cells"
    return f"SR PSNR (Y) differs by up to {c['max_sr_psnr_spread']:.3f} dB ({c['widest_sr_cell']})"


def _stability_cell(t):
    """One run's verdict for one pair, with its difference and the adjusted p of the test behind the verdict
    (superiority for better or worse, equivalence for equivalent, both for undecided), where recorded."""
    if t is None:
        return "-"
    tests = {"p_sup_adj": "p_superiority_adjusted", "p_eq_adj": "p_equivalence_adjusted"}
    shown = {"better": ["p_sup_adj"], "worse": ["p_sup_adj"], "equivalent": ["p_eq_adj"]}.get(t["verdict"], tests)
    p = "".join(f", {name} {t[tests[name]]:.2g}" for name in shown if t.get(tests[name]) is not None)
    return f"{t['verdict']} ({100 * t['delta_accuracy']:+.2f} points{p})"


def render(sr, classify, stability_record=None):
    """The README's results: the answer, the SR quality table, the twin classifiers' tables and, when recorded,
    the runs of the same study side by side."""
    quality = "### Super-resolution quality (Y channel, PSNR dB / SSIM, `metrics/sr.json`)"
    more = f"The SR nets' sizes, costs and training: {DETAILS}."
    runs = ["", stability_section(stability_record, classify)] if stability_record else []
    return "\n".join([answer(classify), "", quality, "", sr_table(sr), "", classify_tables(classify), *runs, "",
                      more])


def render_details(sr_nets, sr_speed, classify, stability_record=None):
    """The results page's generated part: the SR nets table and, when recorded, the stability runs."""
    parts = ["## SR nets (`metrics/sr_nets.json`; speeds: `metrics/sr_speed.json`)", "", nets_table(sr_nets, sr_speed)]
    if stability_record:
        parts += ["", stability_section(stability_record, classify).replace("### ", "## ", 1)]
    return "\n".join(parts)


def replace_section(readme, body, name="README.md"):
    """Swap the text between the results markers; refuse a page without them."""
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(readme):
        raise SrtwinsError(f"{name}: results markers {START} ... {END} not found")
    return pattern.sub(lambda _: f"{START}\n{body}\n{END}", readme)
