"""train_sr: train one SR net at one scale on its pixel loss (``--run`` names an entry of ``sr.runs``).

Writes models/sr/<run>.keras (the best checkpoint), models/sr/<run>.json (training summary),
and dvclive curves under plots/train_sr/<run>/. GAN nets fine-tune such a model in train_gan.
"""
import json

from srtwins import cli, config
from srtwins.config import sr
from srtwins.sr import runner, train


def main():
    run = sr.training(config.load(), cli.option("run", __doc__), adversarial=False)
    print(json.dumps(runner.train_run(run, body=train.train_net)))


if __name__ == "__main__":
    cli.run(main)
