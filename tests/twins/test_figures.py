"""The twin study's CSVs and figures (srtwins.report.plots.classifier_figures) read back against the runs the
test made: the confusion and ROC CSVs, and what the per-class and gain-vs-PSNR charts draw."""
import numpy as np
import pandas as pd
import pytest

from srtwins import paths
from srtwins.report import plots
from srtwins.twins.arms import Arm
from tests.helpers import CLASSES

N = 200
ARMS = [Arm("lr", "lr", ("lr",)), Arm("bicubic", "bicubic", ("lr",)),
        Arm("sr-espcn", "sr", ("espcn_x4", "espcn_x4_s1"), "espcn"), Arm("sr-fsrcnn", "sr", ("fsrcnn_x4",), "fsrcnn")]
CIFAR_SR = {"bicubic": {"psnr_y": 22.1}, "espcn": {"psnr_y": 22.7}, "fsrcnn": {"psnr_y": 22.5}}
GAINS = [("sr-espcn", "lr", -0.004), ("sr-espcn", "bicubic", 0.006), ("sr-fsrcnn", "bicubic", 0.003)]
TWINS = {f"{arm}_vs_{base}": {"kind": "sr", "arm": arm, "baseline": base, "net": arm[3:], "delta_accuracy": d,
                              "ci95_low": d - 0.01, "ci95_high": d + 0.02} for arm, base, d in GAINS}


@pytest.fixture
def drawn(tmp_path, monkeypatch):
    """classifier_figures on random runs (SR seeds x 2 classifier seeds): (labels, runs' probs, figures by name)."""
    monkeypatch.chdir(tmp_path)
    paths.raw(paths.CIFAR).mkdir(parents=True)
    (paths.raw(paths.CIFAR) / "classes.txt").write_text("\n".join(CLASSES) + "\n")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, N)
    probs = {a.name: rng.dirichlet(np.ones(10), (len(a.sources), 2, N)) + 0.3 * np.eye(10)[y] for a in ARMS}
    probs = {k: p / p.sum(-1, keepdims=True) for k, p in probs.items()}
    figures, save = {}, plots.save
    monkeypatch.setattr(plots, "save", lambda fig, path: (figures.setdefault(path.name, fig), save(fig, path)))
    report = {"twins": TWINS, "psnr_vs_gain": {"nets": ["espcn", "fsrcnn"], "spearman_rho": None}}
    plots.classifier_figures(ARMS, {k: (p, None) for k, p in probs.items()}, y, report, CIFAR_SR, tmp_path / "out")
    assert all((tmp_path / "out" / name).stat().st_size > 0 for name in figures)
    return y, probs, figures


def test_predictions_name_the_labels_and_the_first_runs_argmax(drawn, tmp_path):
    y, probs, _ = drawn
    for arm, p in probs.items():
        got = pd.read_csv(tmp_path / "out/predictions" / f"{arm}.csv")
        assert got["actual"].tolist() == [CLASSES[i] for i in y]
        assert got["predicted"].tolist() == [CLASSES[i] for i in p[0, 0].argmax(1)], arm
        assert not np.array_equal(p[0, 0].argmax(1), p[-1, -1].argmax(1))  # the first run is told from the last


def test_roc_is_monotone_ends_at_one_and_is_the_first_runs(drawn, tmp_path):
    """Each FPR's TPR against a count: the share of true-class scores above the score that FPR of the other
    classes' scores exceed (within one TPR step, 1 / N)."""
    y, probs, _ = drawn
    truth = np.eye(10, dtype=bool)[y]
    for arm, p in probs.items():
        roc = pd.read_csv(tmp_path / "out/roc" / f"{arm}.csv")
        assert np.all(np.diff(roc["tpr"]) >= 0) and roc["tpr"].iloc[-1] == 1 and roc["fpr"].iloc[-1] == 1
        first, other = p[0, 0][truth], p[0, 0][~truth]
        want = [np.mean(first > np.quantile(other, 1 - f)) for f in roc["fpr"]]
        np.testing.assert_allclose(roc["tpr"], want, atol=1 / N, err_msg=arm)


def test_per_class_chart_draws_each_arms_mean_over_its_runs(drawn):
    y, probs, figures = drawn
    ax = figures["per_class_accuracy.png"].axes[0]
    assert [c.get_label() for c in ax.containers] == [a.name for a in ARMS]
    assert [t.get_text() for t in ax.get_xticklabels()] == CLASSES
    for bars, arm in zip(ax.containers, ARMS):
        pred = probs[arm.name].argmax(-1).reshape(-1, N)
        want = [np.mean([np.mean(run[y == c] == c) for run in pred]) for c in range(10)]
        np.testing.assert_allclose([b.get_height() for b in bars], want, atol=1e-12)


def test_gain_chart_draws_each_sr_pair_at_its_psnr_with_its_interval(drawn):
    _, _, figures = drawn
    ax = figures["accuracy_gain_vs_psnr.png"].axes[0]
    assert [c.get_label() for c in ax.containers] == [f"{t['arm']} vs {t['baseline']}" for t in TWINS.values()]
    for bar, t in zip(ax.containers, TWINS.values()):
        point, _, (segments,) = bar.lines
        assert (point.get_xdata()[0], point.get_ydata()[0]) == (CIFAR_SR[t["net"]]["psnr_y"], t["delta_accuracy"])
        np.testing.assert_allclose(segments.get_segments()[0][:, 1], [t["ci95_low"], t["ci95_high"]], atol=1e-12)
    assert [list(line.get_xdata()) for line in ax.lines if line.get_linestyle() == "--"] == [[22.1, 22.1]]
    assert "rank correlation needs 3 or more nets (2 here)" in ax.get_title()
