"""Performance benchmarks: our two SCF functions against a plain cos-python-sdk-v5 version of them.

``python -m benchmarks`` (``make bench``) builds both implementations' deploy zips, runs them in
fresh handler processes against the emulator in another process and prints one table of figures,
ratios and budgets. Nothing in ``shared``, ``functions`` or ``emulator`` may import this package.
"""
