"""train_sr: train one SR net at one scale on its pixel loss (``--run`` names an entry of ``sr.runs``).

Writes models/sr/<run>.keras (the best checkpoint), models/sr/<run>.json (training summary),
and dvclive curves under plots/train_sr/<run>/. GAN nets fine-tune such a model in train_gan.
"""
import argparse
import json

from srtwins import SrtwinsError, cli, paths
from srtwins.config import load
from srtwins.io import write_json
from srtwins.sr import nets, srconfig


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", required=True)
    params = load()
    run = srconfig.resolve(params, parser.parse_args().run)
    if run.generator:
        raise SrtwinsError(f"params: {run.name} is a GAN run; train_gan trains it")
    nets.build(run.net, run.scale, **run.arch)  # fail fast on a bad net/scale/option, before loading data

    from dvclive import Live

    from srtwins import compute
    from srtwins.sr import train, trainsets

    train.check_devices(params, run)
    t = run.train
    compute.setup(t["seed"], t["mixed_precision"], t.get("jit_compile", "auto"))
    data, val, sizes = trainsets.patch_data(run, t["steps_per_epoch"])
    summary = {"net": run.net, "scale": run.scale, **sizes}
    spec = {"vgg_weights": run.perceptual["vgg_weights"], "seed": t["seed"]}
    loss = train.SRLoss(t["loss"], t["perceptual_weight"], spec if t["perceptual_weight"] else None)
    if t["perceptual_weight"]:
        summary["perceptual_features"] = loss.perceptual.description
    with Live(dir=str(paths.PLOTS / "train_sr" / run.name), dvcyaml=False, save_dvc_exp=False) as live:
        with compute.distribution_scope():
            model = compute.float32_output(nets.build(run.net, run.scale, **run.arch))
            summary["train"], _ = train.fit(
                model, data, val, epochs=t["epochs"], learning_rate=t["learning_rate"], loss=loss,
                out_path=paths.sr_model(run.name), live=live, patience=t["patience"],
                reduce_lr_patience=t["reduce_lr_patience"], jit_compile=t.get("jit_compile", "auto"), name=run.name)
    write_json(paths.sr_summary(run.name), summary)
    print(json.dumps(summary))


if __name__ == "__main__":
    cli.run(main)
