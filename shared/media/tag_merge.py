"""Our result tags, merged into an object's existing tag set under COS's 10-tag limit and our cap.

Policy (docs/tags.md "The 10-tag limit"): tags whose key does not start with our prefix are foreign
and are returned unchanged and in their order; our namespace is replaced as a whole; ``status`` then
``etag`` come first, the media fields follow in the configured priority order and are dropped from
the end when the set would exceed 10 tags, or our own cap (``MEDIA_TAGGER_MAX_TAGS``, default 7, so
an object without tags keeps 3 slots for its owner). With 9 foreign tags only ``status`` fits; with
10 we write nothing. Pure: no I/O, no logging; it never edits a foreign tag.
"""

from __future__ import annotations

from shared.media.applied_job import FAILED_PREFIX, STATUS_OK, AppliedJob, format_applied_job
from shared.media.tag_format import ETAG_FIELD, RESULT_FIELDS, STATUS_FIELD, sanitise_value, tag_key
from shared.models import Tag, TagSet

MAX_TAGS = 10  # COS: at most 10 tags per object
DEFAULT_OWN_TAGS = 7  # ours at most, by default: 3 slots stay free on an object without tags
UNKNOWN_FAILURE_CODE = "Unknown"


def _result_tags(status: str, applied: AppliedJob, prefix: str) -> TagSet:
    tags: list[Tag] = [(tag_key(prefix, STATUS_FIELD), sanitise_value(status))]
    etag_value = sanitise_value(format_applied_job(applied))
    if etag_value:
        tags.append((tag_key(prefix, ETAG_FIELD), etag_value))
    return tuple(tags)


def status_tags_for_success(applied: AppliedJob, prefix: str) -> TagSet:
    """``<prefix>status=ok`` and ``<prefix>etag=<etag>/<job time>/<job id>``."""
    return _result_tags(STATUS_OK, applied, prefix)


def status_tags_for_failure(code: str | None, applied: AppliedJob, prefix: str) -> TagSet:
    """``<prefix>status=failed:<Code>`` (sanitised; 'Unknown' when CI gave no code) and the etag."""
    code_value = sanitise_value(code or "") or UNKNOWN_FAILURE_CODE
    return _result_tags(FAILED_PREFIX + code_value, applied, prefix)


def _field_name(key: str, prefix: str) -> str:
    return key[len(prefix) :]


def _by_priority(ours: TagSet, prefix: str) -> TagSet:
    """Result fields first (status, then etag), then the rest in the order given."""
    rank = {tag_key(prefix, name): position for position, name in enumerate(RESULT_FIELDS)}
    first = sorted((tag for tag in ours if tag[0] in rank), key=lambda tag: rank[tag[0]])
    return tuple(first) + tuple(tag for tag in ours if tag[0] not in rank)


def _check_ours(ours: TagSet, prefix: str) -> None:
    if not prefix:
        raise ValueError("an empty tag prefix would claim every tag on the object")
    keys = [key for key, _ in ours]
    if any(not key.startswith(prefix) for key in keys):
        raise ValueError("every tag we write must carry our prefix")
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate keys among our tags")


def merge_tags(
    existing: TagSet,
    ours: TagSet,
    prefix: str,
    max_tags: int = MAX_TAGS,
    own_cap: int = DEFAULT_OWN_TAGS,
) -> tuple[TagSet, tuple[str, ...]]:
    """(merged set, field names of ours left out). Foreign tags keep their values and order and
    come first; ours follow in priority order, at most ``own_cap`` of them. When foreign tags
    alone fill ``max_tags`` the existing set is returned as is (nothing to write) and every field
    is reported dropped."""
    _check_ours(ours, prefix)
    foreign = tuple(tag for tag in existing if not tag[0].startswith(prefix))
    ranked = _by_priority(ours, prefix)
    budget = min(max_tags - len(foreign), own_cap)
    if budget <= 0:
        return existing, tuple(_field_name(key, prefix) for key, _ in ranked)
    kept, left_out = ranked[:budget], ranked[budget:]
    return foreign + kept, tuple(_field_name(key, prefix) for key, _ in left_out)


def same_tags(left: TagSet, right: TagSet) -> bool:
    """COS tag sets are unordered: equal when they hold the same (key, value) pairs."""
    return sorted(left) == sorted(right)


def our_tags(tags: TagSet, prefix: str) -> TagSet:
    """The tags in our namespace, in their order."""
    return tuple(tag for tag in tags if prefix and tag[0].startswith(prefix))
