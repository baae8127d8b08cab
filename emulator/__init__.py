"""Local stand-in for Tencent COS + Cloud Infinite (and, beside it, the SCF triggers).

The public surface used by the SCF side, the CLI, the demo and the tests is re-exported here:
``EmulatorServer`` (HTTP server for COS + CI on loopback), ``EmulatorCredentials`` (the one
accepted key pair), ``Faults`` (fault injection), ``Fidelity`` (the readings of the docs it takes
where they leave a choice open) and ``ObjectCreated`` (what a stored upload announces). Nothing
here may talk to a real cloud endpoint.
"""

from __future__ import annotations

from emulator.auth import EmulatorCredentials
from emulator.cos.api import ObjectCreated
from emulator.faults import Faults
from emulator.fidelity import Fidelity
from emulator.server import EmulatorServer

__all__ = ["EmulatorCredentials", "EmulatorServer", "Faults", "Fidelity", "ObjectCreated"]
