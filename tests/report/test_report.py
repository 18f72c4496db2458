"""The README's results section: rendered from metrics, the stability note, and bad metrics files."""
import json

from srtwins.report import readme, stability
from tests.conftest import ROOT, run_stage


def _twin(arm, base, delta, p_sup, p_eq, verdict, se=0.005):
    """A twin row as stats.twin_test and decide_all write it: the SE's image part is 0.6 of it, so the seeds'
    part is 0.8 of it."""
    var_images, var_runs = (0.6 * se) ** 2, (0.8 * se) ** 2
    return {"delta_accuracy": delta, "se": se, "df": 12.0, "var_sr_seed": var_runs / 2,
            "var_classifier_seed": var_runs / 4, "var_residual": var_runs / 4, "var_images": var_images,
            "sr_seeds": 2, "classifier_seeds": 2, "images": 6000, "ci95_low": delta - 2 * se,
            "ci95_high": delta + 2 * se, "p_superiority": p_sup / 4, "p_equivalence": p_eq / 4, "margin": 0.01,
            "arm": arm, "baseline": base, "kind": "sr", "net": arm[3:], "params": 77098,
            "p_superiority_adjusted": p_sup, "p_equivalence_adjusted": p_eq, "verdict": verdict}


def _arm(acc, runs=3, sr_runs=()):
    return {"accuracy": acc, "f1_macro": acc - 0.01, "auc_macro": 0.9, "accuracy_std": 0.004,
            "accuracy_per_run": [acc] * runs, "runs": runs, "sr_runs": list(sr_runs), "train_seconds": 12.5,
            "params": 77098, "flops": 1, "input_shape": [32, 32, 3], "train_images": 48000, "test_images": 6000}


def _share(share, low, high):
    return {"share": share, "se": 0.07, "df": 9.0, "ci95_low": low, "ci95_high": high}


CLS = {"design": {"train_images": 48000, "test_images": 6000,
                  "source": {"source": "jpeg-mirror", "pool": 60000, "train": 48000, "test": 6000, "seed": 0},
                  "scale": 4, "classifier_seeds": [0, 1, 2], "sr_classifier_seeds": [0, 1], "sr_seeds": 2,
                  "alpha": 0.05, "margin": 0.01, "pairs": 4},
       "arms": {"lr": _arm(0.52), "bicubic": _arm(0.55), "hr": _arm(0.60),
                "sr-espcn": _arm(0.56, 4, ["espcn_x4", "espcn_x4_s1"]),
                "sr-fsrcnn": _arm(0.552, 4, ["fsrcnn_x4", "fsrcnn_x4_s1"])},
       "twins": {"sr-espcn_vs_lr": _twin("sr-espcn", "lr", 0.04, 1e-5, 1.0, "better"),
                 "sr-espcn_vs_bicubic": _twin("sr-espcn", "bicubic", 0.01, 0.2, 0.5, "undecided"),
                 "sr-fsrcnn_vs_lr": _twin("sr-fsrcnn", "lr", 0.032, 2e-4, 1.0, "better"),
                 "sr-fsrcnn_vs_bicubic": _twin("sr-fsrcnn", "bicubic", 0.002, 0.8, 0.01, "equivalent", 0.002)},
       "gap_hr_vs_bicubic": {k: v for k, v in _twin("hr", "bicubic", 0.05, 1e-9, 1.0, "better").items()
                             if k not in ("arm", "baseline", "kind", "net", "params", "p_superiority_adjusted",
                                          "p_equivalence_adjusted", "verdict")},
       "share_recovered": {"sr-espcn": _share(0.2, 0.05, 0.35), "sr-fsrcnn": _share(0.04, -0.1, 0.18)},
       "psnr_vs_gain": {"spearman_rho": None, "ci95_low": None, "ci95_high": None, "nets": ["espcn", "fsrcnn"]}}


def test_the_answer_names_the_gap_each_share_and_the_verdicts():
    text = readme.answer(CLS)
    assert text.startswith("**The answer at x4** (6,000 CIFAR-10 test images")
    assert "48,000 training images; 2 SR seeds x 2 classifier seeds per SR arm" in text
    assert "`hr` beats `bicubic` by +5.0 points [+4.0, +6.0]" in text
    shares = "of that gap over bicubic (on the classifier seeds it shares), 95% interval"
    assert f"`sr-espcn` recovers **20%** {shares} [5%, 35%]" in text
    assert f"`sr-fsrcnn` recovers **4%** {shares} [-10%, 18%]" in text
    assert "- against `lr`: `sr-espcn` better (+4.0 points), `sr-fsrcnn` better (+3.2 points)." in text
    assert "- against `bicubic`: `sr-espcn` undecided (+1.0 points), `sr-fsrcnn` equivalent (+0.2 points)." in text
    lines = text.splitlines()
    assert all(line.startswith("- ") for line in lines[1:]) and len(lines) == 6  # one list, no blank line in it
    assert "Spearman" not in text  # rho is undefined with 2 nets
    rho = {**CLS, "psnr_vs_gain": {"spearman_rho": 0.5, "ci95_low": -0.3, "ci95_high": 0.9, "nets": ["a", "b", "c"]}}
    assert "Spearman rho across 3 nets = +0.50, 95% interval [-0.30, +0.90]" in readme.answer(rho)
    tie = {**CLS, "share_recovered": {**CLS["share_recovered"], "sr-fsrcnn": dict.fromkeys(_share(0, 0, 0))}}
    assert "- `sr-fsrcnn`: no share of the gap to recover (`hr` and `bicubic` tie)." in readme.answer(tie)


def test_the_rule_comes_before_the_tables_and_the_twin_rows_show_the_verdict_words():
    text = readme.render({}, CLS)
    assert text.startswith(readme.answer(CLS))
    rule = text.index("Decision rule, fixed before the table")
    assert text.index("### Twin classifiers") < rule < text.index("| arm | input |") < text.index("| twin pair |")
    assert "margin ±1.0%" in text and "across all 4 pairs" in text and "is below 0.05" in text
    assert "(48,000 training and 6,000 test images from jpeg-mirror, classifier seeds [0, 1, 2]" in text
    assert "| lr | 32x32 | 77,098 | 3 | 0.5200 ± 0.0040 | 0.5100 | 0.9000 |" in text
    assert ("| sr-espcn vs lr | +0.0400 | [+0.0300, +0.0500] | 0.0050 (0.0040 / 0.0030) | 1e-05 | 1 | better |"
            in text)
    assert ("| sr-espcn vs bicubic | +0.0100 | [+0.0000, +0.0200] | 0.0050 (0.0040 / 0.0030) | 0.2 | 0.5 "
            "| undecided |") in text
    assert ("| sr-fsrcnn vs bicubic | +0.0020 | [-0.0020, +0.0060] | 0.0020 (0.0016 / 0.0012) | 0.8 | 0.01 "
            "| equivalent |") in text
    assert "significant" not in text and "p_value" not in text  # the old rule's words
    # all of the SE from the images: rounding can leave se^2 a hair below var_images, never a complex number
    flat = json.loads(json.dumps(CLS))
    flat["twins"]["sr-espcn_vs_lr"].update(se=0.1 + 0.2, var_images=0.09000000000000002)
    row = next(line for line in readme.classify_tables(flat).splitlines() if line.startswith("| sr-espcn vs lr"))
    assert "| 0.3000 (0.0000 / 0.3000) |" in row and "j" not in row


SR_A = {"set5": {"x2": {"bicubic": {"psnr_y": 33.65}, "fsrcnn": {"psnr_y": 35.51}}}}
SR_B = {"set5": {"x2": {"bicubic": {"psnr_y": 33.65}, "fsrcnn": {"psnr_y": 35.40}}}}


def _rec(cls, sr, label, note="from nothing"):
    return stability.summary(cls, sr, "epochs: 20\n", label, f"cpu {label[-1]}, 2 cores", note)


def test_recorded_runs_side_by_side_and_when_none_is_these_results():
    other = json.loads(json.dumps(CLS))
    other["arms"]["lr"]["accuracy"] = 0.524
    other["twins"]["sr-espcn_vs_bicubic"].update(delta_accuracy=0.013, p_superiority_adjusted=0.01, verdict="better")
    record = stability.add({}, _rec(other, SR_A, "machine A"))
    assert "Not checked for these results" in readme.stability_section(record, CLS)
    record = stability.add(record, _rec(CLS, SR_B, "machine B", "fresh clone"))
    text = readme.stability_section(record, CLS)
    assert "- machine B (cpu B, 2 cores): fresh clone" in text.split("- machine A")[0]  # this run comes first
    assert "| twin pair | machine B | machine A |" in text
    assert ("| sr-espcn vs bicubic | undecided (+1.00 points, p_sup_adj 0.2, p_eq_adj 0.5) "
            "| better (+1.30 points, p_sup_adj 0.01) |") in text
    assert ("| sr-fsrcnn vs bicubic | equivalent (+0.20 points, p_eq_adj 0.01) "
            "| equivalent (+0.20 points, p_eq_adj 0.01) |") in text
    assert "| sr-espcn vs lr | better (+4.00 points, p_sup_adj 1e-05) | better (+4.00 points, p_sup_adj 1e-05) |" \
        in text
    assert "**different**: sr-espcn vs bicubic changed verdict" in text
    assert "SR PSNR (Y) differs by up to 0.110 dB (set5 x2 fsrcnn)" in text
    assert "accuracy by up to 0.40 points" in text and "difference by up to 0.30 points" in text
    # undecided (p_sup_adj 0.2) to better (0.01): neither p within 2x alpha of 0.05, so the calibration fails
    assert "- Calibration of machine A against machine B: **fails** (flipped verdict: sr-espcn vs bicubic)." in text
    same = stability.add(record, _rec(CLS, SR_A, "machine A"))
    text = readme.stability_section(same, CLS)
    assert "Verdict table identical in every run. Between runs, SR PSNR (Y) differs" in text
    assert "- Calibration of machine A against machine B: holds (every pair within its errors" in text
    alone = stability.add({}, stability.summary(CLS, SR_B, "epochs: 20\n", "machine B", "cpu B", "x"))
    assert "Only this run is recorded" in readme.stability_section(alone, CLS)
    assert "| twin pair | machine B | machine A |" in readme.render({}, CLS, same)  # the README shows them too
    page = readme.render_details({}, [], CLS, same)
    assert "## Do the verdicts survive another machine?" in page and "| twin pair | machine B | machine A |" in page


def test_a_run_recorded_without_adjusted_p():
    run = stability.summary(CLS, SR_A, "epochs: 20\n", "perturbed", "cpu", "flag")
    run["twins"]["sr-espcn_vs_lr"]["p_superiority_adjusted"] = None
    record = stability.add(stability.add({}, stability.summary(CLS, SR_A, "epochs: 20\n", "ref", "cpu", "x")), run)
    text = readme.stability_section(record, CLS)
    assert "| sr-espcn vs lr | better (+4.00 points, p_sup_adj 1e-05) | better (+4.00 points) |" in text
    assert "Between runs, SR PSNR is identical in all 2 cells, an arm's accuracy by up to 0.00 points" in text


def test_report_stage_names_a_metrics_file_that_is_not_json(tmp_path):
    (tmp_path / "metrics").mkdir()
    for name in ("sr", "sr_nets", "sr_speed", "classify"):
        (tmp_path / "metrics" / f"{name}.json").write_text(json.dumps({}))
    (tmp_path / "metrics/classify.json").write_text("{not json")
    readme = (ROOT / "README.md").read_text()
    (tmp_path / "README.md").write_text(readme)
    r = run_stage("report", tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("error: metrics/classify.json: not valid JSON")
    assert (tmp_path / "README.md").read_text() == readme


def test_nets_table_shows_reduced_sizes_and_the_generator_a_gan_fine_tunes():
    nets = {"srresnet_x2": {"params": 1000, "arch": {"n_blocks": 4, "n_feats": 32}, "gflops_per_output_mpx": 1.0,
                            "steps_per_epoch": 60, "generator": None, "perceptual_features": "none",
                            "training": {"train": {"epochs_run": 6}}},
            "srgan_x2": {"params": 1000, "arch": {}, "gflops_per_output_mpx": 1.0, "steps_per_epoch": 30,
                         "generator": "srresnet_x2", "perceptual_features": "vgg19-random-seed0",
                         "training": {"gan": {"epochs_run": 4}}}}
    speed = [{"run": "srresnet_x2", "inference_images_per_s": 99.0, "train_seconds": 80.5},
             {"run": "srgan_x2", "inference_images_per_s": 98.0, "train_seconds": 40.0}]
    text = readme.nets_table(nets, speed)
    assert "| srresnet_x2 | 1,000 | n_blocks 4, n_feats 32 | 1.00 | 99.0 | 6 x 60 steps, 80.5 s | none |" in text
    assert "| srgan_x2 | 1,000 | its generator's | 1.00 | 98.0 | fine-tunes srresnet_x2: 4 x 30 steps, 40.0 s |" in text
    page = readme.render_details(nets, speed, CLS)
    assert page.startswith("## SR nets") and text in page and "stab" not in page  # no record, no stability part
    readme_part = readme.render({}, CLS)
    assert "| srresnet_x2 |" not in readme_part and readme.DETAILS in readme_part
