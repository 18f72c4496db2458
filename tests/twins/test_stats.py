"""srtwins.twins.stats' decision statistics on synthetic seeds-by-images data: crossed mean, tests, Holm, share."""
import numpy as np
import pytest

from srtwins.twins import stats

MU = 0.02


def _simulate(rng, sr_seeds=3, classifier_seeds=3, images=500, sd_sr=0.01, sd_cls=0.01, sd_image=0.3, p=0.3):
    """Per-image differences from a known model: SR-seed, classifier-seed and image effects plus Bernoulli
    noise, all centred so that the population mean is MU."""
    a = rng.normal(0, sd_sr, (sr_seeds, 1, 1))
    b = rng.normal(0, sd_cls, (1, classifier_seeds, 1))
    g = rng.normal(0, sd_image, (1, 1, images))
    noise = (rng.random((sr_seeds, classifier_seeds, images)) < p) - p
    return MU + a + b + g + noise


def test_the_95_interval_covers_the_true_mean_at_about_its_level():
    rng = np.random.default_rng(0)
    rows = [stats.twin_test(_simulate(rng), margin=0.01) for _ in range(400)]
    covered = np.mean([r["ci95_low"] <= MU <= r["ci95_high"] for r in rows])
    assert 0.90 <= covered <= 0.99
    assert np.mean([r["p_superiority"] < 0.05 for r in rows]) == pytest.approx(1 - np.mean(
        [r["ci95_low"] <= 0 <= r["ci95_high"] for r in rows]))


def test_variance_components_add_up_to_the_squared_standard_error():
    r = stats.crossed_mean(_simulate(np.random.default_rng(1), sr_seeds=4, classifier_seeds=3))
    parts = r["var_sr_seed"] + r["var_classifier_seed"] + r["var_residual"] + r["var_images"]
    assert parts == pytest.approx(r["se"] ** 2, rel=1e-12)
    assert min(r["var_sr_seed"], r["var_classifier_seed"], r["var_residual"], r["var_images"]) >= 0
    assert (r["sr_seeds"], r["classifier_seeds"], r["images"]) == (4, 3, 500)


def test_additive_seed_effects_are_recovered_exactly():
    rows, cols, images = np.array([0.0, 0.02, 0.07]), np.array([0.01, -0.03, 0.0, 0.05]), np.linspace(-1, 1, 50)
    r = stats.crossed_mean(rows[:, None, None] + cols[None, :, None] + images)
    assert r["var_sr_seed"] == pytest.approx(rows.var(ddof=1) / 3)
    assert r["var_classifier_seed"] == pytest.approx(cols.var(ddof=1) / 4)
    assert r["var_residual"] == pytest.approx(0, abs=1e-15)
    assert r["var_images"] == pytest.approx(images.var(ddof=1) / 50)
    assert r["mean"] == pytest.approx(rows.mean() + cols.mean())


def test_two_way_form_reduces_to_one_factor_when_sr_seeds_do_not_matter():
    one = _simulate(np.random.default_rng(2), sr_seeds=1, classifier_seeds=5)[0]
    two, single = stats.crossed_mean(np.stack([one] * 3)), stats.crossed_mean(one)
    assert two["var_sr_seed"] == pytest.approx(0, abs=1e-15)
    for key in ("mean", "var_classifier_seed"):  # the image term's noise estimate counts the copies as runs
        assert two[key] == pytest.approx(single[key])


def test_interaction_only_runs_are_floored_at_the_noise_estimate():
    checker = np.array([[1.0, -1.0], [-1.0, 1.0]]) * 0.01
    d = checker[:, :, None] + np.linspace(-0.5, 0.5, 20)
    r = stats.crossed_mean(d)
    assert r["var_sr_seed"] == r["var_classifier_seed"] == 0
    assert r["var_residual"] == pytest.approx(np.sum(checker ** 2) / 4)
    assert r["se"] ** 2 == pytest.approx(r["var_residual"] + r["var_images"])


def test_one_factor_input_books_the_spread_to_the_seed_that_varies():
    d = _simulate(np.random.default_rng(3), sr_seeds=1, classifier_seeds=6)[0]
    r = stats.crossed_mean(d)
    assert (r["sr_seeds"], r["classifier_seeds"]) == (1, 6)
    assert r["var_classifier_seed"] == pytest.approx(d.mean(1).var(ddof=1) / 6)
    assert r["var_sr_seed"] == r["var_residual"] == 0
    assert r["df"] <= 5 + 499 and r["df"] >= 5
    by_sr = stats.crossed_mean(d[:, None, :])
    assert by_sr["var_sr_seed"] == pytest.approx(r["var_classifier_seed"]) and by_sr["var_classifier_seed"] == 0


def test_identical_runs_give_certain_tests_without_nan():
    r = stats.twin_test(np.zeros((2, 3, 10)), margin=0.01)
    assert r["se"] == 0 and r["mean"] == 0 and np.isfinite(r["df"])
    assert r["p_superiority"] == 1.0 and r["p_equivalence"] == 0.0
    assert r["ci95_low"] == r["ci95_high"] == 0


def test_twin_test_interval_and_tests_agree():
    rng = np.random.default_rng(4)
    for mu in (0.0, 0.05):
        d = _simulate(rng, sd_image=0.1) - MU + mu
        r = stats.twin_test(d, margin=0.02)
        assert (r["p_superiority"] < 0.05) == (not r["ci95_low"] <= 0 <= r["ci95_high"])
        assert r["ci95_low"] < r["mean"] < r["ci95_high"] and r["margin"] == 0.02
    wide = stats.twin_test(d, margin=1.0)
    assert wide["p_equivalence"] < 1e-6 and stats.twin_test(d, margin=0.0)["p_equivalence"] >= 0.5


def _row(mean, p_sup, p_eq):
    """A twin_test-like row with chosen p-values, so each verdict can be reached on purpose."""
    return {"mean": mean, "p_superiority": p_sup, "p_equivalence": p_eq, "se": 0.01}


def test_decide_all_gives_every_verdict_after_holm():
    rows = {"up": _row(0.05, 0.001, 0.001), "down": _row(-0.05, 0.002, 0.5), "same": _row(0.001, 0.8, 0.004),
            "unclear": _row(0.01, 0.3, 0.3), "borderline": _row(0.03, 0.02, 0.9)}
    got = stats.decide_all(rows, alpha=0.05)
    assert {k: r["verdict"] for k, r in got.items()} == {
        "up": "better", "down": "worse", "same": "equivalent", "unclear": "undecided", "borderline": "undecided"}
    assert got["borderline"]["p_superiority_adjusted"] == pytest.approx(0.06)
    assert got["same"]["p_equivalence_adjusted"] == pytest.approx(0.016)
    for family in ("p_superiority", "p_equivalence"):
        raw = [r[family] for r in rows.values()]
        adj = [got[k][family + "_adjusted"] for k in rows]
        assert all(a >= p for a, p in zip(adj, raw)) and max(adj) <= 1
        order = np.argsort(raw)
        assert np.all(np.diff(np.asarray(adj)[order]) >= 0)
    assert "verdict" not in rows["up"] and got["up"]["se"] == 0.01


def test_share_recovered_finds_half_the_gap():
    rng = np.random.default_rng(5)
    gap = (rng.random((3, 2000)) < 0.3).astype(float)
    sr = gap * (rng.random((2, 3, 2000)) < 0.5)
    r = stats.share_recovered(sr, gap)
    assert r["share"] == pytest.approx(0.5, abs=0.05)
    assert r["ci95_low"] <= 0.5 <= r["ci95_high"] and r["ci95_high"] - r["ci95_low"] < 0.2
    exact = stats.share_recovered(np.stack([0.5 * gap] * 2), gap)
    assert exact["share"] == pytest.approx(0.5) and exact["se"] == pytest.approx(0, abs=1e-12)


def test_share_recovered_is_undefined_without_a_gap_and_checks_shapes():
    assert stats.share_recovered(np.ones((2, 3, 5)), np.zeros((3, 5))) == dict.fromkeys(
        ("share", "se", "df", "ci95_low", "ci95_high"))
    with pytest.raises(ValueError, match="matched by seed"):
        stats.share_recovered(np.ones((2, 3, 5)), np.ones((4, 5)))


@pytest.mark.parametrize("shape", [(1, 1, 10), (1, 10)])
def test_a_single_run_is_refused_in_plain_words(shape):
    with pytest.raises(ValueError, match="at least 2 runs"):
        stats.crossed_mean(np.ones(shape))
