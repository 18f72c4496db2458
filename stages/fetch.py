"""fetch: CIFAR-10, the SR sets and (``fetch.div2k``) DIV2K into data/raw/, verified, from a local mirror or the web.

The mirror is ``fetch.mirror`` in params.yaml, or $SRTWINS_MIRROR when set. DIV2K's LR scales are
``degrade.scales``; data/raw/div2k/index.json says what was fetched (nothing when fetch.div2k is false).
"""
from srtwins import cli, config
from srtwins.config import data
from srtwins.data import raw


def main():
    cfg = data.fetch(config.load())
    with config.naming(data.KEYS):
        raw.fetch_all(cfg)


if __name__ == "__main__":
    cli.run(main)
