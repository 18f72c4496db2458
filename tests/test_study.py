"""Twin-study pieces: statistics, arms, streamed super-resolution, and their bad input."""
import resource

import numpy as np
import pytest
import yaml

from srtwins import SrtwinsError, arms, classify, stats
from srtwins.superres import super_resolve_array
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


def test_mcnemar_exact_matches_binomial():
    a = np.array([True] * 10 + [False] * 2 + [True] * 50)
    b = np.array([False] * 10 + [True] * 2 + [True] * 50)
    # 10 vs 2 discordant pairs: two-sided binomial p = 2 * P(X <= 2 | n=12, 0.5) = 0.0386
    assert stats.mcnemar_exact(a, b) == pytest.approx(0.03857421875)
    assert stats.mcnemar_exact(a, a) == 1.0


def test_twin_delta_interval_covers_the_truth_and_narrows_with_data():
    rng = np.random.default_rng(0)
    a = rng.random((3, 4000)) < 0.55
    b = rng.random((3, 4000)) < 0.50
    t = stats.twin_delta(a, b, n_boot=500)
    assert t["ci95_low"] < 0.05 < t["ci95_high"]
    assert t["delta_accuracy"] == pytest.approx(a.mean() - b.mean())
    small = stats.twin_delta(a[:, :400], b[:, :400], n_boot=500)
    assert small["ci95_high"] - small["ci95_low"] > t["ci95_high"] - t["ci95_low"]


def test_twin_delta_carries_seed_spread():
    same = np.ones((1, 500), bool)
    one_seed = stats.twin_delta(same, same, n_boot=200)
    assert one_seed["ci95_low"] == one_seed["ci95_high"] == 0.0
    # two seeds that disagree: the interval must open up even though each seed is noise-free
    a = np.stack([np.ones(500, bool), np.zeros(500, bool)])
    b = np.stack([np.zeros(500, bool), np.zeros(500, bool)])
    spread = stats.twin_delta(a, b, n_boot=400)
    assert spread["ci95_low"] <= 0.0 and spread["ci95_high"] >= 1.0


# ---- arms and their bad input
def test_arms_resolve_to_the_folders_they_read():
    params = _params()
    assert arms.input_path(arms.resolve(params, "lr"), params) == "data/lr/x2/cifar10"
    assert arms.input_path(arms.resolve(params, "hr"), params) == "data/raw/cifar10"
    assert arms.resolve(params, "sr-srcnn").run == "srcnn_x2"


def test_hr_sr_arms_need_the_param_and_read_the_sr_folder():
    with pytest.raises(SrtwinsError, match="needs classify.hr_sr: true"):
        arms.resolve(_params(hr_sr=False), "hr-sr-srcnn")
    params = _params(hr_sr=True)
    arm = arms.resolve(params, "hr-sr-srcnn")
    assert (arm.kind, arm.run) == ("hr-sr", "srcnn_x2")
    assert arms.input_path(arm, params) == "data/sr/srcnn_x2/cifar10"


def test_unknown_arm_name():
    with pytest.raises(SrtwinsError, match="unknown arm 'upscaled'"):
        arms.resolve(_params(), "upscaled")


def test_arm_naming_an_untrained_net_is_refused():
    with pytest.raises(SrtwinsError, match="twin arm 'sr-edsr' needs SR run 'edsr_x2'"):
        arms.resolve(_params(), "sr-edsr")


def test_declared_input_must_match_what_the_arm_reads():
    params = _params(arms=[{"name": "lr", "input": "data/raw/cifar10"}])
    with pytest.raises(SrtwinsError, match="it reads 'data/lr/x2/cifar10'"):
        arms.check_declared(params, "lr")


def test_cached_array_that_does_not_match_labels():
    with pytest.raises(SrtwinsError, match="sr-x train: 9 images for 10 labels"):
        classify.check_inputs(np.zeros((9, 32, 32, 3), np.uint8), np.zeros(10), "sr-x train")


def test_classifiers_share_one_architecture_across_input_sizes():
    small, big = classify.build("small_cnn", (16, 16, 3)), classify.build("small_cnn", (32, 32, 3))
    assert [type(l).__name__ for l in small.layers] == [type(l).__name__ for l in big.layers]
    assert classify.build("resnet", (32, 32, 3)).output_shape == (None, 10)
    with pytest.raises(SrtwinsError, match="classify.model"):
        classify.build("vgg", (32, 32, 3))


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
        super_resolve_array(_Doubler(), lr, 3, tmp_path / "sr.npy")
    assert not list(tmp_path.iterdir())


MEMORY_SCRIPT = """
import resource, sys, tempfile, numpy as np
from srtwins.superres import super_resolve_array

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
    from srtwins import srconfig

    params = _params()
    params["sr"]["nets"]["srcnn"]["train"]["epochs"] = 0  # a per-net override
    with pytest.raises(SrtwinsError, match=r"'sr\.nets\.srcnn\.train\.epochs' = 0 must be >= 1"):
        srconfig.resolve(params, "srcnn_x2")
    params = _params()
    params["sr"]["train"]["data"] = ["t91", "div2k"]
    with pytest.raises(SrtwinsError, match=r"'sr\.train\.data\[1\]' = 'div2k' is not allowed"):
        srconfig.resolve(params, "srcnn_x2")
