"""`python -m viewer` does what the `inspection-viewer` command does."""

import sys

from viewer.cli import main

sys.exit(main())
