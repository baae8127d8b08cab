"""``python -m emulator soak``: many parallel uploads with faults, and a check of every object.

May import the whole emulator and ``shared.ops``; nothing else imports it.
"""
