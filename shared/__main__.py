"""``python -m shared backfill|reconcile|show``: the operator tools (see ``shared.ops.cli``).

Only hands over to ``shared.ops.cli.main``; nothing runs on import by anything but ``-m``.
"""

from __future__ import annotations

import sys

from shared.ops.cli import main

if __name__ == "__main__":
    sys.exit(main())
