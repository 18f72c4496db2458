"""The decision's calibration by simulation: studies of this design's correctness data drawn from a model whose
components were measured on the committed runs, analysed by the pipeline's own rule (pairs.analyses, primary).

The generator (all on the correctness scale, so the true difference is known exactly):
- image n has a control accuracy p_n ~ Beta, whose variance is the measured image component; the SR arm keeps
  p_n, except for a share KAPPA of images redrawn (the image component of the arms' difference);
- run (i, j) of the SR arm answers image n correctly when W < p_n + shift, where W is the uniform U[j, n] of
  its classifier seed with probability PI_SR (so runs of one classifier seed err alike: the classifier-seed x
  image term) and its own uniform otherwise (the residual); a control run uses U[j, n] with probability
  PI_CONTROL when pairing is strong (same-seed runs of both arms err alike) and never when there is none;
- shifts: SR seed, classifier seed and their interaction, normal, with the measured variances; with strong
  pairing, both arms' runs of one classifier seed share its shift.

Measured on the 50,000 test images of the committed default's design (the run of 6493a25 on an AMD EPYC,
`sr-espcn` against `bicubic`): image 0.166 (control accuracy 0.559), image component of the difference 0.0045,
classifier-seed x image 0.037 and residual 0.045 in the SR arm, 0.081 in the control; seed mains (variances)
SR seed 0, classifier seed 1.2e-7 (SR arm) and 2.1e-6 (control), SR x classifier seed 3.1e-7; same-seed
correlation of the two arms' seed x image residuals 0.41. At N images instead of 50,000 the seed mains are
scaled by 50,000 / N, so each term keeps its share of the variance of a pair's difference: on the 3 x 3 + 3
design, seed mains 44%, the seeds' per-image churn 51%, images 5% (at 50,000 images and at N alike).
"""
import numpy as np
import pytest
from scipy import stats as sps
from scipy.optimize import brentq

from srtwins.twins import pairs

N, STUDIES, ALPHA, MARGIN = 2000, 2000, 0.05, 0.01
SCALE = 50_000 / N
IMAGE_VAR, CONTROL_ACC, KAPPA = 0.166, 0.559, 0.0045 / (2 * 0.166)
PI_SR = np.sqrt(0.037 / 0.082)  # the classifier-seed x image share of the per-image Bernoulli variance
PI_CONTROL = 0.41 * np.sqrt(0.052 * 0.081) / 0.082 / PI_SR  # the measured same-seed correlation
SD = {"sr": 0.0, "cls_sr": np.sqrt(1.2e-7 * SCALE), "cls_control": np.sqrt(2.1e-6 * SCALE),
      "sr_x_cls": np.sqrt(3.1e-7 * SCALE)}
BETA = (CONTROL_ACC * (CONTROL_ACC * (1 - CONTROL_ACC) / IMAGE_VAR - 1),
        (1 - CONTROL_ACC) * (CONTROL_ACC * (1 - CONTROL_ACC) / IMAGE_VAR - 1))


def truth(delta):
    """The population difference of accuracy when the SR arm's threshold is shifted by delta."""
    return float(sps.beta(*BETA).expect(lambda p: np.clip(p + delta, 0, 1)) - CONTROL_ACC)


def study(rng, delta, paired, i=3, j=3):
    """One study: (SR arm, control) as pairs.Runs, i SR seeds x j classifier seeds and j control runs."""
    p = rng.beta(*BETA, N)
    p_sr = np.where(rng.random(N) < KAPPA, rng.beta(*BETA, N), p)
    u = rng.random((j, N))
    w_sr = np.where(rng.random((i, j, N)) < PI_SR, u, rng.random((i, j, N)))
    w_control = np.where(rng.random((j, N)) < (PI_CONTROL if paired else 0.0), u, rng.random((j, N)))
    cls = rng.normal(0, SD["cls_sr"], j)
    shift = (rng.normal(0, SD["sr"], (i, 1)) + cls + rng.normal(0, SD["sr_x_cls"], (i, j)))[..., None]
    control_shift = (cls * SD["cls_control"] / max(SD["cls_sr"], 1e-12) if paired
                     else rng.normal(0, SD["cls_control"], j))[:, None]
    sr = (w_sr < p_sr + delta + shift).astype(float)
    control = (w_control < p + control_shift)[None].astype(float)
    return pairs.Runs(sr, tuple(range(j))), pairs.Runs(control, tuple(range(j)))


def run(delta, paired, seed):
    """Per study of the rule's analysis: (covered the truth, superiority rejected, equivalence rejected)."""
    rng, target = np.random.default_rng(seed), truth(delta)
    out = []
    for _ in range(STUDIES):
        both = pairs.analyses(list(study(rng, delta, paired)), [1.0, -1.0], 0.1)
        row = pairs.tested(both[pairs.primary(both)[0]], ALPHA, MARGIN)
        out.append((row["ci95_low"] <= target <= row["ci95_high"], row["p_superiority"] < ALPHA,
                    row["p_equivalence"] < ALPHA))
    return np.array(out)


@pytest.mark.parametrize("paired", [False, True], ids=["no pairing", "strong pairing"])
def test_the_rule_is_calibrated_on_this_designs_data(paired):
    null = run(0.0, paired, seed=1)
    limit = ALPHA + 2 * np.sqrt(ALPHA * (1 - ALPHA) / STUDIES)
    assert 0.935 <= null[:, 0].mean() <= 0.965, f"coverage {null[:, 0].mean():.3f}"
    assert null[:, 1].mean() <= limit, f"superiority rejects {null[:, 1].mean():.3f} under no effect"
    at_margin = run(_delta_for(MARGIN), paired, seed=2)
    assert at_margin[:, 2].mean() <= limit, f"equivalence rejects {at_margin[:, 2].mean():.3f} at the margin"


def _delta_for(target):
    return brentq(lambda d: truth(d) - target, 0.0, 0.1)
