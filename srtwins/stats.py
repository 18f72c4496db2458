"""Classification metrics and paired twin statistics (bootstrap intervals, McNemar's exact test)."""
import numpy as np
from scipy.stats import binomtest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, roc_auc_score, roc_curve


def arm_scores(y, probs):
    """accuracy, macro F1 and macro one-vs-rest AUC (from softmax probabilities) for one classifier."""
    pred = probs.argmax(1)
    return {"accuracy": float(accuracy_score(y, pred)),
            "f1_macro": float(f1_score(y, pred, average="macro")),
            "auc_macro": float(roc_auc_score(y, probs, multi_class="ovr", average="macro", labels=np.arange(probs.shape[1])))}


def per_class_accuracy(y, pred, n_classes=10):
    cm = confusion_matrix(y, pred, labels=np.arange(n_classes))
    return cm.diagonal() / np.maximum(cm.sum(1), 1)


def micro_roc(y, probs, points=101):
    """Micro-averaged one-vs-rest ROC, resampled on a fixed FPR grid."""
    onehot = np.eye(probs.shape[1])[y]
    fpr, tpr, _ = roc_curve(onehot.ravel(), probs.ravel())
    grid = np.linspace(0, 1, points)
    return grid, np.interp(grid, fpr, tpr)


def mcnemar_exact(correct_a, correct_b):
    """Two-sided exact McNemar p-value on paired correctness vectors."""
    b = int(np.sum(correct_a & ~correct_b))
    c = int(np.sum(~correct_a & correct_b))
    return 1.0 if b + c == 0 else float(binomtest(b, b + c, 0.5).pvalue)


def twin_delta(correct_a, correct_b, n_boot=2000, seed=0):
    """Accuracy of A minus B with a 95% percentile bootstrap interval.

    ``correct_*`` are (seeds, images) booleans of paired classifiers (same seed = same twin pair).
    Each replicate resamples test images and, when there are several, seeds too, so the interval
    carries both the test-set sampling error and the training-seed spread.
    """
    a, b = np.asarray(correct_a, np.float64), np.asarray(correct_b, np.float64)
    n_seeds, n = a.shape
    diff = a - b
    rng = np.random.default_rng(seed)
    reps = np.empty(n_boot)
    for i in range(n_boot):
        rows = rng.integers(0, n_seeds, n_seeds) if n_seeds > 1 else np.zeros(1, int)
        cols = rng.integers(0, n, n)
        reps[i] = diff[np.ix_(rows, cols)].mean()
    low, high = np.percentile(reps, [2.5, 97.5])
    return {"delta_accuracy": float(diff.mean()), "ci95_low": float(low), "ci95_high": float(high)}
