"""``python -m tests.mutants``: see tests/mutants/run.py."""

from __future__ import annotations

import sys

from tests.mutants.run import main

sys.exit(main(sys.argv[1:]))
