"""The README's results section: rendered from metrics, the stability note, and bad metrics files."""
import json

from srtwins.report import readme, stability
from tests.conftest import ROOT, run_stage


def _twin(arm, base, delta, p_adj, verdict):
    return {"arm": arm, "baseline": base, "kind": "sr", "net": arm[3:], "delta_accuracy": delta, "se": 0.005,
            "ci95_low": delta - 0.01, "ci95_high": delta + 0.01, "p_value": p_adj / 2, "p_adjusted": p_adj,
            "min_detectable_difference": 0.017, "verdict": verdict, "params": 77098, "n_pairs": 6102, "runs": 2}


def _arm(acc, shape=32):
    return {"accuracy": acc, "accuracy_std": 0.004, "f1_macro": acc - 0.01, "auc_macro": 0.9, "params": 77098,
            "flops": 1, "input_shape": [shape, shape, 3], "models": 6, "val_accuracy_final": acc,
            "val_accuracy_gain_last_quarter": 0.004, "accuracy_per_seed": [acc, acc]}


CLS = {"design": {"images": 6102, "folds": 3, "seeds": [0, 1], "models_per_arm": 6, "rule": "paired_bootstrap",
                  "alpha": 0.05, "power": 0.8, "pairs": 2, "scale": 2},
       "arms": {"lr": _arm(0.52, 16), "bicubic": _arm(0.55), "sr-espcn": _arm(0.56)},
       "twins": {"sr-espcn_vs_lr": _twin("sr-espcn", "lr", 0.04, 1e-5, "sr-espcn better"),
                 "sr-espcn_vs_bicubic": _twin("sr-espcn", "bicubic", 0.006, 0.4, "no significant difference")},
       "psnr_vs_gain": {"spearman_rho": None, "ci95_low": None, "ci95_high": None, "nets": ["espcn"]}}


def test_the_answer_comes_first_and_the_rule_before_the_table():
    text = readme.render({}, CLS)
    assert text.startswith("**The answer at this scale**")
    assert "against `lr`: 1 of 1 arms significantly better" in text
    assert "against `bicubic`: 0 of 1 arms significantly better" in text
    assert text.index("Decision rule") < text.index("| twin pair |")
    assert "how converged: the `hr` arm" not in text  # CLS has no hr arm
    with_hr = {**CLS, "arms": {**CLS["arms"], "hr": _arm(0.6)}}
    assert "the `hr` arm (the upper bound) reaches 60.0% out-of-fold accuracy" in readme.render({}, with_hr)
    assert "| sr-espcn vs lr | +0.0400 | [+0.0300, +0.0500] | 1e-05 | ±0.0170 | sr-espcn better |" in text


SR_A = {"set5": {"x2": {"bicubic": {"psnr_y": 33.65}, "fsrcnn": {"psnr_y": 35.51}}}}
SR_B = {"set5": {"x2": {"bicubic": {"psnr_y": 33.65}, "fsrcnn": {"psnr_y": 35.40}}}}


def _rec(cls, sr, label, note="from nothing"):
    return stability.summary(cls, sr, "epochs: 20\n", label, f"cpu {label[-1]}, 2 cores", note)


def test_recorded_runs_side_by_side_and_when_none_is_these_results():
    other = json.loads(json.dumps(CLS))
    other["arms"]["lr"]["accuracy"] = 0.524
    other["twins"]["sr-espcn_vs_bicubic"].update(delta_accuracy=0.009, p_adjusted=0.01, verdict="sr-espcn better")
    record = stability.add({}, _rec(other, SR_A, "machine A"))
    assert "Not checked for these results" in readme.stability_section(record, CLS)
    record = stability.add(record, _rec(CLS, SR_B, "machine B", "fresh clone"))
    text = readme.stability_section(record, CLS)
    assert "- machine B (cpu B, 2 cores): fresh clone" in text.split("- machine A")[0]  # this run comes first
    assert "| twin pair | machine B | machine A |" in text
    assert ("| sr-espcn vs bicubic | no significant difference (+0.60 points, p_adj 0.4) "
            "| sr-espcn better (+0.90 points, p_adj 0.01) |") in text
    assert "**different**: sr-espcn vs bicubic changed verdict" in text
    assert "SR PSNR (Y) differs by up to 0.110 dB (set5 x2 fsrcnn)" in text
    assert "accuracy by up to 0.40 points" in text and "difference by up to 0.30 points" in text
    same = stability.add(record, _rec(CLS, SR_A, "machine A"))
    text = readme.stability_section(same, CLS)
    assert "Verdict table identical in every run. Between runs, SR PSNR (Y) differs" in text
    alone = stability.add({}, stability.summary(CLS, SR_B, "epochs: 20\n", "machine B", "cpu B", "x"))
    assert "Only this run is recorded" in readme.stability_section(alone, CLS)


def test_a_perturbed_run_without_adjusted_p():
    run = stability.summary(CLS, SR_A, "epochs: 20\n", "perturbed", "cpu", "flag")
    run["twins"]["sr-espcn_vs_lr"]["p_adjusted"] = None
    record = stability.add(stability.add({}, stability.summary(CLS, SR_A, "epochs: 20\n", "ref", "cpu", "x")), run)
    text = readme.stability_section(record, CLS)
    assert "| sr-espcn vs lr | sr-espcn better (+4.00 points, p_adj 1e-05) | sr-espcn better (+4.00 points) |" in text
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
