"""train_gan: fine-tune a trained generator adversarially (``--run`` names an entry of ``sr.gan_runs``).

SRGAN starts from the trained SRResNet and ESRGAN from the trained RRDB of the same scale: the generator's
models/sr/<generator>.keras is this stage's dependency, so retraining it reruns the GAN and nothing else.
Writes models/sr/<run>.keras (the fine-tuned generator), models/sr/<run>.json and dvclive curves of every
loss term and the discriminator's loss under plots/train_sr/<run>/.
"""
import json

from srtwins import cli, config
from srtwins.config import sr
from srtwins.sr import gan, runner


def main():
    run = sr.training(config.load(), cli.option("run", __doc__), adversarial=True)
    print(json.dumps(runner.train_run(run, body=gan.fine_tune)))


if __name__ == "__main__":
    cli.run(main)
