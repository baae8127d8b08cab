"""Variants of our function zips with a custom piece swapped for the standard one (issue 15).

Each variant is a copy of the unpacked zip (what SCF runs) with one module replaced and its .pyc
recompiled by the runtime's Python exactly as ``make package`` compiles ours:

- ``dataclass``: ``shared/records.py`` becomes ``dataclasses.dataclass(frozen=True)`` under the
  same names (``record``, ``field``, ``fields``, ``replace``, ``as_dict``, ``FrozenRecordError``);
- ``dataclass-slots``: the same with ``slots=True`` (Python >= 3.10 only);
- ``session-request``: ``Transport._send_once`` sends through ``Session.request(...,
  allow_redirects=False, auth=signer)`` instead of handing a prepared request to the adapter.

Used by ``python -m benchmarks.machinery``; never by the shipped code or the tests' fixtures.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from deploy.bytecode import PROJECT_PYC_MODE, compile_tree

RECORDS = "shared/records.py"
TRANSPORT = "shared/tencent/transport.py"

_DATACLASS_RECORDS = '''"""Benchmark variant: the standard frozen dataclass under records' names."""

from __future__ import annotations

from dataclasses import FrozenInstanceError as FrozenRecordError
from dataclasses import dataclass, field, fields, replace
from typing import Any

record = dataclass(frozen=True{slots})


def as_dict(value: Any) -> dict[str, Any]:
    return {{spec.name: getattr(value, spec.name) for spec in fields(value)}}


__all__ = ["FrozenRecordError", "as_dict", "field", "fields", "record", "replace"]
'''

_SESSION_REQUEST = '''    def _send_once(
        self, call: HttpCall, deadline: float | None
    ) -> requests.Response:
        """Benchmark variant: Session.request with the signer as auth."""
        session = self._session or shared_session()
        credential = self._credentials()  # per attempt: role keys rotate
        headers = {"Host": call.host, "User-Agent": USER_AGENT}
        if call.body is not None:
            headers["Content-Type"] = XML_CONTENT_TYPE
        if credential.token:
            headers[TOKEN_HEADERS[call.service]] = credential.token
        headers.update(call.headers)
        signer = CosRequestSigner(
            credential, call.sign_path, call.params, self._clock, self._sign_expire_s
        )
        url = self._endpoint.url(call.host, call.wire_path, encode_query(call.params))
        return session.request(
            call.method,
            url,
            headers=headers,
            data=call.body,
            auth=signer,
            allow_redirects=False,
            timeout=(self._connect_timeout_s, self._read_timeout(deadline)),
        )

'''
VARIANTS = ("dataclass", "dataclass-slots", "session-request")


def records_source(slots: bool) -> str:
    return _DATACLASS_RECORDS.format(slots=", slots=True" if slots else "")


def transport_source(original: str) -> str:
    """``original`` transport.py with ``_send_once`` (and the ``_prepare`` it used) replaced."""
    start = original.index("    def _send_once(")
    end = original.index("    def _read_timeout(")
    return original[:start] + _SESSION_REQUEST + original[end:]


def make_variant(python: str, unpacked: Path, variant: str, destination: Path) -> Path:
    """A copy of ``unpacked`` with ``variant`` applied and its .pyc rebuilt; returns it."""
    shutil.rmtree(destination, ignore_errors=True)
    shutil.copytree(unpacked, destination)
    if variant == "session-request":
        target = TRANSPORT
        source = transport_source((destination / target).read_text(encoding="utf-8"))
    elif variant in ("dataclass", "dataclass-slots"):
        target, source = RECORDS, records_source(slots=variant == "dataclass-slots")
    else:
        raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
    (destination / target).write_text(source, encoding="utf-8")
    compile_tree(python, destination, [target], PROJECT_PYC_MODE)
    return destination
