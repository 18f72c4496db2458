"""Recording runs of the twin study (scripts/verdict_stability.py) and comparing their verdicts."""
import json
import shutil
import subprocess
import sys

import pytest
from scipy.stats import t as student_t

from scripts import verdict_stability
from srtwins import SrtwinsError
from srtwins.report import stability
from tests.conftest import ROOT
from tests.report.test_report import CLS, SR_A, SR_B


def _run(cls, sr, label, params="epochs: 20\n"):
    return stability.summary(cls, sr, params, label, "cpu", "note")


def test_a_pair_missing_from_a_run_counts_as_a_change_and_params_are_compared():
    other = json.loads(json.dumps(CLS))
    del other["twins"]["sr-espcn_vs_bicubic"]
    c = stability.compare([_run(CLS, SR_A, "a"), _run(other, SR_B, "b", params="epochs: 4\n")])
    assert c["flipped"] == ["sr-espcn_vs_bicubic"] and not c["verdicts_identical"] and not c["same_params"]
    assert c["widest_sr_cell"] == "set5 x2 fsrcnn" and c["max_sr_psnr_spread"] == pytest.approx(0.11)
    assert c["sr_cells_compared"] == 2 and c["max_delta_spread"] == 0.0
    assert stability.compare([_run(CLS, {}, "a"), _run(CLS, {}, "b")])["sr_cells_compared"] == 0


def test_a_record_in_an_older_format_or_with_a_key_missing_is_a_one_line_error():
    with pytest.raises(SrtwinsError, match=r"s.json: no 'runs' list"):
        stability.validate({"perturbation": "TF_ENABLE_ONEDNN_OPTS=0", "twins": {}}, "s.json")
    run = _run(CLS, SR_A, "a")
    del run["twins"]["sr-espcn_vs_lr"]["verdict"]
    with pytest.raises(SrtwinsError, match=r"s.json: runs\[0\] has no 'twins.sr-espcn_vs_lr.verdict'"):
        stability.validate({"runs": [run]}, "s.json")
    old = _run(CLS, SR_A, "old")  # a run recorded in the old format: p_adjusted, verdicts like "sr-x better"
    old["twins"]["sr-espcn_vs_lr"] = {"delta_accuracy": 0.04, "p_adjusted": 1e-5, "verdict": "sr-espcn better"}
    with pytest.raises(SrtwinsError, match=r"runs\[0\] has no 'twins.sr-espcn_vs_lr.se'"):
        stability.validate({"runs": [old]}, "s.json")
    for key in ("var_seeds", "df_seeds", "analysis"):  # recorded before the crossed model: no seed variance
        older = _run(CLS, SR_A, "older")
        del older["twins"]["sr-fsrcnn_vs_lr"][key]
        with pytest.raises(SrtwinsError, match=rf"runs\[0\] has no 'twins.sr-fsrcnn_vs_lr.{key}'"):
            stability.validate({"runs": [older]}, "s.json")


def _moved(run, key, label="b", **row):
    out = json.loads(json.dumps(run)) | {"label": label}
    out["twins"][key].update(row)
    return out


def test_the_threshold_is_t_on_satterthwaite_df_times_the_root_of_the_seed_variances_alone():
    first = _moved(_run(CLS, SR_A, "a"), "sr-espcn_vs_lr", "a", var_seeds=1e-5, df_seeds=4.0, var_images=1.0)
    other = _moved(first, "sr-espcn_vs_lr", var_seeds=3e-5, df_seeds=10.0)
    df = (4e-5) ** 2 / ((1e-5) ** 2 / 4 + (3e-5) ** 2 / 10)  # 13.91
    limit = student_t.ppf(0.975, df) * 4e-5 ** 0.5
    c = stability.calibration(first, other, 0.05)
    assert c["thresholds"]["sr-espcn_vs_lr"] == pytest.approx(limit, rel=1e-12) and c["holds"]
    assert c["thresholds"]["sr-espcn_vs_bicubic"] == pytest.approx(student_t.ppf(0.975, 12) * (2 * 0.004 ** 2) ** 0.5)
    near = _moved(other, "sr-espcn_vs_lr", delta_accuracy=0.04 + 0.99 * limit)
    far = _moved(other, "sr-espcn_vs_lr", delta_accuracy=0.04 - 1.01 * limit)
    assert stability.calibration(first, near, 0.05)["holds"]
    assert stability.calibration(first, far, 0.05)["moved_beyond_error"] == ["sr-espcn_vs_lr"]
    zero = {k: 0.0 for k in ("var_seeds", "se", "var_images")}  # identical data: a certain difference
    zeroed = _moved(first, "sr-espcn_vs_lr", "a", **zero)
    c = stability.calibration(zeroed, _moved(zeroed, "sr-espcn_vs_lr", **zero), 0.05)
    assert c["thresholds"]["sr-espcn_vs_lr"] == 0.0 and c["holds"]  # no move passes even at zero error
    c = stability.calibration(zeroed, _moved(zeroed, "sr-espcn_vs_lr", delta_accuracy=0.0401, **zero), 0.05)
    assert c["moved_beyond_error"] == ["sr-espcn_vs_lr"]


def test_a_move_within_the_full_se_but_beyond_the_seed_variances_fails():
    first = _run(CLS, SR_A, "a")  # sr-espcn_vs_lr: se 0.005 = seeds 0.004 and images 0.003, seed df 6, both runs
    old = 1.96 * (2 * 0.005 ** 2) ** 0.5  # 0.01386: the full SE, which counts the images both runs share
    new = student_t.ppf(0.975, 12) * (2 * 0.004 ** 2) ** 0.5  # 0.01233
    c = stability.calibration(first, _moved(first, "sr-espcn_vs_lr", delta_accuracy=0.04 + (old + new) / 2), 0.05)
    assert new < old and c["moved_beyond_error"] == ["sr-espcn_vs_lr"] and not c["holds"]


def test_a_pair_missing_from_either_run_fails_the_calibration():
    first = _run(CLS, SR_A, "a")
    missing = json.loads(json.dumps(first)) | {"label": "b"}
    del missing["twins"]["sr-espcn_vs_lr"]
    for a, b in ((first, missing), (missing, first)):
        c = stability.calibration(a, b, 0.05)
        assert c["missing"] == ["sr-espcn_vs_lr"] and not c["holds"] and "sr-espcn_vs_lr" not in c["thresholds"]


def test_runs_of_different_params_are_never_calibrated():
    a, b = _run(CLS, SR_A, "run A"), _run(CLS, SR_A, "run B", params="epochs: 4\n")
    with pytest.raises(SrtwinsError) as e:
        stability.calibration(a, b, 0.05)
    assert str(e.value).count("\n") == 0
    assert all(s in str(e.value) for s in ("run A", "run B", a["params_md5"], b["params_md5"]))


def test_verdict_moves_flip_unless_both_runs_are_borderline():
    first = _run(CLS, SR_A, "a")  # sr-espcn_vs_lr better at p_sup_adj 1e-5; sr-espcn_vs_bicubic undecided at 0.2
    worse = stability.calibration(first, _moved(first, "sr-espcn_vs_lr", verdict="worse"), 0.05)
    assert worse["flipped"] == ["sr-espcn_vs_lr"] and not worse["borderline"] and not worse["holds"]

    def to_undecided(p_first, p_other, alpha=0.05):
        a = _moved(first, "sr-espcn_vs_lr", "a", p_superiority_adjusted=p_first)
        b = _moved(a, "sr-espcn_vs_lr", verdict="undecided", p_superiority_adjusted=p_other)
        c = stability.calibration(a, b, alpha)
        assert c["holds"] == bool(c["borderline"])
        return "borderline" if c["borderline"] == ["sr-espcn_vs_lr"] else "flip" if c["flipped"] else "?"

    assert to_undecided(0.04, 0.08) == "borderline" and to_undecided(0.025, 0.1) == "borderline"  # both in 2x alpha
    assert to_undecided(1e-5, 0.08) == "flip"  # the other run's p near alpha, this one's far below it
    assert to_undecided(0.04, 0.3) == "flip" and to_undecided(0.04, 0.11) == "flip"
    assert to_undecided(0.04, 0.08, alpha=0.01) == "flip"  # the alpha given, not a fixed 0.05
    assert to_undecided(0.04, None) == "flip"  # a run recorded without its adjusted p is no evidence
    eq = _moved(first, "sr-fsrcnn_vs_bicubic", "a", p_equivalence_adjusted=0.04)
    c = stability.calibration(eq, _moved(eq, "sr-fsrcnn_vs_bicubic", verdict="undecided", p_equivalence_adjusted=0.07,
                                         p_superiority_adjusted=0.5), 0.05)
    assert c["borderline"] == ["sr-fsrcnn_vs_bicubic"] and c["holds"]  # equivalent -> undecided: p_eq decides
    c = stability.calibration(eq, _moved(eq, "sr-fsrcnn_vs_bicubic", verdict="undecided", p_equivalence_adjusted=0.3,
                                         p_superiority_adjusted=0.06), 0.05)
    assert c["flipped"] == ["sr-fsrcnn_vs_bicubic"]  # a near-significant p_sup: no excuse for a lost equivalence
    c = stability.calibration(_moved(first, "sr-espcn_vs_bicubic", "a", p_superiority_adjusted=0.04, verdict="better"),
                              _moved(first, "sr-espcn_vs_bicubic", p_superiority_adjusted=0.06), 0.05)
    assert c["borderline"] == ["sr-espcn_vs_bicubic"]  # from undecided, either way round


def test_perturb_caps_the_isa_below_the_cpus_best_and_prints_its_calibration(tmp_path):
    assert verdict_stability.isa_cap({"avx2", "avx512f", "avx512bw"}) == "AVX2"
    assert verdict_stability.isa_cap({"avx", "avx2", "fma"}) == "AVX"
    with pytest.raises(SrtwinsError, match="neither AVX-512 nor AVX2"):
        verdict_stability.isa_cap({"sse4_2", "avx"})
    (tmp_path / "cpuinfo").write_text("processor\t: 0\nflags\t\t: fpu sse4_2 avx avx2\n")
    assert verdict_stability.cpu_flags(tmp_path / "cpuinfo") == {"fpu", "sse4_2", "avx", "avx2"}
    assert verdict_stability.cpu_flags(tmp_path / "missing") == set()
    base = _run(CLS, SR_A, "machine B")
    perturbed = _run(json.loads(json.dumps(CLS)), SR_A, "machine B, ONEDNN_MAX_CPU_ISA=AVX")
    perturbed["twins"]["sr-espcn_vs_lr"]["verdict"] = "worse"
    record = stability.add(stability.add({}, base), perturbed)
    record = stability.add(record, _run(CLS, SR_A, "other params", params="epochs: 4\n"))
    out = verdict_stability.printout(record, perturbed, [base], CLS["design"]["alpha"])
    assert out["runs"] == ["machine B", "machine B, ONEDNN_MAX_CPU_ISA=AVX"] and out["flipped"] == ["sr-espcn_vs_lr"]
    assert out["other_params"] == ["other params"] and out["same_params"]
    (c,) = out["calibration"]
    assert c["against"] == "machine B" and c["alpha"] == 0.05 and c["flipped"] == ["sr-espcn_vs_lr"]
    assert not c["moved_beyond_error"] and not c["borderline"] and not c["missing"] and not c["holds"]
    assert "calibration" not in verdict_stability.printout(record, base)  # record: no reference


def _script_repo(tmp_path):
    for name in ("scripts", "srtwins"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics/classify.json").write_text(json.dumps(CLS))
    (tmp_path / "metrics/sr.json").write_text(json.dumps(SR_A))
    (tmp_path / "params.yaml").write_text("epochs: 20\n")
    git = "git -c user.name=t -c user.email=t@t"
    subprocess.run(f"git init -q && git add -A && {git} commit -qm a", shell=True, cwd=tmp_path, check=True)
    return lambda *a: subprocess.run([sys.executable, "scripts/verdict_stability.py", *a], cwd=tmp_path,
                                     capture_output=True, text=True)


def test_script_records_a_revision_replaces_by_label_and_refuses_bad_input(tmp_path):
    script = _script_repo(tmp_path)
    assert script("record", "--label", "A", "--rev", "HEAD", "--cpu", "cpu A").returncode == 0
    (tmp_path / "metrics/sr.json").write_text(json.dumps(SR_B))
    subprocess.run("git -c user.name=t -c user.email=t@t commit -qam b", shell=True, cwd=tmp_path, check=True)
    r = script("record", "--label", "B", "--rev", "HEAD", "--cpu", "cpu B")
    assert r.returncode == 0 and json.loads(r.stdout)["widest_sr_cell"] == "set5 x2 fsrcnn"
    assert "calibration" not in json.loads(r.stdout)
    assert script("record", "--label", "B", "--rev", "HEAD~1", "--cpu", "cpu B").returncode == 0
    record = json.loads((tmp_path / "metrics/stability.json").read_text())
    assert [r["label"] for r in record["runs"]] == ["A", "B"]
    assert record["runs"][1]["sr_psnr_y"]["set5 x2 fsrcnn"] == 35.51  # B replaced by the earlier revision's run
    assert record["runs"][0]["twins"]["sr-espcn_vs_lr"] == pytest.approx({
        "delta_accuracy": 0.04, "se": 0.005, "var_seeds": 0.004 ** 2, "df_seeds": 6.0, "analysis": "paired",
        "p_superiority_adjusted": 1e-5, "p_equivalence_adjusted": 1.0, "verdict": "better"})
    assert record["runs"][0]["arms"]["sr-espcn"] == 0.56
    r = script("record", "--label", "C", "--rev", "HEAD")
    assert r.returncode == 2 and "--rev needs --cpu" in r.stderr
    r = script("record", "--label", "C", "--rev", "nosuchrev", "--cpu", "x")
    assert r.returncode == 1 and r.stderr.strip().startswith("error: --rev nosuchrev:") and "Traceback" not in r.stderr
    r = script("record", "--label", "C")  # the working tree: no DVC project here, so not known to be up to date
    assert r.returncode == 1 and "is not up to date; run `dvc repro` first" in r.stderr
    (tmp_path / "metrics/stability.json").write_text("{not json")
    r = script("record", "--label", "C", "--rev", "HEAD", "--cpu", "x")
    assert r.returncode == 1 and "metrics/stability.json: not valid JSON" in r.stderr
    assert (tmp_path / "metrics/stability.json").read_text() == "{not json"  # left as it was


def test_cpu_name_and_model(tmp_path):
    (tmp_path / "cpuinfo").write_text("processor\t: 0\nmodel name\t: Some CPU 9000\n")
    assert stability.cpu_name(tmp_path / "cpuinfo").startswith("Some CPU 9000, ")
    assert stability.cpu_name(tmp_path / "missing").startswith("unknown CPU, ")
    assert stability.cpu_model("Intel(R) Xeon(R) Processor, 2 cores (AVX-512)") == "Intel(R) Xeon(R) Processor"
    assert stability.cpu_model("AMD EPYC (Zen 5), 2 cores, AVX-512") == "AMD EPYC (Zen 5)"  # not an ISA note
    assert stability.cpu_model("Some CPU (avx2 only), 1 core") == "Some CPU"
