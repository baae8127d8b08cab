"""The tag vocabulary of the project in one import: formatting (tag_format) and merging (tag_merge).

Callers (callback service, upload idempotency check, reconcile) import from here so the split
into two modules stays an implementation detail. Pure re-exports: nothing is defined or done here.
"""

from __future__ import annotations

from shared.media.tag_format import (
    DEFAULT_TAG_FIELDS,
    ETAG_FIELD,
    KNOWN_TAG_FIELDS,
    MAX_KEY_CHARS,
    MAX_VALUE_CHARS,
    MEDIA_FIELDS,
    RESULT_FIELDS,
    STATUS_FIELD,
    format_container,
    format_duration,
    format_fps,
    format_kbps,
    format_resolution,
    format_rotation,
    media_tags,
    primary_video,
    sanitise_key,
    sanitise_text,
    sanitise_value,
    tag_key,
)
from shared.media.tag_merge import (
    FAILED_PREFIX,
    MAX_TAGS,
    STATUS_OK,
    merge_tags,
    our_tags,
    recorded_result_etag,
    same_tags,
    status_tags_for_failure,
    status_tags_for_success,
)

__all__ = [
    "DEFAULT_TAG_FIELDS",
    "ETAG_FIELD",
    "FAILED_PREFIX",
    "KNOWN_TAG_FIELDS",
    "MAX_KEY_CHARS",
    "MAX_TAGS",
    "MAX_VALUE_CHARS",
    "MEDIA_FIELDS",
    "RESULT_FIELDS",
    "STATUS_FIELD",
    "STATUS_OK",
    "format_container",
    "format_duration",
    "format_fps",
    "format_kbps",
    "format_resolution",
    "format_rotation",
    "media_tags",
    "merge_tags",
    "our_tags",
    "primary_video",
    "recorded_result_etag",
    "same_tags",
    "sanitise_key",
    "sanitise_text",
    "sanitise_value",
    "status_tags_for_failure",
    "status_tags_for_success",
    "tag_key",
]
