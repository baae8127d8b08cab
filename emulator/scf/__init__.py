"""The emulator's SCF: COS trigger events and contexts, async invocation, the function URL.

Builds what SCF hands a function and invokes handlers given as callables; must not import the
handlers or ``shared``.
"""
