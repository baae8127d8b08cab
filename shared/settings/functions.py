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

from shared.errors import ConfigError
from shared.media.tag_format import DEFAULT_TAG_FIELDS, ETAG_FIELD, KNOWN_TAG_FIELDS, STATUS_FIELD
from shared.media.tag_merge import DEFAULT_OWN_TAGS
from shared.media.tag_merge import MAX_TAGS as COS_MAX_TAGS
from shared.models import ResultLocation
from shared.records import as_dict, field, record
from shared.settings.callback_url import callback_base_url
from shared.settings.result_document import result_location
from shared.settings.trust import (
    UNSET_PLACEHOLDERS,
    UNSET_PROBLEM,
    allowed_regions,
    current_secret,
)
from shared.settings.trust import previous_secrets as previous_secrets_setting
from shared.settings.values import choice, comma_list, duration_seconds, flag, int_in, raw_value
from shared.tencent.credentials import (
    SECRET_ID_VARIABLE,
    SECRET_KEY_VARIABLE,
    SESSION_TOKEN_VARIABLE,
)
from shared.tencent.endpoints import ENDPOINT_URL_VARIABLE, Endpoint

CALLBACK_URL = "MEDIA_TAGGER_CALLBACK_URL"
CALLBACK_SECRET = "MEDIA_TAGGER_CALLBACK_SECRET"  # noqa: S105 -- a variable name
# Earlier secrets that verify (never mint) while a rotation overlaps: comma list, newest first.
CALLBACK_SECRET_PREVIOUS = "MEDIA_TAGGER_CALLBACK_SECRET_PREVIOUS"  # noqa: S105 -- a name
ALLOWED_REGIONS = "MEDIA_TAGGER_ALLOWED_REGIONS"
QUEUE_ID = "MEDIA_TAGGER_QUEUE_ID"
CALLBACK_FORMAT = "MEDIA_TAGGER_CALLBACK_FORMAT"
JOB_LEVEL = "MEDIA_TAGGER_JOB_LEVEL"
EXTENSIONS = "MEDIA_TAGGER_EXTENSIONS"
INCLUDE_PREFIXES = "MEDIA_TAGGER_INCLUDE_PREFIXES"
EXCLUDE_PREFIXES = "MEDIA_TAGGER_EXCLUDE_PREFIXES"
IDEMPOTENCY_CHECK = "MEDIA_TAGGER_IDEMPOTENCY_CHECK"
UPLOAD_CONCURRENCY = "MEDIA_TAGGER_UPLOAD_CONCURRENCY"
HANDON_MAX_AGE = "MEDIA_TAGGER_HANDON_MAX_AGE"
HANDON_BACKOFF_MS = "MEDIA_TAGGER_HANDON_BACKOFF_MS"
TAG_PREFIX = "MEDIA_TAGGER_TAG_PREFIX"
TAG_FIELDS = "MEDIA_TAGGER_TAG_FIELDS"
MAX_TAGS = "MEDIA_TAGGER_MAX_TAGS"
MAX_CALLBACK_BYTES = "MEDIA_TAGGER_MAX_CALLBACK_BYTES"
ALLOWED_BUCKETS = "MEDIA_TAGGER_ALLOWED_BUCKETS"
ENDPOINT_URL = ENDPOINT_URL_VARIABLE
MAX_ATTEMPTS = "MEDIA_TAGGER_MAX_ATTEMPTS"
LOG_LEVEL = "MEDIA_TAGGER_LOG_LEVEL"
RECONCILE_BUCKETS = "MEDIA_TAGGER_RECONCILE_BUCKETS"
RECONCILE_REGION = "MEDIA_TAGGER_RECONCILE_REGION"
RECONCILE_WINDOW = "MEDIA_TAGGER_RECONCILE_WINDOW"
RECONCILE_SETTLE = "MEDIA_TAGGER_RECONCILE_SETTLE"
RESULT_DOCUMENT = "MEDIA_TAGGER_RESULT_DOCUMENT"  # cos://<bucket>/<prefix>/; unset = off
SCF_REGION = "TENCENTCLOUD_REGION"  # set by SCF itself: the reconcile function's default region

CREDENTIAL_VARIABLES = (SECRET_ID_VARIABLE, SECRET_KEY_VARIABLE, SESSION_TOKEN_VARIABLE)
# Everything a deployment may set for us (serverless.yml is checked against this).
SETTINGS_VARIABLES = frozenset({
    CALLBACK_URL, CALLBACK_SECRET, CALLBACK_SECRET_PREVIOUS, CALLBACK_FORMAT, JOB_LEVEL,
    EXTENSIONS, INCLUDE_PREFIXES, EXCLUDE_PREFIXES, IDEMPOTENCY_CHECK, UPLOAD_CONCURRENCY,
    HANDON_MAX_AGE, HANDON_BACKOFF_MS, TAG_PREFIX, TAG_FIELDS, MAX_TAGS, MAX_CALLBACK_BYTES,
    ALLOWED_BUCKETS, ALLOWED_REGIONS, QUEUE_ID, ENDPOINT_URL, MAX_ATTEMPTS, LOG_LEVEL,
    RECONCILE_BUCKETS, RECONCILE_REGION, RECONCILE_WINDOW, RECONCILE_SETTLE, RESULT_DOCUMENT,
})  # fmt: skip
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
DEFAULT_UPLOAD_CONCURRENCY = 8
UPLOAD_CONCURRENCY_RANGE = (1, 32)
DEFAULT_HANDON_MAX_AGE_S = 24 * 3600
HANDON_MAX_AGE_RANGE_S = (60, 7 * 86400)
DEFAULT_HANDON_BACKOFF_MS = 2000
HANDON_BACKOFF_RANGE_MS = (10, 600_000)


_EXTENSION_RE = re.compile(r"[a-z0-9]{1,16}")
_BUCKET_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?-[0-9]{5,20}")
_REGION_RE = re.compile(r"[a-z]{2,4}-[a-z]+(?:-[0-9]+)?")
# COS tag key charset (ASCII subset; a prefix with ':' '/' '.' is the usual namespace form).
# The narrower tag charset (no '@'): shared.media.tag_format writes only what both docs allow.
_TAG_PREFIX_RE = re.compile(r"[A-Za-z0-9+\-=._:/]+")
_RESERVED_TAG_PREFIXES = ("qcs:", "project")
# CI queue ids are "p" + 32 hex digits in every sample; any plain id is accepted.
_QUEUE_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


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
    queue_id: str | None  # None: CI's default queue (looked up only if CI asks for one)
    concurrency: int = DEFAULT_UPLOAD_CONCURRENCY
    hand_on_max_age_s: float = DEFAULT_HANDON_MAX_AGE_S
    hand_on_backoff_s: float = DEFAULT_HANDON_BACKOFF_MS / 1000
    result_document: ResultLocation | None = None  # never submitted for: keys under it


@record
class CallbackSettings(CommonSettings):
    """The callback (function URL) function. ``allowed_buckets`` / ``allowed_regions`` empty
    mean any bucket / region. ``previous_secrets`` verify tokens only (newest first)."""

    tag_fields: tuple[str, ...]
    own_tag_cap: int
    max_callback_bytes: int
    allowed_buckets: frozenset[str]
    allowed_regions: frozenset[str]
    previous_secrets: tuple[str, ...] = field(repr=False)
    result_document: ResultLocation | None = None  # written before the tags when set

    @property
    def verifying_secrets(self) -> tuple[str, ...]:
        """Current first, then the previous ones: the order ``secret_label`` numbers."""
        return (self.callback_secret, *self.previous_secrets)


def queue_id_setting(environ: Mapping[str, str]) -> str | None:
    raw = raw_value(environ, QUEUE_ID)
    if raw is None:
        return None
    value = raw.strip()
    if value.lower() in UNSET_PLACEHOLDERS:
        raise ConfigError(QUEUE_ID, UNSET_PROBLEM)
    if not _QUEUE_ID_RE.fullmatch(value):
        raise ConfigError(QUEUE_ID, "must be a CI media queue id like p2242ab62c7c9448...")
    return value


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


def own_tag_cap_setting(environ: Mapping[str, str]) -> int:
    """How many of an object's 10 tags may be ours (default 7: three stay free for the owner)."""
    return int_in(environ, MAX_TAGS, DEFAULT_OWN_TAGS, (1, COS_MAX_TAGS))


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


def result_document_setting(environ: Mapping[str, str]) -> ResultLocation | None:
    """MEDIA_TAGGER_RESULT_DOCUMENT (``shared.settings.result_document``); None when off."""
    return result_location(environ, RESULT_DOCUMENT)


def endpoint_url_setting(environ: Mapping[str, str]) -> str | None:
    raw = raw_value(environ, ENDPOINT_URL)
    if raw is None:
        return None
    Endpoint(raw.strip())  # validates; raises ConfigError naming the variable
    return raw.strip()


def _common(environ: Mapping[str, str]) -> dict[str, Any]:
    """The shared fields, as keyword arguments for either settings class."""
    common = CommonSettings(
        callback_secret=current_secret(environ, CALLBACK_SECRET),
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
        callback_url=callback_base_url(environ, CALLBACK_URL),
        callback_format=choice(environ, CALLBACK_FORMAT, "JSON", CALLBACK_FORMATS),
        job_level=int_in(environ, JOB_LEVEL, 0, (JOB_LEVELS[0], JOB_LEVELS[-1])),
        extensions=_extensions(environ),
        include_prefixes=comma_list(environ, INCLUDE_PREFIXES),
        exclude_prefixes=comma_list(environ, EXCLUDE_PREFIXES),
        idempotency_check=flag(environ, IDEMPOTENCY_CHECK, False),
        queue_id=queue_id_setting(environ),
        concurrency=int_in(
            environ, UPLOAD_CONCURRENCY, DEFAULT_UPLOAD_CONCURRENCY, UPLOAD_CONCURRENCY_RANGE
        ),
        hand_on_max_age_s=_hand_on_max_age(environ),
        hand_on_backoff_s=int_in(
            environ, HANDON_BACKOFF_MS, DEFAULT_HANDON_BACKOFF_MS, HANDON_BACKOFF_RANGE_MS
        )
        / 1000,
        result_document=result_document_setting(environ),
    )


def _hand_on_max_age(environ: Mapping[str, str]) -> float:
    age = duration_seconds(environ, HANDON_MAX_AGE, DEFAULT_HANDON_MAX_AGE_S)
    low, high = HANDON_MAX_AGE_RANGE_S
    if not low <= age <= high:
        raise ConfigError(HANDON_MAX_AGE, "must be from 1m to 7d")
    return age


def load_callback_settings(environ: Mapping[str, str]) -> CallbackSettings:
    """Settings of the callback function; ConfigError names the first bad variable."""
    return CallbackSettings(
        **_common(environ),
        tag_fields=tag_fields_setting(environ),
        own_tag_cap=own_tag_cap_setting(environ),
        max_callback_bytes=int_in(
            environ, MAX_CALLBACK_BYTES, DEFAULT_MAX_CALLBACK_BYTES, MAX_CALLBACK_BYTES_RANGE
        ),
        allowed_buckets=_allowed_buckets(environ),
        allowed_regions=allowed_regions(environ, ALLOWED_REGIONS, SCF_REGION),
        previous_secrets=previous_secrets_setting(environ, CALLBACK_SECRET_PREVIOUS),
        result_document=result_document_setting(environ),
    )
