"""The callback use case: CI's job-finished request -> authenticated notice -> verified tags.

Function-URL event parsing, callback body decoding, token checks, then ``shared.results``. May
import the root modules, ``shared.media``, ``shared.contract``, ``shared.settings``,
``shared.tencent`` (XML parsing, host checks) and ``shared.results``; must not import
``shared.ops``.
"""
