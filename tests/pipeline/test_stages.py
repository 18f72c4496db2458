"""Bad input through the real stage entry points: one line naming the file or key, exit 1, no output."""
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from tests.conftest import ROOT, run_stage
from tests.helpers import jpeg_members, override, pin_jpeg_mirror, write_cifar_mirror, write_jpeg_mirror


def _params(tmp_path, **overrides):
    params = override(yaml.safe_load((ROOT / "params.yaml").read_text()), overrides)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))


def _assert_clean_failure(result, *needles, out):
    """Exit 1, the last stderr line is the one error line (progress bars may precede it), no traceback."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: ") and result.stderr.count("error: ") == 1, result.stderr
    for needle in needles:
        assert needle in line, line
    assert not out.exists(), f"{out} was left behind"
    assert not list(out.parent.glob(f".{out.name}.*")) if out.parent.exists() else True
    workdir = next((p for p in out.parents if (p / "params.yaml").is_file()), None)
    assert workdir is None or not list((workdir / ".srtwins-tmp").glob("*"))  # where temps live: nothing left


def _mirror_with(tmp_path, monkeypatch, real_mirror=None, n_per_batch=20):
    """A synthetic CIFAR-10 mirror (the binary folder, and a JPEG export of 100 + 20 images that the code's pins
    are set to); the SR sets linked from the real mirror when given."""
    mirror = tmp_path / "mirror"
    write_cifar_mirror(mirror, n_per_batch)
    write_jpeg_mirror(mirror, jpeg_members(train_per_class=10, test_per_class=2))
    pin_jpeg_mirror(monkeypatch, mirror)
    if real_mirror:
        for name in ("set5", "set14", "bsd100", "t91"):
            (mirror / name).symlink_to(real_mirror / name)
    return mirror


def test_missing_mirror(tmp_path):
    _params(tmp_path, **{"fetch.mirror": str(tmp_path / "nowhere")})
    r = run_stage("fetch", tmp_path, env={"SRTWINS_MIRROR": ""})
    _assert_clean_failure(r, "nowhere", "does not exist", out=tmp_path / "data/raw")


def test_subset_larger_than_source(call_stage, tmp_path, monkeypatch):
    mirror = _mirror_with(tmp_path, monkeypatch)
    _params(tmp_path, **{"cifar.train_size": 101})
    r = call_stage("fetch", tmp_path, env={"SRTWINS_MIRROR": str(mirror)})
    _assert_clean_failure(r, "params: 'cifar.train_size' = 101 but", "holds only 100", out=tmp_path / "data/raw")


def test_truncated_cifar_batch_in_mirror(call_stage, tmp_path, monkeypatch):
    mirror = _mirror_with(tmp_path, monkeypatch)
    batch = mirror / "cifar-10/cifar-10-batches-bin/data_batch_2.bin"
    batch.write_bytes(batch.read_bytes()[:-1000])
    _params(tmp_path, **{"cifar.train_size": 50, "cifar.test_size": 10})
    r = call_stage("fetch", tmp_path, env={"SRTWINS_MIRROR": str(mirror)})
    _assert_clean_failure(r, "data_batch_2.bin", "checksum mismatch", out=tmp_path / "data/raw")


def test_truncated_cifar_batch_listed_in_its_manifest(call_stage, tmp_path):
    """A mirror made from a truncated copy: the manifest agrees, the record check catches it."""
    mirror = tmp_path / "mirror"
    folder = mirror / "cifar-10/cifar-10-batches-bin"
    write_cifar_mirror(mirror)
    batch = folder / "data_batch_2.bin"
    batch.write_bytes(batch.read_bytes()[:-1000])
    write_cifar_mirror(mirror, rewrite_manifest_only=True)
    _params(tmp_path, **{"cifar.train_size": 50, "cifar.test_size": 10})
    r = call_stage("fetch", tmp_path, env={"SRTWINS_MIRROR": str(mirror)})
    _assert_clean_failure(r, "data_batch_2.bin", "truncated", out=tmp_path / "data/raw")


def test_corrupt_image_in_mirror(call_stage, tmp_path, monkeypatch, mirror):
    fake = _mirror_with(tmp_path, monkeypatch)
    for name in ("set14", "bsd100", "t91"):
        (fake / name).symlink_to(mirror / name)
    shutil.copytree(mirror / "set5", fake / "set5")
    (fake / "set5/butterfly.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    _params(tmp_path, **{"cifar.train_size": 50, "cifar.test_size": 10})
    r = call_stage("fetch", tmp_path, env={"SRTWINS_MIRROR": str(fake)})
    _assert_clean_failure(r, "set5/butterfly.png", "does not decode", out=tmp_path / "data/raw")


def test_fetch_from_mirror_writes_normalised_layout(call_stage, tmp_path, monkeypatch, mirror):
    fake = _mirror_with(tmp_path, monkeypatch, mirror)
    _params(tmp_path, **{"cifar.train_size": 50, "cifar.test_size": 10})
    r = call_stage("fetch", tmp_path, env={"SRTWINS_MIRROR": str(fake)})
    assert r.returncode == 0, r.stderr
    raw = tmp_path / "data/raw"
    assert np.load(raw / "cifar10/x_train.npy").shape == (50, 32, 32, 3)
    assert np.load(raw / "cifar10/y_test.npy").shape == (10,)
    assert len(list((raw / "bsd100").glob("*.png"))) == 100
    bridge = cv2.imread(str(raw / "set14/bridge.png"), cv2.IMREAD_UNCHANGED)
    assert bridge.ndim == 2  # grayscale stays single-channel


def test_images_per_set_keeps_the_first_images_of_each_sr_set(call_stage, tmp_path, monkeypatch, mirror):
    from srtwins.data.fetch import MANIFESTS, read_manifest

    fake = _mirror_with(tmp_path, monkeypatch, mirror)
    _params(tmp_path, **{"cifar.train_size": 50, "cifar.test_size": 10, "fetch.images_per_set": 3})
    r = call_stage("fetch", tmp_path, env={"SRTWINS_MIRROR": str(fake)})
    assert r.returncode == 0, r.stderr
    for name in ("set5", "set14", "bsd100", "t91"):
        first = [Path(row.path).stem for row in read_manifest(MANIFESTS / f"{name}.tsv")[:3]]
        assert sorted(p.stem for p in (tmp_path / "data/raw" / name).glob("*.png")) == sorted(first), name


@pytest.mark.parametrize("value, needle", [(0, "must be >= 1"), ("all", "must be an integer or null")])
def test_bad_images_per_set_names_the_key(call_stage, tmp_path, value, needle):
    _params(tmp_path, **{"fetch.images_per_set": value})
    r = call_stage("fetch", tmp_path)
    _assert_clean_failure(r, "fetch.images_per_set", needle, out=tmp_path / "data/raw")


@pytest.mark.parametrize("scales, needle", [([5], "degrade.scales"), ([], "degrade.scales"), (["2"], "degrade.scales")])
def test_degrade_rejects_bad_scales(call_stage, tmp_path, scales, needle):
    _params(tmp_path, **{"degrade.scales": scales})
    r = call_stage("degrade", tmp_path)
    _assert_clean_failure(r, needle, out=tmp_path / "data/lr")


def test_bad_fetch_source_names_the_key(tmp_path):
    _params(tmp_path, **{"fetch.source": "ftp"})
    r = run_stage("fetch", tmp_path)
    _assert_clean_failure(r, "fetch.source", "mirror, download", out=tmp_path / "data/raw")


def test_degrade_without_fetch_names_the_folder(call_stage, tmp_path):
    _params(tmp_path)
    r = call_stage("degrade", tmp_path)
    _assert_clean_failure(r, "data/raw/set5", out=tmp_path / "data/lr")


def _sr_params(tmp_path, runs, **overrides):
    _params(tmp_path, **{"sr.runs": runs, **overrides})


def test_train_sr_unknown_net(call_stage, tmp_path):
    _sr_params(tmp_path, {"vdsr_x2": {"net": "vdsr", "scale": 2}})
    r = call_stage("train_sr", tmp_path, args=["--run", "vdsr_x2"])
    _assert_clean_failure(r, "sr.runs.vdsr_x2.net", "'vdsr'", out=tmp_path / "models/sr/vdsr_x2.keras")


def test_train_sr_scale_the_net_cannot_do(call_stage, tmp_path):
    _sr_params(tmp_path, {"compact_x3": {"net": "compact", "scale": 3}})
    r = call_stage("train_sr", tmp_path, args=["--run", "compact_x3"])
    _assert_clean_failure(r, "compact cannot do x3", out=tmp_path / "models/sr/compact_x3.keras")


def test_train_sr_bad_training_param_names_the_key(call_stage, tmp_path):
    _sr_params(tmp_path, {"espcn_x2": {"net": "espcn", "scale": 2}}, **{"sr.train.loss": "huber"})
    r = call_stage("train_sr", tmp_path, args=["--run", "espcn_x2"])
    _assert_clean_failure(r, "sr.train.loss", "mse, l1", out=tmp_path / "models/sr/espcn_x2.keras")


def _cifar_arrays(tmp_path, n_train=20, n_test=10, lr_missing=0):
    raw, lr = tmp_path / "data/raw/cifar10", tmp_path / "data/lr/x4/cifar10"
    raw.mkdir(parents=True), lr.mkdir(parents=True)
    for split, n in (("train", n_train), ("test", n_test)):
        np.save(raw / f"y_{split}.npy", (np.arange(n) % 10).astype(np.uint8))
        np.save(raw / f"x_{split}.npy", np.zeros((n, 32, 32, 3), np.uint8))
        np.save(lr / f"x_{split}.npy", np.zeros((n - lr_missing, 8, 8, 3), np.uint8))


@pytest.mark.parametrize("overrides, needles", [
    ({"epochs": 0}, ["'epochs'", ">= 1"]),
    ({"classify.seeds": [0, -1]}, ["'classify.seeds[1]' = -1", ">= 0"]),
    ({"classify.seeds": [2**32]}, ["'classify.seeds[0]'", "<= 4294967295"]),
    ({"classify.recipe.model": "vgg"}, ["'classify.recipe.model' = 'vgg' is not allowed"]),
    ({"classify.recipe.label_smoothing": 0.7}, ["'classify.recipe.label_smoothing' = 0.7 must be <= 0.5"]),
])
def test_train_classifier_bad_params(call_stage, tmp_path, overrides, needles):
    _params(tmp_path, **overrides)
    _cifar_arrays(tmp_path)
    r = call_stage("train_classifier", tmp_path, args=["--source", "lr"])
    _assert_clean_failure(r, *needles, out=tmp_path / "models/cls/lr")


def test_train_classifier_source_that_is_not_an_arm_run(call_stage, tmp_path):
    _params(tmp_path)
    r = call_stage("train_classifier", tmp_path, args=["--source", "vdsr_x2"])
    _assert_clean_failure(r, "'vdsr_x2' is neither lr, hr nor an SR run", out=tmp_path / "models/cls/vdsr_x2")


def test_sr_runs_naming_an_untrained_net(call_stage, tmp_path):
    _params(tmp_path, **{"classify.sr_runs": ["vdsr_x2"]})
    r = call_stage("evaluate_classify", tmp_path)
    _assert_clean_failure(r, "'classify.sr_runs[0]' = 'vdsr_x2' is not in sr.runs or sr.gan_runs",
                          out=tmp_path / "metrics/classify.json")


@pytest.mark.parametrize("overrides, needles", [
    ({"classify.seeds": []}, ["classify.seeds", "must not be empty"]),
    ({"classify.decision.margin": 0.02}, ["'classify.decision.margin' = 0.02 must be <= 0.01"]),
    ({"classify.decision.margin": -0.01}, ["'classify.decision.margin' = -0.01 must be >= 1e-06"]),
    ({"classify.sr_seeds": 0}, ["'classify.sr_seeds' = 0 must be >= 1"]),
])
def test_evaluate_classify_bad_params(call_stage, tmp_path, overrides, needles):
    _params(tmp_path, **overrides)
    r = call_stage("evaluate_classify", tmp_path)
    _assert_clean_failure(r, *needles, out=tmp_path / "metrics/classify.json")


def test_train_classifier_cached_array_not_matching_labels(call_stage, tmp_path):
    _params(tmp_path)
    _cifar_arrays(tmp_path, lr_missing=1)
    r = call_stage("train_classifier", tmp_path, args=["--source", "lr"])
    _assert_clean_failure(r, "arm lr (lr, train)", "19 images for 20 labels", out=tmp_path / "models/cls/lr")




def test_super_resolve_with_a_corrupt_model_file(call_stage, tmp_path):
    _params(tmp_path, **{"sr.runs": {"espcn_x2": {"net": "espcn", "scale": 2}}, "classify.sr_runs": ["espcn_x2"]})
    (tmp_path / "models/sr").mkdir(parents=True)
    (tmp_path / "models/sr/espcn_x2.keras").write_bytes(b"PK\x03\x04 truncated")
    r = call_stage("super_resolve", tmp_path, args=["--run", "espcn_x2"])
    _assert_clean_failure(r, "models/sr/espcn_x2.keras", "not a loadable Keras model",
                          out=tmp_path / "data/sr/espcn_x2")


def test_super_resolve_with_its_input_missing(call_stage, tmp_path):
    _params(tmp_path, **{"sr.runs": {"espcn_x2": {"net": "espcn", "scale": 2}}, "classify.sr_runs": ["espcn_x2"]})
    from srtwins.sr import nets
    from srtwins.sr.train import save_model

    save_model(nets.build("espcn", 2), tmp_path / "models/sr/espcn_x2.keras")
    r = call_stage("super_resolve", tmp_path, args=["--run", "espcn_x2"])
    _assert_clean_failure(r, "data/lr/x2/set5", "not found", out=tmp_path / "data/sr/espcn_x2")
