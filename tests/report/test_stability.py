"""Recording runs of the twin study (scripts/verdict_stability.py) and comparing their verdicts."""
import json
import shutil
import subprocess
import sys

import pytest

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
    assert script("record", "--label", "B", "--rev", "HEAD~1", "--cpu", "cpu B").returncode == 0
    record = json.loads((tmp_path / "metrics/stability.json").read_text())
    assert [r["label"] for r in record["runs"]] == ["A", "B"]
    assert record["runs"][1]["sr_psnr_y"]["set5 x2 fsrcnn"] == 35.51  # B replaced by the earlier revision's run
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
