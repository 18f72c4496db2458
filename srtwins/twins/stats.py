"""Classification metrics of one classifier, Holm's adjustment and the PSNR-gain rank correlation.

The variance model of the twin pairs is srtwins.twins.crossed; the pairs' analyses, srtwins.twins.pairs."""
import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, roc_auc_score, roc_curve


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


def holm(p_values):
    """Holm-Bonferroni step-down adjusted p-values, in the input order (monotone, capped at 1)."""
    p = np.asarray(p_values, np.float64)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((len(p) - np.arange(len(p))) * p[order]))
    out = np.empty_like(p)
    out[order] = adjusted
    return out.tolist()


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
