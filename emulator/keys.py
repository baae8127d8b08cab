"""COS object-key rules the emulator enforces, apart from the APIs that use them.

COS object overview and specs-and-limits pages (research cos-facts.md section 8): a key is 1-850
bytes of UTF-8, must not start with ``/`` or ``\\``, and ASCII control characters are not
supported (the page names CAN/EM/SUB/ESC, 0x18-0x1B; this emulator refuses all of 0x00-0x1F,
CR and LF included, which no HTTP request line or COS console can carry either). Which error
code COS gives for which rule is not documented (cos-facts.md section 12 item 6): the COS error
table has ``KeyTooLong`` and ``InvalidObjectName``, used here for length and for characters.
A percent-encoded path that is not UTF-8 is ``InvalidURI``. Whether COS really refuses a key
that starts with ``/`` (wire path ``//key``) is not shown by any capture, so accepting it is a
setting (``KeyRules.leading_slash``). This module only decides; it does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulator.wire import ServiceError

MAX_KEY_BYTES = 850
FORBIDDEN_FIRST_CHARACTERS = ("/", "\\")
_CONTROL_CHARACTERS = frozenset(chr(code) for code in range(0x20))


def _is_surrogate(char: str) -> bool:
    return "\ud800" <= char <= "\udfff"


def uri_problem(path: str) -> ServiceError | None:
    """400 InvalidURI when the decoded path held bytes that are not UTF-8 (decoded with
    ``surrogateescape`` by the request handler), else None."""
    if any(_is_surrogate(char) for char in path):
        return ServiceError(400, "InvalidURI", "The URI is invalid: the path is not UTF-8")
    return None


@dataclass(frozen=True)
class KeyRules:
    """``leading_slash=True`` accepts keys starting with '/' (stored as sent, e.g. '/a.txt')."""

    leading_slash: bool = False

    def problem(self, key: str) -> ServiceError | None:
        """The COS error for a key that breaks a rule, or None for a valid key."""
        if len(key.encode("utf-8")) > MAX_KEY_BYTES:
            return ServiceError(
                400, "KeyTooLong", f"The object key is too long (over {MAX_KEY_BYTES} bytes)"
            )
        first = key[:1]
        if first == "\\" or (first == "/" and not self.leading_slash):
            return ServiceError(
                400, "InvalidObjectName", f"The object name is invalid: it starts with {first!r}"
            )
        bad = sorted({f"0x{ord(char):02X}" for char in key if char in _CONTROL_CHARACTERS})
        if bad:
            return ServiceError(
                400,
                "InvalidObjectName",
                f"The object name is invalid: control characters {', '.join(bad)}",
            )
        return None
