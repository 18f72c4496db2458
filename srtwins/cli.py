"""Entry-point wrapper for stages: a user error is one line on stderr and exit status 1."""
import os
import sys

from srtwins import SrtwinsError  # noqa: F401  (stages raise cli.SrtwinsError)


def run(main):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        main()
    except SrtwinsError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
