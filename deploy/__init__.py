"""Build-time tooling: deployable SCF zips and the serverless.yml they are deployed with.

Nothing here is shipped inside a function zip, and nothing in ``shared`` or ``functions`` may
import it.
"""
