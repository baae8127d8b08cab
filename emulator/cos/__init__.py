"""The emulator's COS: buckets, object store, object/tagging/multipart API, ranged and
conditional reads, bucket and upload listings.

May import ``emulator`` root modules (wire, xmlreply, faults) and ``shared`` parsers; must not
import ``emulator.ci``, ``emulator.scf`` or the handlers.
"""
