"""Properties of tag sanitising and merging that tests/test_tags.py does not already state.

test_tags.py covers sanitise_value over arbitrary text and merge_tags over a small alphabet of
keys. Here: keys from any script (including look-alikes of our prefix: other case, no colon, the
prefix as a suffix, RTL marks), the real output of media_tags as "ours", failure codes of any
text, and the 10-tag budget for every count of foreign tags.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.media.applied_job import AppliedJob, recorded_result
from shared.media.tag_format import DEFAULT_TAG_FIELDS, media_tags, sanitise_key
from shared.media.tag_merge import (
    MAX_TAGS,
    merge_tags,
    status_tags_for_failure,
    status_tags_for_success,
)
from shared.models import FormatInfo, MediaInfo, TagSet, VideoStream

P = "media:"
# The PUT Object tagging API page's charset, the narrower of the two COS docs (no '@').
ASCII_ALLOWED = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +-=._:/")
LOOK_ALIKES = [
    "Media:",
    "media",
    "MEDIA:",
    "media\u200b:",
    "\u202emedia:",
    "x-media:",
    "media\uff1a",
]
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
foreign_keys = st.one_of(
    text.map(lambda k: k or "k"),
    st.builds(lambda a, b: a + b, st.sampled_from(LOOK_ALIKES), text),
).filter(lambda key: not key.startswith(P))
foreign_sets = st.lists(st.tuples(foreign_keys, text), max_size=12, unique_by=lambda t: t[0])
MANY = settings(max_examples=400, deadline=None)


def valid_value(value: str) -> bool:
    chars_ok = all(c in ASCII_ALLOWED for c in value)
    return chars_ok and 0 < len(value) <= 255 and len(value.encode()) <= 255


@st.composite
def our_result(draw: st.DrawFn) -> TagSet:
    """What the callback really writes: status + etag + media_tags of some MediaInfo."""
    info = MediaInfo(
        format=FormatInfo(name=draw(text), duration_s=draw(st.floats(0, 1e7)), bitrate_kbps=1.5),
        videos=(VideoStream(codec_name=draw(text), width=draw(st.integers(1, 8000)), height=720),),
    )
    fields = draw(st.permutations(DEFAULT_TAG_FIELDS))
    return status_tags_for_success(AppliedJob("0123abcd"), P) + media_tags(info, fields, P)


@MANY
@given(existing=foreign_sets, old=st.lists(st.sampled_from(["status", "fps", "x"]), unique=True),
       ours=our_result())  # fmt: skip
def test_merging_the_real_result_into_any_tag_set(
    existing: list[tuple[str, str]], old: list[str], ours: TagSet
) -> None:
    before = tuple(existing) + tuple((P + name, "stale") for name in old)
    merged, dropped = merge_tags(before, ours, P)
    foreign = [tag for tag in before if not tag[0].startswith(P)]
    assert len(merged) <= MAX_TAGS or merged == before
    assert [tag for tag in merged if not tag[0].startswith(P)] == foreign  # untouched, in order
    assert len({key for key, _ in merged}) == len(merged)  # no key twice
    if len(foreign) < MAX_TAGS:
        kept = [tag for tag in merged if tag[0].startswith(P)]
        assert kept == list(ours[: len(kept)])  # priority order, lowest dropped first
        assert [P + name for name in dropped] == [key for key, _ in ours[len(kept) :]]
        assert kept[0] == (P + "status", "ok")
        if len(foreign) <= MAX_TAGS - 2:
            recorded = recorded_result(merged, P)
            assert recorded is not None and recorded.applied.etag == "0123abcd"
    assert merge_tags(merged, ours, P) == (merged, dropped)  # idempotent


@MANY
@given(code=text, etag=text)
def test_failure_status_of_any_code_is_a_valid_tag(code: str, etag: str) -> None:
    tags = status_tags_for_failure(code, AppliedJob(etag), P)
    status = dict(tags)[P + "status"]
    assert status.startswith("failed:") and valid_value(status)
    assert all(valid_value(value) for _, value in tags)  # an etag left empty is not written
    assert [key for key, _ in tags][:1] == [P + "status"]


@MANY
@given(raw=text)
def test_sanitised_keys_are_valid_and_stable(raw: str) -> None:
    key = sanitise_key(raw)
    assert len(key) <= 127 and len(key.encode()) <= 127
    assert key == "" or valid_value(key)
    assert sanitise_key(key) == key


@MANY
@given(count=st.integers(0, 12))
def test_status_survives_whenever_one_tag_is_free(count: int) -> None:
    existing = tuple((f"user{i}", "v") for i in range(count))
    ours = (*status_tags_for_success(AppliedJob("e1"), P), ("media:fps", "25"))
    merged, _ = merge_tags(existing, ours, P)
    assert ((P + "status", "ok") in merged) == (count < MAX_TAGS)
    assert len(merged) == max(count, min(MAX_TAGS, count + len(ours)))
