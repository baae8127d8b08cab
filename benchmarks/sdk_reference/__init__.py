"""The two handlers written plainly with cos-python-sdk-v5, as a user of Tencent's demos would.

Only the benchmarks ship them (each as ``index.py`` at the root of its own SCF zip, built by
``benchmarks.build``); they are the baseline every figure of ``make bench`` is a ratio against.
They read the same environment variables as the project's functions and must never be imported
by ``shared``, ``functions`` or ``emulator``.
"""
