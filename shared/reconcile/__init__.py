"""The reconcile use case: apply finished job results whose callback never arrived.

Run by the reconcile timer function and by ``python -m shared reconcile``. Written against
``shared.ports`` (the runner wires the clients); may import the root modules, ``shared.media``,
``shared.contract``, ``shared.settings``, ``shared.results``, ``shared.scf`` and
``shared.tencent`` (in the runner only); must not import ``shared.ops``.
"""
