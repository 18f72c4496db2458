"""The README's results section: rendered from metrics, the stability note, and bad metrics files."""
import json

from srtwins.report import readme, stability
from tests.conftest import ROOT, run_stage


def _twin(arm, base, delta, p_sup, p_eq, verdict, se=0.005, other=None):
    """A twin row as decision.decide writes it (paired, the unpaired analysis its sensitivity check, with the
    verdict ``other`` or the same): the SE's image part is 0.6 of it, so the seeds' part is 0.8 of it."""
    row = {"delta_accuracy": delta, "se": se, "df": 12.0, "var_seeds": (0.8 * se) ** 2, "var_images": (0.6 * se) ** 2,
           "df_seeds": 6.0, "images": 6000, "runs": [4, 4], "ci95_low": delta - 2 * se, "ci95_high": delta + 2 * se,
           "p_superiority": p_sup / 4, "p_equivalence": p_eq / 4, "margin": 0.01, "analysis": "paired",
           "p_superiority_adjusted": p_sup, "p_equivalence_adjusted": p_eq, "verdict": verdict,
           "within_margin": p_eq < 0.05}
    return row | {"components": {"paired difference": {"residual": {"variance": 0.1, "df": 6000, "levels": {}}}},
                  "pairing": {"seeds": [0, 1], "paired": True, "threshold": 0.1,
                              "same_seed_correlation": [{"correlation": 0.4, "lower95": 0.38, "seeds": 2}]},
                  "arm": arm, "baseline": base, "kind": "sr", "net": arm[3:], "params": 77098,
                  "sensitivity": row | {"analysis": "unpaired", "verdict": other or verdict}}


def _arm(acc, runs=3, sr_runs=()):
    return {"accuracy": acc, "f1_macro": acc - 0.01, "auc_macro": 0.9, "accuracy_std": 0.004,
            "accuracy_per_run": [acc] * runs, "runs": runs, "sr_runs": list(sr_runs), "params": 77098,
            "flops": 1, "input_shape": [32, 32, 3], "train_images": 48000, "test_images": 6000}


def _share(share, low, high):
    return {"share": share, "se": 0.07, "df": 9.0, "ci95_low": low, "ci95_high": high, "analysis": "paired"}


CLS = {"design": {"train_images": 48000, "test_images": 6000,
                  "source": {"source": "jpeg-mirror", "pool": 60000, "train": 48000, "test": 6000, "seed": 0},
                  "scale": 4, "classifier_seeds": [0, 1, 2], "sr_classifier_seeds": [0, 1], "sr_seeds": 2,
                  "alpha": 0.05, "margin": 0.01, "pairing_correlation": 0.1, "pairs": 4},
       "arms": {"lr": _arm(0.52), "bicubic": _arm(0.55), "hr": _arm(0.60),
                "sr-espcn": _arm(0.56, 4, ["espcn_x4", "espcn_x4_s1"]),
                "sr-fsrcnn": _arm(0.552, 4, ["fsrcnn_x4", "fsrcnn_x4_s1"])},
       "twins": {"sr-espcn_vs_lr": _twin("sr-espcn", "lr", 0.04, 1e-5, 1.0, "better"),
                 "sr-espcn_vs_bicubic": _twin("sr-espcn", "bicubic", 0.01, 0.2, 0.5, "undecided", other="better"),
                 "sr-fsrcnn_vs_lr": _twin("sr-fsrcnn", "lr", 0.032, 2e-4, 1.0, "better"),
                 "sr-fsrcnn_vs_bicubic": _twin("sr-fsrcnn", "bicubic", 0.002, 0.8, 0.01, "equivalent", 0.002)},
       "gap_hr_vs_bicubic": {k: v for k, v in _twin("hr", "bicubic", 0.05, 1e-9, 1.0, "better").items()
                             if k not in ("arm", "baseline", "kind", "net", "params", "p_superiority_adjusted",
                                          "p_equivalence_adjusted", "verdict", "within_margin", "sensitivity")},
       "share_recovered": {"sr-espcn": _share(0.2, 0.05, 0.35), "sr-fsrcnn": _share(0.04, -0.1, 0.18)},
       "psnr_vs_gain": {"spearman_rho": None, "ci95_low": None, "ci95_high": None, "nets": ["espcn", "fsrcnn"]}}


def test_the_answer_names_the_gap_each_share_and_the_verdicts():
    text = readme.answer(CLS)
    assert text.startswith("**The answer at x4** (6,000 CIFAR-10 test images")
    assert "48,000 training images; 2 SR seeds x 2 classifier seeds per SR arm" in text
    assert "`hr` beats `bicubic` by +5.0 points [+4.0, +6.0]" in text
    shares = "of that gap over bicubic (every run, paired analysis), 95% interval"
    assert f"`sr-espcn` recovers **20%** {shares} [5%, 35%]" in text
    assert f"`sr-fsrcnn` recovers **4%** {shares} [-10%, 18%]" in text
    assert "- against `lr`: `sr-espcn` better (+4.0 points), `sr-fsrcnn` better (+3.2 points)." in text
    assert "- against `bicubic`: `sr-espcn` undecided (+1.0 points), `sr-fsrcnn` equivalent (+0.2 points)." in text
    assert ("- the sensitivity check (the other analysis) changes the verdict of `sr-espcn` vs `bicubic` (paired "
            "undecided, unpaired better).") in text
    lines = text.splitlines()
    assert all(line.startswith("- ") for line in lines[1:]) and len(lines) == 7  # one list, no blank line in it
    same = json.loads(json.dumps(CLS))
    same["twins"]["sr-espcn_vs_bicubic"]["sensitivity"]["verdict"] = "undecided"
    same["twins"]["sr-espcn_vs_lr"]["sensitivity"] = None  # no other analysis
    assert "- the sensitivity check (the other analysis, paired or unpaired) changes no verdict." in readme.answer(same)
    same["twins"]["sr-espcn_vs_lr"].update(delta_accuracy=0.004, within_margin=True)  # significant, inside +-1
    assert "- against `lr`: `sr-espcn` better (within ±1.0 points) (+0.4 points), `sr-fsrcnn` better" \
        in readme.answer(same)
    assert "Spearman" not in text  # rho is undefined with 2 nets
    rho = {**CLS, "psnr_vs_gain": {"spearman_rho": 0.5, "ci95_low": -0.3, "ci95_high": 0.9, "nets": ["a", "b", "c"]}}
    assert "Spearman rho across 3 nets = +0.50, 95% interval [-0.30, +0.90]" in readme.answer(rho)
    tie = {**CLS, "share_recovered": {**CLS["share_recovered"], "sr-fsrcnn": dict.fromkeys(_share(0, 0, 0))}}
    assert "- `sr-fsrcnn`: no share of the gap to recover (`hr` and `bicubic` tie)." in readme.answer(tie)


def test_the_rule_comes_before_the_tables_and_the_twin_rows_show_both_analyses():
    text = readme.render({}, CLS)
    assert text.startswith(readme.answer(CLS))
    rule = text.index("Decision rule, fixed before the table")
    assert text.index("### Twin classifiers") < rule < text.index("| arm | input |") < text.index("| twin pair |")
    assert "margin ±1.0 points: the 1 - 2 alpha interval" in text
    assert "across all 4 pairs" in text and "is below 0.05" in text
    assert "SR seeds, classifier seeds and test images random and crossed, every two-way interaction once" in text
    assert "seeds' per-image churn" in text and "Satterthwaite" in text and "every run of both arms" in text
    assert "same-seed correlation exceeds 0.1" in text and "sensitivity check" in text
    assert 'it reads "better (within ±1.0 points)" when the adjusted equivalence p is below 0.05 too' in text
    assert "(48,000 training and 6,000 test images from jpeg-mirror, classifier seeds [0, 1, 2]" in text
    assert "| lr | 32x32 | 77,098 | 3 | 0.5200 ± 0.0040 | 0.5100 | 0.9000 |" in text
    assert ("| twin pair | analysis | accuracy difference | 95% CI | SE (seeds / images) | df | p superiority (adj.) "
            "| p equivalence (adj.) | verdict | sensitivity |") in text
    assert ("| sr-espcn vs lr | paired | +0.0400 | [+0.0300, +0.0500] | 0.0050 (0.0040 / 0.0030) | 12.0 | 1e-05 "
            "| 1 | better | unpaired: better (+0.0400) |") in text
    assert ("| sr-espcn vs bicubic | paired | +0.0100 | [+0.0000, +0.0200] | 0.0050 (0.0040 / 0.0030) | 12.0 | 0.2 "
            "| 0.5 | undecided | unpaired: better (+0.0100) |") in text
    assert ("| sr-fsrcnn vs bicubic | paired | +0.0020 | [-0.0020, +0.0060] | 0.0020 (0.0016 / 0.0012) | 12.0 "
            "| 0.8 | 0.01 | equivalent | unpaired: equivalent (+0.0020) |") in text
    assert "significant" not in text and "p_value" not in text and "1.96" not in text  # the old rules' words
    alone = json.loads(json.dumps(CLS))
    alone["twins"]["sr-espcn_vs_lr"].update(sensitivity=None, within_margin=True, delta_accuracy=0.004)
    row = next(line for line in readme.classify_tables(alone).splitlines() if line.startswith("| sr-espcn vs lr"))
    assert row.endswith("| better (within ±1.0 points) | - |")


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
    assert "- machine B (cpu B, 2 cores; these results): fresh clone" in text.split("- machine A")[0]  # first
    assert "- machine A (cpu A, 2 cores; another CPU): from nothing" in text
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
    assert "Only this run of these params is recorded" in readme.stability_section(alone, CLS)
    assert "| twin pair | machine B | machine A |" in readme.render({}, CLS, same)  # the README shows them too
    page = readme.render_details({}, [], CLS, same)
    assert "## Do the verdicts survive another machine?" in page and "| twin pair | machine B | machine A |" in page


def test_each_run_is_described_by_its_cpu_model_and_note_and_other_params_are_not_compared():
    def rec(label, cpu, note="from nothing", params="epochs: 20\n"):
        return stability.summary(CLS, SR_A, params, label, cpu, note)

    record = {"runs": [rec("run 1", "Intel(R) Xeon(R) Processor, 2 cores (AVX-512)"),
                       rec("run 2", "Intel(R) Xeon(R) Processor, 2 cores, AVX-512; oneDNN capped to AVX2",
                           "a fresh clone with ONEDNN_MAX_CPU_ISA=AVX2"),
                       rec("run 3", "AMD EPYC (Zen 5), 2 cores, AVX-512"),
                       rec("run 4", "Intel(R) Xeon(R) Processor (AVX2), 4 cores"),
                       rec("run 5", "AMD EPYC (Zen 5), 2 cores", params="epochs: 4\n")]}
    text = readme.stability_section(record, CLS)
    assert "- run 1 (Intel(R) Xeon(R) Processor, 2 cores (AVX-512); these results): from nothing" in text
    assert "- run 2 (Intel(R) Xeon(R) Processor, 2 cores, AVX-512; oneDNN capped to AVX2; same CPU, kernels " \
           "perturbed): a fresh clone" in text
    assert "- run 3 (AMD EPYC (Zen 5), 2 cores, AVX-512; another CPU): from nothing" in text
    assert "- run 4 (Intel(R) Xeon(R) Processor (AVX2), 4 cores; same CPU): from nothing" in text
    assert "- run 5 (AMD EPYC (Zen 5), 2 cores; another CPU; other params, not compared): from nothing" in text
    assert "The same params run 4 times" in text and "1 run(s) of other params" in text
    assert "| twin pair | run 1 | run 2 | run 3 | run 4 |" in text and "run 5 |" not in text
    assert "Calibration of run 5" not in text and "- Calibration of run 3 against run 1: holds" in text
    assert [stability.cpu_model(r["cpu"]) for r in record["runs"]] == [
        "Intel(R) Xeon(R) Processor", "Intel(R) Xeon(R) Processor", "AMD EPYC (Zen 5)", "Intel(R) Xeon(R) Processor",
        "AMD EPYC (Zen 5)"]
    apart = {"runs": [record["runs"][0], record["runs"][4]]}
    assert "Only this run of these params is recorded" in readme.stability_section(apart, CLS)
    assert "- run 5 (AMD EPYC (Zen 5), 2 cores; another CPU; other params" in readme.stability_section(apart, CLS)


def test_calibration_text_names_moved_flipped_borderline_and_missing_pairs():
    this = stability.summary(CLS, SR_A, "epochs: 20\n", "ref", "cpu", "x")
    other = json.loads(json.dumps(this)) | {"label": "other"}
    other["twins"]["sr-espcn_vs_lr"]["delta_accuracy"] += 0.013  # beyond t(12) x sqrt(2 x 0.004^2) = 0.0123
    other["twins"]["sr-fsrcnn_vs_lr"].update(verdict="worse")
    other["twins"]["sr-espcn_vs_bicubic"].update(verdict="better", p_superiority_adjusted=0.04)
    this["twins"]["sr-espcn_vs_bicubic"]["p_superiority_adjusted"] = 0.08
    del other["twins"]["sr-fsrcnn_vs_bicubic"]
    text = readme._calibration_text(this, [other], 0.05)
    assert text == ("- Calibration of other against ref: **fails** (moved beyond t x sqrt of their seed variances: "
                    "sr-espcn vs lr; flipped verdict: sr-fsrcnn vs lr; to or from undecided at a borderline p (within "
                    "2x alpha in both runs): sr-espcn vs bicubic; missing from one run: sr-fsrcnn vs bicubic).")


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
