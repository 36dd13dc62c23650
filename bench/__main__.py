"""``python -m bench``: see :mod:`bench._cli`."""

import sys

from bench._cli import main

if __name__ == "__main__":
    sys.exit(main())
