"""The real `dvc repro` in a temp git repo with a tiny params override."""
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import yaml

from tests.conftest import ROOT
from tests.helpers import override, recompute_twins, small_mirror, stage_code_deps

pytestmark = pytest.mark.slow

TINY = {
    "epochs": 1,
    "cifar.train_size": 64,
    "cifar.test_size": 32,
    "fetch.images_per_set": 5,  # Set5 whole (the bicubic check), the first 5 of Set14, BSD100 and T91
    "degrade.scales": [2],
    "sr.train.epochs": 1,
    "sr.train.steps_per_epoch": 2,
    "sr.train.val_patches": 16,
    "sr.runs": {"espcn_x2": {"net": "espcn", "scale": 2}},
    "sr.gan_runs": {},
    "classify.scale": 2,
    "classify.seeds": [0, 1],
    "classify.sr_classifier_seeds": [0, 1],
    "classify.sr_seeds": 1,
    "classify.sr_runs": ["espcn_x2"],
}


def _sh(cmd, cwd, env):
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, shell=True)
    assert r.returncode == 0, f"{cmd}\n{r.stdout}\n{r.stderr}"
    return r.stdout + r.stderr


def ran_stages(log):
    """The stages a `dvc repro` log says it ran, by full name (``train_sr@espcn_x2``)."""
    return {line.split("'")[1] for line in log.splitlines() if line.startswith("Running stage")}


def _tiny(params):
    params = override(params, TINY)
    for net in params["sr"]["nets"].values():  # the tiny recipe wins over per-net budgets
        net.pop("train", None)
    return params


def _tiny_repo(dst, profile=None, shrink=_tiny):
    """Copy the repo's files into a fresh git repo at ``dst`` with ``shrink`` applied to its params (or to the
    ``profile`` file's, which replaces them); returns its env.

    Each run gets its own copy, so tests that break a run leave the shared ``repo`` intact. Its mirror is the
    real one with the pixel-exact CIFAR-10 subset cut to 64 images (tests.helpers.small_mirror)."""
    from tests.conftest import mirror_path

    mirror = small_mirror(mirror_path(), dst.with_name(dst.name + "-mirror"))
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        keep = not rel.startswith(("metrics/", "plots/")) or rel == "metrics/stability.json"  # a committed input
        if (ROOT / rel).is_file() and keep and rel != "dvc.lock":
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dst / rel)
    params = shrink(yaml.safe_load((profile or dst / "params.yaml").read_text()))
    (dst / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = {**os.environ, "SRTWINS_MIRROR": str(mirror), "DVC_NO_ANALYTICS": "1",
           "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    _sh("git init -q && git add -A && git commit -qm init", dst, env)
    return env


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """The tiny pipeline as a user whose machine kills it twice: SIGKILL once train_sr has begun writing, again
    once super_resolve has, then `dvc repro` to the end. Returns (folder, env, the last log, what each kill left).

    Stages read whole folders (data/sr, models/cls): a temp left there would feed the next stage."""
    dst = tmp_path_factory.mktemp("e2e") / "srtwins"
    env = _tiny_repo(dst)
    kills = {}
    for stage in ("train_sr", "super_resolve"):
        out = _kill_during(stage, dst, env)
        status = json.loads(_sh("dvc status --json 2>/dev/null", dst, env))
        kills[stage] = {"unfinished": any(name.startswith(f"{stage}@") for name in status),
                        "stale": _stale_temps(dst), "log": out}
    log = _sh("dvc repro", dst, env)
    return dst, env, log, kills


def test_repro_writes_metrics_in_the_agreed_shape(repo):
    dst, *_ = repo
    sr = json.loads((dst / "metrics/sr.json").read_text())
    assert set(sr) == {"set5", "set14", "bsd100", "cifar10"}
    cell = sr["set5"]["x2"]["bicubic"]
    assert set(cell) == {"psnr_y", "ssim_y", "psnr_rgb", "ssim_rgb", "mse_rgb"}
    assert abs(cell["psnr_y"] - 33.66) < 0.03
    assert sr["set5"]["x2"]["bilinear"]["psnr_y"] < cell["psnr_y"]


def test_repro_trains_scores_and_reports_the_twins(repo):
    dst, *_ = repo
    sr = json.loads((dst / "metrics/sr.json").read_text())
    assert set(sr["cifar10"]["x2"]) == {"bicubic", "bilinear", "espcn"}
    nets = json.loads((dst / "metrics/sr_nets.json").read_text())
    assert nets["espcn_x2"]["params"] == 26_796
    speed = json.loads((dst / "metrics/sr_speed.json").read_text())
    assert speed[0]["run"] == "espcn_x2" and speed[0]["inference_images_per_s"] > 0
    cls = json.loads((dst / "metrics/classify.json").read_text())
    assert set(cls["arms"]) == {"lr", "bicubic", "sr-espcn", "hr"}  # hr-sr arms: tests/pipeline/test_full_profile.py
    assert set(cls["twins"]) == {"sr-espcn_vs_lr", "sr-espcn_vs_bicubic"}
    assert len({a["params"] for a in cls["arms"].values()}) == 1  # one model size for every input size
    assert (cls["design"]["train_images"], cls["design"]["test_images"]) == (64, 32)
    assert {a["runs"] for a in cls["arms"].values()} == {2}
    recompute_twins(dst)
    t = cls["twins"]["sr-espcn_vs_lr"]
    assert t["runs"] == [2, 2] and t["images"] == 32 and t["pairing"]["seeds"] == [0, 1]
    assert set(t["components"]) in ({"sr-espcn", "lr"}, {"paired difference"})
    assert (dst / "plots/classify/train_seconds.json").is_file() and "train_seconds" not in json.dumps(cls)
    assert set(cls["share_recovered"]) == {"sr-espcn"} and "gap_hr_vs_bicubic" in cls
    readme = (dst / "README.md").read_text()
    assert "sr-espcn vs lr" in readme and f"{t['delta_accuracy']:+.4f}" in readme and "**The answer" in readme
    details = (dst / "docs/results.md").read_text()
    assert "| espcn_x2 |" in details and "**The answer" not in details
    assert "Not checked for these results" in details  # the committed record holds other runs than this tiny one
    assert (dst / "models/sr/espcn_x2.keras").is_file()
    assert (dst / "plots/train_sr/espcn_x2/plots/metrics/train/loss.tsv").is_file() or any(
        (dst / "plots/train_sr/espcn_x2/plots/metrics").rglob("*.tsv"))


def test_second_repro_runs_nothing(repo):
    dst, env, *_ = repo
    out = _sh("dvc repro", dst, env)
    assert "Running stage" not in out
    assert "up to date" in _sh("dvc status", dst, env)


# The tests below read the first run's workspace, so they come before the sweep (it leaves epochs=2 there).


@pytest.mark.parametrize("module", ["srtwins/report/readme.py", "srtwins/data/imresize.py"])
def test_editing_a_module_changes_exactly_the_stages_that_list_it(repo, module):
    """After an edit to ``module``, `dvc status` names exactly the stages whose dvc.yaml deps list it.

    One module used by few stages and one used by many: an edit must rerun all of its stages and no other."""
    dst, env, *_ = repo
    present = {name.split("@")[0] for name in _sh("dvc stage list --name-only", dst, env).split()}
    listed = {stage for stage, (_, deps) in stage_code_deps(dst / "dvc.yaml").items() if module in deps} & present
    path = dst / module
    original = path.read_text()
    try:
        path.write_text(original + "# an edit that changes no behaviour\n")
        r = subprocess.run(["dvc", "status", "--json"], cwd=dst, env=env, capture_output=True, text=True)
    finally:
        path.write_text(original)
    assert r.returncode == 0, r.stderr
    changed = {name.split("@")[0] for name in json.loads(r.stdout)}
    assert listed and changed == listed, f"{module}: listed in {sorted(listed)}, dvc status: {sorted(changed)}"


def _tree(dst):
    """Every path in the work tree, less git's and DVC's own folders and bytecode caches."""
    return {p for p in dst.rglob("*") if not {".git", ".dvc", "__pycache__"} & set(p.relative_to(dst).parts)}


def _kill_during(stage, dst, env):
    """Run `dvc repro` and SIGKILL its process group once ``stage`` has begun writing; return the output.

    Waits for the stage's first new path (a temp folder, a log) so the kill lands mid-write, as an OOM kill would."""
    proc = subprocess.Popen(["dvc", "repro"], cwd=dst, env={**env, "PYTHONUNBUFFERED": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    chunks = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: os.read(proc.stdout.fileno(), 65536), b"")))
    reader.start()
    before = None
    while before is None or not _tree(dst) - before:
        assert proc.poll() is None, f"dvc repro ended before {stage} wrote anything:\n{b''.join(chunks).decode()}"
        if before is None and f"Running stage '{stage}@".encode() in b"".join(chunks):
            before = _tree(dst)
        time.sleep(0.1)
    time.sleep(1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    reader.join()
    proc.stdout.close()
    return b"".join(chunks).decode(errors="replace")


def _stale_temps(dst):
    """Repo-relative paths with ``.tmp`` in their name under the folders that stages read and write."""
    return sorted(p.relative_to(dst).as_posix() for top in ("data", "models", "metrics", "plots")
                  for p in (dst / top).rglob("*") if ".tmp" in p.name)


def test_epochs_sweep_reruns_only_classifiers_and_their_evaluation(repo):
    dst, env, *_ = repo
    _sh("git add -A && git commit -qm repro", dst, env)
    out = _sh("dvc exp run -S epochs=2", dst, env)
    ran = {name.split("@")[0] for name in ran_stages(out)}
    assert ran == {"train_classifier", "train_classifier_sr", "evaluate_classify", "report"}, out


def _weights(path):
    import keras

    import srtwins.sr.nets  # noqa: F401  (registers the custom layers)

    return keras.saving.load_model(path, safe_mode=True, compile=False).get_weights()


def _files(folder):
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())


def test_sigkill_mid_stage_leaves_no_temp_in_deps_and_a_rerun_recovers(repo, tmp_path):
    """Each kill (see ``repo``) left its stage unfinished and no temp file where stages read; the recovered run's
    model and super-resolved images are bit for bit those of an uninterrupted rerun of the same stages.

    Runs last: it reruns train_sr and super_resolve in the shared workspace."""
    dst, env, _, kills = repo
    for stage, kill in kills.items():
        assert kill["unfinished"], f"{stage} finished before the kill:\n{kill['log']}"
    assert {stage: kill["stale"] for stage, kill in kills.items()} == {"train_sr": [], "super_resolve": []}
    recovered, rerun = tmp_path / "recovered", dst / "data/sr/espcn_x2"
    shutil.copytree(rerun, recovered)
    model = _weights(dst / "models/sr/espcn_x2.keras")
    for stage in ("train_sr@espcn_x2", "super_resolve@espcn_x2"):
        _sh(f"dvc repro --force --single-item {stage}", dst, env)
    for a, b in zip(model, _weights(dst / "models/sr/espcn_x2.keras"), strict=True):
        np.testing.assert_array_equal(a, b)
    files = _files(recovered)
    assert files == _files(rerun)
    for rel in files:
        if rel.name != "speed.json":  # measured images per second
            assert (recovered / rel).read_bytes() == (rerun / rel).read_bytes(), rel
