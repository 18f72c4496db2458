"""train_gan: fine-tune a trained generator adversarially (``--run`` names an entry of ``sr.gan_runs``).

SRGAN starts from the trained SRResNet and ESRGAN from the trained RRDB of the same scale: the generator's
models/sr/<generator>.keras is this stage's dependency, so retraining it reruns the GAN and nothing else.
Writes models/sr/<run>.keras (the fine-tuned generator), models/sr/<run>.json and dvclive curves of every
loss term and the discriminator's loss under plots/train_sr/<run>/.
"""
import argparse
import json

from srtwins import SrtwinsError, cli, paths
from srtwins.config import load
from srtwins.io import write_json
from srtwins.sr import srconfig


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", required=True)
    params = load()
    run = srconfig.resolve(params, parser.parse_args().run)
    if not run.generator:
        raise SrtwinsError(f"params: {run.name} is not a GAN run (sr.gan_runs); train_sr trains it")

    from dvclive import Live

    from srtwins import compute
    from srtwins.sr import gan, nets, train, trainsets
    from srtwins.sr.infer import load_model
    from srtwins.sr.perceptual import PerceptualLoss

    train.check_devices(params, run)
    t, g = run.train, run.gan
    compute.setup(t["seed"], t["mixed_precision"], t.get("jit_compile", "auto"))
    data, val, sizes = trainsets.patch_data(run, g["steps_per_epoch"])
    summary = {"net": run.net, "scale": run.scale, "generator": run.generator, **sizes}
    with Live(dir=str(paths.PLOTS / "train_sr" / run.name), dvcyaml=False, save_dvc_exp=False) as live:
        with compute.distribution_scope():
            generator = compute.float32_output(compute.under_policy(load_model(paths.sr_model(run.generator))))
            spec = run.spec.gan
            perceptual = PerceptualLoss.from_spec(
                {"vgg_weights": run.perceptual["vgg_weights"], "seed": t["seed"], "layer": spec.vgg_layer,
                 "pre_activation": spec.pre_activation, "distance": spec.feature_distance})
            summary["perceptual_features"] = perceptual.description
            summary["gan"], generator = gan.fit_adversarial(
                generator, nets.build_discriminator(**g.get("discriminator", {})), data, val,
                content_loss=train.PIXEL_LOSSES[t["loss"]], perceptual=perceptual, weights=g["weights"],
                relativistic=spec.relativistic, epochs=g["epochs"], learning_rate=g["learning_rate"], live=live,
                jit_compile=t.get("jit_compile", "auto"), name=run.name)
    train.save_model(generator, paths.sr_model(run.name))
    write_json(paths.sr_summary(run.name), summary)
    print(json.dumps(summary))


if __name__ == "__main__":
    cli.run(main)
