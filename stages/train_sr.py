"""train_sr: train one SR net at one scale (``--run`` names an entry of ``sr.runs``).

Writes models/sr/<run>.keras (the best checkpoint), models/sr/<run>.json (training summary),
and dvclive curves under plots/train_sr/<run>/.
"""
import argparse
import json
from pathlib import Path

import numpy as np

from srtwins import SrtwinsError, cli, nets, paths, srconfig
from srtwins.io import write_json
from srtwins.params import load
from srtwins.trainsets import load_pairs


def split(pairs, names, fraction, seed):
    order = np.random.default_rng(seed).permutation(len(pairs))
    n_val = max(1, round(fraction * len(pairs)))
    val, train = order[:n_val], order[n_val:]
    return [pairs[i] for i in train], [names[i] for i in train], [pairs[i] for i in val], [names[i] for i in val]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", required=True)
    run = srconfig.resolve(load(), parser.parse_args().run)
    nets.build(run.net, run.scale, **run.arch)  # fail fast on a bad net/scale/option, before loading data

    from dvclive import Live

    from srtwins import devices, patches, train
    from srtwins.perceptual import PerceptualLoss

    t = run.train
    pairs, names = load_pairs(t["data"], run.scale)
    tr_pairs, tr_names, va_pairs, va_names = split(pairs, names, t["val_fraction"], t["seed"])
    patches.check_patch_size(pairs, t["lr_patch"], names)
    devices.setup(t["seed"], t["mixed_precision"])
    data = patches.PatchDataset(tr_pairs, run.scale, t["lr_patch"], t["batch_size"], t["steps_per_epoch"], t["seed"])
    val = patches.fixed_set(va_pairs, t["val_patches"], t["lr_patch"], run.scale, t["seed"])
    out = paths.sr_model(run.name)
    summary = {"net": run.net, "scale": run.scale, "train_images": len(tr_pairs), "val_images": len(va_pairs)}

    gan = run.spec.gan
    spec = {"vgg_weights": run.perceptual["vgg_weights"], "seed": t["seed"]}
    if gan:
        spec.update(layer=gan.vgg_layer, pre_activation=gan.pre_activation)
    loss = train.SRLoss(t["loss"], t["perceptual_weight"], spec if t["perceptual_weight"] else None)
    perceptual = None
    if t["perceptual_weight"] > 0 or run.gan.get("weights", {}).get("perceptual", 0) > 0:
        perceptual = loss.perceptual if t["perceptual_weight"] else PerceptualLoss.from_spec(spec)
        summary["perceptual_features"] = perceptual.description

    with Live(dir=str(paths.PLOTS / "train_sr" / run.name), dvcyaml=False, save_dvc_exp=False) as live:
        with devices.distribution_scope():
            model = devices.float32_output(nets.build(run.net, run.scale, **run.arch))
            stats, model = train.fit(
                model, data, val, epochs=t["epochs"], learning_rate=t["learning_rate"], loss=loss,
                out_path=out, live=live, patience=t["patience"], reduce_lr_patience=t["reduce_lr_patience"],
                jit_compile=t.get("jit_compile", "auto"), name=run.name)
        summary["pretrain" if run.gan else "train"] = stats
        if run.gan:
            summary["gan"] = train_adversarial(run, model, data, val, perceptual, live, out)
    write_json(paths.sr_summary(run.name), summary)
    print(json.dumps(summary))


def train_adversarial(run, generator, data, val, perceptual, live, out):
    """Second phase of SRGAN/ESRGAN: adversarial training from the pixel-loss-pretrained generator."""
    import time

    import keras

    from srtwins import gan, train

    g = run.gan
    data.steps = g["steps_per_epoch"]
    model = gan.AdversarialSR(
        generator, nets.discriminator(), train.PIXEL_LOSSES[run.train["loss"]], perceptual,
        weights=g["weights"], relativistic=run.spec.gan.relativistic)
    model.compile(keras.optimizers.Adam(g["learning_rate"]), keras.optimizers.Adam(g["learning_rate"]))
    guard = train.NaNGuard()
    start = time.perf_counter()
    model.fit(data, validation_data=val, epochs=g["epochs"], callbacks=[guard, train.LiveLogger(live)], verbose=2)
    if guard.bad:
        raise SrtwinsError(f"{run.name}: adversarial training hit a NaN/inf loss at {guard.bad}; no model written")
    train.save_model(generator, out)
    return {"epochs_run": g["epochs"], "train_seconds": round(time.perf_counter() - start, 1)}


if __name__ == "__main__":
    cli.run(main)
