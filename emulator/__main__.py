"""Entry point of ``python -m emulator``; everything happens in emulator.cli."""

from __future__ import annotations

from emulator.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
