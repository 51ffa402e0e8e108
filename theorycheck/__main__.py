"""``python -m theorycheck``: the same as the ``theorycheck`` console script."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
