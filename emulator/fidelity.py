"""How the emulator reads the points Tencent's documents leave open: one frozen value per server.

Each field is a place where two readings of the docs are plausible; the default is the one this
project judges most likely (docs/emulator.md says why), the other stays reachable so a test can
show the functions survive both:

- ``tag_charset``: "api" (PUT Object tagging API page: ASCII letters, digits, space and
  ``+ - = . _ :`` and ``/``) or "overview" (object tagging overview: letters of any script, digits,
  and ``@`` too). Research cos-ci-api.md 9.13.
- ``leading_slash_keys``: accept object keys that start with '/' (wire path ``//key``); the COS
  object overview forbids them, no capture shows COS refusing one. cos-facts.md 8.
- ``missing_object``: "refuse" a job on a missing object at submit (400 ResourceNotFound, as the
  CI error table implies) or "fail-job" (accept, then State=Failed). ci-facts.md 4.
- ``callback_shape``: which documented callback body shape CI sends (``CALLBACK_SHAPES``).

This module holds no state and does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulator.ci.callback_shapes import CALLBACK_SHAPES, STANDARD
from emulator.ci.submit_rules import MISSING_OBJECT_MODES, REFUSE_MISSING
from emulator.cos.tagging import TAG_CHARSET_API, TAG_CHARSETS


@dataclass(frozen=True)
class Fidelity:
    tag_charset: str = TAG_CHARSET_API
    leading_slash_keys: bool = False
    missing_object: str = REFUSE_MISSING
    callback_shape: str = STANDARD

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("tag_charset", self.tag_charset, TAG_CHARSETS),
            ("missing_object", self.missing_object, MISSING_OBJECT_MODES),
            ("callback_shape", self.callback_shape, tuple(CALLBACK_SHAPES)),
        ):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
