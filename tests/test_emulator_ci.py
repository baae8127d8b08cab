"""The emulator's CI job API, the ffprobe -> MediaInfo mapping, and the job callbacks."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from emulator.ci.probe import MediaProbeError, find_ffprobe, media_info_nodes
from emulator.faults import Faults
from emulator.xmlreply import to_json_object
from shared.tencent.xml_answers import parse_error_body
from shared.tencent.xml_parser import as_list, element_to_tree, parse_xml
from tests.emulator_fixtures import (
    BUCKET,
    CI_HOST,
    COS_HOST,
    CallbackReceiver,
    Harness,
    harness,
    sample_mp4,
    start_harness,
    wait_until,
)

__all__ = ["harness", "sample_mp4"]

SIX_DECIMALS = re.compile(r"^-?\d+\.\d{6}$")
CI_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0800$")


# -- ffprobe mapping (synthetic ffprobe output) ------------------------------------------------
def _probed(**video: Any) -> dict[str, Any]:
    stream = {
        "index": 0,
        "codec_type": "video",
        "codec_name": "h264",
        "width": 1920,
        "height": 1080,
        "r_frame_rate": "30000/1001",
        "avg_frame_rate": "30/1",
        "bit_rate": "5983112",
        "duration": "31.5",
        "time_base": "1/30000",
        **video,
    }
    fmt = {
        "nb_streams": 1,
        "nb_programs": 0,
        "format_name": "mov,mp4,m4a,3gp,3g2,mj2",
        "duration": "31.533",
        "bit_rate": "6118605",
        "size": "24117248",
        "start_time": "0",
    }
    return {"streams": [stream], "format": fmt}


def _media(probed: dict[str, Any]) -> dict[str, Any]:
    return to_json_object(media_info_nodes(probed))


def test_mapping_units_and_formatting() -> None:
    media = _media(_probed())
    assert media["Format"]["Duration"] == "31.533000"
    assert media["Format"]["Bitrate"] == "6118.605000"
    assert media["Format"]["Size"] == "24117248"
    assert media["Format"]["NumStream"] == "1"
    video = media["Stream"]["Video"]
    assert video["Bitrate"] == "5983.112000"
    assert video["Fps"] == "29.970030" and video["AvgFps"] == "30.000000"
    assert (video["Width"], video["Height"]) == ("1920", "1080")
    assert video["Rotation"] == "0.000000"
    assert video["Language"] == "und"
    assert video["CodecTimeBase"] == video["Timebase"] == "1/30000"  # equal, as in CI's samples
    assert list(video) == sorted(video)


@pytest.mark.parametrize(
    ("extra", "rotation"),
    [
        # a portrait phone clip (matrix [0 1 -1 0]): ffprobe >= 5 prints -90, old ffprobe rotate=90
        ({"side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}]}, "90.000000"),
        ({"tags": {"rotate": "90"}}, "90.000000"),
        ({"side_data_list": [{"rotation": 90}]}, "270.000000"),
        ({"tags": {"rotate": "180"}}, "180.000000"),
    ],
    ids=["display-matrix-minus-90", "rotate-tag-90", "display-matrix-90", "rotate-tag-180"],
)
def test_rotation_is_clockwise_degrees(extra: dict[str, Any], rotation: str) -> None:
    assert _media(_probed(**extra))["Stream"]["Video"]["Rotation"] == rotation


def test_missing_values_are_omitted_and_empty_subtitle_kept_for_xml() -> None:
    probed = _probed(bit_rate="N/A")
    probed["streams"][0].pop("duration")
    nodes = media_info_nodes(probed)
    stream = dict(nodes)["Stream"]
    assert ("Subtitle", None) in stream  # type: ignore[operator]
    video = dict(dict(stream)["Video"])  # type: ignore[arg-type]
    assert "Bitrate" not in video
    assert video["Duration"] == "31.533000"  # the container's duration stands in


def test_no_audio_or_video_stream_is_not_media() -> None:
    with pytest.raises(
        MediaProbeError, match="ResourceNotSupported: The input file has no audio or video stream"
    ) as caught:
        media_info_nodes({"streams": [{"codec_type": "data"}], "format": {}})
    assert caught.value.code == "ResourceNotSupported"


def test_missing_ffprobe_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="ffprobe not found"):
        find_ffprobe(which=lambda name: None)


def test_random_callback_faults_are_reproducible_by_seed() -> None:
    def fates(seed: int) -> list[str]:
        faults = Faults()
        faults.random_callback_faults(drop_rate=0.3, duplicate_rate=0.3, seed=seed)
        return [faults.callback_fate() for _ in range(60)]

    first = fates(3)
    assert first == fates(3)
    assert set(first) == {"deliver", "drop", "duplicate"}


# -- HTTP -------------------------------------------------------------------------------------
pytestmark_e2e = pytest.mark.e2e


def _job_request(key: str, **extra: str) -> bytes:
    parts = "".join(f"<{k}>{v}</{k}>" for k, v in extra.items())
    return (
        f"<Request><Tag>MediaInfo</Tag><Input><Object>{key}</Object></Input>"
        f"<Operation><UserData>u-1</UserData><JobLevel>0</JobLevel></Operation>{parts}</Request>"
    ).encode()


XML = {"Content-Type": "application/xml"}


def _submit(harness: Harness, key: str, host: str = CI_HOST, **extra: str) -> requests.Response:
    return harness.client.send(
        "POST", "/jobs", host=host, body=_job_request(key, **extra), headers=XML
    )


def _detail(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.content
    details = as_list(element_to_tree(parse_xml(response.content)).get("JobsDetail"))
    assert len(details) == 1
    return details[0]  # type: ignore[no-any-return]


def _describe(harness: Harness, ids: str) -> dict[str, Any]:
    response = harness.client.send("GET", f"/jobs/{ids}", host=CI_HOST)
    assert response.status_code == 200
    return element_to_tree(parse_xml(response.content))


def _code(response: requests.Response) -> str:
    error = parse_error_body(response.content)
    assert error is not None, response.content
    return error.code


@pytestmark_e2e
def test_submit_answers_submitted_then_job_succeeds_with_ffprobe_values(
    harness: Harness, sample_mp4: bytes
) -> None:
    harness.client.send("PUT", "in/sample.mp4", body=sample_mp4)
    response = _submit(harness, "in/sample.mp4")
    assert response.headers["Server"] == "tencent-ci" and response.headers["x-ci-request-id"]
    submitted = _detail(response)
    assert re.fullmatch(r"j[0-9a-f]{32}", submitted["JobId"])
    assert (submitted["State"], submitted["Code"], submitted["Tag"]) == (
        "Submitted",
        "Success",
        "MediaInfo",
    )
    assert CI_TIME.match(submitted["CreationTime"])
    assert submitted["StartTime"] == "-" and submitted["EndTime"] == "-"
    assert submitted["Input"] == {
        "BucketId": BUCKET,
        "Object": "in/sample.mp4",
        "Region": "ap-guangzhou",
    }
    assert "MediaInfo" not in submitted["Operation"]
    assert harness.server.wait_idle(10)
    done = _describe(harness, submitted["JobId"])["JobsDetail"]
    assert done["State"] == "Success" and CI_TIME.match(done["EndTime"])
    assert done["Operation"]["UserData"] == "u-1"
    media = done["Operation"]["MediaInfo"]
    assert abs(float(media["Format"]["Duration"]) - 1.0) < 0.1
    assert SIX_DECIMALS.match(media["Format"]["Duration"])
    assert SIX_DECIMALS.match(media["Format"]["Bitrate"])
    assert media["Format"]["Size"] == str(len(sample_mp4))
    video, audio = media["Stream"]["Video"], media["Stream"]["Audio"]
    assert (video["CodecName"], video["Width"], video["Height"]) == ("h264", "320", "240")
    assert video["Fps"] == "25.000000" and video["Rotation"] == "0.000000"
    assert audio["CodecName"] == "aac" and audio["SampleRate"] == "44100"
    expected_kbps = len(sample_mp4) * 8 / 1000 / float(media["Format"]["Duration"])
    assert abs(float(media["Format"]["Bitrate"]) - expected_kbps) < 1.0


@pytestmark_e2e
def test_jobs_on_the_cos_host_reach_ci(harness: Harness, sample_mp4: bytes) -> None:
    harness.client.send("PUT", "x.mp4", body=sample_mp4)
    response = _submit(harness, "x.mp4", host=COS_HOST)
    assert _detail(response)["State"] == "Submitted"


@pytestmark_e2e
def test_a_non_media_object_fails_its_job(harness: Harness) -> None:
    harness.client.send("PUT", "notes.txt", body=b"just some text, not media\n")
    text_job = _detail(_submit(harness, "notes.txt"))["JobId"]
    assert harness.server.wait_idle(10)
    text = _describe(harness, text_job)["JobsDetail"]
    assert (text["State"], text["Code"]) == ("Failed", "ResourceNotSupported")
    assert text["Message"] and "MediaInfo" not in text["Operation"]


@pytestmark_e2e
@pytest.mark.parametrize(
    "body",
    [
        b"<Request><Tag>Transcode</Tag><Input><Object>a</Object></Input><Operation/></Request>",
        b"<Request><Tag>MediaInfo</Tag><Input/><Operation/></Request>",
        b"<Request><Tag>MediaInfo</Tag><Input><Object>a</Object></Input></Request>",
        _job_request("a").replace(b"u-1", b"x" * 1025),
        _job_request("a").replace(b"u-1", "caf\u00e9".encode()),
        _job_request("a", CallBack="https://hooks.example.com/cb"),
        _job_request("a", CallBack="http://10.0.0.1/cb"),
        _job_request("a", CallBackFormat="YAML"),
        _job_request("a").replace(b"<JobLevel>0", b"<JobLevel>7"),
    ],
    ids=[
        "tag",
        "no-object",
        "no-operation",
        "userdata-long",
        "userdata-nonascii",
        "callback-https",
        "callback-remote",
        "format",
        "joblevel",
    ],
)
def test_submit_refuses_invalid_requests(harness: Harness, body: bytes) -> None:
    response = harness.client.send("POST", "/jobs", host=CI_HOST, body=body, headers=XML)
    assert (response.status_code, _code(response)) == (400, "InvalidArgument")
    assert harness.server.jobs.all() == []


@pytestmark_e2e
def test_submit_refuses_malformed_xml(harness: Harness) -> None:
    response = harness.client.send(
        "POST", "/jobs", host=CI_HOST, body=b"<Request><Tag>", headers=XML
    )
    assert (response.status_code, _code(response)) == (400, "InvalidContent")


@pytestmark_e2e
def test_describe_reports_unknown_ids(harness: Harness, sample_mp4: bytes) -> None:
    harness.client.send("PUT", "a.mp4", body=sample_mp4)
    job_id = _detail(_submit(harness, "a.mp4"))["JobId"]
    tree = _describe(harness, f"{job_id},jdoesnotexist")
    assert tree["JobsDetail"]["JobId"] == job_id
    assert tree["NonExistJobIds"] == "jdoesnotexist"
    assert "NonExistJobIds" not in _describe(harness, job_id)
    assert harness.server.wait_idle(10)


def _list(harness: Harness, **params: str) -> dict[str, Any]:
    response = harness.client.send(
        "GET", "/jobs", host=CI_HOST, params={"tag": "MediaInfo", **params}
    )
    assert response.status_code == 200, response.content
    return element_to_tree(parse_xml(response.content))


@pytestmark_e2e
def test_list_filters_states_input_and_pages(harness: Harness, sample_mp4: bytes) -> None:
    harness.client.send("PUT", "a.mp4", body=sample_mp4)
    harness.client.send("PUT", "b.txt", body=b"text")
    ids = [_detail(_submit(harness, key))["JobId"] for key in ("a.mp4", "b.txt", "a.mp4")]
    assert harness.server.wait_idle(10)
    failed = as_list(_list(harness, states="Failed").get("JobsDetail"))
    assert [j["JobId"] for j in failed] == [ids[1]]
    both = as_list(_list(harness, states="Success,Failed", orderByTime="Asc").get("JobsDetail"))
    assert [j["JobId"] for j in both] == ids
    by_input = as_list(_list(harness, inputObject="a.mp4").get("JobsDetail"))
    assert [j["JobId"] for j in by_input] == [ids[2], ids[0]]
    first = _list(harness, size="2")
    assert [j["JobId"] for j in first["JobsDetail"]] == [ids[2], ids[1]]
    second = _list(harness, size="2", nextToken=first["NextToken"])
    assert second["JobsDetail"]["JobId"] == ids[0] and second["NextToken"] == ""
    for bad in (
        {"size": "101"},
        {"orderByTime": "Up"},
        {"states": "Done"},
        {"startCreationTime": "yesterday"},
    ):
        response = harness.client.send(
            "GET", "/jobs", host=CI_HOST, params={"tag": "MediaInfo", **bad}
        )
        assert (response.status_code, _code(response)) == (400, "InvalidArgument")
    no_tag = harness.client.send("GET", "/jobs", host=CI_HOST)
    assert (no_tag.status_code, _code(no_tag)) == (400, "InvalidArgument")


@pytestmark_e2e
def test_list_creation_time_window_uses_the_injected_clock(tmp_path: Path) -> None:
    now = [1_700_000_000.0]  # 2023-11-15T06:13:20+0800
    running = start_harness(tmp_path, clock=lambda: now[0])
    try:
        running.client.send("PUT", "a.mp4", body=b"x")
        old = _detail(_submit(running, "a.mp4"))["JobId"]
        now[0] += 3600
        new = _detail(_submit(running, "a.mp4"))["JobId"]
        window = {"startCreationTime": "2023-11-15T07:00:00+0800"}
        assert _list(running, **window)["JobsDetail"]["JobId"] == new
        until = {"endCreationTime": "2023-11-15T06:13:20+0800"}
        assert _list(running, **until)["JobsDetail"]["JobId"] == old
        assert running.server.wait_idle(10)
    finally:
        running.server.stop()


# -- callbacks --------------------------------------------------------------------------------
def _all_leaves_are_strings(node: Any) -> bool:
    if isinstance(node, dict):
        return all(value != {} and _all_leaves_are_strings(value) for value in node.values())
    if isinstance(node, list):
        return all(_all_leaves_are_strings(item) for item in node)
    return isinstance(node, str) and node != ""


@pytestmark_e2e
def test_json_and_xml_callbacks(harness: Harness, sample_mp4: bytes) -> None:
    harness.client.send("PUT", "a.mp4", body=sample_mp4)
    with CallbackReceiver() as receiver:
        json_job = _detail(_submit(harness, "a.mp4", CallBack=receiver.url, CallBackFormat="JSON"))
        assert harness.server.wait_idle(10)
        xml_job = _detail(_submit(harness, "a.mp4", CallBack=receiver.url))
        assert harness.server.wait_idle(10)
    first, second = receiver.received
    assert first.path == "/ci/callback?t=secret"
    assert first.headers["Content-Type"] == "application/json"
    assert first.headers["User-Agent"] == "Go-http-client/1.1"
    notice = json.loads(first.body)
    assert notice["EventName"] == "TaskFinish"
    assert notice["JobsDetail"]["JobId"] == json_job["JobId"]
    assert notice["JobsDetail"]["State"] == "Success"
    assert (
        "Message" not in notice["JobsDetail"]
        and "Subtitle" not in notice["JobsDetail"]["Operation"]["MediaInfo"]["Stream"]
    )
    assert _all_leaves_are_strings(notice)
    assert second.headers["Content-Type"] == "application/xml"
    root = parse_xml(second.body)
    assert root.tag == "Response"
    tree = element_to_tree(root)
    assert tree["EventName"] == "TaskFinish"
    assert tree["JobsDetail"]["JobId"] == xml_job["JobId"]
    assert tree["JobsDetail"]["Operation"]["MediaInfo"]["Stream"]["Video"]["Width"] == "320"
    assert harness.server.stats()["callbacks"]["callbacks_sent"] == 2


@pytestmark_e2e
def test_callback_faults_drop_duplicate_reorder(tmp_path: Path) -> None:
    faults = Faults()
    running = start_harness(tmp_path, faults=faults)
    try:
        running.client.send("PUT", "a.txt", body=b"not media")
        with CallbackReceiver() as receiver:

            def run_job() -> str:
                job_id = _detail(
                    _submit(running, "a.txt", CallBack=receiver.url, CallBackFormat="JSON")
                )["JobId"]
                assert wait_until(lambda: running.server.jobs.get(job_id).state == "Failed")  # type: ignore[union-attr]
                return str(job_id)

            def received_ids() -> list[str]:
                return [json.loads(b)["JobsDetail"]["JobId"] for b in receiver.bodies()]

            faults.drop_next_callbacks(1)
            dropped = run_job()
            assert running.server.wait_idle(10) and received_ids() == []
            faults.duplicate_next_callbacks(1)
            doubled = run_job()
            assert running.server.wait_idle(10) and received_ids() == [doubled, doubled]
            faults.reorder_callbacks(3)
            ordered = [run_job() for _ in range(3)]
            assert running.server.wait_idle(10)
            assert received_ids()[2:] == list(reversed(ordered))
            assert dropped not in received_ids()
        assert faults.summary() == {
            "callbacks_dropped": 1,
            "callbacks_duplicated": 1,
            "callbacks_reordered": 3,
        }
    finally:
        running.server.stop()


@pytestmark_e2e
def test_ci_fail_next_then_success(tmp_path: Path, sample_mp4: bytes) -> None:
    faults = Faults()
    running = start_harness(tmp_path, faults=faults)
    try:
        running.client.send("PUT", "a.mp4", body=sample_mp4)
        faults.fail_next("ci", 1, status=503)
        faults.fail_next("ci", 1, status=429)
        first, second = _submit(running, "a.mp4"), _submit(running, "a.mp4")
        assert (first.status_code, _code(first)) == (503, "ServiceUnavailable")
        assert (second.status_code, _code(second)) == (429, "SlowDown")
        assert running.server.jobs.all() == []
        assert _detail(_submit(running, "a.mp4"))["State"] == "Submitted"
        assert running.server.wait_idle(10)
    finally:
        running.server.stop()
