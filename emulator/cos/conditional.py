"""Conditional GET/HEAD Object: If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since.

As the GET and HEAD Object docs say: a failed If-Match or If-Unmodified-Since is 412
PreconditionFailed ("Precondition not match.", the doc's sample body); a matching If-None-Match or
an unmodified If-Modified-Since is 304. COS does not document what wins when several are sent
(UNCERTAIN in /work/research/cos-facts.md section 4): the RFC 7232 order is used, as S3 does:
If-Match, then If-Unmodified-Since (ignored when If-Match is present), then If-None-Match, then
If-Modified-Since (ignored when If-None-Match is present). A date that does not parse is ignored.
Times compare in whole seconds, the resolution of Last-Modified. Pure: no I/O, no replies.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from emulator.wire import ServiceError

NOT_MODIFIED = 304


def precondition_failed() -> ServiceError:
    return ServiceError(412, "PreconditionFailed", "Precondition not match.")


def _etag_matches(header: str, etag: str) -> bool:
    for candidate in header.split(","):
        value = candidate.strip()
        if value == "*":
            return True
        if value.startswith("W/"):
            value = value[2:]
        if value.strip('"') == etag:
            return True
    return False


def _seconds(header: str | None) -> float | None:
    if header is None:
        return None
    try:
        return parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def check_preconditions(headers: Mapping[str, str], etag: str, last_modified: float) -> int | None:
    """None to serve the object, 304 for "not modified"; raises 412 PreconditionFailed."""
    modified = int(last_modified)
    if_match = headers.get("if-match")
    if if_match is not None:
        if not _etag_matches(if_match, etag):
            raise precondition_failed()
    else:
        unmodified_since = _seconds(headers.get("if-unmodified-since"))
        if unmodified_since is not None and modified > unmodified_since:
            raise precondition_failed()
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        return NOT_MODIFIED if _etag_matches(if_none_match, etag) else None
    modified_since = _seconds(headers.get("if-modified-since"))
    if modified_since is not None and modified <= modified_since:
        return NOT_MODIFIED
    return None
