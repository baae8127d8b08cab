"""shared.media.mediainfo: one typed MediaInfo/Job parser for XML-derived trees and JSON dicts."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.errors import MalformedBodyError
from shared.media.mediainfo import media_info_from_tree
from shared.models import (
    AudioStream,
    FormatInfo,
    MediaInfo,
    SubtitleStream,
    VideoStream,
)
from shared.records import fields
from shared.tencent.jobs_detail import job_from_tree
from shared.tencent.xml_parser import element_to_tree, parse_xml
from tests.codec_fixtures import load_fixture

# The handbook's realistic example (cos-ci-api.md §4), typed by hand.
PORTRAIT_CLIP = MediaInfo(
    format=FormatInfo(
        name="mov,mp4,m4a,3gp,3g2,mj2",
        long_name="QuickTime / MOV",
        duration_s=31.533,
        bitrate_kbps=6118.605,
        size_bytes=24117248,
        num_streams=2,
        num_programs=0,
        start_time_s=0.0,
    ),
    videos=(
        VideoStream(
            index=0,
            codec_name="h264",
            codec_long_name="H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10",
            codec_tag_string="avc1",
            profile="High",
            level=40,
            width=1920,
            height=1080,
            fps=30.0,
            avg_fps=30.0,
            bitrate_kbps=5983.112,
            duration_s=31.5,
            start_time_s=0.0,
            num_frames=945,
            rotation_deg=90.0,
            pix_format="yuv420p",
            dar="16:9",
            sar="1:1",
            field_order="progressive",
            color_primaries="bt709",
            color_range="tv",
            color_transfer="bt709",
            has_b_frames=0,
            ref_frames=1,
            language="und",
        ),
    ),
    audios=(
        AudioStream(
            index=1,
            codec_name="aac",
            codec_long_name="AAC (Advanced Audio Coding)",
            codec_tag_string="mp4a",
            sample_rate_hz=44100,
            channels=2,
            channel_layout="stereo",
            sample_fmt="fltp",
            bitrate_kbps=128.012,
            duration_s=31.533,
            start_time_s=0.0,
            language="und",
        ),
    ),
    subtitles=(),
)


def xml_tree(fixture: str) -> dict[str, Any]:
    return element_to_tree(parse_xml(load_fixture(fixture)))


def json_tree(fixture: str) -> dict[str, Any]:
    tree: dict[str, Any] = json.loads(load_fixture(fixture))
    return tree


def callback_media_info_xml() -> dict[str, Any]:
    media: dict[str, Any] = xml_tree("ci_callback_mediainfo.xml")["JobsDetail"]["Operation"][
        "MediaInfo"
    ]
    return media


def test_realistic_media_info_from_xml() -> None:
    assert media_info_from_tree(callback_media_info_xml()) == PORTRAIT_CLIP


def test_realistic_media_info_from_json() -> None:
    media = json_tree("ci_callback_mediainfo.json")["JobsDetail"]["Operation"]["MediaInfo"]
    assert media_info_from_tree(media) == PORTRAIT_CLIP


def test_a_wrapping_media_info_node_is_unwrapped() -> None:
    assert media_info_from_tree({"MediaInfo": callback_media_info_xml()}) == PORTRAIT_CLIP


def test_several_streams_in_xml_siblings_and_json_lists_agree() -> None:
    from_xml = media_info_from_tree(xml_tree("ci_mediainfo_multistream.xml"))
    from_json = media_info_from_tree(json_tree("ci_mediainfo_multistream.json"))
    assert from_xml == from_json
    assert [(v.index, v.codec_name, v.width, v.height) for v in from_xml.videos] == [
        (0, "hevc", 3840, 2160),
        (2, "mjpeg", 320, 180),
    ]
    main, cover = from_xml.videos
    assert main.avg_fps == pytest.approx(29.97002997)
    assert (main.fps, main.level, main.has_b_frames, main.rotation_deg) == (29.97003, 150, 2, -90.0)
    assert (cover.avg_fps, cover.fps) == (None, 90000.0)  # 0/0 is no rate at all
    assert [(a.index, a.codec_name, a.language, a.channels) for a in from_xml.audios] == [
        (1, "aac", "eng", 6),
        (3, "ac3", "fra", 2),
    ]
    assert from_xml.subtitles == (SubtitleStream(index=4, language="chi"),)
    assert from_xml.format == FormatInfo(duration_s=600.04, num_streams=5)


@pytest.mark.parametrize(
    "tree",
    [
        {},
        {"Format": "", "Stream": ""},
        {"Format": None, "Stream": None},
        {"Format": {}, "Stream": {}},
        {"Stream": {"Video": "", "Audio": None, "Subtitle": {}}},
        {"Stream": {"Video": [], "Audio": ["", None, {}], "Subtitle": "  \n  "}},
        {"Stream": {"Video": "text", "Audio": 3, "Subtitle": [1, "x"]}},
        {"Stream": ["not", "a", "mapping"]},
        {"MediaInfo": ""},
    ],
)
def test_missing_or_empty_nodes_are_tolerated(tree: dict[str, Any]) -> None:
    assert media_info_from_tree(tree) == MediaInfo()


@pytest.mark.parametrize("tree", ["", None, [], 7, "<MediaInfo/>"])
def test_a_media_info_that_is_not_a_mapping_is_empty(tree: Any) -> None:
    assert media_info_from_tree(tree) == MediaInfo()


def test_only_format() -> None:
    info = media_info_from_tree({"Format": {"Duration": "2.5", "FormatName": "mp3"}})
    assert info == MediaInfo(format=FormatInfo(name="mp3", duration_s=2.5))


def video(**values: Any) -> VideoStream:
    (stream,) = media_info_from_tree({"Stream": {"Video": values}}).videos
    return stream


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("31.500000", 31.5),
        (" 31.5 ", 31.5),
        (31.5, 31.5),
        (31, 31.0),
        ("0", 0.0),
        ("1e2", 100.0),
        ("N/A", None),
        ("-", None),
        ("", None),
        ("nan", None),
        ("NaN", None),
        ("inf", None),
        ("-Infinity", None),
        ("1e999", None),
        ("-1.0", None),
        ("1_000", None),
        ("\u0661\u0662", None),  # Arabic-Indic digits, which float() would accept
        ("0x10", None),
        ("9" * 5000, None),
        (float("nan"), None),
        (float("inf"), None),
        (10**400, None),
        (True, None),
        ({"a": 1}, None),
        (["1"], None),
    ],
)
def test_duration_values(raw: Any, expected: float | None) -> None:
    assert video(Duration=raw).duration_s == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1080", 1080),
        (" 1080 ", 1080),
        (1080, 1080),
        ("1080.0", 1080),
        (1080.0, 1080),
        ("1080.5", None),
        ("-1", None),
        ("-99", None),  # ffprobe's "unknown level"
        ("N/A", None),
        ("", None),
        ("1e3", 1000),
        ("9" * 65, None),
        ("9" * 5000, None),
        (False, None),
    ],
)
def test_whole_number_values(raw: Any, expected: int | None) -> None:
    stream = video(Width=raw, Level=raw)
    assert (stream.width, stream.level) == (expected, expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("30.000000", 30.0),
        ("24/1", 24.0),
        ("30000/1001", 30000 / 1001),
        ("0/0", None),
        ("25/0", None),
        ("0/1", 0.0),
        ("a/b", None),
        ("1/2/3", None),
        ("-24/1", None),
        ("1e308/1e-308", None),
        (" 24 / 1 ", 24.0),
        (25, 25.0),
    ],
)
def test_frame_rates(raw: Any, expected: float | None) -> None:
    stream = video(AvgFps=raw, Fps=raw)
    assert stream.avg_fps == expected
    assert stream.fps == expected


@pytest.mark.parametrize(
    ("raw", "expected"), [("90.000000", 90.0), ("-90", -90.0), (0, 0.0), ("N/A", None)]
)
def test_rotation_and_start_time_may_be_negative(raw: Any, expected: float | None) -> None:
    stream = video(Rotation=raw, StartTime=raw)
    assert (stream.rotation_deg, stream.start_time_s) == (expected, expected)


def test_text_values() -> None:
    stream = video(CodecName=" h264 ", Profile="", Language=None, Dar="16:9", PixFormat=420)
    assert (stream.codec_name, stream.profile, stream.language) == ("h264", None, None)
    assert (stream.dar, stream.pix_format) == ("16:9", "420")


def test_audio_typing() -> None:
    (audio,) = media_info_from_tree(
        {"Stream": {"Audio": {"SampleRate": "48000", "Channel": 6, "Bitrate": "-3"}}}
    ).audios
    assert (audio.sample_rate_hz, audio.channels, audio.bitrate_kbps) == (48000, 6, None)


# --- Job ------------------------------------------------------------------------------------


def test_job_from_a_json_tree_with_numbers_and_dashes() -> None:
    job = job_from_tree(
        {
            "JobId": "j1",
            "State": "Success",
            "CreationTime": "2024-11-25T10:00:00+0800",
            "StartTime": "-",
            "EndTime": "",
            "Message": "",
            "Input": {"BucketId": "b-125", "Object": " spaced key ", "Region": "ap-guangzhou"},
            "Operation": {"UserData": "u", "JobLevel": 1, "MediaInfo": {}},
        }
    )
    assert (job.job_id, job.state, job.creation_time) == (
        "j1",
        "Success",
        "2024-11-25T10:00:00+0800",
    )
    assert (job.start_time, job.end_time, job.message, job.code, job.tag) == (None,) * 5
    assert job.input.object == " spaced key "
    assert (job.operation.user_data, job.operation.job_level) == ("u", 1)
    assert job.operation.media_info is None
    assert job.succeeded and job.is_finished


def test_job_tolerates_missing_input_and_operation() -> None:
    job = job_from_tree({"JobId": "j1", "State": "Submitted", "Input": "", "Operation": None})
    assert job.input.object is None and job.operation.user_data is None


NO_ID_OR_STATE = "JobsDetail without JobId or State"


@pytest.mark.parametrize(
    ("tree", "reason"),
    [
        ({"State": "Success"}, NO_ID_OR_STATE),
        ({"JobId": "j1"}, NO_ID_OR_STATE),
        ({"JobId": "", "State": "Success"}, NO_ID_OR_STATE),
        ({"JobId": "j1", "State": "   "}, NO_ID_OR_STATE),
        ({"JobId": {"x": "y"}, "State": "Success"}, NO_ID_OR_STATE),
        ("j1", "JobsDetail is not an object"),
        (None, "JobsDetail is not an object"),
        (["j1"], "JobsDetail is not an object"),
    ],
)
def test_a_job_needs_an_id_and_a_state(tree: Any, reason: str) -> None:
    with pytest.raises(MalformedBodyError, match=reason):
        job_from_tree(tree)


# --- property: never raises, always typed ---------------------------------------------------

leaf = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["N/A", "-", "", "nan", "inf", "-1", "30000/1001", "0/0", "1e999", "1/0"]),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)
VIDEO_KEYS = [
    "Index", "CodecName", "Profile", "Level", "Width", "Height", "Fps", "AvgFps", "Bitrate",
    "Duration", "StartTime", "NumFrames", "Rotation", "HasBFrame", "RefFrames", "Language", "Dar",
]  # fmt: skip
AUDIO_KEYS = ["Index", "CodecName", "SampleRate", "Channel", "Bitrate", "Duration", "Language"]
FORMAT_KEYS = ["FormatName", "Duration", "Bitrate", "Size", "NumStream", "NumProgram", "StartTime"]


def node(keys: list[str]) -> st.SearchStrategy[Any]:
    mapping = st.dictionaries(st.sampled_from(keys), leaf, max_size=8)
    return st.one_of(leaf, mapping, st.lists(st.one_of(mapping, leaf), max_size=3))


media_trees = st.fixed_dictionaries(
    {},
    optional={
        "Format": node(FORMAT_KEYS),
        "Stream": st.one_of(
            leaf,
            st.fixed_dictionaries(
                {},
                optional={
                    "Video": node(VIDEO_KEYS),
                    "Audio": node(AUDIO_KEYS),
                    "Subtitle": node(["Index", "Language"]),
                },
            ),
        ),
    },
)

EXPECTED_TYPES = {"int | None": int, "float | None": float, "str | None": str}


def assert_typed(value: Any) -> None:
    for spec in fields(value):
        got = getattr(value, spec.name)
        expected = EXPECTED_TYPES[str(spec.type)]
        assert got is None or (type(got) is expected), (spec.name, got)
        if isinstance(got, float):
            assert math.isfinite(got), (spec.name, got)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)  # shared CI box
@given(media_trees)
def test_media_info_from_tree_never_raises_and_types_every_field(tree: dict[str, Any]) -> None:
    info = media_info_from_tree(tree)
    for value in (info.format, *info.videos, *info.audios, *info.subtitles):
        if value is not None:
            assert_typed(value)
    streams: list[VideoStream | AudioStream] = [*info.videos, *info.audios]
    for stream in streams:
        assert stream.duration_s is None or stream.duration_s >= 0
        assert stream.index is None or stream.index >= 0
