"""What POST /jobs checks about the input object before a MediaInfo job is queued.

Whether CI refuses a job on a missing object at submit or accepts it and fails it later is not
documented (research ci-facts.md section 4): the CI error table lists ``400 ResourceNotFound``
("The specified input resource does not exist") as an HTTP answer, which implies a submit-time
check, so "refuse" is the default and "fail-job" (State=Failed, Code=ResourceNotFound, later)
the other mode. A key with ASCII control characters (CR, LF, ...) cannot name a COS object
(COS object overview) and is 400 InvalidArgument either way. No I/O: existence is asked of the
callable the server hands in.
"""

from __future__ import annotations

from collections.abc import Callable

from emulator.wire import ServiceError

REFUSE_MISSING = "refuse"
FAIL_MISSING = "fail-job"
MISSING_OBJECT_MODES = (REFUSE_MISSING, FAIL_MISSING)


def check_input_object(key: str, *, exists: Callable[[], bool], missing_object: str) -> None:
    """Raise the CI error for an input object the job cannot run on (see module docstring)."""
    controls = sorted({f"0x{ord(c):02X}" for c in key if ord(c) < 0x20})
    if controls:
        raise ServiceError(
            400,
            "InvalidArgument",
            f"Input.Object contains control characters {', '.join(controls)}",
        )
    if missing_object == REFUSE_MISSING and not exists():
        raise ServiceError(400, "ResourceNotFound", "The specified input resource does not exist.")
