"""srtwins.twins.crossed against oracles outside it: mean squares from least-squares fits of nested dummy-coded
models, the grand mean's variance from known effects, the t tests from scipy's, and coverage by simulation."""
import numpy as np
import pytest
from scipy import stats as sps

from srtwins.twins import crossed


def _rss(y, factors):
    """Residual sum of squares of y on an intercept plus one-hot columns of the given factor codes."""
    cols = [np.ones(len(y))] + [np.eye(f.max() + 1)[f][:, 1:] for f in factors]
    x = np.column_stack(cols)
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    return float(np.sum((y - x @ beta) ** 2))


def _oracle_ss(x):
    """Sums of squares of the balanced three-way layout from nested regressions (order-free when balanced)."""
    i, j, n = x.shape
    a, b, c = (g.ravel() for g in np.meshgrid(np.arange(i), np.arange(j), np.arange(n), indexing="ij"))
    ab, ac, bc = a * j + b, a * n + c, b * n + c
    y = x.ravel()
    base = _rss(y, [])
    mains = _rss(y, [a, b, c])
    full = _rss(y, [a, b, c, ab, ac, bc])
    return {"sr_seed": base - _rss(y, [a]), "classifier_seed": base - _rss(y, [b]), "image": base - _rss(y, [c]),
            "sr_seed_x_classifier_seed": mains - _rss(y, [a, b, c, ab]),
            "sr_seed_x_image": mains - _rss(y, [a, b, c, ac]),
            "classifier_seed_x_image": mains - _rss(y, [a, b, c, bc]), "residual": full}


def test_mean_squares_match_nested_least_squares_fits():
    x = np.random.default_rng(0).normal(size=(3, 4, 6)) + np.arange(6) * 0.3
    got = crossed.table(x).ms
    dfs = {"sr_seed": 2, "classifier_seed": 3, "image": 5, "sr_seed_x_classifier_seed": 6, "sr_seed_x_image": 10,
           "classifier_seed_x_image": 15, "residual": 30}
    for term, ss in _oracle_ss(x).items():
        assert got[term][1] == dfs[term]
        assert got[term][0] == pytest.approx(ss / dfs[term], rel=1e-9), term


def test_additive_effects_give_the_grand_means_variance_exactly():
    sr, cls, images = np.array([0.0, 0.02, 0.07]), np.array([0.01, -0.03, 0.0, 0.05]), np.linspace(-1, 1, 50)
    row, _ = crossed.contrast([sr[:, None, None] + cls[None, :, None] + images], [1.0])
    assert row["var_seeds"] == pytest.approx(sr.var(ddof=1) / 3 + cls.var(ddof=1) / 4, rel=1e-9)
    assert row["var_images"] == pytest.approx(images.var(ddof=1) / 50, rel=1e-9)
    assert row["se"] ** 2 == pytest.approx(row["var_seeds"] + row["var_images"], rel=1e-12)
    assert row["mean"] == pytest.approx(sr.mean() + cls.mean())


def test_df_is_satterthwaites_on_a_fixed_array():
    x = np.random.default_rng(1).normal(size=(3, 2, 40))
    x += np.array([0.0, 0.4, 0.9])[:, None, None] + np.array([0.0, 0.5])[None, :, None] + np.linspace(-2, 2, 40)
    ms = {k: v / d for k, v in _oracle_ss(x).items() for d in [crossed.table(x).ms[k][1]]}
    i, j, n = x.shape
    df = {"sr_seed": 2, "classifier_seed": 1, "sr_seed_x_classifier_seed": 2, "sr_seed_x_image": 78,
          "classifier_seed_x_image": 39, "residual": 78}
    # the seed mains (sr + cls - sr x cls - sr x image - cls x image + residual) and the churn (sr x image +
    # cls x image - residual), each mean square over I J N, as the two parts the docs name
    mains = {"sr_seed": 1, "classifier_seed": 1, "sr_seed_x_classifier_seed": -1, "sr_seed_x_image": -1,
             "classifier_seed_x_image": -1, "residual": 1}
    churn = {"sr_seed_x_image": 1, "classifier_seed_x_image": 1, "residual": -1}
    terms = [(c * ms[k] / (i * j * n), df[k]) for part in (mains, churn) for k, c in part.items()]
    image = (ms["image"] - ms["sr_seed_x_image"] - ms["classifier_seed_x_image"] + ms["residual"]) / (i * j * n)
    row, _ = crossed.contrast([x], [1.0])
    seeds = sum(v for v, _ in terms)
    whole = (ms["sr_seed"] + ms["classifier_seed"] - ms["sr_seed_x_classifier_seed"]) / (i * j * n)
    assert row["var_seeds"] == pytest.approx(whole, rel=1e-9) and seeds == pytest.approx(whole, rel=1e-9)
    assert row["var_images"] == pytest.approx(image, rel=1e-9)
    hand = (seeds + image) ** 2 / (sum(v * v / d for v, d in terms) + image ** 2 / (n - 1))
    assert row["df"] == pytest.approx(hand, rel=1e-9)
    assert row["df_seeds"] == pytest.approx(seeds ** 2 / sum(v * v / d for v, d in terms), rel=1e-9)
    assert 1 < row["df"] < 6  # the seeds dominate: the images' 39 df are not borrowed


def test_truncated_seed_mains_keep_the_churn():
    """Runs that differ only per image (no seed main effect) keep the churn the run means carry."""
    x = np.random.default_rng(2).normal(size=(3, 3, 400))
    x -= x.mean(2, keepdims=True)  # run means all equal: the mains' estimate is negative
    row, (t,) = crossed.contrast([x], [1.0])
    churn = crossed.image_noise(t) / 400
    assert row["var_seeds"] == pytest.approx(churn) and churn > 0
    assert sum(v for v, _ in crossed.seed_terms(t, crossed.MAINS)) < 0
    assert row["df_seeds"] == pytest.approx(crossed.satterthwaite(crossed.seed_terms(t, crossed.CHURN)))


def test_satterthwaite_against_hand_values_and_its_floor():
    assert crossed.satterthwaite([(2.0, 4), (1.0, 2)]) == pytest.approx(9 / (4 / 4 + 1 / 2))
    assert crossed.satterthwaite([(2.0, 1), (-1.9, 1)]) == 1.0  # the formula gives 0.0014
    assert crossed.satterthwaite([(0.0, 3), (0.0, 7)]) == 3.0


def test_coverage_when_seeds_dominate():
    """Seed sd 0.02 against image sd 0.05: the interval must widen with few seeds' df, not the images'."""
    rng = np.random.default_rng(3)
    hits = []
    for _ in range(600):
        x = (rng.normal(0, 0.02, (3, 1, 1)) + rng.normal(0, 0.02, (1, 3, 1)) + rng.normal(0, 0.05, (1, 1, 300))
             + rng.normal(0, 0.05, (3, 3, 300)))
        row, _ = crossed.contrast([x], [1.0])
        lo, hi = (row["mean"] + s * sps.t.ppf(0.975, row["df"]) * row["se"] for s in (-1, 1))
        hits.append(lo <= 0 <= hi)
        assert row["df"] < 12
    assert 0.92 <= np.mean(hits) <= 0.985


def test_equivalence_p_is_scipys_two_one_sided_t_tests():
    runs = np.array([0.004, -0.002, 0.009, 0.001, 0.006])
    x = np.repeat(runs[None, :, None], 7, axis=2)  # one value per run: a one-sample t test on the run means
    row, _ = crossed.contrast([x], [1.0])
    got = crossed.interval(row, alpha=0.05, margin=0.01)
    low = sps.ttest_1samp(runs, -0.01, alternative="greater").pvalue
    high = sps.ttest_1samp(runs, 0.01, alternative="less").pvalue
    assert got["p_equivalence"] == pytest.approx(max(low, high), rel=1e-9)
    assert got["p_superiority"] == pytest.approx(sps.ttest_1samp(runs, 0).pvalue, rel=1e-9)
    ci = sps.ttest_1samp(runs, 0).confidence_interval(0.95)
    assert (got["ci95_low"], got["ci95_high"]) == pytest.approx((ci.low, ci.high), rel=1e-9)


@pytest.mark.parametrize("mean", np.linspace(-0.02, 0.02, 17))
def test_equivalent_exactly_when_the_1_minus_2_alpha_interval_is_inside_the_margin(mean):
    row = {"mean": float(mean), "se": 0.003, "df": 4.0}
    inner = crossed.interval(row, alpha=0.10, margin=0.01)  # its interval is the 1 - 2 * 0.05 one
    inside = -0.01 < inner["ci95_low"] and inner["ci95_high"] < 0.01
    assert (crossed.interval(row, alpha=0.05, margin=0.01)["p_equivalence"] < 0.05) == inside


def test_identical_runs_give_certain_tests_without_nan():
    row, _ = crossed.contrast([np.zeros((2, 3, 10))], [1.0])
    got = crossed.interval(row, 0.05, 0.01)
    assert row["se"] == 0 and np.isfinite(row["df"]) and row["df"] >= 1
    assert got["p_superiority"] == 1.0 and got["p_equivalence"] == 0.0 and got["ci95_low"] == got["ci95_high"] == 0
    shifted, _ = crossed.contrast([np.full((2, 3, 10), 0.5)], [1.0])
    assert crossed.interval(shifted, 0.05, 0.01)["p_superiority"] == 0.0


def test_components_recover_known_effects_and_name_their_levels():
    rng = np.random.default_rng(4)
    i, j, n = 4, 4, 3000
    x = rng.normal(0, 1.0, (1, 1, n)) + rng.normal(0, 0.5, (i, 1, n)) + rng.normal(0, 0.7, (1, j, n)) + rng.normal(
        0, 0.3, (i, j, n))
    got = crossed.components(crossed.table(x))
    for term, var in (("image", 1.0), ("sr_seed_x_image", 0.25), ("classifier_seed_x_image", 0.49),
                      ("residual", 0.09)):
        assert got[term]["variance"] == pytest.approx(var, rel=0.1), term
    assert got["sr_seed_x_image"]["levels"] == {"sr_seed": i, "image": n} and got["residual"]["df"] == 9 * (n - 1)
    assert got["sr_seed"]["df"] == 3 and got["sr_seed"]["levels"] == {"sr_seed": i}


def test_a_control_table_has_only_classifier_seed_terms():
    x = np.random.default_rng(5).random((1, 3, 20))
    t = crossed.table(x)
    assert set(crossed.components(t)) == {"classifier_seed", "image", "classifier_seed_x_image"}
    assert crossed.image_noise(t) == pytest.approx(t.ms["classifier_seed_x_image"][0] / 3)
    row, _ = crossed.contrast([x], [1.0])  # runs closer than their churn allows: floored at the churn
    assert x.mean(2).var(ddof=1) / 3 < row["var_seeds"] == pytest.approx(crossed.image_noise(t) / 20)
    spread = x + np.array([0.0, 0.3, 0.7])[None, :, None]
    row, _ = crossed.contrast([spread], [1.0])
    assert row["var_seeds"] == pytest.approx(spread.mean(2).var(ddof=1) / 3) and 1.9 < row["df_seeds"] <= 2


def test_same_seed_correlation_sees_copies_and_not_independent_runs():
    rng = np.random.default_rng(6)
    a = (rng.random((3, 3, 2000)) < 0.5).astype(float)
    copy = crossed.same_seed_correlation(a, a[:1])
    assert copy["correlation"] == pytest.approx(np.corrcoef(*(
        (m - m.mean(0) - m.mean(1)[:, None] + m.mean()).ravel() for m in (a.mean(0), a[0])))[0, 1])
    indep = crossed.same_seed_correlation(a, (rng.random((1, 3, 2000)) < 0.5).astype(float))
    assert abs(indep["correlation"]) < 0.05 and indep["lower95"] < 0 < copy["lower95"] < copy["correlation"]
    width = copy["correlation"] - copy["lower95"]
    z = np.arctanh(copy["correlation"])
    assert width == pytest.approx(copy["correlation"] - np.tanh(z - 1.959964 / np.sqrt(2 * 1999 - 3)))
    assert crossed.same_seed_correlation(np.ones((1, 2, 5)), np.ones((1, 2, 5)))["correlation"] is None


@pytest.mark.parametrize("shape", [(1, 1, 10), (3, 10), (2, 3, 1)])
def test_too_few_runs_or_images_are_refused_in_plain_words(shape):
    with pytest.raises(ValueError, match="classifier seeds >= 2, images >= 2"):
        crossed.table(np.ones(shape))


def test_unpaired_contrast_adds_each_arms_seeds_and_the_shared_images_once():
    rng = np.random.default_rng(7)
    img = rng.normal(0, 1, 500)
    a = img + rng.normal(0, 0.5, (3, 3, 500))
    b = img[None, None] + rng.normal(0, 0.5, (1, 3, 500))
    row, (ta, tb) = crossed.contrast([a, b], [1.0, -1.0])
    parts = [sum(v for t in (ta, tb) for v, _ in crossed.seed_terms(t, c)) for c in (crossed.MAINS, crossed.CHURN)]
    assert row["var_seeds"] == pytest.approx(max(parts[0], 0) + parts[1])
    e = a.mean((0, 1)) - b.mean((0, 1))
    assert row["var_images"] == pytest.approx(max(0.0, (e.var(ddof=1) - crossed.image_noise(ta)
                                                        - crossed.image_noise(tb)) / 500))
    assert row["mean"] == pytest.approx(a.mean() - b.mean())


def test_components_are_the_expected_mean_square_solutions():
    rng = np.random.default_rng(8)
    i, j, n = 3, 4, 30
    x = (rng.normal(0, 2, (i, 1, 1)) + rng.normal(0, 2, (1, j, 1)) + rng.normal(0, 2, (1, 1, n))
         + rng.normal(0, 1, (i, j, 1)) + rng.normal(0, 1, (i, 1, n)) + rng.normal(0, 1, (1, j, n))
         + rng.normal(0, 0.3, (i, j, n)))
    ms = {k: v / d for k, v in _oracle_ss(x).items() for d in [crossed.table(x).ms[k][1]]}
    e = ms["residual"]
    want = {"sr_seed": (ms["sr_seed"] - ms["sr_seed_x_classifier_seed"] - ms["sr_seed_x_image"] + e) / (j * n),
            "classifier_seed": (ms["classifier_seed"] - ms["sr_seed_x_classifier_seed"]
                                - ms["classifier_seed_x_image"] + e) / (i * n),
            "image": (ms["image"] - ms["sr_seed_x_image"] - ms["classifier_seed_x_image"] + e) / (i * j),
            "sr_seed_x_classifier_seed": (ms["sr_seed_x_classifier_seed"] - e) / n,
            "sr_seed_x_image": (ms["sr_seed_x_image"] - e) / j,
            "classifier_seed_x_image": (ms["classifier_seed_x_image"] - e) / i, "residual": e}
    got = crossed.components(crossed.table(x))
    for term, value in want.items():
        assert value > 0 and got[term]["variance"] == pytest.approx(value, rel=1e-9), term
    assert got["classifier_seed_x_image"]["levels"] == {"classifier_seed": j, "image": n}
    assert got["sr_seed_x_classifier_seed"]["levels"] == {"sr_seed": i, "classifier_seed": j}
    assert got["image"]["levels"] == {"image": n} and got["residual"]["levels"] == {}


def test_same_seed_correlation_reads_booleans_and_names_an_undefined_one():
    rng = np.random.default_rng(9)
    a, b = rng.random((2, 3, 500)) < 0.5, rng.random((1, 3, 500)) < 0.5
    assert crossed.same_seed_correlation(a, b) == crossed.same_seed_correlation(a.astype(float), b.astype(float))
    assert crossed.same_seed_correlation(np.ones((1, 2, 5)), np.ones((1, 2, 5))) == {
        "correlation": None, "lower95": None, "seeds": 2}
