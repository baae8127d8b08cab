"""End to end with result documents on: the real handlers inside the emulator, documents read back
with cos-python-sdk-v5 (get_object) and compared with the test's own ffprobe run of the content.

The result location is inside the upload function's prefix and every extension is allowed, so
only the refusal of the result location keeps a document from starting a job (the loop test).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from emulator.app import Emulator
from shared.ops.cli import main
from shared.reconcile.runner import run_reconcile
from tests.e2e_helpers import (
    AUDIO_ARGS,
    BUCKET,
    PREFIX,
    REGION,
    SETTLE_S,
    Media,
    Pipeline,
    generate_media,
    list_keys,
    md5_hex,
    read_tags,
)

pytestmark = pytest.mark.e2e

DOC_PREFIX = "uploads/.media-info/"
LOCATION = f"cos://{BUCKET}/{DOC_PREFIX}"
SUBTITLES = "1\n00:00:00,000 --> 00:00:01,000\nhello\n"


def document_key(key: str) -> str:
    """docs/result-document.md "Names", written out by hand for keys that need no escape."""
    return f"{DOC_PREFIX}{BUCKET}/k/{key}.json"


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory) -> Media:
    """A video with two audio tracks (English mono 44.1 kHz, French stereo 48 kHz) and an
    English subtitle track."""
    folder = tmp_path_factory.mktemp("doc-media")
    (folder / "subs.srt").write_text(SUBTITLES, encoding="utf-8")
    args = (
        *("-f", "lavfi", "-i", "testsrc=size=160x120:rate=25"),
        *("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"),
        *("-f", "lavfi", "-i", "sine=frequency=880:sample_rate=48000"),
        *("-i", str(folder / "subs.srt")),
        *("-map", "0:v", "-map", "1:a", "-map", "2:a", "-map", "3:s", "-t", "1.3"),
        *("-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac:a:1", "2"),
        *("-c:s", "mov_text", "-metadata:s:a:0", "language=eng"),
        *("-metadata:s:a:1", "language=fra", "-metadata:s:s:0", "language=eng"),
    )
    return generate_media(folder, "multi.mp4", args)


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return generate_media(tmp_path_factory.mktemp("doc-media"), "tone.mp3", AUDIO_ARGS)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    settings = {
        "MEDIA_TAGGER_RESULT_DOCUMENT": LOCATION,
        "MEDIA_TAGGER_INCLUDE_PREFIXES": "uploads/",
        "MEDIA_TAGGER_EXTENSIONS": "*",  # a document's .json would be accepted by extension
    }
    with Emulator(
        tmp_path_factory.mktemp("doc-emulator"),
        job_runner_delay_s=0.01,
        retry_interval_s=0.05,
        buckets=[BUCKET],
        function_env=settings,
    ) as running:
        yield running


@pytest.fixture
def pipeline(emulator: Emulator) -> Pipeline:
    return Pipeline.settled(emulator)


def read_document(pipeline: Pipeline, key: str) -> dict[str, Any]:
    """GET Object through the SDK: the document must be JSON served as application/json."""
    answer = pipeline.client.get_object(Bucket=BUCKET, Key=document_key(key))
    assert answer["Content-Type"] == "application/json"
    document: dict[str, Any] = json.loads(answer["Body"].get_raw_stream().read())
    return document


def expected_streams(media: Media) -> dict[str, list[dict[str, str]]]:
    """What the document's media_info streams must say, from the test's own ffprobe JSON."""
    groups: dict[str, list[dict[str, str]]] = {"Video": [], "Audio": [], "Subtitle": []}
    for stream in media.probe["streams"]:
        kind = stream["codec_type"]
        facts = {
            "Index": str(stream["index"]),
            "Language": stream.get("tags", {}).get("language", "und"),
        }
        if kind == "video":
            facts.update(CodecName=stream["codec_name"], Width=str(stream["width"]))
            facts.update(Height=str(stream["height"]), PixFormat=stream["pix_fmt"])
        elif kind == "audio":
            facts.update(CodecName=stream["codec_name"], SampleRate=stream["sample_rate"])
            facts.update(Channel=str(stream["channels"]), ChannelLayout=stream["channel_layout"])
        groups[kind.capitalize()].append(facts)
    return groups


def assert_document_matches(document: dict[str, Any], media: Media, key: str) -> None:
    fmt = media.probe["format"]
    whole = document["media_info"]
    assert whole["Format"]["FormatName"] == fmt["format_name"]
    assert whole["Format"]["NumStream"] == str(fmt["nb_streams"])
    assert whole["Format"]["Size"] == fmt["size"] == str(len(media.body))
    assert float(whole["Format"]["Duration"]) == pytest.approx(float(fmt["duration"]), abs=1e-6)
    for kind, wanted in expected_streams(media).items():
        got = whole["Stream"][kind]
        assert [
            {name: stream.get(name) for name in facts} for stream, facts in zip(got, wanted)
        ] == (wanted), kind
        assert len(got) == len(wanted), kind
    typed = document["media"]
    assert typed["format"]["duration_s"] == pytest.approx(float(fmt["duration"]), abs=1e-6)
    assert [a["sample_rate_hz"] for a in typed["audio"]] == [
        int(s["sample_rate"]) for s in media.probe["streams"] if s["codec_type"] == "audio"
    ]
    assert document["object"]["key"] == key
    assert (document["object"]["etag"], document["object"]["size"]) == (
        media.etag,
        len(media.body),
    )


def applied_job_id(tags: dict[str, str]) -> str:
    return tags[PREFIX + "etag"].rsplit("/", 1)[1]


def test_every_tagged_object_has_a_document_that_matches_ffprobe(
    pipeline: Pipeline, multi: Media, audio: Media
) -> None:
    since = pipeline.mark()
    pipeline.put("uploads/multi.mp4", multi.body, ContentType="video/mp4")
    pipeline.put("uploads/tone.mp3", audio.body)
    activity = pipeline.settle(since)
    assert activity.operations["ci:POST"] == 2  # the two documents started no job
    for key, media in (("uploads/multi.mp4", multi), ("uploads/tone.mp3", audio)):
        tags = read_tags(pipeline.client, key)
        document = read_document(pipeline, key)
        assert tags[PREFIX + "status"] == document["status"] == "ok"
        assert document["job"]["id"] == applied_job_id(tags)
        assert document["job"]["state"] == "Success"
        assert all(document["job"][t] for t in ("creation_time", "start_time", "end_time"))
        assert_document_matches(document, media, key)
    whole = read_document(pipeline, "uploads/multi.mp4")["media_info"]["Stream"]
    assert [a["Language"] for a in whole["Audio"]] == ["eng", "fra"]
    assert [s["Language"] for s in whole["Subtitle"]] == ["eng"]
    assert read_document(pipeline, "uploads/tone.mp3")["media_info"]["Stream"]["Video"] == []
    skipped = [inv for inv in activity.uploads if DOC_PREFIX in json.dumps(inv.event)]
    assert len(skipped) == 2  # each document raised an upload event, refused by location


def test_a_failed_job_writes_a_document_with_the_failure(pipeline: Pipeline) -> None:
    since = pipeline.mark()
    body = b"this is not a video" * 10
    pipeline.put("uploads/broken.mp4", body)
    pipeline.settle(since)
    document = read_document(pipeline, "uploads/broken.mp4")
    tags = read_tags(pipeline.client, "uploads/broken.mp4")
    assert tags[PREFIX + "status"] == document["status"] == "failed:ResourceNotSupported"
    assert (document["job"]["state"], document["job"]["code"]) == ("Failed", "ResourceNotSupported")
    assert document["media_info"] is None
    assert (document["object"]["etag"], document["object"]["size"]) == (md5_hex(body), len(body))


def test_show_prints_the_document_and_its_streams(
    pipeline: Pipeline, multi: Media, capsys: pytest.CaptureFixture[str]
) -> None:
    since = pipeline.mark()
    pipeline.put("uploads/show me.mp4", multi.body)
    pipeline.settle(since)
    environ = pipeline.emulator.function_environ()
    argv = ["show", "uploads/show me.mp4", "--bucket", BUCKET, "--region", REGION]
    capsys.readouterr()
    assert main(argv, environ=environ) == 0
    printed = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("{")]
    address = f"cos://{BUCKET}/{DOC_PREFIX}{BUCKET}/k/uploads/show%20me.mp4.json"
    assert printed[0] == f"document  {address}"
    table = printed[printed.index("streams") + 2 :]
    assert [line.split()[:4] for line in table] == [
        ["0", "video", "h264", "und"],
        ["1", "audio", "aac", "eng"],
        ["2", "audio", "aac", "fra"],
        ["3", "subtitle", "-", "eng"],
    ]
    assert main([*argv, "--json"], environ=environ) == 0
    out = capsys.readouterr().out.splitlines()
    shown = "\n".join(line for line in out if not line.startswith('{"fn"'))
    assert json.loads(shown)["object"]["key"] == "uploads/show me.mp4"
    assert main(["show", "uploads/none.mp4", "--bucket", BUCKET], environ=environ) == 4


def test_reconcile_writes_the_document_of_a_lost_callback(pipeline: Pipeline, audio: Media) -> None:
    started = time.time()
    pipeline.emulator.faults.drop_next_callbacks(1)
    since = pipeline.mark()
    pipeline.put("uploads/lost.mp3", audio.body)
    pipeline.settle(since)
    assert document_key("uploads/lost.mp3") not in list_keys(pipeline.client, DOC_PREFIX)
    assert read_tags(pipeline.client, "uploads/lost.mp3") == {}
    summary = run_reconcile(
        BUCKET,
        REGION,
        since=started - 5,
        until=time.time() + 5,
        environ=pipeline.emulator.function_environ(),
    )
    assert summary.errors == 0
    document = read_document(pipeline, "uploads/lost.mp3")
    assert document["job"]["id"] == applied_job_id(read_tags(pipeline.client, "uploads/lost.mp3"))
    assert_document_matches(document, audio, "uploads/lost.mp3")


def test_with_the_option_off_nothing_is_written(
    pipeline: Pipeline, audio: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEDIA_TAGGER_RESULT_DOCUMENT")
    before = list_keys(pipeline.client, DOC_PREFIX)
    since = pipeline.mark()
    pipeline.put("uploads/plain.mp3", audio.body)
    activity = pipeline.settle(since)
    assert read_tags(pipeline.client, "uploads/plain.mp3")[PREFIX + "status"] == "ok"
    assert list_keys(pipeline.client, DOC_PREFIX) == before
    assert activity.operations["cos:PUT:object"] == 1  # the client's own upload only


def test_100_uploads_with_the_result_prefix_inside_the_trigger_prefix_make_100_jobs(
    pipeline: Pipeline, audio: Media
) -> None:
    since = pipeline.mark()
    keys = [f"uploads/loop/{n:03d}.mp3" for n in range(100)]
    for key in keys:
        pipeline.put(key, audio.body)
    activity = pipeline.settle(since)
    assert activity.operations["ci:POST"] == 100
    assert pipeline.emulator.wait_idle(SETTLE_S)
    assert activity.operations["cos:PUT:object"] == 200  # 100 uploads + 100 documents
    documents = [k for k in list_keys(pipeline.client, DOC_PREFIX) if "/k/uploads/loop/" in k]
    assert documents == sorted(document_key(key) for key in keys)
    assert all(read_tags(pipeline.client, key)[PREFIX + "status"] == "ok" for key in keys[::25])
