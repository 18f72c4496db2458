"""The twin study's variance model: SR seeds, classifier seeds and test images random and crossed.

Per-image correctness x[i, j, n] (SR seed i, classifier seed j, image n; a control arm has one SR "seed") is
mu + a_i + b_j + c_n + ab_ij + ac_in + bc_jn + e_ijn. Each term is estimated once, from the mean squares of the
three-way layout, and the variance of a contrast of arm means splits into what a rerun with fresh seeds would
change (the seed parts) and the sampling of the test images every run shares.
"""
from dataclasses import dataclass

import numpy as np
from scipy.stats import t as student_t

TERMS = ("sr_seed", "classifier_seed", "image", "sr_seed_x_classifier_seed", "sr_seed_x_image",
         "classifier_seed_x_image", "residual")


@dataclass(frozen=True)
class Table:
    """One arm's (or one paired difference's) layout: its mean squares, image means and seed counts."""

    ms: dict  # term: (mean square, df), df 0 where the layout lacks the term
    image_means: np.ndarray
    shape: tuple


def table(x):
    """Mean squares of a balanced (SR seeds, classifier seeds, images) array with one value per cell."""
    x = np.asarray(x, np.float64)
    if x.ndim != 3 or x.shape[1] < 2 or x.shape[2] < 2:
        raise ValueError(f"expected (SR seeds, classifier seeds >= 2, images >= 2), got {x.shape}")
    i, j, n = x.shape
    g = x.mean()
    a, b, c = x.mean((1, 2)) - g, x.mean((0, 2)) - g, x.mean((0, 1)) - g
    ab, ac, bc = x.mean(2) - g, x.mean(1) - g, x.mean(0) - g
    ab, ac, bc = ab - a[:, None] - b, ac - a[:, None] - c, bc - b[:, None] - c
    e = x - g - a[:, None, None] - b[:, None] - c - ab[:, :, None] - ac[:, None] - bc
    ss = (j * n * a @ a, i * n * b @ b, i * j * c @ c, n * np.sum(ab ** 2), j * np.sum(ac ** 2),
          i * np.sum(bc ** 2), np.sum(e ** 2))
    dfs = (i - 1, j - 1, n - 1, (i - 1) * (j - 1), (i - 1) * (n - 1), (j - 1) * (n - 1), (i - 1) * (j - 1) * (n - 1))
    ms = {k: (float(s / d) if d else 0.0, d) for k, s, d in zip(TERMS, ss, dfs)}
    return Table(ms, x.mean((0, 1)), (i, j, n))


def components(t):
    """Each term's variance by its expected mean square (floored at 0), with the levels and df it rests on."""
    m = {k: v for k, (v, _) in t.ms.items()}
    i, j, n = t.shape
    est = {"sr_seed": (m["sr_seed"] - m["sr_seed_x_classifier_seed"] - m["sr_seed_x_image"] + m["residual"]) / (j * n),
           "classifier_seed": (m["classifier_seed"] - m["sr_seed_x_classifier_seed"] - m["classifier_seed_x_image"]
                               + m["residual"]) / (i * n),
           "image": (m["image"] - m["sr_seed_x_image"] - m["classifier_seed_x_image"] + m["residual"]) / (i * j),
           "sr_seed_x_classifier_seed": (m["sr_seed_x_classifier_seed"] - m["residual"]) / n,
           "sr_seed_x_image": (m["sr_seed_x_image"] - m["residual"]) / j,
           "classifier_seed_x_image": (m["classifier_seed_x_image"] - m["residual"]) / i, "residual": m["residual"]}
    levels = {"sr_seed": i, "classifier_seed": j, "image": n}
    return {k: {"variance": max(0.0, float(est[k])), "df": t.ms[k][1],
                "levels": {f: levels[f] for f in levels if f in k.split("_x_")}}
            for k in TERMS if t.ms[k][1]}


# The seed parts of the variance of a table's grand mean, times I J N, as coefficients of the mean squares: the
# seeds' main effects and their interaction (sr / I + cls / J + sr x cls / (I J)), and the seeds' per-image churn
# ((sr x image / I + cls x image / J + residual / (I J)) / N), which the run means carry and the images pin down.
MAINS = {"sr_seed": 1, "classifier_seed": 1, "sr_seed_x_classifier_seed": -1, "sr_seed_x_image": -1,
         "classifier_seed_x_image": -1, "residual": 1}
CHURN = {"sr_seed_x_image": 1, "classifier_seed_x_image": 1, "residual": -1}


def seed_terms(t, coef):
    """A table's seed part (MAINS or CHURN) as (coefficient x mean square / (I J N), df) terms."""
    i, j, n = t.shape
    return [(coef[m] * v / (i * j * n), d) for m, (v, d) in t.ms.items() if d and coef.get(m)]


def image_noise(t):
    """The seeds' share of the variance of one image's mean over the table's runs (MS_SRxim + MS_clsxim -
    MS_res) / (I J): the per-image means carry it besides the image effect."""
    return sum(v for v, _ in seed_terms(t, CHURN)) * t.shape[2]


def contrast(arrays, weights):
    """sum(w * mean) over arms tested on the same images, each arm's seeds its own: the estimate, its
    variance split into seed parts and the shared image sampling, and Satterthwaite degrees of freedom for the
    whole and for the seed parts alone.

    The seed mains of all arms together are floored at 0 (the churn, which the images pin down, is then the
    whole seed part); tests/twins/test_oracle.py checks the rule's calibration with and without that floor."""
    tables = [table(x) for x in arrays]
    n = tables[0].shape[2]
    per_image = sum(w * t.image_means for w, t in zip(weights, tables))
    mains, churn = ([(w * w * v, d) for w, t in zip(weights, tables) for v, d in seed_terms(t, c)]
                    for c in (MAINS, CHURN))
    seeds = (mains if sum(v for v, _ in mains) > 0 else []) + churn
    var_seeds = max(0.0, sum(v for v, _ in seeds))
    var_images = max(0.0, float(per_image.var(ddof=1)) - sum(w * w * image_noise(t) for w, t in zip(weights, tables))
                     ) / n
    return {"mean": float(per_image.mean()), "se": float(np.sqrt(var_seeds + var_images)),
            "df": satterthwaite(seeds + [(var_images, n - 1)]), "var_seeds": var_seeds, "var_images": var_images,
            "df_seeds": satterthwaite(seeds), "images": n}, tables


def satterthwaite(terms):
    """Degrees of freedom of a variance summed from signed (term, df) parts, at least 1 (signed parts can take
    the formula below it); with every part zero (identical data) the smallest df, not NaN."""
    num, den = sum(v for v, _ in terms) ** 2, sum(v * v / d for v, d in terms)
    return max(1.0, float(num / den)) if den > 0 else float(min(d for _, d in terms))


def same_seed_correlation(a, b):
    """Do runs of one classifier seed err on the same images in both arms? The correlation of the two arms'
    classifier-seed x image residuals over (seed, image), with its 95% lower bound (Fisher z); a and b hold
    the same classifier seeds in the same order."""
    ra, rb = (_seed_image_residual(np.asarray(x, np.float64).mean(0)) for x in (a, b))
    j, n = ra.shape
    den = np.sqrt(np.sum(ra ** 2) * np.sum(rb ** 2))
    if j < 2 or den == 0:
        return {"correlation": None, "lower95": None, "seeds": j}
    rho = float(np.clip(np.sum(ra * rb) / den, -1, 1))
    low = np.tanh(np.arctanh(min(rho, 1 - 1e-12)) - 1.959964 / np.sqrt(max((j - 1) * (n - 1) - 3, 1)))
    return {"correlation": rho, "lower95": float(low), "seeds": j}


def _seed_image_residual(m):
    return m - m.mean(0) - m.mean(1)[:, None] + m.mean()


def interval(row, alpha, margin):
    """The row's 1 - alpha interval, a two-sided test of no difference and a TOST within +-margin, on its df."""
    mean, se, df = row["mean"], row["se"], row["df"]
    half = float(student_t.ppf(1 - alpha / 2, df) * se)
    p_eq = max(student_t.sf(_ratio(mean + margin, se), df), student_t.cdf(_ratio(mean - margin, se), df))
    return {"ci95_low": mean - half, "ci95_high": mean + half,
            "p_superiority": float(2 * student_t.sf(abs(_ratio(mean, se)), df)), "p_equivalence": float(p_eq)}


def _ratio(x, se):
    """x / se, read as +-inf (0 for 0 / 0) when se is 0: identical runs and images give certain tests."""
    if se > 0:
        return x / se
    return float(np.sign(x)) * np.inf if x else 0.0
