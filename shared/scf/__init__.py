"""What the SCF platform gives a function: context, deadline, role credentials, clients wiring.

The glue the three entry points share, and nothing else. May import the root modules,
``shared.settings`` and ``shared.tencent``; must not import a use case (entry points wire those).
"""
