"""Media facts, pure: MediaInfo parsed from a tree, tag values, sanitising, merging, vocabulary.

What a MediaInfo result means as tags, with no I/O, no clock and no HTTP. May import only the root
modules of ``shared`` (models, errors, records). Must not import ``shared.tencent`` or any use case.
"""
