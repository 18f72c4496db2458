"""Entry-point wrapper for stages: a user error is one line on stderr and exit status 1."""
import argparse
import sys

from srtwins import SrtwinsError


def run(main):
    try:
        main()
    except SrtwinsError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)


def option(name, doc):
    """The value of a stage's one required option (``--run``, ``--source``); ``doc`` is the stage's --help."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument(f"--{name}", required=True)
    return getattr(parser.parse_args(), name)
