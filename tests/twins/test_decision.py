"""srtwins.twins.decision on synthetic predictions: arms described, pairs decided by one rule, Holm-adjusted."""
import numpy as np
import pytest

from srtwins import SrtwinsError
from srtwins.config.twins import Decision
from srtwins.twins import decision
from srtwins.twins.arms import Arm, Twin

N, SEEDS = 400, 2
RULE = Decision(rule="paired_bootstrap", alpha=0.05, power=0.8, bootstrap=200)


def _probs(y, accuracy, seed):
    """(SEEDS, N, 10) probabilities whose argmax is right on about ``accuracy`` of the images."""
    rng = np.random.default_rng(seed)
    probs = rng.random((SEEDS, len(y), 10)) * 0.1
    right = rng.random((SEEDS, len(y))) < accuracy
    wrong = (y + 1 + rng.integers(0, 9, (SEEDS, len(y)))) % 10
    label = np.where(right, y, wrong)
    np.put_along_axis(probs, label[..., None], 1.0, axis=2)
    return probs / probs.sum(2, keepdims=True)


def _study(accuracies, params=1000):
    y = np.arange(N) % 10
    folds = np.arange(N) % 2
    arms = {name: Arm(name, name.split("-")[0], "lr", "espcn" if name.startswith("sr") else None)
            for name in accuracies}
    runs = {name: (_probs(y, acc, i), folds, {"params": params, "flops": 1, "input_shape": [32, 32, 3],
                                               "models": SEEDS * 2, "val_accuracy_final": acc,
                                               "val_accuracy_gain_last_quarter": 0.0})
            for i, (name, acc) in enumerate(accuracies.items())}
    return y, folds, arms, runs


def test_a_clearly_better_arm_wins_and_a_copy_ties_after_holm():
    y, folds, arms, runs = _study({"sr-espcn": 0.9, "bicubic": 0.5, "lr": 0.9})
    runs["lr"] = (runs["sr-espcn"][0].copy(), folds, runs["sr-espcn"][2])  # an identical twin
    twins = [Twin(arms["sr-espcn"], arms["bicubic"]), Twin(arms["sr-espcn"], arms["lr"])]
    rows = decision.decide(twins, runs, y, folds, RULE)
    better, same = rows["sr-espcn_vs_bicubic"], rows["sr-espcn_vs_lr"]
    assert better["verdict"] == "sr-espcn better" and 0.3 < better["delta_accuracy"] < 0.5
    assert better["ci95_low"] > 0 and better["p_value"] <= better["p_adjusted"] <= 1
    assert same["delta_accuracy"] == 0 and same["verdict"] == "no significant difference"
    assert better["n_pairs"] == N and better["runs"] == SEEDS and better["min_detectable_difference"] > 0


def test_twins_of_different_model_sizes_are_refused():
    y, folds, arms, runs = _study({"sr-espcn": 0.6, "bicubic": 0.5})
    runs["bicubic"] = (runs["bicubic"][0], folds, {**runs["bicubic"][2], "params": 999})
    with pytest.raises(SrtwinsError, match="differ in size"):
        decision.decide([Twin(arms["sr-espcn"], arms["bicubic"])], runs, y, folds, RULE)


def test_describe_arm_averages_seeds_and_keeps_the_training_summary():
    y, _, _, runs = _study({"hr": 0.7})
    entry = decision.describe_arm(y, runs["hr"])
    per_seed = [(p.argmax(1) == y).mean() for p in runs["hr"][0]]
    assert entry["accuracy"] == pytest.approx(np.mean(per_seed))
    assert entry["accuracy_per_seed"] == pytest.approx(per_seed)
    assert entry["accuracy_std"] == pytest.approx(np.std(per_seed, ddof=1)) and entry["params"] == 1000


def test_psnr_vs_gain_ranks_the_nets_by_their_psnr():
    y, folds, arms, runs = _study({"sr-a": 0.8, "sr-b": 0.6, "sr-c": 0.7, "bicubic": 0.5})
    arms = {k: Arm(k, "sr" if k != "bicubic" else "bicubic", k, k[3:] if k != "bicubic" else None) for k in arms}
    twins = [Twin(arms[k], arms["bicubic"]) for k in ("sr-a", "sr-b", "sr-c")]
    got = decision.psnr_vs_gain(twins, runs, y, {"a": {"psnr_y": 30.0}, "b": {"psnr_y": 28.0},
                                                "c": {"psnr_y": 29.0}}, n_boot=100)
    assert got["nets"] == ["a", "b", "c"] and got["spearman_rho"] == pytest.approx(1.0)
