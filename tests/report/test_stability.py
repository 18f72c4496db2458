"""Recording runs of the twin study (scripts/verdict_stability.py) and comparing their verdicts."""
import json
import shutil
import subprocess
import sys

import pytest

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


def _moved(run, key, **row):
    out = json.loads(json.dumps(run))
    out["twins"][key].update(row)
    return out


def test_calibration_flags_a_move_beyond_the_errors_a_flip_and_a_borderline_change():
    first = _run(CLS, SR_A, "a")
    zero = _moved(first, "sr-fsrcnn_vs_bicubic", se=0.0)  # identical data: a certain difference
    assert stability.calibration(zero, zero, 0.05) == {"moved_beyond_error": [], "flipped": [], "borderline": [],
                                                       "holds": True}
    limit = 1.96 * (2 * 0.005 ** 2) ** 0.5  # sr-espcn_vs_lr: se 0.005 in both runs
    near = stability.calibration(first, _moved(first, "sr-espcn_vs_lr", delta_accuracy=0.04 + 0.99 * limit), 0.05)
    assert near["holds"] and not near["moved_beyond_error"]
    far = stability.calibration(first, _moved(first, "sr-espcn_vs_lr", delta_accuracy=0.04 - 1.01 * limit), 0.05)
    assert far["moved_beyond_error"] == ["sr-espcn_vs_lr"] and not far["flipped"] and not far["holds"]
    worse = stability.calibration(first, _moved(first, "sr-espcn_vs_lr", verdict="worse"), 0.05)
    assert worse["flipped"] == ["sr-espcn_vs_lr"] and not worse["borderline"] and not worse["holds"]

    def undecided(p_sup, p_eq=1.0, alpha=0.05):
        other = _moved(first, "sr-espcn_vs_lr", verdict="undecided", p_superiority_adjusted=p_sup,
                       p_equivalence_adjusted=p_eq)
        c = stability.calibration(first, other, alpha)
        return "borderline" if c["borderline"] == ["sr-espcn_vs_lr"] else "flip" if c["flipped"] else "?"

    assert undecided(0.08) == "borderline" and undecided(0.1) == "borderline"  # within 2 x alpha
    assert undecided(0.3) == "flip" and undecided(0.11) == "flip"
    assert undecided(0.08, alpha=0.01) == "flip"  # the alpha given, not a fixed 0.05
    assert undecided(0.3, p_eq=0.06) == "flip"  # near-equivalence does not make a lost superiority borderline
    c = stability.calibration(first, _moved(first, "sr-fsrcnn_vs_bicubic", verdict="undecided",
                                            p_equivalence_adjusted=0.07), 0.05)
    assert c["borderline"] == ["sr-fsrcnn_vs_bicubic"] and c["holds"]  # equivalent -> undecided, p_eq near alpha
    c = stability.calibration(_moved(first, "sr-espcn_vs_bicubic", p_superiority_adjusted=0.04, verdict="better"),
                              first, 0.05)
    assert c["borderline"] == ["sr-espcn_vs_bicubic"]  # the decided run's p near alpha also counts
    missing = json.loads(json.dumps(first))
    del missing["twins"]["sr-espcn_vs_lr"]
    assert stability.calibration(first, missing, 0.05)["holds"]  # only the pairs both runs have


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
    out = verdict_stability.printout(record, perturbed, base, CLS["design"]["alpha"])
    assert out["runs"] == ["machine B", "machine B, ONEDNN_MAX_CPU_ISA=AVX"] and out["flipped"] == ["sr-espcn_vs_lr"]
    assert out["calibration"] == {"against": "machine B", "alpha": 0.05, "moved_beyond_error": [],
                                  "flipped": ["sr-espcn_vs_lr"], "borderline": [], "holds": False}
    assert "calibration" not in verdict_stability.printout(record)  # record: no reference


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
    assert record["runs"][0]["twins"]["sr-espcn_vs_lr"] == {
        "delta_accuracy": 0.04, "se": 0.005, "p_superiority_adjusted": 1e-5, "p_equivalence_adjusted": 1.0,
        "verdict": "better"}
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


def test_cpu_name(tmp_path):
    (tmp_path / "cpuinfo").write_text("processor\t: 0\nmodel name\t: Some CPU 9000\n")
    assert stability.cpu_name(tmp_path / "cpuinfo").startswith("Some CPU 9000, ")
    assert stability.cpu_name(tmp_path / "missing").startswith("unknown CPU, ")
