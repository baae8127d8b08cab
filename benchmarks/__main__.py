"""``python -m benchmarks``: the performance suite against the SDK-based reference (see run.py)."""

from __future__ import annotations

import sys

from benchmarks.run import main

sys.exit(main())
