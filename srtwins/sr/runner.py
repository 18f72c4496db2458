"""One SR run end to end, as the train_sr and train_gan stages run it: a net trained on its pixel loss, or a GAN
run's adversarial fine-tuning of its trained generator. Writes the model, its summary and dvclive curves."""
from dvclive import Live

from srtwins import SrtwinsError, compute, paths
from srtwins.io import write_json
from srtwins.sr import nets, srconfig, train, trainsets


def train_run(params, name, adversarial, body):
    """Resolve run ``name`` (sr.gan_runs when ``adversarial``, else sr.runs), load its patches, and let
    ``body(run, data, val, live, summary)`` train and save it (train.train_net, gan.fine_tune); the summary."""
    run = srconfig.resolve(params, name)
    if run.generator and not adversarial:
        raise SrtwinsError(f"params: {run.name} is a GAN run; train_gan trains it")
    if adversarial and not run.generator:
        raise SrtwinsError(f"params: {run.name} is not a GAN run (sr.gan_runs); train_sr trains it")
    if not adversarial:
        nets.build(run.net, run.scale, **run.arch)  # fail fast on a bad net/scale/option, before loading data
    train.check_devices(params, run)
    t = run.train
    compute.setup(t["seed"], t["mixed_precision"], t.get("jit_compile", "auto"))
    data, val, sizes = trainsets.patch_data(run, run.gan["steps_per_epoch"] if adversarial else t["steps_per_epoch"])
    summary = {"net": run.net, "scale": run.scale, **({"generator": run.generator} if adversarial else {}), **sizes}
    with Live(dir=str(paths.PLOTS / "train_sr" / run.name), dvcyaml=False, save_dvc_exp=False) as live:
        body(run, data, val, live, summary)
    write_json(paths.sr_summary(run.name), summary)
    return summary

