"""super_resolve: run one trained SR net over the SR test sets and CIFAR-10 (``--run`` names an sr.runs entry).

data/sr/<run>/{set5,set14,bsd100}/*.png, data/sr/<run>/cifar10_exact/x_test.npy, for the runs of classify.sr_runs
data/sr/<run>/cifar10/x_{train,test}.npy (from the LR images), and for the nets ``classify.hr_sr`` names,
data/sr/<run>/cifar10/hr_x_*.npy (the native 32x32 images super-resolved). data/sr/<run>/speed.json holds the
measured inference images/s.
"""
import json

from srtwins import cli, config, paths
from srtwins.config import sr, twins
from srtwins.io import atomic_dir
from srtwins.sr import superres
from srtwins.sr.infer import load_model


def main():
    params = config.load()
    run = sr.run(params, cli.option("run", __doc__))
    study = run.name in twins.arm_run_names(params)  # the study's images super-resolved only where an arm reads them
    hr_sr = study and run.net in twins.hr_sr_nets(params)
    batch = sr.infer_batch(params)
    model = load_model(paths.sr_model(run.name))
    with atomic_dir(paths.sr(run.name)) as out:
        speed = superres.super_resolve_all(model, run.scale, out, batch, study, hr_sr)
        (out / "speed.json").write_text(json.dumps(speed, indent=2) + "\n")
    print(run.name, speed)


if __name__ == "__main__":
    cli.run(main)
