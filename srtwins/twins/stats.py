"""Classification metrics and the twin study's statistics: folds, one paired test, Holm, detectable size."""
import numpy as np
from scipy.stats import binomtest, norm, spearmanr
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedKFold

from srtwins import BadValue

Z95 = float(norm.ppf(0.975))


def arm_scores(y, probs):
    """accuracy, macro F1 and macro one-vs-rest AUC (from softmax probabilities) for one classifier."""
    pred = probs.argmax(1)
    return {"accuracy": float(accuracy_score(y, pred)),
            "f1_macro": float(f1_score(y, pred, average="macro")),
            "auc_macro": float(roc_auc_score(y, probs, multi_class="ovr", average="macro",
                                             labels=np.arange(probs.shape[1])))}


def per_class_accuracy(y, pred, n_classes=10):
    cm = confusion_matrix(y, pred, labels=np.arange(n_classes))
    return cm.diagonal() / np.maximum(cm.sum(1), 1)


def micro_roc(y, probs, points=101):
    """Micro-averaged one-vs-rest ROC, resampled on a fixed FPR grid."""
    onehot = np.eye(probs.shape[1])[y]
    fpr, tpr, _ = roc_curve(onehot.ravel(), probs.ravel())
    grid = np.linspace(0, 1, points)
    return grid, np.interp(grid, fpr, tpr)



def stratified_folds(y, k, seed=0):
    """Fold id (0..k-1) per image, stratified by class and fixed by ``seed``: each image is tested once."""
    counts = np.bincount(np.asarray(y), minlength=10)
    if k < 2:
        raise BadValue("folds", f"= {k} must be >= 2")
    if counts.min() < k:
        c = int(counts.argmin())
        raise BadValue("folds", f"= {k} is more than the {counts[c]} images of class {c}; "
                                "some fold would have no test image of that class")
    folds = np.empty(len(y), np.int64)
    for fold, (_, test) in enumerate(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)):
        folds[test] = fold
    return folds


def paired_bootstrap(correct_a, correct_b, folds, n_boot=2000, seed=0):
    """Mean accuracy difference A - B over runs and images, with a Wald test and interval.

    ``correct_*``: (runs, images) booleans of paired predictions. The standard error is bootstrapped:
    each replicate resamples runs (when there are several) and images within each fold, so it carries
    both the training-run spread and the test-sampling error. p < 0.05 exactly when the interval excludes 0.
    """
    diff = np.asarray(correct_a, np.float64) - np.asarray(correct_b, np.float64)
    n_runs, n = diff.shape
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(folds == f) for f in np.unique(folds)]
    reps = np.empty(n_boot)
    for i in range(n_boot):
        rows = rng.integers(0, n_runs, n_runs) if n_runs > 1 else np.zeros(1, np.int64)
        cols = np.concatenate([m[rng.integers(0, len(m), len(m))] for m in members])
        reps[i] = diff[rows][:, cols].mean()
    delta, se = float(diff.mean()), float(reps.std(ddof=1))
    p = float(2 * norm.sf(abs(delta) / se)) if se > 0 else float(delta == 0)
    return {"delta_accuracy": delta, "se": se, "ci95_low": delta - Z95 * se, "ci95_high": delta + Z95 * se,
            "p_value": p, "n_pairs": int(n), "runs": int(n_runs)}


def mcnemar_ensemble(probs_a, probs_b, y):
    """Exact two-sided McNemar test on predictions ensembled over runs (mean softmax, then argmax)."""
    a = np.asarray(probs_a).mean(0).argmax(1) == y
    b_ = np.asarray(probs_b).mean(0).argmax(1) == y
    b, c = int(np.sum(a & ~b_)), int(np.sum(~a & b_))
    return {"p_value": 1.0 if b + c == 0 else float(binomtest(b, b + c, 0.5).pvalue), "b": b, "c": c}


def holm(p_values):
    """Holm-Bonferroni step-down adjusted p-values, in the input order (monotone, capped at 1)."""
    p = np.asarray(p_values, np.float64)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((len(p) - np.arange(len(p))) * p[order]))
    out = np.empty_like(p)
    out[order] = adjusted
    return out.tolist()


def min_detectable_difference(se, alpha, power=0.8):
    """The smallest true difference a two-sided test at level ``alpha`` detects with ``power``, given its
    standard error. Called with alpha / (number of pairs): the level of Holm's most stringent step."""
    return float((norm.ppf(1 - alpha / 2) + norm.ppf(power)) * se)


def verdict(delta, adjusted_p, a, b, alpha=0.05):
    """Plain words for one pair, from its adjusted p alone (and the sign of the difference)."""
    if adjusted_p >= alpha:
        return "no significant difference"
    return f"{a} better" if delta > 0 else f"{b} better"


def rank_correlation(x, per_image, n_boot=2000, seed=0):
    """Spearman's rho between ``x`` (one value per net) and the nets' mean per-image gains, with a 95%
    percentile interval from resampling images; undefined (None) with fewer than 3 nets."""
    per_image = np.asarray(per_image, np.float64)
    if len(x) < 3:
        return {"spearman_rho": None, "ci95_low": None, "ci95_high": None}
    rng = np.random.default_rng(seed)
    reps = [spearmanr(x, per_image[:, rng.integers(0, per_image.shape[1], per_image.shape[1])].mean(1)).statistic
            for _ in range(n_boot)]
    low, high = np.nanpercentile(reps, [2.5, 97.5])
    return {"spearman_rho": float(spearmanr(x, per_image.mean(1)).statistic), "ci95_low": float(low),
            "ci95_high": float(high)}
