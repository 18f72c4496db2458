"""srtwins.twins.decision on synthetic predictions: arms described, pairs decided by one rule (superiority and
equivalence, Holm-adjusted), the HR-bicubic gap and the share of it an SR arm recovers."""
import numpy as np
import pytest

from srtwins import SrtwinsError
from srtwins.config.twins import Decision
from srtwins.twins import decision
from srtwins.twins.arms import Arm, Twin

N, SEEDS, SR_SEEDS = 2000, [0, 1, 2], [0, 1]
RULE = Decision(alpha=0.05, margin=0.01)


def _correct(shape, accuracy, rng):
    return rng.random(shape) < accuracy


def _arm(name, kind, net=None):
    sources = (f"{net}_s0", f"{net}_s1", f"{net}_s2") if kind == "sr" else ("lr" if kind != "hr" else "hr",)
    return Arm(name, kind, sources, net)


def _study(accuracies, seed=0):
    """{arm: Arm}, {arm: correct} for controls (seeds, N) and SR arms (SR seeds, classifier seeds, N)."""
    rng = np.random.default_rng(seed)
    arms, correct = {}, {}
    for name, acc in accuracies.items():
        kind = "sr" if name.startswith("sr-") else name
        arms[name] = _arm(name, kind, name[3:] if kind == "sr" else None)
        shape = (3, len(SR_SEEDS), N) if kind == "sr" else (len(SEEDS), N)
        correct[name] = _correct(shape, acc, rng)
    runs = {name: (None, [{"params": 1000}]) for name in arms}
    return arms, correct, runs


PAIRING = [SEEDS.index(s) for s in SR_SEEDS]


def test_a_clearly_better_arm_wins_and_an_identical_one_is_equivalent():
    arms, correct, runs = _study({"sr-espcn": 0.9, "bicubic": 0.5, "lr": 0.9})
    correct["lr"] = correct["sr-espcn"][0, [0, 1, 1]]  # the lr runs paired with SR seed 0 are its copies
    correct["sr-espcn"] = np.stack([correct["sr-espcn"][0]] * 3)
    twins = [Twin(arms["sr-espcn"], arms["bicubic"]), Twin(arms["sr-espcn"], arms["lr"])]
    rows = decision.decide(twins, runs, correct, PAIRING, RULE)
    better, same = rows["sr-espcn_vs_bicubic"], rows["sr-espcn_vs_lr"]
    assert better["verdict"] == "better" and 0.35 < better["delta_accuracy"] < 0.45
    assert better["ci95_low"] > 0 and better["p_superiority"] <= better["p_superiority_adjusted"] <= 1
    assert same["delta_accuracy"] == 0 and same["verdict"] == "equivalent"
    assert better["images"] == N and (better["sr_seeds"], better["classifier_seeds"]) == (3, 2)


def test_twins_of_different_model_sizes_are_refused():
    arms, correct, runs = _study({"sr-espcn": 0.6, "bicubic": 0.5})
    runs["bicubic"] = (None, [{"params": 999}])
    with pytest.raises(SrtwinsError, match="differ in size"):
        decision.decide([Twin(arms["sr-espcn"], arms["bicubic"])], runs, correct, PAIRING, RULE)


def test_pairs_match_the_classifier_seed():
    arms, correct, _ = _study({"sr-espcn": 0.6, "bicubic": 0.5})
    d = decision.paired(correct, arms["sr-espcn"], arms["bicubic"], PAIRING)
    assert d.shape == (3, 2, N)
    np.testing.assert_array_equal(d[2, 1], correct["sr-espcn"][2, 1].astype(float) - correct["bicubic"][1])


def test_share_of_the_gap_recovered():
    arms, correct, _ = _study({"sr-espcn": 0.6, "bicubic": 0.5, "hr": 0.7}, seed=3)
    gap, shares = decision.gap_and_shares(list(arms.values()), correct, PAIRING, RULE)
    share = shares["sr-espcn"]
    assert 0.15 < gap["delta_accuracy"] < 0.25 and gap["ci95_low"] > 0
    assert share["ci95_low"] < 0.5 < share["ci95_high"] and 0.3 < share["share"] < 0.7


def test_describe_arm_averages_every_run_and_keeps_the_training_summary():
    y = np.arange(50) % 10
    probs = np.random.default_rng(0).random((3, 2, 50, 10))
    probs /= probs.sum(-1, keepdims=True)
    summary = {"params": 10, "flops": 1, "input_shape": [32, 32, 3], "train_images": 5, "test_images": 50,
               "train_seconds": 1.5}
    entry = decision.describe_arm(_arm("sr-espcn", "sr", "espcn"), y, (probs, [summary] * 3))
    per_run = [(p.argmax(1) == y).mean() for p in probs.reshape(6, 50, 10)]
    assert entry["accuracy"] == pytest.approx(np.mean(per_run)) and entry["runs"] == 6
    assert entry["accuracy_per_run"] == pytest.approx(per_run) and entry["train_seconds"] == 4.5
    assert entry["sr_runs"] == ["espcn_s0", "espcn_s1", "espcn_s2"] and entry["params"] == 10


def test_psnr_vs_gain_ranks_the_nets_by_their_psnr():
    arms, correct, _ = _study({"sr-a": 0.8, "sr-b": 0.6, "sr-c": 0.7, "bicubic": 0.5})
    twins = [Twin(arms[k], arms["bicubic"]) for k in ("sr-a", "sr-b", "sr-c")]
    got = decision.psnr_vs_gain(twins, correct, PAIRING, {"a": {"psnr_y": 30.0}, "b": {"psnr_y": 28.0},
                                                          "c": {"psnr_y": 29.0}})
    assert got["nets"] == ["a", "b", "c"] and got["spearman_rho"] == pytest.approx(1.0)
