"""Entry-point wrapper for stages: a user error is one line on stderr and exit status 1."""
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
