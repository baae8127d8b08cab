"""Typed settings parsed from the environment: every variable the functions read, named once.

Values are validated and typed here, at the edge; a bad value is a ``ConfigError`` naming the
variable and never echoing it. May import the root modules, ``shared.media`` (tag vocabulary) and
``shared.tencent`` (endpoint and credential names); must not read ``os.environ`` itself or do I/O.
"""
