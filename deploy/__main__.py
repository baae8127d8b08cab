"""``python -m deploy up|plan|status|down|rotate-secret``: the deploy tool (deploy/cloud/cli.py).

``python -m deploy.package`` (``make package``) stays the zip builder; this entry point only
forwards to the command line of ``deploy.cloud``.
"""

from __future__ import annotations

import sys

from deploy.cloud.cli import main

if __name__ == "__main__":
    sys.exit(main())
