"""One SR run end to end, as the train_sr and train_gan stages run it: a net trained on its pixel loss, or a GAN
run's adversarial fine-tuning of its trained generator. Writes the model, its summary and dvclive curves."""
from dvclive import Live

from srtwins import compute, config, paths
from srtwins.io import write_json
from srtwins.sr import nets, trainsets


def train_run(run, body):
    """Load a resolved run's patches and let ``body(run, data, val, live, summary)`` train and save it
    (train.train_net, gan.fine_tune); returns the summary. An error about a recipe value names its key."""
    with config.naming(run.keys):
        return _train_run(run, body)


def _train_run(run, body):
    if not run.gan:
        nets.build(run.net, run.scale, **run.arch)  # fail fast on a bad net/scale/option, before loading data
    t = run.train
    compute.setup(t.seed, t.mixed_precision, t.jit_compile)
    data, val, sizes = trainsets.patch_data(run, run.gan.steps_per_epoch if run.gan else t.steps_per_epoch)
    summary = {"net": run.net, "scale": run.scale, **({"generator": run.generator} if run.gan else {}), **sizes}
    with Live(dir=str(paths.PLOTS / "train_sr" / run.name), dvcyaml=False, save_dvc_exp=False) as live:
        body(run, data, val, live, summary)
    write_json(paths.sr_summary(run.name), summary)
    return summary
