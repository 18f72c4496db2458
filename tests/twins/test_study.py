"""Twin-study pieces: arms, seeds, streamed super-resolution, and their bad input."""
import os
import re
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import yaml

from srtwins import SrtwinsError
from srtwins.config import twins
from srtwins.sr.superres import super_resolve_array
from srtwins.twins import arms, classifiers
from tests.conftest import ROOT


def _params(**classify_overrides):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["classify"].update(classify_overrides)
    return params


def test_arms_and_twins_of_the_study():
    study_arms, pairs = twins.study(_params())
    assert [a.name for a in study_arms] == ["lr", "bicubic", "hr", "sr-fsrcnn", "sr-espcn"]
    assert [(t.arm.name, t.baseline.name) for t in pairs] == [
        ("sr-fsrcnn", "lr"), ("sr-fsrcnn", "bicubic"), ("sr-espcn", "lr"), ("sr-espcn", "bicubic")]
    assert pairs[0].key == "sr-fsrcnn_vs_lr"
    assert study_arms[3].sources == ("fsrcnn_x4", "fsrcnn_x4_s1", "fsrcnn_x4_s2")


def test_hr_sr_arms_come_with_their_bicubic_control():
    study_arms, pairs = twins.study(_params(hr_sr=["fsrcnn"]))
    assert {"hr-bicubic", "hr-sr-fsrcnn"} <= {a.name for a in study_arms}
    assert ("hr-sr-fsrcnn", "hr-bicubic") in [(t.arm.name, t.baseline.name) for t in pairs]
    assert "hr-sr-espcn" not in {a.name for a in study_arms}  # only the nets hr_sr names
    with pytest.raises(SrtwinsError, match="'classify.hr_sr\\[0\\]' = 'srcnn' is not a net of classify.sr_runs"):
        twins.study(_params(hr_sr=["srcnn"]))


@pytest.mark.parametrize("change, needle", [
    ({"sr_runs": ["vdsr_x4"]}, "'classify.sr_runs[0]' = 'vdsr_x4' is not in sr.runs or sr.gan_runs"),
    ({"sr_runs": ["fsrcnn_x4", "fsrcnn_x4"]}, "duplicate"),
    ({"sr_seeds": 0}, "'classify.sr_seeds' = 0 must be >= 1"),
    ({"sr_seeds": 2}, "has 3 runs of fsrcnn with seeds [0, 1, 2]; classify.sr_seeds asks for 2"),
    ({"sr_runs": ["fsrcnn_x4", "fsrcnn_x4_s1", "espcn_x4"], "sr_seeds": 2}, "has 1 runs of espcn"),
    ({"sr_classifier_seeds": [0, 5]}, "'classify.sr_classifier_seeds[1]' = 5 is not in classify.seeds"),
    ({"sr_classifier_seeds": [0]}, "'classify.sr_classifier_seeds' has 1 seed(s); the classifier-seed variance"),
])
def test_bad_sr_arms_name_the_key(change, needle):
    with pytest.raises(SrtwinsError, match=re.escape(needle)):
        twins.study(_params(**change))
        twins.sr_classifier_seeds(_params(**change))


@pytest.mark.parametrize("seeds", [[0], []])
def test_controls_need_two_classifier_seeds(seeds):
    params = _params(seeds=seeds)
    needle = "must not be empty" if not seeds else "'classify.seeds' has 1 seed(s); the classifier-seed variance needs"
    with pytest.raises(SrtwinsError, match=re.escape(needle)):
        twins.seeds(params)
    with pytest.raises(SrtwinsError, match=re.escape(needle)):
        twins.training(params, "lr")


@pytest.mark.parametrize("value, needle", [(-0.1, "must be >= 0"), (1.5, "must be <= 1")])
def test_the_pairing_threshold_is_a_correlation(value, needle):
    params = _params()
    params["classify"]["decision"]["pairing_correlation"] = value
    with pytest.raises(SrtwinsError, match=re.escape(f"'classify.decision.pairing_correlation' = {value} {needle}")):
        twins.decision(params)


def test_an_sr_arm_needs_distinct_seeds():
    params = _params()
    params["sr"]["runs"]["fsrcnn_x4_s2"]["seed"] = 1
    with pytest.raises(SrtwinsError, match=re.escape("seeds [0, 1, 1]; classify.sr_seeds asks for 3 with distinct")):
        twins.study(params)


@pytest.mark.parametrize("margin, needle", [(0.0, "must be >= 1e-06"), (0.02, "must be <= 0.01")])
def test_the_margin_is_at_most_one_point(margin, needle):
    params = _params()
    params["classify"]["decision"]["margin"] = margin
    with pytest.raises(SrtwinsError, match=re.escape(f"'classify.decision.margin' = {margin} {needle}")):
        twins.decision(params)


def test_a_gan_seed_is_its_generators():
    from srtwins.config import run_seed

    params = _params()
    params["sr"]["runs"]["rrdb_x4"]["seed"] = 7
    assert run_seed(params, "esrgan_x4") == 7
    params["sr"]["gan_runs"]["esrgan_x4"]["seed"] = 3
    with pytest.raises(SrtwinsError, match="'sr.gan_runs.esrgan_x4.seed' must be its generator's seed"):
        run_seed(params, "esrgan_x4")


def test_arm_input_with_the_wrong_number_of_images(tmp_path, monkeypatch):
    from srtwins import paths
    from srtwins.twins import arm_inputs

    monkeypatch.chdir(tmp_path)
    for folder in (paths.raw(paths.CIFAR), paths.sr("espcn_x4", paths.CIFAR)):
        folder.mkdir(parents=True)
    np.save(paths.labels("test"), np.zeros(4, np.uint8))
    np.save(paths.array(paths.sr("espcn_x4", paths.CIFAR), "test"), np.zeros((3, 32, 32, 3), np.uint8))
    arm = arms.Arm("sr-espcn", "sr", ("espcn_x4",), "espcn")
    with pytest.raises(SrtwinsError, match="arm sr-espcn \\(espcn_x4, test\\): 3 images for 4 labels"):
        arm_inputs.images(arm, "espcn_x4", 4, "test")


def test_the_lr_arm_is_its_pixels_replicated(tmp_path, monkeypatch):
    from srtwins import paths
    from srtwins.twins import arm_inputs

    monkeypatch.chdir(tmp_path)
    lr = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    paths.lr(4, paths.CIFAR).mkdir(parents=True)
    paths.raw(paths.CIFAR).mkdir(parents=True)
    np.save(paths.array(paths.lr(4, paths.CIFAR), "train"), lr)
    np.save(paths.labels("train"), np.zeros(2, np.uint8))
    x = arm_inputs.images(arms.Arm("lr", "lr", ("lr",)), "lr", 4, "train")
    assert x.shape == (2, 32, 32, 3) and np.array_equal(x[:, ::4, ::4], lr) and np.array_equal(x[:, 3::4, 3::4], lr)


def test_classifiers_have_one_size_for_every_arm():
    assert classifiers.build("small_cnn", (32, 32, 3)).count_params() == 77_098
    assert classifiers.build("bn_cnn", (32, 32, 3), width=16).output_shape == (None, 10)
    assert classifiers.build("resnet", (32, 32, 3)).output_shape == (None, 10)
    with pytest.raises(SrtwinsError, match="^model = 'vgg' is not allowed"):
        classifiers.build("vgg", (32, 32, 3))


# ---- streamed super-resolution
class _Doubler:
    """Stands in for a Keras model: nearest-neighbour x2."""

    def __call__(self, x, training=False):
        return np.repeat(np.repeat(x, 2, 1), 2, 2)


def test_super_resolve_array_streams_a_valid_npy(tmp_path):
    lr = np.random.default_rng(0).integers(0, 256, (37, 4, 5, 3), dtype=np.uint8)
    rate = super_resolve_array(_Doubler(), lr, 2, tmp_path / "sr.npy", batch_size=8)
    out = np.load(tmp_path / "sr.npy")
    assert rate > 0 and out.shape == (37, 8, 10, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, np.repeat(np.repeat(lr, 2, 1), 2, 2))
    assert [p.name for p in tmp_path.iterdir()] == ["sr.npy"]


def test_super_resolve_array_wrong_model_scale_leaves_nothing(tmp_path):
    lr = np.zeros((4, 4, 4, 3), np.uint8)
    message = f"{tmp_path / 'sr.npy'}: the model made (8, 8, 3) images, expected (12, 12, 3)"
    with pytest.raises(SrtwinsError, match=f"^{re.escape(message)}$"):
        super_resolve_array(_Doubler(), lr, 3, tmp_path / "sr.npy", 8)
    assert not list(tmp_path.iterdir())


STATM = Path("/proc/self/statm")


class _Quadrupler:
    """Nearest-neighbour x4 that samples the process's resident memory at each batch: the pages of a
    memory-mapped output would stay resident, which the heap's peak (tracemalloc) does not see."""

    def __init__(self):
        self.resident = []

    def __call__(self, x, training=False):
        self.resident.append(int(STATM.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE"))
        return np.repeat(np.repeat(x, 4, 1), 4, 2)


def _memory(n, folder):
    """(heap peak, resident growth once the first 4 batches have set the heap) of super-resolving ``n`` 16x16
    images, 64 at a time."""
    lr, model = np.full((n, 16, 16, 3), 7, np.uint8), _Quadrupler()
    tracemalloc.start()
    try:
        super_resolve_array(model, lr, 4, folder / f"sr{n}.npy", batch_size=64)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, max(model.resident) - model.resident[4]


@pytest.mark.skipif(not STATM.exists(), reason="reads the resident memory from /proc")
def test_super_resolve_memory_does_not_grow_with_the_dataset(tmp_path):
    """4x the images (outputs of 12 MB and 49 MB): the heap's peak stays that of one batch (10 MB with its float
    copies), and the resident memory stays flat while the 49 MB are written. Keeping the outputs grows the peak
    by 74 MB; a memory-mapped output stays resident (46 MB)."""
    (small, _), (big, grown) = _memory(1000, tmp_path), _memory(4000, tmp_path)
    assert big - small < 1e6 and grown < 8e6, (small, big, grown)


def test_sr_param_errors_name_where_the_value_was_set():
    from srtwins.config import sr

    params = _params()
    params["sr"]["nets"]["srcnn"]["train"]["epochs"] = 0  # a per-net override
    with pytest.raises(SrtwinsError, match=r"'sr\.nets\.srcnn\.train\.epochs' = 0 must be >= 1"):
        sr.run(params, "srcnn_x4")
    params = _params()
    params["sr"]["train"]["data"] = ["t91", "imagenet"]
    with pytest.raises(SrtwinsError, match=r"'sr\.train\.data\[1\]' = 'imagenet' is not allowed"):
        sr.run(params, "srcnn_x4")


@pytest.mark.parametrize("change, needle", [
    ({"generator": "srresnet_x3"}, "'sr.gan_runs.srgan_x4.generator' = 'srresnet_x3' is not in sr.runs"),
    ({"generator": "srcnn_x4"}, "'srcnn_x4' does not train srresnet"),
    ({"scale": 3}, "'srresnet_x4' is not at x3"),
])
def test_a_gan_run_needs_its_generator_run_at_its_scale(change, needle):
    from srtwins.config import sr

    params = _params()
    params["sr"]["gan_runs"]["srgan_x4"].update(change)
    with pytest.raises(SrtwinsError, match=re.escape(needle)):
        sr.run(params, "srgan_x4")


@pytest.mark.parametrize("weight, needle", [(-0.1, "must be >= 0"), (float("nan"), "must be a finite number"),
                                            ("high", "must be an integer or a number")])
def test_gan_loss_weights_are_finite_and_non_negative(weight, needle):
    from srtwins.config import sr

    params = _params()
    params["sr"]["nets"]["srgan"]["gan"]["weights"]["adversarial"] = weight
    with pytest.raises(SrtwinsError, match=re.escape(needle)):
        sr.run(params, "srgan_x4")


def test_gan_nets_live_in_gan_runs_and_pixel_nets_in_runs():
    from srtwins.config import sr

    params = _params()
    params["sr"]["runs"]["srgan_x4"] = {"net": "srgan", "scale": 4}
    del params["sr"]["gan_runs"]["srgan_x4"]
    with pytest.raises(SrtwinsError, match="'sr.runs.srgan_x4.net' = 'srgan' belongs in sr.gan_runs"):
        sr.run(params, "srgan_x4")
    assert sr.run(_params(), "srgan_x4").arch == sr.run(_params(), "srresnet_x4").arch


def test_a_seed_replica_sets_only_its_seed():
    from srtwins.config import sr

    one, replica = sr.run(_params(), "fsrcnn_x4"), sr.run(_params(), "fsrcnn_x4_s1")
    assert (one.train.seed, replica.train.seed) == (0, 1) and replica.keys["seed"] == "sr.runs.fsrcnn_x4_s1.seed"
    assert {k: v for k, v in vars(one.train).items() if k != "seed"} == {
        k: v for k, v in vars(replica.train).items() if k != "seed"}
