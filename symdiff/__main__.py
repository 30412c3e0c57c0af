"""``python -m symdiff``: the same commands as the ``symdiff`` script."""

import sys

from symdiff.cli import main

sys.exit(main())
