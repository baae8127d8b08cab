"""Operator tools: backfill, reconcile, their checkpoint, progress, rate limit and command line.

``python -m shared``. May import every other package of ``shared``; no function zip ships it
unless the reconcile timer reaches a module through its imports.
"""
