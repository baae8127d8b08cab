"""The verified writer shared by the callback, reconcile and backfill: one job result -> tags.

Re-fetches the job, checks it describes the object's current content, orders it against what the
object carries, merges and writes. Written against ``shared.ports``; may import the root modules,
``shared.media`` and ``shared.contract``; must not import requests, a use case or ``functions``.
"""
