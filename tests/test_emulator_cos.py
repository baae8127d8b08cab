"""The emulator's COS API over HTTP: objects, tagging limits, listing, events, faults, admin."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from emulator.cos.tagging import TagRules, parse_tagging_header, validate_tags
from emulator.faults import Faults
from emulator.wire import ServiceError
from shared.tencent.xml_answers import parse_error_body, parse_list_bucket
from shared.tencent.xml_parser import element_to_tree, parse_xml
from tests.emulator_fixtures import BUCKET, COS_HOST, Harness, harness, md5_hex, start_harness

__all__ = ["harness"]


def _tags_body(tags: list[tuple[str, str]]) -> bytes:
    items = "".join(
        f"<Tag><Key>{k}</Key><Value>{v}</Value></Tag>".replace("&", "&amp;") for k, v in tags
    )
    return f"<Tagging><TagSet>{items}</TagSet></Tagging>".encode()


def _code(response: requests.Response) -> str:
    error = parse_error_body(response.content)
    assert error is not None, response.content
    return error.code


def _tree(response: requests.Response) -> dict[str, Any]:
    return element_to_tree(parse_xml(response.content))


# -- pure tag rules ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "tags",
    [
        [(f"k{i}", "v") for i in range(11)],
        [("k" * 128, "v")],
        [("", "v")],
        [("k", "v" * 256)],
        [("k", "")],
        [("k", "a,b")],
        [("k(", "v")],
        [("dup", "1"), ("dup", "2")],
        [("qcs:owner", "v")],
        [("k", "a@b")],
        [("媒体", "v")],
    ],
    ids=[
        "11-tags",
        "key-128",
        "key-empty",
        "value-256",
        "value-empty",
        "comma",
        "paren",
        "duplicate",
        "qcs",
        "at-sign",
        "cjk",
    ],
)
def test_tag_rules_refuse(tags: list[tuple[str, str]]) -> None:
    with pytest.raises(ServiceError, match="InvalidTag") as caught:
        validate_tags(tuple(tags))
    assert caught.value.status == 400


def test_tag_rules_accept_the_limits_and_the_api_charset() -> None:
    validate_tags(tuple((f"k{i}", "v") for i in range(10)))
    validate_tags((("k" * 127, "v" * 255), ("Key 1", "a+b-c=d.e_f:g/h 1")))


@pytest.mark.parametrize(
    ("tags", "bytes_"),
    [([("视" * 43, "v")], 129), ([("k", "视" * 86)], 258)],
    ids=["key-43-cjk", "value-86-cjk"],
)
def test_tag_limits_count_utf8_bytes_under_either_charset(
    tags: list[tuple[str, str]], bytes_: int
) -> None:
    for rules in (TagRules("overview"), TagRules("api")):
        with pytest.raises(ServiceError, match=f"{bytes_} bytes"):
            rules.validate(tuple(tags))


def test_overview_charset_allows_any_script_and_the_at_sign() -> None:
    wide = TagRules("overview")
    wide.validate((("媒体 时长", "a+b-c=d.e_f:g/h@i 1"), ("视" * 42, "视" * 85)))
    with pytest.raises(ServiceError, match="not allowed"):
        wide.validate((("k", "a,b"),))
    with pytest.raises(ValueError, match="charset"):
        TagRules("utf8")


def test_tagging_header_keeps_plus_and_decodes_percent() -> None:
    assert parse_tagging_header("a=1%2C2&b%20c=x+y&d=") == (("a", "1,2"), ("b c", "x+y"), ("d", ""))


# -- objects ----------------------------------------------------------------------------------
pytestmark_e2e = pytest.mark.e2e


NOW = 1_764_581_234.0  # the emulator's (and our signer's) clock: 2025-12-01T09:27:14Z


@pytestmark_e2e
def test_put_head_get_delete_object(tmp_path: Path) -> None:
    harness = start_harness(tmp_path, clock=lambda: NOW + 0.5)
    try:
        _put_head_get_delete(harness)
    finally:
        harness.server.stop()


def _put_head_get_delete(harness: Harness) -> None:
    body = b"some media bytes\x00\xff" * 100
    put = harness.client.send(
        "PUT",
        "in/clip.mp4",
        body=body,
        headers={"Content-Type": "video/mp4", "x-cos-meta-origin": "camera 1"},
    )
    assert put.status_code == 200
    assert put.headers["ETag"] == f'"{md5_hex(body)}"'
    assert put.headers["x-cos-request-id"]
    head = harness.client.send("HEAD", "in/clip.mp4")
    assert head.status_code == 200
    assert head.headers["ETag"] == f'"{md5_hex(body)}"'
    assert head.headers["Content-Length"] == str(len(body))
    assert head.headers["Content-Type"] == "video/mp4"
    assert head.headers["x-cos-meta-origin"] == "camera 1"
    assert head.headers["Last-Modified"] == "Mon, 01 Dec 2025 09:27:14 GMT"  # whole seconds
    get = harness.client.send("GET", "in/clip.mp4")
    assert get.content == body and get.headers["ETag"] == head.headers["ETag"]
    assert harness.client.send("DELETE", "in/clip.mp4").status_code == 204
    gone = harness.client.send("HEAD", "in/clip.mp4")
    assert (gone.status_code, gone.content) == (404, b"")
    missing = harness.client.send("GET", "in/clip.mp4")
    assert (missing.status_code, _code(missing)) == (404, "NoSuchKey")


@pytestmark_e2e
@pytest.mark.parametrize("key", ["my clip 01.mp4", "视频/测试 文件.mp4", "in/a+b%20c 100%.mp4"])
def test_odd_keys_round_trip_and_are_announced_raw(harness: Harness, key: str) -> None:
    assert harness.client.send("PUT", key, body=b"x").status_code == 200
    assert harness.client.send("GET", key).content == b"x"
    assert [e.key for e in harness.events] == [key]
    listed = parse_list_bucket(
        harness.client.send("GET", "", params={"encoding-type": "url"}).content
    )
    assert [o.key for o in listed.objects] == [key]


@pytestmark_e2e
def test_put_announces_one_object_created_and_tagging_announces_nothing(harness: Harness) -> None:
    body = b"video"
    harness.client.send("PUT", "a.mp4", body=body, headers={"Content-Type": "video/mp4"})
    assert len(harness.events) == 1
    event = harness.events[0]
    assert (event.bucket, event.region, event.key) == (BUCKET, "ap-guangzhou", "a.mp4")
    assert (event.etag, event.size, event.content_type) == (md5_hex(body), 5, "video/mp4")
    assert event.event_name == "cos:ObjectCreated:Put" and event.version_id is None
    assert event.request_headers["Authorization"].startswith("q-sign-algorithm=sha1")
    assert event.source_ip == "127.0.0.1"
    assert (
        harness.client.send(
            "PUT", "a.mp4", params={"tagging": ""}, body=_tags_body([("k", "v")])
        ).status_code
        == 200
    )
    assert harness.client.send("DELETE", "a.mp4", params={"tagging": ""}).status_code == 204
    assert harness.client.send("GET", "a.mp4", params={"tagging": ""}).status_code == 200
    assert len(harness.events) == 1


@pytestmark_e2e
def test_content_md5_is_checked(harness: Harness) -> None:
    body = b"payload"
    good = base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()
    ok = harness.client.send("PUT", "m", body=body, headers={"Content-MD5": good})
    assert ok.status_code == 200
    bad = base64.b64encode(b"0" * 16).decode()
    refused = harness.client.send("PUT", "m", body=b"other", headers={"Content-MD5": bad})
    assert (refused.status_code, _code(refused)) == (400, "BadDigest")
    assert harness.client.send("GET", "m").content == body  # the old object is untouched


# -- tagging ----------------------------------------------------------------------------------
@pytestmark_e2e
def test_tagging_put_replaces_get_and_delete(harness: Harness) -> None:
    harness.client.send("PUT", "t.mp4", body=b"x")
    empty = harness.client.send("GET", "t.mp4", params={"tagging": ""})
    assert empty.status_code == 200
    assert _tree(empty).get("TagSet") == ""
    first = [("duration", "1.000000"), ("视频", "h264")]
    harness.client.send("PUT", "t.mp4", params={"tagging": ""}, body=_tags_body(first))
    second = [("codec", "aac")]
    put = harness.client.send("PUT", "t.mp4", params={"tagging": ""}, body=_tags_body(second))
    assert put.status_code == 200
    got = _tree(harness.client.send("GET", "t.mp4", params={"tagging": ""}))
    assert got["TagSet"]["Tag"] == {"Key": "codec", "Value": "aac"}
    head = harness.client.send("HEAD", "t.mp4")
    assert head.headers["x-cos-tagging-count"] == "1"
    assert harness.client.send("DELETE", "t.mp4", params={"tagging": ""}).status_code == 204
    assert _tree(harness.client.send("GET", "t.mp4", params={"tagging": ""}))["TagSet"] == ""


@pytestmark_e2e
@pytest.mark.parametrize(
    ("body", "code"),
    [
        (_tags_body([(f"k{i}", "v") for i in range(11)]), "InvalidTag"),
        (_tags_body([("k" * 128, "v")]), "InvalidTag"),
        (_tags_body([("k", "v" * 256)]), "InvalidTag"),
        (_tags_body([("format", "mov,mp4")]), "InvalidTag"),
        (_tags_body([("a", "1"), ("a", "2")]), "InvalidTag"),
        (_tags_body([("qcs:x", "1")]), "InvalidTag"),
        (b"<Tagging><TagSet><Tag><Key>k</Key>", "MalformedXML"),
        (b"<Other/>", "MalformedXML"),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><Tagging/>', "MalformedXML"),
    ],
    ids=["11", "key128", "value256", "comma", "dup", "qcs", "truncated", "root", "dtd"],
)
def test_tagging_violations(harness: Harness, body: bytes, code: str) -> None:
    harness.client.send("PUT", "t.mp4", body=b"x")
    response = harness.client.send("PUT", "t.mp4", params={"tagging": ""}, body=body)
    assert (response.status_code, _code(response)) == (400, code)
    assert _tree(harness.client.send("GET", "t.mp4", params={"tagging": ""}))["TagSet"] == ""


@pytestmark_e2e
def test_tagging_a_missing_object_is_no_such_key(harness: Harness) -> None:
    for method in ("PUT", "GET", "DELETE"):
        body = _tags_body([("k", "v")]) if method == "PUT" else b""
        response = harness.client.send(method, "nope", params={"tagging": ""}, body=body)
        assert (response.status_code, _code(response)) == (404, "NoSuchKey")


@pytestmark_e2e
def test_tagging_header_on_put(harness: Harness) -> None:
    ok = harness.client.send("PUT", "h", body=b"x", headers={"x-cos-tagging": "a=1&b%20c=2"})
    assert ok.status_code == 200
    tags = _tree(harness.client.send("GET", "h", params={"tagging": ""}))["TagSet"]["Tag"]
    assert tags == [{"Key": "a", "Value": "1"}, {"Key": "b c", "Value": "2"}]
    too_many = "&".join(f"k{i}=v" for i in range(11))
    refused = harness.client.send("PUT", "h2", body=b"x", headers={"x-cos-tagging": too_many})
    assert (refused.status_code, _code(refused)) == (400, "InvalidTag")
    assert harness.client.send("HEAD", "h2").status_code == 404
    assert len(harness.events) == 1


# -- listing ----------------------------------------------------------------------------------
@pytestmark_e2e
def test_list_orders_by_utf8_bytes_and_pages_with_marker(harness: Harness) -> None:
    keys = ["z", "B", "a", "é", "中", "a/1", "a/2"]
    for key in keys:
        harness.client.send("PUT", key, body=key.encode())
    expected = sorted(keys, key=lambda k: k.encode("utf-8"))
    seen: list[str] = []
    marker = ""
    for _ in range(10):
        response = harness.client.send("GET", "", params={"max-keys": "3", "marker": marker})
        page = parse_list_bucket(response.content)
        seen += [o.key for o in page.objects]
        if not page.is_truncated:
            break
        assert page.next_marker == seen[-1]
        marker = page.next_marker or ""
    assert seen == expected
    tree = _tree(harness.client.send("GET", "", params={"prefix": "a/"}))
    assert tree["Name"] == BUCKET and tree["Prefix"] == "a/" and tree["MaxKeys"] == "1000"
    contents = tree["Contents"]
    assert [c["Key"] for c in contents] == ["a/1", "a/2"]
    assert contents[0]["ETag"] == f'"{md5_hex(b"a/1")}"' and contents[0]["Size"] == "3"
    assert contents[0]["StorageClass"] == "STANDARD"
    assert contents[0]["LastModified"].endswith("Z")


@pytestmark_e2e
def test_list_delimiter_max_keys_limits_and_url_encoding(harness: Harness) -> None:
    for key in ("dir/a b.mp4", "dir/sub/c.mp4", "top+1.mp4"):
        harness.client.send("PUT", key, body=b"x")
    rolled = _tree(harness.client.send("GET", "", params={"delimiter": "/"}))
    assert rolled["CommonPrefixes"] == {"Prefix": "dir/"}
    assert rolled["Contents"]["Key"] == "top+1.mp4"
    encoded = _tree(harness.client.send("GET", "", params={"encoding-type": "url"}))
    assert encoded["EncodingType"] == "url"
    assert [c["Key"] for c in encoded["Contents"]] == [
        "dir/a%20b.mp4",
        "dir/sub/c.mp4",
        "top%2B1.mp4",
    ]
    clamped = _tree(harness.client.send("GET", "", params={"max-keys": "5000"}))
    assert clamped["MaxKeys"] == "1000"
    bad = harness.client.send("GET", "", params={"max-keys": "-1"})
    assert (bad.status_code, _code(bad)) == (400, "InvalidArgument")


# -- server behaviour -------------------------------------------------------------------------
@pytestmark_e2e
def test_keep_alive_uses_one_connection_and_stats_count(harness: Harness) -> None:
    for i in range(5):
        harness.client.send("PUT", f"k{i}", body=b"x")
    stats = harness.server.stats()
    assert stats["connections_accepted"] == 1
    assert stats["requests"]["cos"] == 5
    assert stats["hosts"][COS_HOST] == 5
    assert stats["operations"]["cos:PUT:object"] == 5


@pytestmark_e2e
def test_unknown_host_and_admin_endpoints(harness: Harness) -> None:
    url = harness.server.endpoint_url
    unknown = requests.get(f"{url}/x", headers={"Host": "example.com"}, timeout=5)
    assert (unknown.status_code, _code(unknown)) == (404, "NoSuchBucket")
    armed = requests.post(
        f"{url}/_emulator/faults",
        json=[{"method": "fail_next", "params": {"api": "cos", "count": 1, "status": 429}}],
        timeout=5,
    )
    assert armed.status_code == 200
    throttled = harness.client.send("PUT", "k", body=b"x")
    assert (throttled.status_code, _code(throttled)) == (429, "SlowDown")
    assert harness.client.send("PUT", "k", body=b"x").status_code == 200
    stats = requests.get(f"{url}/_emulator/stats", timeout=5).json()
    assert stats["faults"] == {"cos_429": 1}
    assert stats["statuses"]["429"] == 1
    refused = requests.post(f"{url}/_emulator/faults", json={"method": "__init__"}, timeout=5)
    assert refused.status_code == 400


@pytestmark_e2e
def test_fail_next_503_then_success_and_delay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = Faults()
    running = start_harness(tmp_path, faults=faults, latency_s=0.02)
    pauses: list[float] = []  # the router's sleep, recorded, not slept (the server has no seam)
    monkeypatch.setattr(running.server.router, "_sleep", pauses.append)
    try:
        faults.fail_next("cos", 2, status=503)
        statuses = [running.client.send("PUT", "k", body=b"x").status_code for _ in range(3)]
        assert statuses == [503, 503, 200]
        assert len(running.events) == 1
        assert pauses == [0.02, 0.02, 0.02]  # the configured latency, every answer
        faults.delay("cos", 0.05)
        running.client.send("HEAD", "k")
        assert pauses[3:] == [pytest.approx(0.07)]  # latency + the injected delay
        assert faults.summary() == {"cos_503": 2, "cos_delayed": 1}
    finally:
        running.server.stop()


@pytestmark_e2e
def test_a_stalled_request_answers_503_late_and_takes_no_effect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``stall`` models an overloaded front end: unlike ``delay``, nothing is stored."""
    faults = Faults()
    running = start_harness(tmp_path, faults=faults)
    pauses: list[float] = []  # the router's sleep, recorded, not slept
    monkeypatch.setattr(running.server.router, "_sleep", pauses.append)
    try:
        faults.stall("cos", 0.05)
        answer = running.client.send("PUT", "stalled", body=b"x")
        assert pauses == [0.05]
        assert (answer.status_code, _code(answer)) == (503, "ServiceUnavailable")
        faults.stall("cos", 0)
        assert running.client.send("HEAD", "stalled").status_code == 404
        assert running.events == []
        assert faults.summary() == {"cos_stalled": 1}
    finally:
        running.server.stop()


def test_random_failures_are_reproducible_by_seed() -> None:
    def draw(seed: int) -> list[int | None]:
        faults = Faults()
        faults.random_failures(0.5, statuses=(503, 429), seed=seed, apis=("ci",))
        return [faults.take_failure("ci") for _ in range(50)] + [faults.take_failure("cos")]

    first = draw(7)
    assert first == draw(7)
    assert first[-1] is None  # cos is not armed
    assert {503, 429} <= set(first) and None in first


@pytestmark_e2e
def test_objects_survive_a_restart(tmp_path: Path) -> None:
    first = start_harness(tmp_path)
    first.client.send("PUT", "keep/视频.mp4", body=b"persisted", headers={"x-cos-meta-a": "1"})
    first.client.send("PUT", "keep/视频.mp4", params={"tagging": ""}, body=_tags_body([("k", "v")]))
    first.server.stop()
    second = start_harness(tmp_path)
    try:
        head = second.client.send("HEAD", "keep/视频.mp4")
        assert head.headers["ETag"] == f'"{md5_hex(b"persisted")}"'
        assert head.headers["x-cos-meta-a"] == "1"
        assert head.headers["x-cos-tagging-count"] == "1"
        records = list((tmp_path / "cos" / BUCKET).glob("*.json"))
        assert json.loads(records[0].read_text(encoding="utf-8"))["key"] == "keep/视频.mp4"
    finally:
        second.server.stop()
