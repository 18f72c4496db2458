"""evaluate_classify: score every classifier arm and decide every twin pair by one rule.

metrics/classify.json: {"design": {...}, "arms": {arm: {accuracy, f1_macro, auc_macro, params, flops, ...}},
                        "twins": {"<arm>_vs_<baseline>": {arm, baseline, delta_accuracy, ci95_*, p_value,
                                   p_adjusted, min_detectable_difference, verdict, ...}},
                        "psnr_vs_gain": {...}}
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
    seeds, scale, rule = twins.seeds(params), twins.scale(params), twins.decision(params)
    y = arm_inputs.labels()
    cifar_sr = read_json(paths.METRICS / "sr.json")[paths.CIFAR][f"x{scale}"]
    report, runs = decision.evaluate(study_arms, pairs, y, seeds, scale, rule, cifar_sr)
    write_json(paths.METRICS / "classify.json", report)
    plots.classifier_figures(study_arms, runs, y, report, cifar_sr, paths.PLOTS / "classify")
    for name, t in report["twins"].items():
        print(f"{name:>28}: {t['delta_accuracy']:+.4f} [{t['ci95_low']:+.4f}, {t['ci95_high']:+.4f}] "
              f"p_adj={t['p_adjusted']:.3g} -> {t['verdict']}")


if __name__ == "__main__":
    cli.run(main)
