"""The upload filter: every skip has a reason; extensions are case-insensitive."""

from __future__ import annotations

from collections.abc import Collection

import pytest

from shared.settings.functions import DEFAULT_EXTENSIONS
from shared.upload.cos_event import UploadRecord, parse_cos_event
from shared.upload.filters import Accept, Skip, decide_upload, extension_of
from tests.events import load_event


def record(
    key: str = "videos/demo.mp4", *, size: int = 10, event_name: str = "cos:ObjectCreated:Put"
) -> UploadRecord:
    return UploadRecord(
        index=0,
        bucket="media-uploads-1250000000",
        region="ap-guangzhou",
        key=key,
        size=size,
        etag="e",
        version_id=None,
        event_name=event_name,
        request_id=None,
    )


def decide(
    rec: UploadRecord,
    *,
    extensions: Collection[str] | None = DEFAULT_EXTENSIONS,
    include_prefixes: tuple[str, ...] = (),
    exclude_prefixes: tuple[str, ...] = (),
) -> Accept | Skip:
    return decide_upload(
        rec,
        extensions=extensions,
        include_prefixes=include_prefixes,
        exclude_prefixes=exclude_prefixes,
    )


@pytest.mark.parametrize(
    "event_name",
    [
        "cos:ObjectCreated:Put",
        "cos:ObjectCreated:Post",
        "cos:ObjectCreated:Copy",
        "cos:ObjectCreated:CompleteMultipartUpload",
        "cos:ObjectCreated:Origin",
        "cos:ObjectCreated:Replication",
    ],
)
def test_every_object_created_event_is_accepted(event_name: str) -> None:
    assert decide(record(event_name=event_name)) == Accept()


@pytest.mark.parametrize(
    "event_name",
    ["cos:ObjectRemove:Delete", "cos:ObjectRestore:Completed", "cos:ObjectCreated", "Put"],
)
def test_other_events_are_skipped(event_name: str) -> None:
    assert decide(record(event_name=event_name)) == Skip(f"not-object-created:{event_name}")


def test_folder_marker() -> None:
    assert decide(record("videos/2024/", size=0)) == Skip("folder-marker")


def test_empty_object() -> None:
    assert decide(record("videos/empty.mp4", size=0)) == Skip("empty-object")


@pytest.mark.parametrize(
    ("key", "extension"),
    [
        ("a/b.MP4", "mp4"),
        ("a/b.tar.GZ", "gz"),
        ("a.dir/b", None),
        ("a/.hidden", None),
        ("a/name.", None),
        ("plain", None),
        ("视频/旅行.MoV", "mov"),
    ],
)
def test_extension_of(key: str, extension: str | None) -> None:
    assert extension_of(key) == extension


@pytest.mark.parametrize("key", ["v/IMG_0042.MOV", "v/a.Mp4", "v/b.mkv", "a/podcast.M4A"])
def test_extensions_are_case_insensitive(key: str) -> None:
    assert decide(record(key)) == Accept()


def test_non_media_extension() -> None:
    assert decide(record("docs/report.PDF")) == Skip("extension-not-allowed:pdf")


def test_key_without_extension() -> None:
    assert decide(record("videos/raw-capture")) == Skip("no-extension")


def test_every_extension_when_allow_list_is_none() -> None:
    assert decide(record("videos/raw-capture"), extensions=None) == Accept()
    assert decide(record("docs/report.pdf"), extensions=None) == Accept()


def test_custom_allow_list() -> None:
    assert decide(record("a/b.mp4"), extensions=frozenset({"mov"})) == Skip(
        "extension-not-allowed:mp4"
    )


def test_include_prefixes() -> None:
    include = ("videos/", "audio/")
    assert decide(record("videos/a.mp4"), include_prefixes=include) == Accept()
    assert decide(record("audio/a.mp3"), include_prefixes=include) == Accept()
    assert decide(record("other/a.mp4"), include_prefixes=include) == Skip(
        "outside-include-prefixes"
    )


def test_exclude_prefixes_win_over_include() -> None:
    rec = record("videos/tmp/a.mp4")
    decision = decide(rec, include_prefixes=("videos/",), exclude_prefixes=("x/", "videos/tmp/"))
    assert decision == Skip("excluded-prefix:videos/tmp/")


def test_event_type_is_checked_before_the_rest() -> None:
    rec = record("docs/", size=0, event_name="cos:ObjectRemove:Delete")
    assert decide(rec) == Skip("not-object-created:cos:ObjectRemove:Delete")


@pytest.mark.parametrize(
    ("event_name", "expected"),
    [
        ("cos_put", Accept()),
        ("cos_unicode_key", Accept()),
        ("cos_key_space", Accept()),
        ("cos_key_plus_percent", Accept()),
        ("cos_upper_mov", Accept()),
        ("cos_folder_marker", Skip("folder-marker")),
        ("cos_empty_object", Skip("empty-object")),
        ("cos_non_media", Skip("extension-not-allowed:pdf")),
    ],
)
def test_sample_events(event_name: str, expected: Accept | Skip) -> None:
    (parsed,) = parse_cos_event(load_event(event_name))
    assert isinstance(parsed, UploadRecord)
    assert decide(parsed) == expected
