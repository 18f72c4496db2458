"""Classification metrics and the twin study's statistics: a crossed seeds-by-images mean, its tests, Holm."""
import numpy as np
from scipy.stats import spearmanr
from scipy.stats import t as student_t
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


def crossed_mean(d):
    """Mean of per-image statistics shaped (SR seeds, classifier seeds, images), or (classifier seeds, images):
    its error adds the crossed seeds' run-to-run spread to the sampling error of the images all runs share."""
    d = np.asarray(d, np.float64)
    d = d[None] if d.ndim == 2 else d
    if d.ndim != 3:
        raise ValueError(f"expected (classifier seeds, images) or (SR seeds, classifier seeds, images), got {d.shape}")
    i, j, n = d.shape
    if i * j < 2:
        raise ValueError(f"need at least 2 runs to see run-to-run spread, got {i} SR x {j} classifier seed(s)")
    if n < 2:
        raise ValueError(f"need at least 2 test images to see image-sampling error, got {n}")
    parts, v_run, df_run = (_two_way if i > 1 and j > 1 else _one_way)(d.mean(2))
    var_images = _image_term(d.reshape(i * j, n))
    return {"mean": float(d.mean()), "se": float(np.sqrt(v_run + var_images)),
            "df": _satterthwaite([(v_run, df_run), (var_images, n - 1)]), **parts, "var_images": var_images,
            "sr_seeds": i, "classifier_seeds": j, "images": n}


def _image_term(runs):
    """Sampling error of the images all runs share: the per-image means' variance over N, less the within-run
    noise that it also holds and that the run means already carry (floored at 0)."""
    r, n = runs.shape
    image_means, run_means = runs.mean(0), runs.mean(1)
    noise = np.sum((runs - run_means[:, None] - image_means[None, :] + runs.mean()) ** 2) / ((r - 1) * (n - 1))
    return float(max(0.0, image_means.var(ddof=1) / n - noise / (r * n)))


def _two_way(m):
    """Variance of the grand mean of (I, J) run means under crossed random seed effects (ANOVA without
    replication), floored at the pure-noise part so that a lucky draw of seeds never shrinks it below that."""
    i, j = m.shape
    rows, cols, grand = m.mean(1), m.mean(0), m.mean()
    df_e = (i - 1) * (j - 1)
    ms_a = j * np.sum((rows - grand) ** 2) / (i - 1)
    ms_b = i * np.sum((cols - grand) ** 2) / (j - 1)
    ms_e = np.sum((m - rows[:, None] - cols[None, :] + grand) ** 2) / df_e
    sr, cls = max(0.0, ms_a - ms_e) / (i * j), max(0.0, ms_b - ms_e) / (i * j)
    if ms_a + ms_b - ms_e >= ms_e:
        v, df = (ms_a + ms_b - ms_e) / (i * j), _satterthwaite([(ms_a, i - 1), (ms_b, j - 1), (-ms_e, df_e)])
    else:
        v, df = ms_e / (i * j), float(df_e)
    parts = {"var_sr_seed": float(sr), "var_classifier_seed": float(cls), "var_residual": float(v - sr - cls)}
    return parts, float(v), df


def _one_way(m):
    """Variance of the mean of runs that differ in one kind of seed only: the plain between-run variance,
    booked to that seed."""
    runs = m.ravel()
    v = float(runs.var(ddof=1) / len(runs))
    seed = "var_classifier_seed" if m.shape[0] == 1 else "var_sr_seed"
    return {"var_sr_seed": 0.0, "var_classifier_seed": 0.0, "var_residual": 0.0} | {seed: v}, v, float(len(runs) - 1)


def _satterthwaite(terms):
    """Degrees of freedom of a variance summed from (signed mean-square term, its df) parts, so the t reference
    matches how well the sum is known; with all parts zero (identical data) the smallest df, not NaN."""
    num, den = sum(v for v, _ in terms) ** 2, sum(v ** 2 / df for v, df in terms)
    return float(num / den) if den > 0 else float(min(df for _, df in terms))


def twin_test(d, margin, alpha=0.05):
    """crossed_mean's estimate with its 1 - alpha interval, a two-sided test of no difference and a TOST of
    equivalence within +-margin, all on its df, so seeds and images both count toward every answer."""
    row = crossed_mean(d)
    mean, se, df = row["mean"], row["se"], row["df"]
    half = float(student_t.ppf(1 - alpha / 2, df) * se)
    p_eq = max(student_t.sf(_ratio(mean + margin, se), df), student_t.cdf(_ratio(mean - margin, se), df))
    return row | {"ci95_low": mean - half, "ci95_high": mean + half,
                  "p_superiority": float(2 * student_t.sf(abs(_ratio(mean, se)), df)),
                  "p_equivalence": float(p_eq), "margin": float(margin)}


def _ratio(x, se):
    """x / se, read as +-inf (0 for 0 / 0) when se is 0: identical runs and images give certain tests,
    not NaN."""
    if se > 0:
        return x / se
    return float(np.sign(x)) * np.inf if x else 0.0


def decide_all(rows, alpha):
    """Every twin's verdict, Holm-adjusted across all rows for each family of tests; a significant difference
    outranks equivalence, because a tight interval can show both and the difference is then the finding."""
    names = list(rows)
    sup = holm([rows[k]["p_superiority"] for k in names])
    eq = holm([rows[k]["p_equivalence"] for k in names])
    return {k: _decided(rows[k], ps, pe, alpha) for k, ps, pe in zip(names, sup, eq)}


def _decided(row, p_sup, p_eq, alpha):
    """One row with its adjusted p-values and its verdict word: better / worse by the sign of the mean,
    equivalent, or undecided when neither test clears alpha."""
    if p_sup < alpha:
        verdict = "better" if row["mean"] > 0 else "worse"
    else:
        verdict = "equivalent" if p_eq < alpha else "undecided"
    return row | {"p_superiority_adjusted": p_sup, "p_equivalence_adjusted": p_eq, "verdict": verdict}


def share_recovered(sr_diff, gap_diff, alpha=0.05):
    """Share of the HR - bicubic gap that an SR arm closes, mean(sr_diff) / mean(gap_diff), with a delta-method
    interval: Z = sr_diff - S * gap_diff goes through crossed_mean, so both parts carry seeds and images."""
    sr_diff, gap_diff = np.asarray(sr_diff, np.float64), np.asarray(gap_diff, np.float64)
    if sr_diff.ndim != 3 or gap_diff.shape != sr_diff.shape[1:]:
        raise ValueError(f"expected sr_diff (SR seeds, classifier seeds, images) and gap_diff (classifier seeds, "
                         f"images) matched by seed, got {sr_diff.shape} and {gap_diff.shape}")
    gap = gap_diff.mean()
    if gap == 0:
        return dict.fromkeys(("share", "se", "df", "ci95_low", "ci95_high"))
    share = float(sr_diff.mean() / gap)
    z = crossed_mean(sr_diff - share * gap_diff)
    se = z["se"] / abs(float(gap))
    half = float(student_t.ppf(1 - alpha / 2, z["df"]) * se)
    return {"share": share, "se": se, "df": z["df"], "ci95_low": share - half, "ci95_high": share + half}
