"""SCF entry points, one folder per function; each index.py is glue only."""
