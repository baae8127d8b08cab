"""The emulator's COS: object store, object and tagging API, bucket listing.

May import ``emulator`` root modules (wire, xmlreply, faults) and ``shared`` parsers; must not
import ``emulator.ci``, ``emulator.scf`` or the handlers.
"""
