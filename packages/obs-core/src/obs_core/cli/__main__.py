"""``python -m obs_core.cli``: the same as the ``obs`` console script."""

from __future__ import annotations

import sys

from obs_core.cli import main

if __name__ == "__main__":
    sys.exit(main())
