"""Twin-study pieces: statistics, arms, streamed super-resolution, and their bad input."""
import re

import numpy as np
import pytest
import yaml

from srtwins import SrtwinsError
from srtwins.config import twins
from srtwins.sr.superres import super_resolve_array
from srtwins.twins import arms, classifiers, stats
from tests.conftest import ROOT


def _params(**classify_overrides):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["classify"].update(classify_overrides)
    return params


# ---- statistics
def test_arm_scores_perfect_and_chance():
    y = np.repeat(np.arange(10), 20)
    perfect = np.eye(10)[y] * 0.9 + 0.01
    got = stats.arm_scores(y, perfect)
    assert got == {"accuracy": 1.0, "f1_macro": 1.0, "auc_macro": 1.0}
    flat = np.full((200, 10), 0.1)
    assert stats.arm_scores(y, flat)["auc_macro"] == pytest.approx(0.5)


def test_mcnemar_on_run_ensembled_predictions():
    y = np.zeros(62, np.int64)
    hit, miss = np.eye(10)[0], np.eye(10)[1]
    # 10 images only A gets right, 2 only B: two-sided binomial p = 2 * P(X <= 2 | n=12, 0.5) = 0.0386
    a = np.array([hit] * 10 + [miss] * 2 + [hit] * 50)[None]
    b = np.array([miss] * 10 + [hit] * 2 + [hit] * 50)[None]
    got = stats.mcnemar_ensemble(a, b, y)
    assert (got["b"], got["c"]) == (10, 2) and got["p_value"] == pytest.approx(0.03857421875)
    assert stats.mcnemar_ensemble(a, a, y)["p_value"] == 1.0


def _folds(n, k=3):
    return np.arange(n) % k


def test_paired_bootstrap_detects_a_real_difference_and_not_a_null_one():
    rng = np.random.default_rng(0)
    a, b = rng.random((2, 2000)) < 0.70, rng.random((2, 2000)) < 0.50
    t = stats.paired_bootstrap(a, b, _folds(2000), n_boot=500)
    assert t["delta_accuracy"] == pytest.approx(a.mean() - b.mean()) and t["p_value"] < 1e-6
    assert t["ci95_low"] > 0 and (t["n_pairs"], t["runs"]) == (2000, 2)
    same = stats.paired_bootstrap(a, a, _folds(2000), n_boot=100)
    assert (same["delta_accuracy"], same["p_value"]) == (0.0, 1.0)


def test_paired_bootstrap_interval_and_p_agree_and_are_deterministic():
    rng = np.random.default_rng(1)
    for shift in (0.0, 0.02, 0.04, 0.06):
        a, b = rng.random((2, 1500)) < 0.5 + shift, rng.random((2, 1500)) < 0.5
        t = stats.paired_bootstrap(a, b, _folds(1500), n_boot=300)
        assert (t["p_value"] < 0.05) == (t["ci95_low"] > 0 or t["ci95_high"] < 0)
        assert t == stats.paired_bootstrap(a, b, _folds(1500), n_boot=300)


def test_paired_bootstrap_carries_the_spread_between_runs():
    agree = np.stack([np.arange(600) % 2 == 0] * 2)
    disagree = np.stack([np.ones(600, bool), np.zeros(600, bool)])
    base = np.zeros((2, 600), bool)
    se_agree = stats.paired_bootstrap(agree, base, _folds(600), n_boot=400)["se"]
    se_disagree = stats.paired_bootstrap(disagree, base, _folds(600), n_boot=400)["se"]
    assert se_disagree > 5 * se_agree  # both runs average 0.5, but they disagree with each other


def test_holm_against_a_hand_computed_example():
    # sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> monotone: 0.02, 0.03, 0.06, 0.06
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # 0.9 x 1 is raised to the earlier 1.0


def test_minimum_detectable_difference_and_verdict():
    assert stats.min_detectable_difference(0.01, 0.05, 0.8) == pytest.approx(0.028016, abs=1e-6)
    assert stats.verdict(+0.03, 0.01, "sr-x", "lr") == "sr-x better"
    assert stats.verdict(-0.03, 0.01, "sr-x", "lr") == "lr better"
    assert stats.verdict(+0.03, 0.06, "sr-x", "lr") == "no significant difference"


def test_rank_correlation_needs_three_nets():
    gains = np.random.default_rng(0).random((4, 50)) + np.arange(4)[:, None]
    got = stats.rank_correlation([1, 2, 3, 4], gains, n_boot=100)
    assert got["spearman_rho"] == pytest.approx(1.0) and got["ci95_low"] <= 1.0
    assert stats.rank_correlation([1, 2], gains[:2])["spearman_rho"] is None


# ---- folds and their bad input
def test_folds_are_stratified_fixed_and_cover_every_image():
    y = np.repeat(np.arange(10), 31)
    folds = stats.stratified_folds(y, 3)
    assert np.array_equal(folds, stats.stratified_folds(y, 3)) and set(folds) == {0, 1, 2}
    counts = np.array([[np.sum((folds == f) & (y == c)) for c in range(10)] for f in range(3)])
    assert counts.sum() == len(y) and (counts.max(0) - counts.min(0)).max() <= 1


@pytest.mark.parametrize("labels, k, needle", [
    (np.repeat(np.arange(10), 5), 1, "^folds = 1 must be >= 2"),
    (np.repeat(np.arange(10), 5), 6, "^folds = 6 is more than the 5 images of class 0"),
    (np.repeat(np.arange(9), 5), 2, "more than the 0 images of class 9"),
])
def test_folds_that_leave_a_class_without_test_images(labels, k, needle):
    with pytest.raises(SrtwinsError, match=needle):
        stats.stratified_folds(labels, k)


# ---- arms and their bad input
def test_arms_and_twins_of_the_study():
    params = _params(sr_runs=["fsrcnn_x2"], hr_sr=[])
    study_arms, pairs = twins.study(params)
    assert [a.name for a in study_arms] == ["lr", "bicubic", "hr", "sr-fsrcnn"]
    assert [(t.arm.name, t.baseline.name) for t in pairs] == [("sr-fsrcnn", "lr"), ("sr-fsrcnn", "bicubic")]
    assert pairs[0].key == "sr-fsrcnn_vs_lr" and study_arms[3].source == "fsrcnn_x2"


def test_hr_sr_arms_come_with_their_bicubic_control():
    study_arms, pairs = twins.study(_params(sr_runs=["fsrcnn_x2", "espcn_x2"], hr_sr=["fsrcnn_x2"]))
    assert {"hr-bicubic", "hr-sr-fsrcnn"} <= {a.name for a in study_arms}
    assert ("hr-sr-fsrcnn", "hr-bicubic") in [(t.arm.name, t.baseline.name) for t in pairs]
    assert "hr-sr-espcn" not in {a.name for a in study_arms}  # only the runs hr_sr names
    with pytest.raises(SrtwinsError, match="'classify.hr_sr\\[0\\]' = 'srcnn_x2' is not in classify.sr_runs"):
        twins.study(_params(sr_runs=["fsrcnn_x2"], hr_sr=["srcnn_x2"]))


@pytest.mark.parametrize("runs, needle", [
    (["vdsr_x2"], "'classify.sr_runs\\[0\\]' = 'vdsr_x2' is not in sr.runs or sr.gan_runs"),
    (["fsrcnn_x2", "fsrcnn_x2"], "duplicate"),
])
def test_sr_runs_that_do_not_exist(runs, needle):
    with pytest.raises(SrtwinsError, match=needle):
        twins.study(_params(sr_runs=runs))


def test_arm_input_with_the_wrong_number_of_images(tmp_path, monkeypatch):
    from srtwins import paths
    from srtwins.twins import arm_inputs

    monkeypatch.chdir(tmp_path)
    for folder in (paths.raw(paths.CIFAR), paths.sr("espcn_x2", paths.CIFAR)):
        folder.mkdir(parents=True)
    for split, n in (("train", 6), ("test", 4)):
        np.save(paths.labels(split), np.zeros(n, np.uint8))
        np.save(paths.array(paths.sr("espcn_x2", paths.CIFAR), split), np.zeros((n - 1, 32, 32, 3), np.uint8))
    with pytest.raises(SrtwinsError, match="arm sr-espcn: 8 images for 10 labels"):
        arm_inputs.images(arms.Arm("sr-espcn", "sr", "espcn_x2", "espcn"), 2)


def test_classifiers_have_one_size_for_every_input_size():
    sizes = {classifiers.build("small_cnn", (n, n, 3)).count_params() for n in (16, 32, 64, 128)}
    assert sizes == {77_098}
    assert classifiers.build("small_cnn", (8, 8, 3), grid=2).count_params() == 27_946
    with pytest.raises(SrtwinsError, match="^grid = 4 does not divide the 2x2"):
        classifiers.build("small_cnn", (8, 8, 3))
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
    with pytest.raises(SrtwinsError, match="expected"):
        super_resolve_array(_Doubler(), lr, 3, tmp_path / "sr.npy", 8)
    assert not list(tmp_path.iterdir())


MEMORY_SCRIPT = """
import resource, sys, tempfile, numpy as np
from srtwins.sr.superres import super_resolve_array

class Quadrupler:
    def __call__(self, x, training=False):
        return np.repeat(np.repeat(x, 4, 1), 4, 2)

n = int(sys.argv[1])
with tempfile.TemporaryDirectory() as tmp:
    with open(tmp + "/lr.npy", "wb") as f:  # written in chunks: the input never sits in memory
        np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": (n, 32, 32, 3)})
        for _ in range(n // 500):
            f.write(np.full((500, 32, 32, 3), 7, np.uint8).tobytes())
    lr = np.load(tmp + "/lr.npy", mmap_mode="r")
    super_resolve_array(Quadrupler(), lr, 4, tmp + "/sr.npy", batch_size=256)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


@pytest.mark.slow
def test_super_resolve_memory_does_not_grow_with_the_dataset():
    """8x the images: the output grows by 340 MB, peak RSS only by the memory-mapped input (21 MB)."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    def peak_mb(n):
        r = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(n)],
                           capture_output=True, text=True, env={"PYTHONPATH": str(ROOT)})
        assert r.returncode == 0, r.stderr
        return int(r.stdout.split()[-1])

    small, big = peak_mb(1000), peak_mb(8000)  # outputs of 49 MB and 393 MB
    assert big - small < 50, (small, big)


def test_sr_param_errors_name_where_the_value_was_set():
    from srtwins.config import sr

    params = _params()
    params["sr"]["nets"]["srcnn"]["train"]["epochs"] = 0  # a per-net override
    with pytest.raises(SrtwinsError, match=r"'sr\.nets\.srcnn\.train\.epochs' = 0 must be >= 1"):
        sr.run(params, "srcnn_x2")
    params = _params()
    params["sr"]["train"]["data"] = ["t91", "imagenet"]
    with pytest.raises(SrtwinsError, match=r"'sr\.train\.data\[1\]' = 'imagenet' is not allowed"):
        sr.run(params, "srcnn_x2")


@pytest.mark.parametrize("change, needle", [
    ({"generator": "srresnet_x3"}, "'sr.gan_runs.srgan_x2.generator' = 'srresnet_x3' is not in sr.runs"),
    ({"generator": "srcnn_x2"}, "'srcnn_x2' does not train srresnet"),
    ({"scale": 3}, "'srresnet_x2' is not at x3"),
])
def test_a_gan_run_needs_its_generator_run_at_its_scale(change, needle):
    from srtwins.config import sr

    params = _params()
    params["sr"]["gan_runs"]["srgan_x2"].update(change)
    with pytest.raises(SrtwinsError, match=re.escape(needle)):
        sr.run(params, "srgan_x2")


@pytest.mark.parametrize("weight, needle", [(-0.1, "must be >= 0"), (float("nan"), "must be a finite number"),
                                            ("high", "must be an integer or a number")])
def test_gan_loss_weights_are_finite_and_non_negative(weight, needle):
    from srtwins.config import sr

    params = _params()
    params["sr"]["nets"]["srgan"]["gan"]["weights"]["adversarial"] = weight
    with pytest.raises(SrtwinsError, match=re.escape(needle)):
        sr.run(params, "srgan_x2")


def test_gan_nets_live_in_gan_runs_and_pixel_nets_in_runs():
    from srtwins.config import sr

    params = _params()
    params["sr"]["runs"]["srgan_x2"] = {"net": "srgan", "scale": 2}
    del params["sr"]["gan_runs"]["srgan_x2"]
    with pytest.raises(SrtwinsError, match="'sr.runs.srgan_x2.net' = 'srgan' belongs in sr.gan_runs"):
        sr.run(params, "srgan_x2")
    assert sr.run(_params(), "srgan_x2").arch == sr.run(_params(), "srresnet_x2").arch
