"""shared.media.tags: formatting, sanitising, merging under the 10-tag limit (examples +
properties).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.media.applied_job import AppliedJob, RecordedResult, recorded_result
from shared.media.tag_format import (
    DEFAULT_TAG_FIELDS,
    KNOWN_TAG_FIELDS,
    format_container,
    format_duration,
    format_fps,
    format_kbps,
    format_rotation,
    media_tags,
    sanitise_key,
    sanitise_value,
    tag_key,
)
from shared.media.tag_merge import (
    merge_tags,
    same_tags,
    status_tags_for_failure,
    status_tags_for_success,
)
from shared.models import AudioStream, FormatInfo, MediaInfo, Tag, TagSet, VideoStream

P = "media:"
# The PUT Object tagging API page's charset, the narrower of the two COS docs (no '@').
ASCII_ALLOWED = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +-=._:/")

SAMPLE = MediaInfo(  # the sample callback of tests/events/furl_json_callback.json
    format=FormatInfo(
        name="mov,mp4,m4a,3gp,3g2,mj2", duration_s=61.02, bitrate_kbps=335.412, size_bytes=2561690
    ),
    videos=(
        VideoStream(
            index=0, codec_name="h264", width=720, height=720, avg_fps=23.976024, duration_s=61.02
        ),
    ),
    audios=(AudioStream(index=1, codec_name="aac", sample_rate_hz=44100, channels=2),),
)


def allowed_char(char: str) -> bool:
    return char in ASCII_ALLOWED


# ---------------------------------------------------------------------------------------------
# formatting


# Every field that used to be on by default, in their priority order.
CLASSIC_FIELDS = (
    "status", "etag", "duration", "resolution", "vcodec", "acodec", "fps", "bitrate",
    "container", "rotation",
)  # fmt: skip


def test_media_tags_of_the_sample_callback_in_priority_order() -> None:
    assert media_tags(SAMPLE, CLASSIC_FIELDS, P) == (
        ("media:duration", "61.020"),
        ("media:resolution", "720x720"),
        ("media:vcodec", "h264"),
        ("media:acodec", "aac"),
        ("media:fps", "23.976"),
        ("media:bitrate", "335"),
        ("media:container", "mov/mp4/m4a/3gp/3g2/mj2"),
    )  # no rotation reported -> no rotation tag; status/etag are not media fields


def test_the_default_fields_leave_three_slots_free() -> None:
    assert DEFAULT_TAG_FIELDS == (
        "status", "etag", "duration", "resolution", "vcodec", "acodec", "fps",
    )  # fmt: skip
    ours = status_tags_for_success(AppliedJob("e"), P) + media_tags(SAMPLE, DEFAULT_TAG_FIELDS, P)
    merged, dropped = merge_tags((), ours, P)
    assert len(merged) == 7 and dropped == ()
    assert 10 - len(merged) == 3


def test_field_order_follows_configuration_and_optional_fields_work() -> None:
    fields = ("size", "channels", "samplerate", "height", "width", "vcodec")
    assert media_tags(SAMPLE, fields, "mt/") == (
        ("mt/size", "2561690"),
        ("mt/channels", "2"),
        ("mt/samplerate", "44100"),
        ("mt/height", "720"),
        ("mt/width", "720"),
        ("mt/vcodec", "h264"),
    )


def test_width_and_height_come_from_their_own_dimension() -> None:
    # Not square (the sample is 720x720), so a width read from the height shows.
    info = MediaInfo(videos=(VideoStream(codec_name="h264", width=1280, height=534),))
    assert media_tags(info, ("width", "height", "resolution"), P) == (
        ("media:width", "1280"),
        ("media:height", "534"),
        ("media:resolution", "1280x534"),
    )


@pytest.mark.parametrize(
    ("width", "height", "resolution", "width_tag"),
    [
        (1_000_000, 1, "1000000x1", "1000000"),  # the pixel limit itself is still a dimension
        (1, 1_000_000, "1x1000000", "1"),
        (1_000_001, 1, None, None),  # one past it is not
        (1, 1_000_001, None, "1"),
        (0, 720, None, None),
        (1, 1, "1x1", "1"),
    ],
)
def test_resolution_limit_is_one_million_pixels_per_side(
    width: int, height: int, resolution: str | None, width_tag: str | None
) -> None:
    info = MediaInfo(videos=(VideoStream(codec_name="h264", width=width, height=height),))
    expected = () if resolution is None else (("media:resolution", resolution),)
    assert media_tags(info, ("resolution",), P) == expected
    assert dict(media_tags(info, ("width",), P)).get("media:width") == width_tag


def test_fps_prefers_the_average_rate_over_the_nominal_one() -> None:
    info = MediaInfo(videos=(VideoStream(codec_name="h264", avg_fps=29.97, fps=30.0),))
    assert media_tags(info, ("fps",), P) == (("media:fps", "29.97"),)
    nominal_only = MediaInfo(videos=(VideoStream(codec_name="h264", fps=25.0),))
    assert media_tags(nominal_only, ("fps",), P) == (("media:fps", "25"),)


def test_portrait_phone_clip_keeps_coded_size_and_reports_rotation() -> None:
    info = MediaInfo(
        videos=(VideoStream(codec_name="h264", width=1920, height=1080, rotation_deg=90.0),)
    )
    assert media_tags(info, ("resolution", "rotation"), P) == (
        ("media:resolution", "1920x1080"),
        ("media:rotation", "90"),
    )


def test_audio_only_has_no_video_fields_and_cover_art_is_not_video() -> None:
    cover = VideoStream(codec_name="mjpeg", width=500, height=500, num_frames=1)
    info = MediaInfo(
        format=FormatInfo(name="mp3", duration_s=3.5),
        videos=(cover,),
        audios=(AudioStream(codec_name="mp3", sample_rate_hz=48000, channels=1),),
    )
    tags = dict(media_tags(info, CLASSIC_FIELDS, P))
    assert tags == {"media:duration": "3.500", "media:acodec": "mp3", "media:container": "mp3"}


def test_bitrate_falls_back_to_size_over_duration() -> None:
    info = MediaInfo(format=FormatInfo(duration_s=10.0, size_bytes=1_250_000))
    assert media_tags(info, ("bitrate",), P) == (("media:bitrate", "1000"),)


@pytest.mark.parametrize(
    ("value", "text"),
    [(61.02, "61.020"), (0.0005, "0.001"), (13.654, "13.654"), (0, None), (-1, None)],
)
def test_format_duration(value: float, text: str | None) -> None:
    assert format_duration(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(23.976024, "23.976"), (30.0, "30"), (29.97, "29.97"), (0.0001, None), (float("nan"), None)],
)
def test_format_fps(value: float, text: str | None) -> None:
    assert format_fps(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(335.412, "335"), (834.5, "835"), (0.4, "0"), (float("inf"), None)]
)
def test_format_kbps(value: float, text: str | None) -> None:
    assert format_kbps(value) == text


@pytest.mark.parametrize(("value", "text"), [(90.0, "90"), (-90, "270"), (360, "0"), (0, "0")])
def test_format_rotation(value: float, text: str) -> None:
    assert format_rotation(value) == text


def test_container_commas_become_slashes() -> None:
    assert format_container("matroska,webm") == "matroska/webm"
    assert format_container(" , ,") is None


def test_values_with_commas_and_parentheses_are_sanitised() -> None:
    info = MediaInfo(
        format=FormatInfo(name="weird,(fmt)"),
        audios=(AudioStream(codec_name="AAC (Advanced Audio Coding), LC"),),
    )
    assert media_tags(info, ("container", "acodec"), P) == (
        ("media:container", "weird/_fmt_"),
        ("media:acodec", "AAC _Advanced Audio Coding__ LC"),
    )


def test_unknown_field_and_invalid_prefix_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown tag field"):
        media_tags(SAMPLE, ("loudness",), P)
    with pytest.raises(ValueError, match="not a valid COS tag key"):
        media_tags(SAMPLE, ("vcodec",), "media(")
    assert "samplerate" in KNOWN_TAG_FIELDS


# ---------------------------------------------------------------------------------------------
# sanitising


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("h264", "h264"),
        ("a\x00b", "ab"),  # NUL dropped
        ("\u202eevil\u200f", "evil"),  # RTL override and RLM dropped
        ("tab\there\nnew", "tab here new"),
        ("  many   spaces ", "many spaces"),
        ("<x>&\"'", "_x____"),
        ("Ünïcödé 视频", "_n_c_d_ __"),  # the API page's charset: "English letters" only
        ("e\u0301", "_"),  # composed by NFC into one letter outside that set
        ("x\u0301", "x"),  # a combining mark NFC cannot compose is dropped, not replaced
        ("emoji 🎬", "emoji _"),
        ("a@b+c=d:e/f", "a_b+c=d:e/f"),  # no '@' on the API page
        ("\u200b", ""),
    ],
)
def test_sanitise_value_examples(raw: str, clean: str) -> None:
    assert sanitise_value(raw) == clean


def test_lengths_are_cut_by_characters_and_bytes() -> None:
    assert sanitise_value("x" * 300) == "x" * 255
    assert sanitise_key("k" * 200) == "k" * 127
    assert sanitise_value("视" * 300) == "_" * 255  # one replacement character each


@given(st.text(max_size=600))
@settings(max_examples=300)
def test_sanitised_values_are_always_valid(raw: str) -> None:
    value = sanitise_value(raw)
    assert len(value) <= 255
    assert len(value.encode("utf-8")) <= 255
    assert all(allowed_char(char) for char in value)
    assert value == value.strip(" ")
    assert "  " not in value
    assert sanitise_value(value) == value  # idempotent


valid_words = st.text(alphabet=sorted(ASCII_ALLOWED - {" "}), min_size=1, max_size=20)


@given(st.lists(valid_words, min_size=1, max_size=20).map(" ".join))
@settings(max_examples=200)
def test_a_value_that_is_already_valid_is_kept_as_it_is_up_to_255(raw: str) -> None:
    assert sanitise_value(raw) == raw[:255].rstrip(" ")


# ---------------------------------------------------------------------------------------------
# status tags and recorded results


def test_status_tags() -> None:
    assert status_tags_for_success(AppliedJob('"abc123"'), P) == (
        ("media:status", "ok"),
        ("media:etag", "abc123"),
    )
    job = AppliedJob("abc-3", 1764581234, "j229ed9e2f60c11ec8525e36307395bf9")
    assert status_tags_for_failure("InvalidInput", job, P) == (
        ("media:status", "failed:InvalidInput"),
        ("media:etag", "abc-3/20251201T092714Z/j229ed9e2f60c11ec8525e36307395bf9"),
    )
    e = AppliedJob("e")
    assert status_tags_for_failure(None, e, P)[0] == ("media:status", "failed:Unknown")
    assert status_tags_for_failure("Bad(Code)\u202e", e, P)[0] == (
        "media:status",
        "failed:Bad_Code_",
    )


def test_recorded_result_needs_status_and_etag() -> None:
    tags = (("a", "b"), ("media:status", "ok"), ("media:etag", "e1"))
    assert recorded_result(tags, P) == RecordedResult("ok", AppliedJob("e1"))
    assert recorded_result((("media:etag", "e1"),), P) is None
    assert recorded_result((("media:status", "ok"),), P) is None
    assert recorded_result((("other:status", "ok"), ("other:etag", "x")), P) is None
    failed = (("media:status", "failed:X"), ("media:etag", "e2/20251201T092714Z/j1"))
    assert recorded_result(failed, P) == RecordedResult(
        "failed:X", AppliedJob("e2", 1764581234, "j1")
    )
    assert recorded_result((("media:status", "ok"), ("media:etag", "e2/garbage/j1")), P) is None


# ---------------------------------------------------------------------------------------------
# merging

# What the callback writes for SAMPLE with every classic field, written out by hand.
OURS: TagSet = (
    ("media:status", "ok"),
    ("media:etag", "etag1"),
    ("media:duration", "61.020"),
    ("media:resolution", "720x720"),
    ("media:vcodec", "h264"),
    ("media:acodec", "aac"),
    ("media:fps", "23.976"),
    ("media:bitrate", "335"),
    ("media:container", "mov/mp4/m4a/3gp/3g2/mj2"),
)


def foreign(count: int) -> TagSet:
    return tuple((f"user{i}", f"v{i}") for i in range(count))


def test_merge_keeps_foreign_tags_and_replaces_our_namespace() -> None:
    existing = (("owner", "alice"), ("media:old", "x"), ("media:status", "failed:Y"), ("z", "1"))
    merged, dropped = merge_tags(existing, OURS[:3], P)
    assert merged == (
        ("owner", "alice"),
        ("z", "1"),
        ("media:status", "ok"),
        ("media:etag", "etag1"),
        ("media:duration", "61.020"),
    )
    assert dropped == ()


def test_merge_drops_lowest_priority_fields_first() -> None:
    merged, dropped = merge_tags(foreign(5), OURS, P, own_cap=10)
    assert len(merged) == 10
    assert merged[5:] == OURS[:5]
    assert dropped == ("acodec", "fps", "bitrate", "container")


def test_our_own_cap_keeps_room_for_the_owner() -> None:
    merged, dropped = merge_tags((), OURS, P)  # default cap: 7 of ours
    assert merged == OURS[:7]
    assert dropped == ("bitrate", "container")
    merged, dropped = merge_tags(foreign(2), OURS, P, own_cap=3)
    assert merged == (*foreign(2), *OURS[:3])
    assert dropped == ("resolution", "vcodec", "acodec", "fps", "bitrate", "container")
    merged, _ = merge_tags(foreign(8), OURS, P, own_cap=7)  # the 10-tag limit still rules
    assert merged == (*foreign(8), *OURS[:2])


def test_nine_user_tags_leave_room_for_status_only() -> None:
    merged, dropped = merge_tags(foreign(9), OURS, P)
    assert merged == (*foreign(9), ("media:status", "ok"))
    assert dropped[:2] == ("etag", "duration")
    assert len(dropped) == 8


def test_ten_user_tags_write_nothing() -> None:
    merged, dropped = merge_tags(foreign(10), OURS, P)
    assert merged == foreign(10)
    assert dropped == (
        "status", "etag", "duration", "resolution", "vcodec", "acodec", "fps", "bitrate",
        "container",
    )  # fmt: skip


def test_the_sample_with_every_classic_field_is_what_ours_says() -> None:
    computed = status_tags_for_success(AppliedJob("etag1"), P) + media_tags(
        SAMPLE, CLASSIC_FIELDS, P
    )
    assert computed == OURS


def test_status_and_etag_come_first_whatever_their_position() -> None:
    shuffled = (OURS[3], OURS[1], OURS[2], OURS[0])
    merged, _ = merge_tags((), shuffled, P)
    assert [key for key, _ in merged][:2] == ["media:status", "media:etag"]


def test_merge_refuses_foreign_keys_among_ours_and_empty_prefix() -> None:
    with pytest.raises(ValueError, match="every tag we write must carry our prefix"):
        merge_tags((), (("owner", "me"),), P)
    with pytest.raises(ValueError, match="an empty tag prefix would claim every tag on the object"):
        merge_tags((), (), "")


def test_same_tags_ignores_order() -> None:
    assert same_tags((("a", "1"), ("b", "2")), (("b", "2"), ("a", "1")))
    assert not same_tags((("a", "1"),), (("a", "2"),))


key_text = st.text(alphabet="abcdefgm:ed", min_size=1, max_size=12)
foreign_tag = st.tuples(key_text.filter(lambda key: not key.startswith(P)), st.text(max_size=5))
our_field = st.sampled_from(
    ["status", "etag", "duration", "resolution", "vcodec", "acodec", "fps", "bitrate", "size"]
)


@st.composite
def tag_sets(draw: st.DrawFn) -> tuple[TagSet, TagSet]:
    foreign_tags = draw(st.lists(foreign_tag, max_size=10, unique_by=lambda tag: tag[0]))
    old_ours = draw(st.lists(our_field, unique=True, max_size=10 - len(foreign_tags)))
    existing = [*foreign_tags, *((P + name, "old") for name in old_ours)]
    existing = draw(st.permutations(existing))
    fields = draw(st.lists(our_field, unique=True, max_size=12))
    ours: list[Tag] = [(P + name, f"new-{name}") for name in fields]
    return tuple(existing), tuple(ours)


def expected_merge(existing: TagSet, ours: TagSet) -> tuple[TagSet, tuple[str, ...]]:
    """docs/tags.md "The 10-tag limit", restated: foreign tags first and untouched; ours with
    status then etag first, then in the given order, as many as fit in 10 and in our cap of 7;
    with 10 foreign tags nothing changes and every field is reported left out."""
    foreign_tags = tuple(tag for tag in existing if not tag[0].startswith(P))
    first = [tag for name in ("status", "etag") for tag in ours if tag[0] == P + name]
    ranked = first + [tag for tag in ours if tag not in first]
    room = min(10 - len(foreign_tags), 7)
    if room <= 0:
        return existing, tuple(key[len(P) :] for key, _ in ranked)
    return foreign_tags + tuple(ranked[:room]), tuple(key[len(P) :] for key, _ in ranked[room:])


@given(tag_sets())
@settings(max_examples=300)
def test_merge_properties(sets: tuple[TagSet, TagSet]) -> None:
    existing, ours = sets
    merged, dropped = merge_tags(existing, ours, P)
    assert (merged, dropped) == expected_merge(existing, ours)
    foreign_before = [tag for tag in existing if not tag[0].startswith(P)]
    foreign_after = [tag for tag in merged if not tag[0].startswith(P)]
    assert len(merged) <= 10
    assert foreign_after == foreign_before  # never touched, never reordered
    ours_after = [tag for tag in merged if tag[0].startswith(P)]
    if len(foreign_before) >= 10:
        assert merged == existing
    else:
        assert set(ours_after) <= set(ours)  # our namespace replaced as a whole
        assert len(ours_after) + len(dropped) == len(ours)
        if (P + "status", "new-status") in ours:
            assert (P + "status", "new-status") in ours_after  # never dropped below 10 foreign
    assert merge_tags(merged, ours, P) == (merged, dropped)  # idempotent


def test_tag_key_refuses_bad_keys() -> None:
    assert tag_key("media:", "fps") == "media:fps"
    with pytest.raises(ValueError, match="tag key 'media:' is not a valid COS tag key"):
        tag_key("media:", "")
    with pytest.raises(ValueError, match=r"tag key 'bad\(prefixfps' is not a valid COS tag key"):
        tag_key("bad(prefix", "fps")
    with pytest.raises(ValueError, match="tag key ' leadfps' is not a valid COS tag key"):
        tag_key(" lead", "fps")
