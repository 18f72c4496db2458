"""srtwins.twins.decision on synthetic predictions: arms described, pairs decided by one rule, the gap and the
share of it an SR arm recovers, and evaluate() over probs.npy and train.json files in a folder."""
import json

import numpy as np
import pytest

from srtwins import SrtwinsError
from srtwins.config.twins import Decision
from srtwins.io import save_npy
from srtwins.twins import decision, pairs
from srtwins.twins.arms import Arm, Twin

N, SEEDS = 2000, (0, 1, 2)
RULE = Decision(alpha=0.05, margin=0.01, pairing_correlation=0.1)
SUMMARY = {"params": 1000, "flops": 1, "input_shape": [32, 32, 3], "train_images": 5, "test_images": N,
           "train_seconds": 1.5}


def _arm(name):
    kind = "sr" if name.startswith("sr-") else name
    sources = tuple(f"{name[3:]}_s{i}" for i in range(3)) if kind == "sr" else (("hr",) if kind == "hr" else ("lr",))
    return Arm(name, kind, sources, name[3:] if kind == "sr" else None)


def _study(accuracies, seed=0):
    """{arm: Arm}, {arm: pairs.Runs}: SR arms 3 SR seeds x 3 classifier seeds, controls 3 seeds."""
    rng = np.random.default_rng(seed)
    arms = {name: _arm(name) for name in accuracies}
    correct = {name: pairs.Runs((rng.random((3 if a.kind == "sr" else 1, 3, N)) < accuracies[name]).astype(float),
                                SEEDS) for name, a in arms.items()}
    runs = {name: (None, [SUMMARY]) for name in arms}
    return arms, correct, runs


def test_a_clearly_better_arm_wins_and_a_copy_is_equivalent_and_paired():
    arms, correct, runs = _study({"sr-espcn": 0.9, "bicubic": 0.5, "lr": 0.9})
    correct["lr"] = pairs.Runs(correct["sr-espcn"].x[:1], SEEDS)
    correct["sr-espcn"] = pairs.Runs(np.stack([correct["sr-espcn"].x[0]] * 3), SEEDS)
    twins = [Twin(arms["sr-espcn"], arms["bicubic"]), Twin(arms["sr-espcn"], arms["lr"])]
    rows = decision.decide(twins, runs, correct, RULE)
    better, same = rows["sr-espcn_vs_bicubic"], rows["sr-espcn_vs_lr"]
    assert better["verdict"] == "better" and 0.35 < better["delta_accuracy"] < 0.45 and not better["within_margin"]
    assert better["analysis"] == "unpaired" and better["sensitivity"]["analysis"] == "paired"
    assert better["ci95_low"] > 0 and better["p_superiority"] <= better["p_superiority_adjusted"] <= 1
    assert same["delta_accuracy"] == 0 and same["verdict"] == "equivalent" and same["analysis"] == "paired"
    assert better["runs"] == [9, 3] and set(better["components"]) == {"sr-espcn", "bicubic"}


def test_twins_of_different_model_sizes_are_refused():
    arms, correct, runs = _study({"sr-espcn": 0.6, "bicubic": 0.5})
    runs["bicubic"] = (None, [SUMMARY | {"params": 999}])
    with pytest.raises(SrtwinsError, match="differ in size"):
        decision.decide([Twin(arms["sr-espcn"], arms["bicubic"])], runs, correct, RULE)


def test_share_of_the_gap_uses_the_same_runs_as_the_gap():
    arms, correct, _ = _study({"sr-espcn": 0.6, "bicubic": 0.5, "hr": 0.7}, seed=3)
    gap, shares = decision.gap_and_shares(list(arms.values()), correct, RULE)
    share = shares["sr-espcn"]
    assert gap["delta_accuracy"] == pytest.approx(correct["hr"].x.mean() - correct["bicubic"].x.mean())
    sr_gain = correct["sr-espcn"].x.mean() - correct["bicubic"].x.mean()
    assert share["share"] == pytest.approx(sr_gain / gap["delta_accuracy"])
    assert share["ci95_low"] < 0.5 < share["ci95_high"] and gap["ci95_low"] > 0


def test_describe_arm_averages_every_run_and_keeps_timings_out():
    y = np.arange(50) % 10
    probs = np.random.default_rng(0).random((3, 2, 50, 10))
    probs /= probs.sum(-1, keepdims=True)
    entry = decision.describe_arm(_arm("sr-espcn"), y, (probs, [SUMMARY] * 3))
    per_run = [(p.argmax(1) == y).mean() for p in probs.reshape(6, 50, 10)]
    assert entry["accuracy"] == pytest.approx(np.mean(per_run)) and entry["runs"] == 6
    assert entry["accuracy_per_run"] == pytest.approx(per_run) and "train_seconds" not in entry
    assert entry["sr_runs"] == ["espcn_s0", "espcn_s1", "espcn_s2"] and entry["params"] == 1000
    assert decision.train_seconds({"sr-espcn": (probs, [SUMMARY] * 3)}) == {"sr-espcn": 4.5}


def test_psnr_vs_gain_ranks_the_nets_by_their_psnr():
    arms, correct, _ = _study({"sr-a": 0.8, "sr-b": 0.6, "sr-c": 0.7, "bicubic": 0.5})
    twins = [Twin(arms[k], arms["bicubic"]) for k in ("sr-a", "sr-b", "sr-c")]
    got = decision.psnr_vs_gain(twins, correct, {"a": {"psnr_y": 30.0}, "b": {"psnr_y": 28.0}, "c": {"psnr_y": 29.0}})
    assert got["nets"] == ["a", "b", "c"] and got["spearman_rho"] == pytest.approx(1.0)


def _write_run(root, arm, probs):
    for k, source in enumerate(arm.sources):
        folder = root / source / arm.name
        folder.mkdir(parents=True)
        save_npy(folder / "probs.npy", probs[k] if arm.kind == "sr" else probs)
        (folder / "train.json").write_text(json.dumps(SUMMARY))


def test_evaluate_reads_every_arm_from_its_folder_and_recomputes_by_hand(tmp_path):
    rng = np.random.default_rng(5)
    y = rng.integers(0, 10, 300)
    names = ["lr", "bicubic", "hr", "sr-espcn"]
    arms = {n: _arm(n) for n in names}
    probs = {n: rng.random(((3, 2) if n.startswith("sr-") else (3,)) + (300, 10)) for n in names}
    probs = {n: p / p.sum(-1, keepdims=True) for n, p in probs.items()}
    for n in names:
        _write_run(tmp_path, arms[n], probs[n])
    twins = [Twin(arms["sr-espcn"], arms["lr"]), Twin(arms["sr-espcn"], arms["bicubic"])]
    report, _, seconds = decision.evaluate(list(arms.values()), twins, y, [0, 1, 2], [2, 0], RULE,
                                           {"espcn": {"psnr_y": 22.0}}, root=tmp_path)
    acc = {n: (probs[n].argmax(-1) == y).mean() for n in names}
    row = report["twins"]["sr-espcn_vs_bicubic"]
    assert row["delta_accuracy"] == pytest.approx(acc["sr-espcn"] - acc["bicubic"], abs=1e-12)
    assert row["runs"] == [6, 3] and row["pairing"]["seeds"] == [2, 0]
    paired = (probs["sr-espcn"].argmax(-1) == y).mean() - (probs["bicubic"][[2, 0]].argmax(-1) == y).mean()
    assert row["sensitivity"]["delta_accuracy"] == pytest.approx(paired, abs=1e-12)
    assert report["arms"]["hr"]["accuracy"] == pytest.approx(acc["hr"])
    assert seconds == {"lr": 1.5, "bicubic": 1.5, "hr": 1.5, "sr-espcn": 4.5}


def test_evaluate_names_a_missing_or_misshapen_run(tmp_path):
    rng = np.random.default_rng(6)
    arm = _arm("lr")
    _write_run(tmp_path, arm, rng.random((2, 40, 10)))
    with pytest.raises(SrtwinsError, match=r"lr/lr/probs.npy: shape \(2, 40, 10\) does not match 3 seeds"):
        decision.load_arm(arm, 40, [0, 1, 2], root=tmp_path)
    with pytest.raises(SrtwinsError, match=r"hr/hr/probs.npy: not found"):
        decision.load_arm(_arm("hr"), 40, [0, 1, 2], root=tmp_path)


def test_a_row_names_its_arms_and_has_no_sensitivity_without_shared_seeds():
    arms, correct, runs = _study({"sr-espcn": 0.6, "bicubic": 0.5})
    correct["sr-espcn"] = pairs.Runs(correct["sr-espcn"].x, (3, 4, 5))  # no classifier seed in common
    row = decision.decide([Twin(arms["sr-espcn"], arms["bicubic"])], runs, correct, RULE)["sr-espcn_vs_bicubic"]
    assert {k: row[k] for k in ("arm", "baseline", "kind", "net", "params", "analysis", "sensitivity")} == {
        "arm": "sr-espcn", "baseline": "bicubic", "kind": "sr", "net": "espcn", "params": 1000,
        "analysis": "unpaired", "sensitivity": None}


def _paired_study(rng):
    """SR, bicubic and hr arms whose runs of one classifier seed share their per-image uniforms."""
    u = rng.random((1, 3, N))
    x = {"bicubic": (u < 0.5), "hr": (u < 0.8), "sr-espcn": np.concatenate([u < 0.55, u < 0.6, u < 0.57])}
    return {k: pairs.Runs(v.astype(float), SEEDS) for k, v in x.items()}


def test_the_share_is_paired_only_when_both_its_pairs_are():
    arms = [_arm(n) for n in ("bicubic", "hr", "sr-espcn")]
    correct = _paired_study(np.random.default_rng(8))
    gap, shares = decision.gap_and_shares(arms, correct, RULE)
    assert gap["analysis"] == "paired" and shares["sr-espcn"]["analysis"] == "paired"
    assert gap["pairing"]["paired"] and set(gap["components"]) == {"paired difference"}
    rng = np.random.default_rng(9)
    correct["hr"] = pairs.Runs((rng.random((1, 3, N)) < 0.8).astype(float), SEEDS)  # hr no longer paired
    gap, shares = decision.gap_and_shares(arms, correct, RULE)
    assert gap["analysis"] == "unpaired" and shares["sr-espcn"]["analysis"] == "unpaired"
    assert set(gap["components"]) == {"hr", "bicubic"}


def test_evaluate_reports_every_block(tmp_path):
    rng = np.random.default_rng(10)
    y = rng.integers(0, 10, 100)
    arms = {n: _arm(n) for n in ("lr", "bicubic", "hr", "sr-espcn")}
    for n, a in arms.items():
        p = rng.random(((3, 2) if n.startswith("sr-") else (3,)) + (100, 10))
        _write_run(tmp_path, a, p / p.sum(-1, keepdims=True))
    report, runs, _ = decision.evaluate(list(arms.values()), [Twin(arms["sr-espcn"], arms["lr"])], y, [0, 1, 2],
                                        [0, 1], RULE, {"espcn": {"psnr_y": 22.0}}, root=tmp_path)
    assert set(report) == {"arms", "twins", "gap_hr_vs_bicubic", "share_recovered", "psnr_vs_gain"}
    assert runs["sr-espcn"][0].shape == (3, 2, 100, 10) and report["arms"]["sr-espcn"]["runs"] == 6
    accs = report["arms"]["lr"]["accuracy_per_run"]
    assert report["arms"]["lr"]["accuracy_std"] == pytest.approx(np.std(accs, ddof=1))
    assert report["arms"]["lr"]["sr_runs"] == [] and report["psnr_vs_gain"]["spearman_rho"] is None
    hr_sr = decision.describe_arm(Arm("hr-sr-espcn", "hr-sr", ("e_s0", "e_s1")), y, (runs["sr-espcn"][0][:2],
                                                                                     [SUMMARY] * 2))
    assert hr_sr["sr_runs"] == ["e_s0", "e_s1"] and hr_sr["runs"] == 4
