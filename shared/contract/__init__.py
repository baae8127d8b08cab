"""The contract between submitting a job and applying its result: UserData facts and URL tokens.

The upload side writes them into a CI job, the callback side checks them. Pure (hmac, no I/O).
May import only the root modules of ``shared``; must not import the wire or any use case.
"""
