"""srtwins.twins.pairs: both analyses of a pair, the pairing rule, the verdicts after Holm, the gap's share."""
import numpy as np
import pytest
from scipy import stats as sps

from srtwins.twins import crossed, pairs


def _bern(rng, shape, p):
    return (rng.random(shape) < p).astype(float)


def test_a_non_identity_pairing_matches_runs_by_seed_value():
    """Controls of seeds [4, 7, 9]; SR runs of classifier seeds [9, 4] copy their paired control exactly."""
    rng = np.random.default_rng(0)
    control = pairs.Runs(_bern(rng, (1, 3, 400), 0.5), (4, 7, 9))
    copies = np.stack([control.x[0, [2, 0]]] * 3)
    both = pairs.analyses([pairs.Runs(copies, (9, 4)), control], [1.0, -1.0], 0.1)
    assert both["pairing"]["seeds"] == [9, 4] and both["pairing"]["paired"]
    assert both["paired"]["mean"] == 0 and both["paired"]["se"] == 0 and both["paired"]["runs"] == [6, 2]
    assert pairs.primary(both) == ("paired", "unpaired")
    unpaired = both["unpaired"]  # every control run, seed 7 included
    assert unpaired["runs"] == [6, 3]
    assert unpaired["mean"] == pytest.approx(control.x[0, [2, 0]].mean() - control.x.mean())


def test_unrelated_runs_are_not_paired_and_every_run_is_used():
    rng = np.random.default_rng(1)
    sr = pairs.Runs(_bern(rng, (3, 2, 3000), 0.6), (0, 1))
    control = pairs.Runs(_bern(rng, (1, 3, 3000), 0.5), (0, 1, 2))
    both = pairs.analyses([sr, control], [1.0, -1.0], 0.1, ["sr-x", "bicubic"])
    assert not both["pairing"]["paired"] and pairs.primary(both) == ("unpaired", "paired")
    assert both["unpaired"]["mean"] == pytest.approx(sr.x.mean() - control.x.mean())
    assert both["paired"]["mean"] == pytest.approx(sr.x.mean() - control.x[0, :2].mean())
    assert set(both["unpaired"]["components"]) == {"sr-x", "bicubic"}
    assert set(both["paired"]["components"]) == {"paired difference"}


def test_pairing_needs_two_shared_seeds_and_one_arm_of_sr_seeds():
    rng = np.random.default_rng(2)
    a, b = pairs.Runs(_bern(rng, (2, 2, 50), 0.5), (0, 5)), pairs.Runs(_bern(rng, (1, 2, 50), 0.5), (0, 1))
    assert pairs.analyses([a, b], [1.0, -1.0], 0.1)["paired"] is None
    two_sr = [pairs.Runs(_bern(rng, (2, 2, 50), 0.5), (0, 1)) for _ in range(2)]
    assert pairs.analyses(two_sr, [1.0, -1.0], 0.1)["paired"] is None


def _row(mean, p_sup, p_eq):
    return {"mean": mean, "p_superiority": p_sup, "p_equivalence": p_eq, "se": 0.01}


def test_decide_all_gives_every_verdict_after_holm():
    rows = {"up": _row(0.05, 0.001, 0.001), "down": _row(-0.05, 0.002, 0.5), "same": _row(0.001, 0.8, 0.004),
            "unclear": _row(0.01, 0.3, 0.3), "borderline": _row(0.03, 0.02, 0.9)}
    got = pairs.decide_all(rows, alpha=0.05)
    assert {k: r["verdict"] for k, r in got.items()} == {
        "up": "better", "down": "worse", "same": "equivalent", "unclear": "undecided", "borderline": "undecided"}
    assert {k: r["within_margin"] for k, r in got.items()} == {
        "up": True, "down": False, "same": True, "unclear": False, "borderline": False}
    assert got["borderline"]["p_superiority_adjusted"] == pytest.approx(0.06)
    assert got["same"]["p_equivalence_adjusted"] == pytest.approx(0.016)
    assert got["up"]["p_equivalence_adjusted"] == pytest.approx(0.005)
    assert "verdict" not in rows["up"] and got["up"]["se"] == 0.01


def test_share_matches_a_hand_delta_method_value():
    rng = np.random.default_rng(3)
    bic = pairs.Runs(_bern(rng, (1, 3, 200), 0.5), (0, 1, 2))
    hr = pairs.Runs(_bern(rng, (1, 3, 200), 0.8), (0, 1, 2))
    sr = pairs.Runs(_bern(rng, (2, 3, 200), 0.6), (0, 1, 2))
    got = pairs.share(sr, bic, hr, False, 0.1, 0.05)
    gap = hr.x.mean() - bic.x.mean()
    s = (sr.x.mean() - bic.x.mean()) / gap
    z, _ = crossed.contrast([sr.x, bic.x, hr.x], [1.0, s - 1.0, -s])
    assert got["share"] == pytest.approx(s) and got["se"] == pytest.approx(z["se"] / gap)
    half = sps.t.ppf(0.975, z["df"]) * z["se"] / gap
    assert (got["ci95_low"], got["ci95_high"]) == pytest.approx((s - half, s + half))
    assert got["analysis"] == "unpaired"
    assert pairs.share(sr, bic, bic, False, 0.1, 0.05)["share"] is None


def test_share_interval_covers_when_numerator_and_gap_share_the_bicubic_runs():
    rng = np.random.default_rng(4)
    hits = []
    for _ in range(300):
        img = rng.normal(0, 1, 600)
        def arm(shape, mu):
            return (mu + img + rng.normal(0, 0.15, shape[:2] + (1,)) + rng.normal(0, 1, shape) > 0).astype(float)
        bic, hr, sr = arm((1, 3, 600), 0.0), arm((1, 3, 600), 0.4), arm((3, 3, 600), 0.1)
        got = pairs.share(*(pairs.Runs(x, (0, 1, 2)) for x in (sr, bic, hr)), False, 0.1, 0.05)
        truth = (sps.norm.cdf(0.1 / np.sqrt(2 + 0.0225)) - 0.5) / (sps.norm.cdf(0.4 / np.sqrt(2 + 0.0225)) - 0.5)
        hits.append(got["ci95_low"] <= truth <= got["ci95_high"])
    assert 0.92 <= np.mean(hits) <= 0.99


def test_verdicts_at_the_boundaries():
    row = {"mean": 0.0, "se": 0.01}
    at_alpha = pairs.decide_all({"a": row | {"p_superiority": 0.05, "p_equivalence": 0.05}}, 0.05)["a"]
    assert at_alpha["verdict"] == "undecided" and at_alpha["within_margin"] is False
    zero = pairs.decide_all({"a": row | {"p_superiority": 0.01, "p_equivalence": 0.9}}, 0.05)["a"]
    assert zero["verdict"] == "worse"  # better needs a positive difference


def _shared_uniforms(rng, accuracies, shape=(3, 3, 2000)):
    """Arms whose runs of one classifier seed share their uniforms: strongly paired, every pair."""
    u = rng.random((1,) + shape[1:])
    return [pairs.Runs((np.broadcast_to(u, (k,) + shape[1:]) < p).astype(float), (0, 1, 2)) for k, p in accuracies]


def test_share_by_paired_analysis_when_both_pairs_are_paired():
    rng = np.random.default_rng(6)
    sr, bic, hr = _shared_uniforms(rng, [(3, 0.6), (1, 0.5), (1, 0.8)])
    sr = pairs.Runs(np.clip(sr.x - (rng.random(sr.x.shape) < 0.05), 0, 1), sr.seeds)  # SR seeds differ a little
    paired = pairs.share(sr, bic, hr, True, 0.1, 0.05)
    unpaired = pairs.share(sr, bic, hr, False, 0.1, 0.05)
    assert paired["analysis"] == "paired" and unpaired["analysis"] == "unpaired"
    assert paired["share"] == pytest.approx(unpaired["share"]) and paired["se"] < unpaired["se"]
    z = pairs.analyses([sr, bic, hr], [1.0, paired["share"] - 1.0, -paired["share"]], 0.1)["paired"]
    gap = hr.x.mean() - bic.x.mean()
    assert paired["se"] == pytest.approx(z["se"] / gap) and paired["df"] == pytest.approx(z["df"])


def test_unpaired_only_analyses_say_so():
    rng = np.random.default_rng(7)
    both = pairs.analyses([pairs.Runs(_bern(rng, (2, 2, 40), 0.5), (0, 5)),
                           pairs.Runs(_bern(rng, (1, 2, 40), 0.5), (0, 1))], [1.0, -1.0], 0.1)
    assert both["pairing"] == {"seeds": [0], "paired": False} and both["unpaired"]["runs"] == [4, 2]
    assert pairs.primary(both) == ("unpaired", None)
