"""End to end over loopback: the real handlers (default import paths) inside the local emulator.

Uploads are signed PUTs from cos-python-sdk-v5 (an independent client); the pipeline runs on its
own (COS trigger -> upload function -> CI job with real ffprobe -> callback -> function URL ->
callback function -> PUT tagging); tags are read back with GET ?tagging through the SDK and
compared with values from the test's own ffprobe run. One emulator serves the module; each test
uses its own keys, resets the faults and measures the requests it caused.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.app import Emulator
from tests.e2e_helpers import (
    AUDIO_ARGS,
    BUCKET,
    CI_HOST,
    PREFIX,
    README_REQUESTS,
    VIDEO_ARGS,
    Media,
    Pipeline,
    applied_etag,
    comparable,
    expected_tags,
    generate_media,
    list_keys,
    md5_hex,
    oracle_client,
    read_tags,
    same_requests,
)

pytestmark = pytest.mark.e2e

MEDIA_FIELDS = ("duration", "resolution", "vcodec", "acodec", "fps", "bitrate", "container")


@pytest.fixture(scope="session")
def video(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return generate_media(tmp_path_factory.mktemp("e2e-media"), "clip.mp4", VIDEO_ARGS)


@pytest.fixture(scope="session")
def audio(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return generate_media(tmp_path_factory.mktemp("e2e-media"), "tone.mp3", AUDIO_ARGS)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    data = tmp_path_factory.mktemp("e2e-emulator")
    with Emulator(
        data, job_runner_delay_s=0.01, retry_interval_s=0.05, buckets=[BUCKET]
    ) as running:
        yield running


@pytest.fixture
def pipeline(emulator: Emulator) -> Pipeline:
    pipeline = Pipeline.settled(emulator)
    emulator.server.callback_shape = "standard"
    return pipeline


# Each documented callback body shape (emulator.ci.callback_shapes) in each format it differs in:
# "no-prolog" only changes XML, "jobs-list" only JSON (one job in XML is one element anyway).
CALLBACK_SHAPES = [
    ("JSON", "standard"),
    ("JSON", "no-event-name"),
    ("JSON", "jobs-list"),
    ("JSON", "workflow"),
    ("XML", "standard"),
    ("XML", "no-prolog"),
    ("XML", "no-event-name"),
    ("XML", "workflow"),
]
SHAPE_IDS = [f"{fmt}-{shape}" for fmt, shape in CALLBACK_SHAPES]


@pytest.fixture(params=CALLBACK_SHAPES, ids=SHAPE_IDS)
def shaped(
    request: pytest.FixtureRequest, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> tuple[Pipeline, str, str]:
    """The pipeline with CI sending one callback shape, in the format the upload function asks
    for (the functions read their environment on every invocation)."""
    fmt, shape = request.param
    monkeypatch.setenv("MEDIA_TAGGER_CALLBACK_FORMAT", fmt)
    pipeline.emulator.server.callback_shape = shape
    return pipeline, fmt, shape


def assert_callback_shape(body: str, fmt: str, shape: str) -> None:
    """The callback the function got has the shape the emulator was asked for."""
    if fmt == "XML":
        assert body.startswith("<?xml") == (shape != "no-prolog"), body[:60]
        assert ("<EventName>" in body) == (shape != "no-event-name")
        assert ("<CosHeaders>" in body) == (shape == "workflow")
        return
    notice = json.loads(body)
    assert ("EventName" in notice) == (shape != "no-event-name")
    assert isinstance(notice["JobsDetail"], list) == (shape in ("jobs-list", "workflow"))
    assert ("Workflow" in json.dumps(notice)) == (shape == "workflow")


def test_video_gets_ffprobe_values_over_every_callback_shape(
    shaped: tuple[Pipeline, str, str], video: Media
) -> None:
    pipeline, fmt, shape = shaped
    since = pipeline.mark()
    pipeline.put("video/clip.mp4", video.body, ContentType="video/mp4")
    activity = pipeline.settle(since)
    tags = read_tags(pipeline.client, "video/clip.mp4")
    assert comparable(tags) == expected_tags(video)
    assert applied_etag(tags) == md5_hex(video.body)
    assert (tags[PREFIX + "resolution"], tags[PREFIX + "vcodec"]) == ("160x120", "h264")
    assert (tags[PREFIX + "acodec"], tags[PREFIX + "fps"]) == ("aac", "29.97")
    (callback,) = activity.callbacks
    assert callback.event["headers"]["content-type"] == f"application/{fmt.lower()}"
    assert_callback_shape(callback.event["body"], fmt, shape)
    assert activity.outcomes() == ["tagged:ok"]
    assert same_requests(activity.operations, README_REQUESTS), activity.operations


def test_requests_per_object_match_the_readme(pipeline: Pipeline, video: Media) -> None:
    since = pipeline.mark()
    pipeline.put("counted/clip.mp4", video.body)
    activity = pipeline.settle(since)
    assert same_requests(activity.operations, README_REQUESTS), activity.operations
    assert activity.hosts[CI_HOST] == 2  # the functions address CI by its own host name
    assert activity.statuses == Counter({"200": 6})  # PUT, POST, GET /jobs, HEAD, GET+PUT ?tagging
    assert read_tags(pipeline.client, "counted/clip.mp4")[PREFIX + "status"] == "ok"


def test_audio_only_file_gets_no_video_fields(pipeline: Pipeline, audio: Media) -> None:
    since = pipeline.mark()
    pipeline.put("audio/tone.mp3", audio.body)
    pipeline.settle(since)
    tags = read_tags(pipeline.client, "audio/tone.mp3")
    assert comparable(tags) == expected_tags(audio)
    assert tags[PREFIX + "acodec"] == "mp3"
    video_fields = {PREFIX + name for name in ("resolution", "vcodec", "fps", "rotation")}
    assert video_fields.isdisjoint(tags)


def test_non_media_file_gets_the_ci_failure_code_over_every_callback_shape(
    shaped: tuple[Pipeline, str, str],
) -> None:
    pipeline, fmt, shape = shaped
    body = b"plain text pretending to be a video\n" * 20
    since = pipeline.mark()
    pipeline.put("broken/notes.mp4", body)
    activity = pipeline.settle(since)
    (callback,) = activity.callbacks
    assert_callback_shape(callback.event["body"], fmt, shape)
    ((submitted,),) = [inv.result["submitted"] for inv in activity.uploads]
    described = pipeline.client.ci_get_media_jobs(Bucket=BUCKET, JobIDs=submitted["job_id"])
    job = described["JobsDetail"][0]
    assert (job["State"], job["Code"]) == ("Failed", "ResourceNotSupported")
    assert comparable(read_tags(pipeline.client, "broken/notes.mp4")) == {
        PREFIX + "status": "failed:" + job["Code"],
        PREFIX + "etag": md5_hex(body),
    }


def test_awkward_keys_are_tagged_on_exactly_that_key(pipeline: Pipeline, video: Media) -> None:
    keys = [
        "keys/with space.mp4",
        "keys/视频 测试.mp4",
        "keys/a+b.mp4",
        "keys/100%25 done%.mp4",
        "keys/hash#frag.mp4",
        "keys/what?x=1.mp4",
    ]
    since = pipeline.mark()
    for key in keys:
        pipeline.put(key, video.body)
    activity = pipeline.settle(since)
    assert list_keys(pipeline.client, "keys/") == sorted(keys)
    expected = expected_tags(video)
    found = {key: comparable(read_tags(pipeline.client, key)) for key in keys}
    assert found == dict.fromkeys(keys, expected)
    assert sorted(reply["key"] for reply in activity.replies) == sorted(keys)
    assert same_requests(
        activity.operations, Counter({op: n * len(keys) for op, n in README_REQUESTS.items()})
    ), activity.operations


def test_xml_callback_format_works(tmp_path: Path, video: Media, pipeline: Pipeline) -> None:
    # A second emulator (XML) while the module's one is idle (``pipeline`` waited for that);
    # its start and stop swap the functions' environment in os.environ and back.
    with Emulator(
        tmp_path, callback_format="XML", job_runner_delay_s=0.01, buckets=[BUCKET]
    ) as xml_emulator:
        xml = Pipeline(xml_emulator, oracle_client(xml_emulator))
        since = xml.mark()
        xml.put("xml/clip.mp4", video.body)
        activity = xml.settle(since)
        tags = read_tags(xml.client, "xml/clip.mp4")
    assert comparable(tags) == expected_tags(video)
    (callback,) = activity.callbacks
    assert callback.event["headers"]["content-type"] == "application/xml"
    assert callback.event["body"].startswith("<")
    assert activity.outcomes() == ["tagged:ok"]
    assert same_requests(activity.operations, README_REQUESTS), activity.operations


def test_redelivered_upload_event_costs_one_job_and_ends_the_same(
    pipeline: Pipeline, video: Media
) -> None:
    """With the duplicate check off (the default) a redelivered event is a second job; its
    newer result names itself in the etag tag, the media tags stay what they were."""
    key = "dup/clip.mp4"
    since = pipeline.mark()
    pipeline.put(key, video.body)
    (upload,) = pipeline.settle(since).uploads
    tags = read_tags(pipeline.client, key)
    assert comparable(tags) == expected_tags(video)
    again = pipeline.mark()
    pipeline.emulator.upload.invoke_event(upload.event)  # SCF delivered the same event twice
    activity = pipeline.settle(again)
    assert same_requests(activity.operations, README_REQUESTS - Counter({"cos:PUT:object": 1})), (
        activity.operations
    )
    (redelivered,) = activity.uploads
    ((second,),) = [redelivered.result["submitted"]]
    after = read_tags(pipeline.client, key)
    assert comparable(after) == comparable(tags)
    assert after[PREFIX + "etag"].endswith("/" + second["job_id"])


def test_with_the_duplicate_check_a_redelivered_event_submits_nothing(
    tmp_path: Path, video: Media, pipeline: Pipeline
) -> None:
    env = {"MEDIA_TAGGER_IDEMPOTENCY_CHECK": "true"}
    with Emulator(tmp_path, job_runner_delay_s=0.01, function_env=env, buckets=[BUCKET]) as checked:
        other = Pipeline(checked, oracle_client(checked))
        since = other.mark()
        other.put("dup/checked.mp4", video.body)
        (upload,) = other.settle(since).uploads
        tags = read_tags(other.client, "dup/checked.mp4")
        again = other.mark()
        checked.upload.invoke_event(upload.event)
        activity = other.settle(again)
        assert activity.operations == Counter({"cos:GET:tagging": 1})  # no POST /jobs
        (redelivered,) = activity.uploads
        assert redelivered.result["skipped"] == [
            {"key": "dup/checked.mp4", "reason": "already-tagged"}
        ]
        assert read_tags(other.client, "dup/checked.mp4") == tags


def test_same_bytes_put_twice_is_tagged_again(pipeline: Pipeline, video: Media) -> None:
    # COS drops an object's tags when it is overwritten, so the second upload must be processed
    key = "dup/twice.mp4"
    for _ in range(2):
        since = pipeline.mark()
        pipeline.put(key, video.body)
        activity = pipeline.settle(since)
        assert same_requests(activity.operations, README_REQUESTS), activity.operations
        assert comparable(read_tags(pipeline.client, key)) == expected_tags(video)


def test_duplicated_callback_writes_nothing_new(pipeline: Pipeline, video: Media) -> None:
    pipeline.emulator.faults.duplicate_next_callbacks(1)
    since = pipeline.mark()
    pipeline.put("dup/callback.mp4", video.body)
    activity = pipeline.settle(since)
    assert activity.outcomes() == ["tagged:ok", "unchanged:ok"]
    assert activity.operations["cos:PUT:tagging"] == 1
    assert activity.operations["ci:GET"] == 2
    assert pipeline.emulator.stats()["faults"] == {"callbacks_duplicated": 1}
    assert comparable(read_tags(pipeline.client, "dup/callback.mp4")) == expected_tags(video)


def test_injected_ci_503_is_retried_by_the_upload_function(
    pipeline: Pipeline, video: Media
) -> None:
    pipeline.emulator.faults.fail_next("ci", 1, 503)
    since = pipeline.mark()
    pipeline.put("faults/ci.mp4", video.body)
    activity = pipeline.settle(since)
    assert pipeline.emulator.stats()["faults"] == {"ci_503": 1}
    assert same_requests(activity.operations, README_REQUESTS + Counter({"ci:POST": 1})), (
        activity.operations
    )
    assert activity.statuses["503"] == 1
    assert len(activity.uploads) == 1  # retried inside the invocation, not by SCF
    assert comparable(read_tags(pipeline.client, "faults/ci.mp4")) == expected_tags(video)


def test_injected_cos_503s_are_retried_by_the_callback_function(
    pipeline: Pipeline, video: Media
) -> None:
    faults = pipeline.emulator.faults
    faults.reorder_callbacks(2)  # holds the only callback until the pipeline is flushed
    since = pipeline.mark()
    pipeline.put("faults/cos.mp4", video.body)
    pipeline.hold_callbacks(1)
    faults.reorder_callbacks(0)
    faults.fail_next("cos", 2, 503)  # nothing but the callback function talks to COS now
    activity = pipeline.settle(since)
    assert faults.summary() == {"callbacks_reordered": 1, "cos_503": 2}
    assert activity.statuses["503"] == 2
    extra = activity.operations - README_REQUESTS
    # the two retried reads, and a fresh tag read when HEAD's retry outlasted the tags' answer
    assert sum(extra.values()) in (2, 3)
    assert set(extra) <= {"cos:HEAD:object", "cos:GET:tagging"}
    assert extra["cos:GET:tagging"] <= 2
    assert activity.outcomes() == ["tagged:ok"]
    assert comparable(read_tags(pipeline.client, "faults/cos.mp4")) == expected_tags(video)


def test_overwrite_before_the_first_callback_ends_with_the_new_content(
    pipeline: Pipeline, video: Media, audio: Media
) -> None:
    key = "stale/clip.mp4"
    pipeline.emulator.faults.reorder_callbacks(2)  # deliver both callbacks newest first
    since = pipeline.mark()
    pipeline.put(key, video.body)
    pipeline.hold_callbacks(1)  # the first job finished; its callback is not delivered yet
    pipeline.put(key, audio.body)  # the key now holds other content (audio in an .mp4 name)
    activity = pipeline.settle(since)
    assert activity.outcomes() == ["tagged:ok", "skipped:stale"]
    assert activity.replies[1]["job_id"] == activity.uploads[0].result["submitted"][0]["job_id"]
    assert comparable(read_tags(pipeline.client, key)) == expected_tags(audio)


def test_user_tags_survive_and_tagging_fires_no_upload_event(
    pipeline: Pipeline, video: Media
) -> None:
    key = "user/clip.mp4"
    since = pipeline.mark()
    pipeline.put(key, video.body, Tagging="owner=alice&project=launch")
    activity = pipeline.settle(since)
    assert comparable(read_tags(pipeline.client, key)) == {
        "owner": "alice",
        "project": "launch",
        **expected_tags(video),  # 2 + our 7: the owner keeps one slot free
    }
    assert [reply["dropped"] for reply in activity.replies] == [[]]
    assert len(activity.uploads) == 1  # the callback's PUT tagging fired no upload event
    tags = {**read_tags(pipeline.client, key), "owner": "bob"}
    tag_set = [{"Key": k, "Value": v} for k, v in tags.items()]
    later = pipeline.mark()
    pipeline.client.put_object_tagging(Bucket=BUCKET, Key=key, Tagging={"TagSet": {"Tag": tag_set}})
    activity = pipeline.settle(later)
    assert activity.uploads == [] and activity.callbacks == []  # a user's tagging neither
    assert activity.operations == Counter({"cos:PUT:tagging": 1})
    assert read_tags(pipeline.client, key) == tags
