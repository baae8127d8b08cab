"""Where result documents go: ``MEDIA_TAGGER_RESULT_DOCUMENT=cos://<bucket>/<prefix>/``, or off.

Unset or blank: off (nothing is written, no permission is needed). Otherwise exactly
``cos://`` + a full bucket name ``<name>-<appid>`` + ``/`` + a prefix that is 1-200 characters of
``A-Z a-z 0-9 - . _ ( ) ! /``, ends with ``/``, and has no empty, ``.`` or ``..`` segment. The
bucket may be the uploads' own bucket or another bucket of the same account in the same region:
documents are written in the region of the object they describe. A prefix is required even in
another bucket, so the upload function's refusal (``ResultLocation.holds``) never covers a whole
bucket. The variable name is passed in by ``shared.settings.functions``. A bad value is a
``ConfigError`` naming the variable and the rule. Pure: no ``os.environ``, no I/O, no logging.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from shared.errors import ConfigError
from shared.models import ResultLocation
from shared.settings.trust import UNSET_PLACEHOLDERS, UNSET_PROBLEM
from shared.settings.values import raw_value

__all__ = ["FORM", "SCHEME", "ResultLocation", "result_location"]  # the deploy tool reads here
SCHEME = "cos://"
MAX_PREFIX_CHARS = 200
# The same rule as shared.settings.functions' bucket check (kept here to avoid an import cycle).
_BUCKET_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?-[0-9]{5,20}")
_SEGMENT_RE = re.compile(r"[A-Za-z0-9\-._()!]+")
FORM = "must look like cos://<name>-<appid>/<prefix>/ (a prefix ending with '/')"


def _check_prefix(prefix: str, variable: str) -> str:
    if not prefix or not prefix.endswith("/") or len(prefix) > MAX_PREFIX_CHARS:
        raise ConfigError(variable, f"{FORM}, at most {MAX_PREFIX_CHARS} characters")
    for segment in prefix[:-1].split("/"):
        if segment in ("", ".", "..") or not _SEGMENT_RE.fullmatch(segment):
            raise ConfigError(
                variable,
                "prefix segments must be non-empty, not . or .., and use only "
                "A-Z a-z 0-9 - . _ ( ) !",
            )
    return prefix


def result_location(environ: Mapping[str, str], variable: str) -> ResultLocation | None:
    """The configured location, or None when the feature is off."""
    raw = raw_value(environ, variable)
    if raw is None:
        return None
    value = raw.strip()
    if value.lower() in UNSET_PLACEHOLDERS:
        raise ConfigError(variable, UNSET_PROBLEM)
    if not value.startswith(SCHEME):
        raise ConfigError(variable, FORM)
    bucket, slash, prefix = value[len(SCHEME) :].partition("/")
    if not slash or not _BUCKET_RE.fullmatch(bucket):
        raise ConfigError(variable, FORM)
    return ResultLocation(bucket, _check_prefix(prefix, variable))
