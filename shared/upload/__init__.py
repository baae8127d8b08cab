"""The upload use case: a COS trigger event -> one MediaInfo job per new object.

Event parsing, the filters, the per-object submit path (shared with backfill). Written against
``shared.ports``; may import the root modules, ``shared.media``, ``shared.contract`` and
``shared.settings``; must not import requests, ``shared.tencent`` clients or another use case.
"""
