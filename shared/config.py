"""Typed, validated settings of both functions, parsed from an environ Mapping on every invocation.

Every environment variable the functions read is named here once (credentials and the endpoint
override keep their names in ``shared.credentials`` / ``shared.endpoints`` and are re-exported).
A bad value raises ``ConfigError`` naming the variable and the problem, never echoing the value:
some of them are secrets. This module must not read ``os.environ`` itself, do I/O or log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from shared.credentials import SECRET_ID_VARIABLE, SECRET_KEY_VARIABLE, SESSION_TOKEN_VARIABLE
from shared.endpoints import ENDPOINT_URL_VARIABLE, Endpoint
from shared.errors import ConfigError
from shared.tag_format import DEFAULT_TAG_FIELDS, ETAG_FIELD, KNOWN_TAG_FIELDS, STATUS_FIELD
from shared.time_window import parse_duration

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

# Timer every 30 min: a 70 min window ending 5 min ago covers every job in at least two runs.
DEFAULT_RECONCILE_WINDOW_S = 70 * 60
DEFAULT_RECONCILE_SETTLE_S = 5 * 60
RECONCILE_WINDOW_RANGE_S = (60, 7 * 86400)

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_EXTENSION_RE = re.compile(r"[a-z0-9]{1,16}")
_BUCKET_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?-[0-9]{5,20}")
_REGION_RE = re.compile(r"[a-z]{2,4}-[a-z]+(?:-[0-9]+)?")
# COS tag key charset (ASCII subset; a prefix with ':' '/' '.' is the usual namespace form).
_TAG_PREFIX_RE = re.compile(r"[A-Za-z0-9+\-=._:/@]+")
_RESERVED_TAG_PREFIXES = ("qcs:", "project")
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class CommonSettings:
    """What both functions read."""

    callback_secret: str = field(repr=False)
    tag_prefix: str
    endpoint_url: str | None
    max_attempts: int
    log_level: str


@dataclass(frozen=True)
class UploadSettings(CommonSettings):
    """The upload (COS trigger) function. ``extensions`` None means every extension."""

    callback_url: str
    callback_format: str
    job_level: int
    extensions: frozenset[str] | None
    include_prefixes: tuple[str, ...]
    exclude_prefixes: tuple[str, ...]
    idempotency_check: bool


@dataclass(frozen=True)
class CallbackSettings(CommonSettings):
    """The callback (function URL) function. ``allowed_buckets`` empty means any bucket."""

    tag_fields: tuple[str, ...]
    max_callback_bytes: int
    allowed_buckets: frozenset[str]


def _raw(environ: Mapping[str, str], name: str) -> str | None:
    """The value, or None when unset or blank (blank counts as unset everywhere)."""
    value = environ.get(name)
    if value is None or not value.strip():
        return None
    return value


def _comma_list(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = _raw(environ, name)
    if raw is None:
        return ()
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _int_in(environ: Mapping[str, str], name: str, default: int, allowed: tuple[int, int]) -> int:
    raw = _raw(environ, name)
    if raw is None:
        return default
    low, high = allowed
    if not re.fullmatch(r"[0-9]{1,9}", raw.strip()) or not low <= int(raw) <= high:
        raise ConfigError(name, f"must be a whole number from {low} to {high}")
    return int(raw)


def _choice(environ: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = _raw(environ, name)
    if raw is None:
        return default
    value = raw.strip().upper()
    if value not in choices:
        raise ConfigError(name, f"must be one of {', '.join(choices)}")
    return value


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _raw(environ, name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(name, "must be true or false (also 1/0, yes/no, on/off)")


def _callback_secret(environ: Mapping[str, str]) -> str:
    raw = _raw(environ, CALLBACK_SECRET)
    if raw is None:
        raise ConfigError(CALLBACK_SECRET, "missing (set a random string of 32+ characters)")
    if raw != raw.strip():
        raise ConfigError(CALLBACK_SECRET, "has leading or trailing whitespace")
    if len(raw) < MIN_SECRET_LENGTH:
        raise ConfigError(CALLBACK_SECRET, f"must be at least {MIN_SECRET_LENGTH} characters")
    return raw


def _callback_url(environ: Mapping[str, str]) -> str:
    raw = _raw(environ, CALLBACK_URL)
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
    if _raw(environ, EXTENSIONS) is None:
        return DEFAULT_EXTENSIONS
    items = [item.lower().removeprefix(".") for item in _comma_list(environ, EXTENSIONS)]
    if ANY_EXTENSION in items:
        return None
    bad = [item for item in items if not _EXTENSION_RE.fullmatch(item)]
    if bad or not items:
        raise ConfigError(EXTENSIONS, "must be a comma list of extensions like mp4,mov (or *)")
    return frozenset(items)


def _tag_prefix(environ: Mapping[str, str]) -> str:
    raw = _raw(environ, TAG_PREFIX)
    if raw is None:
        return DEFAULT_TAG_PREFIX
    prefix = raw.strip()
    if len(prefix) > MAX_TAG_PREFIX_LENGTH or not _TAG_PREFIX_RE.fullmatch(prefix):
        raise ConfigError(
            TAG_PREFIX,
            f"must be 1-{MAX_TAG_PREFIX_LENGTH} characters of A-Z a-z 0-9 + - = . _ : / @",
        )
    if prefix.lower().startswith(_RESERVED_TAG_PREFIXES):
        raise ConfigError(TAG_PREFIX, "must not start with a reserved prefix (qcs:, project)")
    return prefix


def _tag_fields(environ: Mapping[str, str]) -> tuple[str, ...]:
    if _raw(environ, TAG_FIELDS) is None:
        return DEFAULT_TAG_FIELDS
    items = [item.lower() for item in _comma_list(environ, TAG_FIELDS)]
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
    items = _comma_list(environ, ALLOWED_BUCKETS)
    if any(not _BUCKET_RE.fullmatch(item) for item in items):
        raise ConfigError(ALLOWED_BUCKETS, "must be a comma list of <name>-<appid> bucket names")
    return frozenset(items)


def _endpoint_url(environ: Mapping[str, str]) -> str | None:
    raw = _raw(environ, ENDPOINT_URL)
    if raw is None:
        return None
    Endpoint(raw.strip())  # validates; raises ConfigError naming the variable
    return raw.strip()


def _common(environ: Mapping[str, str]) -> dict[str, Any]:
    """The shared fields, as keyword arguments for either settings class."""
    common = CommonSettings(
        callback_secret=_callback_secret(environ),
        tag_prefix=_tag_prefix(environ),
        endpoint_url=_endpoint_url(environ),
        max_attempts=_int_in(environ, MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS, MAX_ATTEMPTS_RANGE),
        log_level=_choice(environ, LOG_LEVEL, "INFO", LOG_LEVELS),
    )
    return asdict(common)


def load_upload_settings(environ: Mapping[str, str]) -> UploadSettings:
    """Settings of the upload function; ConfigError names the first bad variable."""
    return UploadSettings(
        **_common(environ),
        callback_url=_callback_url(environ),
        callback_format=_choice(environ, CALLBACK_FORMAT, "JSON", CALLBACK_FORMATS),
        job_level=_int_in(environ, JOB_LEVEL, 0, (JOB_LEVELS[0], JOB_LEVELS[-1])),
        extensions=_extensions(environ),
        include_prefixes=_comma_list(environ, INCLUDE_PREFIXES),
        exclude_prefixes=_comma_list(environ, EXCLUDE_PREFIXES),
        idempotency_check=_flag(environ, IDEMPOTENCY_CHECK, True),
    )


def load_callback_settings(environ: Mapping[str, str]) -> CallbackSettings:
    """Settings of the callback function; ConfigError names the first bad variable."""
    return CallbackSettings(
        **_common(environ),
        tag_fields=_tag_fields(environ),
        max_callback_bytes=_int_in(
            environ, MAX_CALLBACK_BYTES, DEFAULT_MAX_CALLBACK_BYTES, MAX_CALLBACK_BYTES_RANGE
        ),
        allowed_buckets=_allowed_buckets(environ),
    )


@dataclass(frozen=True)
class ReconcileSettings:
    """The reconcile timer function and the CLIs' tag settings (no callback secret needed).
    ``buckets`` empty and ``region`` None mean "not configured" (the CLI takes them as options)."""

    tag_prefix: str
    tag_fields: tuple[str, ...]
    endpoint_url: str | None
    max_attempts: int
    log_level: str
    buckets: tuple[str, ...]
    region: str | None
    window_s: float
    settle_s: float


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = _raw(environ, name)
    if raw is None:
        return default
    try:
        return parse_duration(raw)
    except ValueError as exc:
        raise ConfigError(name, "must be a duration like 30m, 2h or 1h30m") from exc


def _reconcile_target(environ: Mapping[str, str]) -> tuple[tuple[str, ...], str | None]:
    buckets = tuple(
        check_bucket_name(b, RECONCILE_BUCKETS) for b in _comma_list(environ, RECONCILE_BUCKETS)
    )
    region = _raw(environ, RECONCILE_REGION) or _raw(environ, SCF_REGION)
    return buckets, check_region(region.strip(), RECONCILE_REGION) if region else None


def load_reconcile_settings(environ: Mapping[str, str]) -> ReconcileSettings:
    """Settings of reconcile; ConfigError names the first bad variable."""
    window = _seconds(environ, RECONCILE_WINDOW, DEFAULT_RECONCILE_WINDOW_S)
    low, high = RECONCILE_WINDOW_RANGE_S
    if not low <= window <= high:
        raise ConfigError(RECONCILE_WINDOW, "must be from 1m to 7d")
    settle = _seconds(environ, RECONCILE_SETTLE, DEFAULT_RECONCILE_SETTLE_S)
    if settle >= window:
        raise ConfigError(RECONCILE_SETTLE, f"must be shorter than {RECONCILE_WINDOW}")
    buckets, region = _reconcile_target(environ)
    return ReconcileSettings(
        tag_prefix=_tag_prefix(environ),
        tag_fields=_tag_fields(environ),
        endpoint_url=_endpoint_url(environ),
        max_attempts=_int_in(environ, MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS, MAX_ATTEMPTS_RANGE),
        log_level=_choice(environ, LOG_LEVEL, "INFO", LOG_LEVELS),
        buckets=buckets,
        region=region,
        window_s=window,
        settle_s=settle,
    )
