"""MediaInfo parsing of arbitrary string values, XML and JSON alike, down to the tags written.

test_mediainfo.py checks that short leaves of mixed types never raise and are typed. Here every
field carries arbitrary text (any script, markup characters, huge digit strings, numbers with
junk around them), sent once as an XML callback and once as a JSON callback: both must give the
same MediaInfo, every number must be finite and in range, and every tag media_tags makes from it
must be a tag COS accepts under our prefix.
"""

from __future__ import annotations

import html
import json
import math
import unicodedata
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.callback.notice import parse_callback_body
from shared.media.tag_format import KNOWN_TAG_FIELDS, RESULT_FIELDS, media_tags

P = "media:"
ASCII_ALLOWED = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +-=._:/@")
FORMAT = ["FormatName", "FormatLongName", "Duration", "Bitrate", "Size", "NumStream", "StartTime"]
VIDEO = ["CodecName", "Width", "Height", "Fps", "AvgFps", "Bitrate", "Duration", "NumFrames",
         "Rotation", "Index", "Profile", "Level", "PixFormat"]  # fmt: skip
AUDIO = ["CodecName", "SampleRate", "Channel", "Bitrate", "Duration", "Index", "Language"]
# Characters XML 1.0 can carry, without CR (XML normalises CR LF to LF, JSON keeps it).
xml_chars = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters="\r\ufffe\uffff",
    min_codepoint=0x9,
).filter(lambda c: c in "\t\n" or c >= " ")
numberish = st.one_of(
    st.from_regex(
        r"[ \t]?[+-]?[0-9]{0,80}(\.[0-9]{0,10})?([eE][+-]?[0-9]{1,4})?[ ]?", fullmatch=True
    ),
    st.sampled_from(["1e309", "-0", "NaN", "Infinity", "0x10", "١٢", "1_000", "30000/1001", "5/0"]),
)
values = st.one_of(st.text(xml_chars, max_size=40), numberish)
MANY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def node(names: list[str]) -> st.SearchStrategy[dict[str, str]]:
    return st.dictionaries(st.sampled_from(names), values, max_size=len(names))


def xml_of(tree: dict[str, Any]) -> str:
    parts = []
    for name, value in tree.items():
        inner = xml_of(value) if isinstance(value, dict) else html.escape(value, quote=False)
        parts.append(f"<{name}>{inner}</{name}>")
    return "".join(parts)


def callback(media: dict[str, Any]) -> dict[str, Any]:
    return {
        "EventName": "TaskFinish",
        "JobsDetail": {
            "JobId": "j1", "State": "Success", "Tag": "MediaInfo",
            "Input": {"BucketId": "b-1250000000", "Object": "k.mp4", "Region": "ap-guangzhou"},
            "Operation": {"MediaInfo": media},
        },
    }  # fmt: skip


def valid_tag(key: str, value: str) -> bool:
    letters = {"Lu", "Ll", "Lt", "Lm", "Lo"}
    chars_ok = all(c in ASCII_ALLOWED or unicodedata.category(c) in letters for c in value)
    field = key[len(P) :]
    known = key.startswith(P) and field in KNOWN_TAG_FIELDS and field not in RESULT_FIELDS
    return known and chars_ok and 0 < len(value) <= 255 and len(value.encode()) <= 255


@MANY
@given(fmt=node(FORMAT), video=node(VIDEO), audio=node(AUDIO))
def test_arbitrary_strings_parse_alike_from_xml_and_json_and_make_valid_tags(
    fmt: dict[str, str], video: dict[str, str], audio: dict[str, str]
) -> None:
    media = {"Format": fmt, "Stream": {"Video": video, "Audio": audio}}
    from_json = parse_callback_body(json.dumps(callback(media)).encode()).jobs[0]
    from_xml = parse_callback_body(f"<Response>{xml_of(callback(media))}</Response>".encode())
    assert from_xml.jobs[0].operation.media_info == from_json.operation.media_info
    info = from_json.operation.media_info
    if info is None:  # every node empty: nothing to tag
        assert not (fmt or video or audio)
        return
    for part in (info.format, *info.videos, *info.audios):
        for name, value in vars(part).items() if part is not None else ():
            if isinstance(value, float):
                assert math.isfinite(value), name
            if isinstance(value, int) and name != "rotation_deg":
                assert value >= 0, name
    tags = media_tags(info, sorted(KNOWN_TAG_FIELDS - set(RESULT_FIELDS)), P)
    assert all(valid_tag(key, value) for key, value in tags), tags
    assert len({key for key, _ in tags}) == len(tags)
