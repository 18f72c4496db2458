"""scripts/verdict_stability.py folder: a complete run kept outside the repo, recomputed with the current code."""
import hashlib
import json
import sys

import numpy as np
import pytest
import yaml

from scripts import verdict_stability
from srtwins import SrtwinsError
from srtwins.report import stability

N = 60  # test images: every class six times, so every AUC is defined
PARAMS = {"sr": {"runs": {"fsrcnn_x4": {"net": "fsrcnn", "scale": 4, "seed": 0},
                          "fsrcnn_x4_s1": {"net": "fsrcnn", "scale": 4, "seed": 1}}},
          "classify": {"scale": 4, "sr_runs": ["fsrcnn_x4", "fsrcnn_x4_s1"], "sr_seeds": 2, "hr_sr": [],
                       "seeds": [0, 1, 2], "sr_classifier_seeds": [0, 1],
                       "decision": {"alpha": 0.05, "margin": 0.01, "pairing_correlation": 0.3}}}
ARMS = {"lr": ("lr", 3, 0.5), "bicubic": ("lr", 3, 0.55), "hr": ("hr", 3, 0.8), "sr-fsrcnn": ("fsrcnn_x4", 2, 0.6)}


def _probs(rng, y, seeds, accuracy):
    """Softmax-like rows whose argmax is the label on about ``accuracy`` of the images."""
    logits = rng.normal(size=(seeds, len(y), 10))
    right = rng.random((seeds, len(y))) < accuracy
    logits[right, np.broadcast_to(y, right.shape)[right]] += 10
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype(np.float32)


def write_run(folder, params=PARAMS, about=None):
    """A run's folder as /work/shared/runs/<run>/ holds it: params.yaml, probs/, y_test.npy, metrics/sr.json,
    README.json."""
    rng = np.random.default_rng(0)
    y = np.arange(N, dtype=np.uint8) % 10
    folder.mkdir(parents=True)
    np.save(folder / "y_test.npy", y)
    (folder / "params.yaml").write_text(yaml.safe_dump(params))
    summary = {"params": 100, "flops": 1, "input_shape": [32, 32, 3], "train_images": 10, "test_images": N,
               "train_seconds": 1.5}
    for arm, (source, seeds, accuracy) in ARMS.items():
        for src in ([source, "fsrcnn_x4_s1"] if arm.startswith("sr-") else [source]):
            (folder / "probs" / src / arm).mkdir(parents=True)
            np.save(folder / "probs" / src / arm / "probs.npy", _probs(rng, y, seeds, accuracy))
            (folder / "probs" / src / arm / "train.json").write_text(json.dumps(summary))
    (folder / "metrics").mkdir()
    sr = {"cifar10": {"x4": {"bicubic": {"psnr_y": 22.1}, "fsrcnn": {"psnr_y": 22.5}}}}
    (folder / "metrics/sr.json").write_text(json.dumps(sr))
    about = {"label": "run X", "cpu": "Some CPU, 2 cores", "how": "made by a test"} if about is None else about
    (folder / "README.json").write_text(json.dumps(about))
    return folder


def test_a_folder_is_recomputed_on_its_own_design_and_older_params_borrow_the_pairing_threshold(tmp_path):
    folder = write_run(tmp_path / "run")
    run, alpha = verdict_stability.folder_run(folder)
    text = (folder / "params.yaml").read_text()
    assert alpha == 0.05 and run["label"] == "run X" and run["cpu"] == "Some CPU, 2 cores"
    assert run["params_md5"] == hashlib.md5(text.encode()).hexdigest()
    assert run["note"] == "made by a test; recomputed from its saved predictions with the current statistics"
    assert set(run["twins"]) == {"sr-fsrcnn_vs_lr", "sr-fsrcnn_vs_bicubic"} and set(run["arms"]) == set(ARMS)
    assert run["sr_psnr_y"] == {"cifar10 x4 bicubic": 22.1, "cifar10 x4 fsrcnn": 22.5}
    stability.validate({"runs": [run]}, "s.json")
    older = {**PARAMS, "classify": {**PARAMS["classify"], "decision": {"alpha": 0.05, "margin": 0.01}}}
    old = write_run(tmp_path / "old", older)
    current = tmp_path / "current.yaml"
    current.write_text(yaml.safe_dump(PARAMS))  # the checkout's params: pairing_correlation 0.3
    again, _ = verdict_stability.folder_run(old, "relabelled", "Other CPU", current=current)
    assert again["twins"] == run["twins"] and again["label"] == "relabelled" and again["cpu"] == "Other CPU"
    assert again["params_md5"] == hashlib.md5((old / "params.yaml").read_bytes()).hexdigest() != run["params_md5"]
    assert again["note"].endswith("its params lack classify.decision.pairing_correlation: the current params.yaml's "
                                  "0.3 was used")


def _script(monkeypatch, capsys, record, *args):
    """(exit status, stdout, stderr) of the script run in this process on ``record`` (metrics/stability.json)."""
    monkeypatch.setattr(verdict_stability, "RECORD", record)
    monkeypatch.setattr(sys, "argv", ["verdict_stability.py", *map(str, args)])
    try:
        verdict_stability.cli.run(verdict_stability.main)
        code = 0
    except SystemExit as e:
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_script_records_a_folder_and_calibrates_it_against_the_runs_of_its_params(tmp_path, monkeypatch, capsys):
    folder = write_run(tmp_path / "run")
    same, _ = verdict_stability.folder_run(folder, "earlier")
    other = {**same, "label": "other params", "params_md5": "0" * 32}
    record = tmp_path / "metrics/stability.json"
    record.parent.mkdir()
    record.write_text(json.dumps({"runs": [same, other]}))
    code, out, _ = _script(monkeypatch, capsys, record, "folder", folder, "--label", "run Y")
    printed = json.loads(out)
    assert code == 0 and printed["runs"] == ["earlier", "run Y"] and printed["other_params"] == ["other params"]
    (c,) = printed["calibration"]
    assert c["against"] == "earlier" and c["holds"] and c["alpha"] == 0.05
    assert set(c["thresholds"]) == set(same["twins"])
    assert [r["label"] for r in json.loads(record.read_text())["runs"]] == ["earlier", "other params", "run Y"]


@pytest.mark.parametrize("broken, named", [
    ("probs/fsrcnn_x4_s1/sr-fsrcnn/probs.npy", "probs/fsrcnn_x4_s1/sr-fsrcnn/probs.npy: not found"),
    ("params.yaml", "params.yaml: params file not found"),
    ("y_test.npy", "y_test.npy: cannot read array"),
    ("metrics/sr.json", "metrics/sr.json: cannot read")])
def test_a_folder_missing_a_file_is_a_one_line_error_and_nothing_is_written(tmp_path, monkeypatch, capsys, broken,
                                                                          named):
    folder = write_run(tmp_path / "run")
    (folder / broken).unlink()
    record = tmp_path / "stability.json"
    code, out, err = _script(monkeypatch, capsys, record, "folder", folder)
    assert code == 1 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"error: {folder}/") and named in err
    assert not record.exists()


def test_a_folder_without_its_label_or_cpu_names_its_readme(tmp_path, monkeypatch, capsys):
    folder = write_run(tmp_path / "run", about={"cpu": "Some CPU, 2 cores"})
    code, _, err = _script(monkeypatch, capsys, tmp_path / "stability.json", "folder", folder)
    assert code == 1 and err == f"error: {folder}/README.json: no 'label'; give --label\n"
    code, _, err = _script(monkeypatch, capsys, tmp_path / "stability.json", "folder", folder, "--label", "L")
    assert code == 0 and not err
    (folder / "README.json").unlink()
    code, _, err = _script(monkeypatch, capsys, tmp_path / "stability.json", "folder", folder, "--label", "L")
    assert code == 1 and err == f"error: {folder}/README.json: no 'cpu'; give --cpu\n"


def test_a_bad_key_in_a_folders_params_names_that_file_and_the_key(tmp_path, monkeypatch, capsys):
    bad = {**PARAMS, "classify": {**PARAMS["classify"], "sr_classifier_seeds": [0, 7]}}
    folder = write_run(tmp_path / "run", bad)
    code, _, err = _script(monkeypatch, capsys, tmp_path / "stability.json", "folder", folder)
    assert code == 1 and err.startswith(f"error: {folder}/params.yaml: params: 'classify.sr_classifier_seeds[1]' = 7")
    older = {**PARAMS, "classify": {**PARAMS["classify"], "decision": {"alpha": 0.05, "margin": 0.01}}}
    current = tmp_path / "current.yaml"
    current.write_text(yaml.safe_dump(older))  # the checkout's params lack it too
    named = rf"^{current}: params: missing key 'classify.decision.pairing_correlation'$"
    with pytest.raises(SrtwinsError, match=named):
        verdict_stability.folder_run(write_run(tmp_path / "old", older), current=current)
