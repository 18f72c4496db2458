"""train_sr: train one SR net at one scale on its pixel loss (``--run`` names an entry of ``sr.runs``).

Writes models/sr/<run>.keras (the best checkpoint), models/sr/<run>.json (training summary),
and dvclive curves under plots/train_sr/<run>/. GAN nets fine-tune such a model in train_gan.
"""
import argparse
import json

from srtwins import cli, config
from srtwins.config import sr
from srtwins.sr import runner, train


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", required=True)
    run = sr.training(config.load(), parser.parse_args().run, adversarial=False)
    with config.naming(run.keys):
        print(json.dumps(runner.train_run(run, body=train.train_net)))


if __name__ == "__main__":
    cli.run(main)
