"""srtwins.twins.stats: one classifier's scores, Holm's adjustment, the micro ROC and per-class accuracy, each
against a hand count or an outside computation."""
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from srtwins.twins import stats


def test_holm_against_a_hand_step_down():
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.06 (monotone), back in input order
    assert stats.holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_per_class_accuracy_equals_hand_counts():
    y = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    pred = np.array([0, 1, 0, 1, 0, 2, 2, 0, 2])
    got = stats.per_class_accuracy(y, pred, n_classes=4)
    assert got == pytest.approx([2 / 3, 1 / 2, 3 / 4, 0.0])


def test_micro_roc_is_monotone_ends_at_one_and_has_the_micro_auc():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 400)
    probs = rng.random((400, 4)) + 1.5 * np.eye(4)[y] * rng.random((400, 1))
    probs /= probs.sum(1, keepdims=True)
    fpr, tpr = stats.micro_roc(y, probs, points=2001)
    assert np.all(np.diff(tpr) >= 0) and tpr[-1] == pytest.approx(1.0) and fpr[0] == 0 and fpr[-1] == 1
    micro = roc_auc_score(np.eye(4)[y].ravel(), probs.ravel())
    assert np.trapezoid(tpr, fpr) == pytest.approx(micro, abs=2e-3)


def test_arm_scores_perfect_and_chance():
    y = np.arange(100) % 10
    perfect = np.eye(10)[y]
    assert stats.arm_scores(y, perfect) == {"accuracy": 1.0, "f1_macro": 1.0, "auc_macro": 1.0}
    flat = stats.arm_scores(y, np.full((100, 10), 0.1))
    assert flat["auc_macro"] == pytest.approx(0.5) and flat["accuracy"] == pytest.approx(0.1)


def test_rank_correlation_covers_zero_for_nets_of_equal_gains_and_needs_three():
    rng = np.random.default_rng(1)
    gains = (rng.random((4, 3000)) < 0.5).astype(float) - 0.5  # four nets, one expected gain
    got = stats.rank_correlation([1, 2, 3, 4], gains, n_boot=300)
    assert got["ci95_low"] < 0 < got["ci95_high"] and -1 <= got["spearman_rho"] <= 1
    ordered = np.arange(4)[:, None] * 0.1 + gains * 0.01
    assert stats.rank_correlation([1, 2, 3, 4], ordered, n_boot=100)["ci95_low"] == pytest.approx(1.0)
    assert stats.rank_correlation([1, 2], gains[:2])["spearman_rho"] is None


def test_holm_caps_at_one_and_keeps_ties():
    assert stats.holm([0.7, 0.9]) == [1.0, 1.0]
    assert stats.holm([0.02, 0.02, 0.5]) == pytest.approx([0.06, 0.06, 0.5])


def test_rank_correlation_percentile_interval_of_its_seeded_bootstrap():
    from scipy.stats import spearmanr
    rng = np.random.default_rng(2)
    gains = rng.random((3, 50))
    got = stats.rank_correlation([3, 1, 2], gains, n_boot=200, seed=7)
    boot = np.random.default_rng(7)
    reps = [spearmanr([3, 1, 2], gains[:, boot.integers(0, 50, 50)].mean(1)).statistic for _ in range(200)]
    assert (got["ci95_low"], got["ci95_high"]) == pytest.approx(tuple(np.nanpercentile(reps, [2.5, 97.5])))
    five = rng.random((5, 50)) + np.arange(5)[:, None] * 0.05
    draws = {tuple(stats.rank_correlation([1, 2, 3, 4, 5], five, n_boot=15, seed=s).values()) for s in (7, 8)}
    assert len(draws) == 2  # the seed is the bootstrap's
    assert stats.rank_correlation([1, 2], gains[:2]) == {"spearman_rho": None, "ci95_low": None, "ci95_high": None}
