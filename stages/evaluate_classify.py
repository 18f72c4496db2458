"""evaluate_classify: score every classifier arm and decide every twin pair by one rule.

metrics/classify.json: {"design": {...}, "arms": {arm: {accuracy, f1_macro, auc_macro, params, flops, runs, ...}},
                        "twins": {"<arm>_vs_<baseline>": {delta_accuracy, se, df, ci95_*, variance components,
                                   p_superiority(_adjusted), p_equivalence(_adjusted), margin, verdict, ...}},
                        "gap_hr_vs_bicubic": {...}, "share_recovered": {arm: {share, ci95_*}}, "psnr_vs_gain": {...}}
plots/classify/: confusion (predictions/<arm>.csv), ROC (roc/<arm>.csv), per-class accuracy and
accuracy-gain-vs-PSNR charts.
"""
from srtwins import cli, config, paths
from srtwins.config import twins
from srtwins.io import read_json, write_json
from srtwins.report import plots
from srtwins.twins import arm_inputs, decision


def main():
    params = config.load()
    study_arms, pairs = twins.study(params)
    seeds, sr_seeds, rule = twins.seeds(params), twins.sr_classifier_seeds(params), twins.decision(params)
    y = arm_inputs.labels("test")
    cifar_sr = read_json(paths.METRICS / "sr.json")[paths.CIFAR][f"x{twins.scale(params)}"]
    report, runs, seconds = decision.evaluate(study_arms, pairs, y, seeds, sr_seeds, rule, cifar_sr)
    report["design"] = {"train_images": len(arm_inputs.labels("train")), "test_images": len(y),
                        "source": read_json(paths.raw(paths.CIFAR) / "source.json"), "scale": twins.scale(params),
                        "classifier_seeds": seeds, "sr_classifier_seeds": sr_seeds,
                        "sr_seeds": twins.sr_seed_count(params), "alpha": rule.alpha, "margin": rule.margin,
                        "pairing_correlation": rule.pairing_correlation, "pairs": len(pairs)}
    write_json(paths.METRICS / "classify.json", report)
    write_json(paths.PLOTS / "classify" / "train_seconds.json", seconds)  # a timing: not a metric
    plots.classifier_figures(study_arms, runs, y, report, cifar_sr, paths.PLOTS / "classify")
    for name, t in report["twins"].items():
        print(f"{name:>28}: {t['delta_accuracy']:+.4f} [{t['ci95_low']:+.4f}, {t['ci95_high']:+.4f}] "
              f"p_sup={t['p_superiority_adjusted']:.3g} p_eq={t['p_equivalence_adjusted']:.3g} -> {t['verdict']}")


if __name__ == "__main__":
    cli.run(main)
