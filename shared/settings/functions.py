"""Typed, validated settings of both functions, parsed from an environ Mapping on every invocation.

Every environment variable the functions read is named here once (credentials and the endpoint
override keep their names in ``shared.tencent.credentials`` / ``shared.tencent.endpoints`` and are
re-exported). A bad value raises ``ConfigError`` naming the variable and the problem, never echoing
the value: some of them are secrets. This module must not read ``os.environ`` itself, do I/O or log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from shared.errors import ConfigError
from shared.media.tag_format import DEFAULT_TAG_FIELDS, ETAG_FIELD, KNOWN_TAG_FIELDS, STATUS_FIELD
from shared.records import as_dict, field, record
from shared.settings.values import choice, comma_list, flag, int_in, raw_value
from shared.tencent.credentials import (
    SECRET_ID_VARIABLE,
    SECRET_KEY_VARIABLE,
    SESSION_TOKEN_VARIABLE,
)
from shared.tencent.endpoints import ENDPOINT_URL_VARIABLE, Endpoint

CALLBACK_URL = "MEDIA_TAGGER_CALLBACK_URL"
CALLBACK_SECRET = "MEDIA_TAGGER_CALLBACK_SECRET"  # noqa: S105 -- a variable name
CALLBACK_FORMAT = "MEDIA_TAGGER_CALLBACK_FORMAT"
JOB_LEVEL = "MEDIA_TAGGER_JOB_LEVEL"
EXTENSIONS = "MEDIA_TAGGER_EXTENSIONS"
INCLUDE_PREFIXES = "MEDIA_TAGGER_INCLUDE_PREFIXES"
EXCLUDE_PREFIXES = "MEDIA_TAGGER_EXCLUDE_PREFIXES"
IDEMPOTENCY_CHECK = "MEDIA_TAGGER_IDEMPOTENCY_CHECK"
TAG_PREFIX = "MEDIA_TAGGER_TAG_PREFIX"
TAG_FIELDS = "MEDIA_TAGGER_TAG_FIELDS"
MAX_CALLBACK_BYTES = "MEDIA_TAGGER_MAX_CALLBACK_BYTES"
ALLOWED_BUCKETS = "MEDIA_TAGGER_ALLOWED_BUCKETS"
ENDPOINT_URL = ENDPOINT_URL_VARIABLE
MAX_ATTEMPTS = "MEDIA_TAGGER_MAX_ATTEMPTS"
LOG_LEVEL = "MEDIA_TAGGER_LOG_LEVEL"
RECONCILE_BUCKETS = "MEDIA_TAGGER_RECONCILE_BUCKETS"
RECONCILE_REGION = "MEDIA_TAGGER_RECONCILE_REGION"
RECONCILE_WINDOW = "MEDIA_TAGGER_RECONCILE_WINDOW"
RECONCILE_SETTLE = "MEDIA_TAGGER_RECONCILE_SETTLE"
SCF_REGION = "TENCENTCLOUD_REGION"  # set by SCF itself: the reconcile function's default region

CREDENTIAL_VARIABLES = (SECRET_ID_VARIABLE, SECRET_KEY_VARIABLE, SESSION_TOKEN_VARIABLE)
# Everything a deployment may set for us (serverless.yml is checked against this).
SETTINGS_VARIABLES = frozenset({
    CALLBACK_URL, CALLBACK_SECRET, CALLBACK_FORMAT, JOB_LEVEL, EXTENSIONS, INCLUDE_PREFIXES,
    EXCLUDE_PREFIXES, IDEMPOTENCY_CHECK, TAG_PREFIX, TAG_FIELDS, MAX_CALLBACK_BYTES,
    ALLOWED_BUCKETS, ENDPOINT_URL, MAX_ATTEMPTS, LOG_LEVEL, RECONCILE_BUCKETS, RECONCILE_REGION,
    RECONCILE_WINDOW, RECONCILE_SETTLE,
})  # fmt: skip

MIN_SECRET_LENGTH = 32
# Common video and audio container extensions (lower case, no dot).
DEFAULT_EXTENSIONS = frozenset(
    {
        # video
        "3g2", "3gp", "asf", "avi", "dv", "f4v", "flv", "m2t", "m2ts", "m4v", "mkv", "mov",
        "mp4", "mpeg", "mpg", "mts", "mxf", "ogv", "rm", "rmvb", "ts", "vob", "webm", "wmv",
        # audio
        "aac", "ac3", "aif", "aiff", "amr", "ape", "flac", "m4a", "m4b", "mka", "mp3", "oga",
        "ogg", "opus", "wav", "wma",
    }
)  # fmt: skip
ANY_EXTENSION = "*"
DEFAULT_TAG_PREFIX = "media:"
DEFAULT_MAX_CALLBACK_BYTES = 1024 * 1024
MAX_CALLBACK_BYTES_RANGE = (1024, 6 * 1024 * 1024)  # SCF sync requests are capped at 6 MB
DEFAULT_MAX_ATTEMPTS = 4
MAX_ATTEMPTS_RANGE = (1, 10)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
CALLBACK_FORMATS = ("JSON", "XML")
JOB_LEVELS = (0, 1, 2)
MAX_TAG_PREFIX_LENGTH = 64


_EXTENSION_RE = re.compile(r"[a-z0-9]{1,16}")
_BUCKET_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?-[0-9]{5,20}")
_REGION_RE = re.compile(r"[a-z]{2,4}-[a-z]+(?:-[0-9]+)?")
# COS tag key charset (ASCII subset; a prefix with ':' '/' '.' is the usual namespace form).
# The narrower tag charset (no '@'): shared.media.tag_format writes only what both docs allow.
_TAG_PREFIX_RE = re.compile(r"[A-Za-z0-9+\-=._:/]+")
_RESERVED_TAG_PREFIXES = ("qcs:", "project")
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@record
class CommonSettings:
    """What both functions read."""

    callback_secret: str = field(repr=False)
    tag_prefix: str
    endpoint_url: str | None
    max_attempts: int
    log_level: str


@record
class UploadSettings(CommonSettings):
    """The upload (COS trigger) function. ``extensions`` None means every extension."""

    callback_url: str
    callback_format: str
    job_level: int
    extensions: frozenset[str] | None
    include_prefixes: tuple[str, ...]
    exclude_prefixes: tuple[str, ...]
    idempotency_check: bool


@record
class CallbackSettings(CommonSettings):
    """The callback (function URL) function. ``allowed_buckets`` empty means any bucket."""

    tag_fields: tuple[str, ...]
    max_callback_bytes: int
    allowed_buckets: frozenset[str]


def _callback_secret(environ: Mapping[str, str]) -> str:
    raw = raw_value(environ, CALLBACK_SECRET)
    if raw is None:
        raise ConfigError(CALLBACK_SECRET, "missing (set a random string of 32+ characters)")
    if raw != raw.strip():
        raise ConfigError(CALLBACK_SECRET, "has leading or trailing whitespace")
    if len(raw) < MIN_SECRET_LENGTH:
        raise ConfigError(CALLBACK_SECRET, f"must be at least {MIN_SECRET_LENGTH} characters")
    return raw


def _callback_url(environ: Mapping[str, str]) -> str:
    raw = raw_value(environ, CALLBACK_URL)
    if raw is None:
        raise ConfigError(CALLBACK_URL, "missing (the callback function's URL)")
    url = raw.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:  # e.g. an unbalanced IPv6 bracket
        raise ConfigError(CALLBACK_URL, "is not a URL") from exc
    if parts.scheme not in ("https", "http") or not host or parts.fragment:
        raise ConfigError(CALLBACK_URL, "must be an absolute http(s) URL without a #fragment")
    if parts.scheme == "http" and host not in _LOOPBACK_HOSTS:
        raise ConfigError(CALLBACK_URL, "must use https (plain http only for a loopback host)")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(CALLBACK_URL, "must not carry user info")
    if any(name == "token" for name, _ in parse_qsl(parts.query, keep_blank_values=True)):
        raise ConfigError(CALLBACK_URL, "must not contain a token parameter (it is added per job)")
    return url


def _extensions(environ: Mapping[str, str]) -> frozenset[str] | None:
    if raw_value(environ, EXTENSIONS) is None:
        return DEFAULT_EXTENSIONS
    items = [item.lower().removeprefix(".") for item in comma_list(environ, EXTENSIONS)]
    if ANY_EXTENSION in items:
        return None
    bad = [item for item in items if not _EXTENSION_RE.fullmatch(item)]
    if bad or not items:
        raise ConfigError(EXTENSIONS, "must be a comma list of extensions like mp4,mov (or *)")
    return frozenset(items)


def tag_prefix_setting(environ: Mapping[str, str]) -> str:
    raw = raw_value(environ, TAG_PREFIX)
    if raw is None:
        return DEFAULT_TAG_PREFIX
    prefix = raw.strip()
    if len(prefix) > MAX_TAG_PREFIX_LENGTH or not _TAG_PREFIX_RE.fullmatch(prefix):
        raise ConfigError(
            TAG_PREFIX,
            f"must be 1-{MAX_TAG_PREFIX_LENGTH} characters of A-Z a-z 0-9 + - = . _ : /",
        )
    if prefix.lower().startswith(_RESERVED_TAG_PREFIXES):
        raise ConfigError(TAG_PREFIX, "must not start with a reserved prefix (qcs:, project)")
    return prefix


def tag_fields_setting(environ: Mapping[str, str]) -> tuple[str, ...]:
    if raw_value(environ, TAG_FIELDS) is None:
        return DEFAULT_TAG_FIELDS
    items = [item.lower() for item in comma_list(environ, TAG_FIELDS)]
    unknown = sorted(set(items) - KNOWN_TAG_FIELDS)
    if unknown:
        known = ",".join(sorted(KNOWN_TAG_FIELDS))
        raise ConfigError(TAG_FIELDS, f"unknown field(s) {', '.join(unknown)}; known: {known}")
    if len(set(items)) != len(items):
        raise ConfigError(TAG_FIELDS, "lists a field twice")
    # status and etag are always kept, ahead of every media field.
    rest = tuple(item for item in items if item not in (STATUS_FIELD, ETAG_FIELD))
    return (STATUS_FIELD, ETAG_FIELD, *rest)


def check_bucket_name(bucket: str, variable: str) -> str:
    """``bucket`` when it is a full ``<name>-<appid>``; ConfigError naming ``variable`` else."""
    if not _BUCKET_RE.fullmatch(bucket):
        raise ConfigError(variable, "must be a full bucket name <name>-<appid>")
    return bucket


def check_region(region: str, variable: str) -> str:
    """``region`` when it looks like ap-guangzhou; ConfigError naming ``variable`` else."""
    if not _REGION_RE.fullmatch(region):
        raise ConfigError(variable, "must be a COS region like ap-guangzhou")
    return region


def _allowed_buckets(environ: Mapping[str, str]) -> frozenset[str]:
    items = comma_list(environ, ALLOWED_BUCKETS)
    if any(not _BUCKET_RE.fullmatch(item) for item in items):
        raise ConfigError(ALLOWED_BUCKETS, "must be a comma list of <name>-<appid> bucket names")
    return frozenset(items)


def endpoint_url_setting(environ: Mapping[str, str]) -> str | None:
    raw = raw_value(environ, ENDPOINT_URL)
    if raw is None:
        return None
    Endpoint(raw.strip())  # validates; raises ConfigError naming the variable
    return raw.strip()


def _common(environ: Mapping[str, str]) -> dict[str, Any]:
    """The shared fields, as keyword arguments for either settings class."""
    common = CommonSettings(
        callback_secret=_callback_secret(environ),
        tag_prefix=tag_prefix_setting(environ),
        endpoint_url=endpoint_url_setting(environ),
        max_attempts=int_in(environ, MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS, MAX_ATTEMPTS_RANGE),
        log_level=choice(environ, LOG_LEVEL, "INFO", LOG_LEVELS),
    )
    return as_dict(common)


def load_upload_settings(environ: Mapping[str, str]) -> UploadSettings:
    """Settings of the upload function; ConfigError names the first bad variable."""
    return UploadSettings(
        **_common(environ),
        callback_url=_callback_url(environ),
        callback_format=choice(environ, CALLBACK_FORMAT, "JSON", CALLBACK_FORMATS),
        job_level=int_in(environ, JOB_LEVEL, 0, (JOB_LEVELS[0], JOB_LEVELS[-1])),
        extensions=_extensions(environ),
        include_prefixes=comma_list(environ, INCLUDE_PREFIXES),
        exclude_prefixes=comma_list(environ, EXCLUDE_PREFIXES),
        idempotency_check=flag(environ, IDEMPOTENCY_CHECK, True),
    )


def load_callback_settings(environ: Mapping[str, str]) -> CallbackSettings:
    """Settings of the callback function; ConfigError names the first bad variable."""
    return CallbackSettings(
        **_common(environ),
        tag_fields=tag_fields_setting(environ),
        max_callback_bytes=int_in(
            environ, MAX_CALLBACK_BYTES, DEFAULT_MAX_CALLBACK_BYTES, MAX_CALLBACK_BYTES_RANGE
        ),
        allowed_buckets=_allowed_buckets(environ),
    )
