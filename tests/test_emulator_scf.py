"""The emulator's SCF side: COS trigger events in the platform's shape, contexts, async retries."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from emulator.scf.events import (
    FunctionIdentity,
    build_context,
    build_cos_event,
    build_cos_record,
    object_url,
    strip_key_prefix,
)
from emulator.scf.invoker import AsyncInvoker, InvocationTimeoutError

EVENTS = Path(__file__).parent / "events"
HOSTILE_KEYS = [
    "videos/my clip 01.mp4",
    "in/a+b%20c 100%.mp4",
    "视频/2024 夏天/我的 旅行 video (1).mp4",
    "!!!!!!!",
    "a/b/../c/./d#1?x=y.mp4",
]


def load_event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return loaded


@dataclass(frozen=True)
class Created:
    """Same fields as the COS core's ObjectCreated (the Protocol in emulator.scf.events)."""

    bucket: str = "media-uploads-1250000000"
    region: str = "ap-guangzhou"
    key: str = "videos/2024/11/demo.mp4"
    etag: str = "eb6cf523ae4d528e72f2d11f3a91cd40"
    size: int = 2561690
    content_type: str | None = "video/mp4"
    version_id: str | None = None
    event_name: str = "cos:ObjectCreated:Put"
    request_headers: Mapping[str, str] = field(
        default_factory=lambda: {
            "Authorization": "q-sign-algorithm=sha1&q-ak=AKIDEXAMPLEEXAMPLE&q-sign-time="
            "1732500000;1732503600&q-key-time=1732500000;1732503600&q-header-list="
            "content-length;host&q-url-param-list=&q-signature="
            "0000000000000000000000000000000000000000",
            "X-Cos-Meta-Uploader": "web-client",
            "Content-Length": "2561690",
        }
    )
    source_ip: str = "203.0.113.10"


SUBMIT = FunctionIdentity(function_name="media-submit")


def shape(value: Any) -> Any:
    """Key sets and value types, recursively (lists by their elements' shapes)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def fixed_clock() -> float:
    return 1732500123.75


# -- the event --------------------------------------------------------------------------------
def test_record_for_the_sample_object_equals_the_sample_event() -> None:
    sample = load_event("cos_put.json")["Records"][0]
    request_id = sample["cos"]["cosObject"]["meta"]["x-cos-request-id"]
    record = build_cos_record(
        Created(), SUBMIT, now=fixed_clock(), request_id=request_id, reqid=1038862404
    )
    assert record == sample


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_event_for_hostile_keys_has_the_sample_shape(key: str) -> None:
    event = build_cos_event([Created(key=key)], SUBMIT, clock=fixed_clock)
    assert shape(event) == shape(load_event("cos_put.json"))


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_event_key_is_raw_and_stripping_the_prefix_gives_it_back(key: str) -> None:
    record = build_cos_event([Created(key=key)], SUBMIT, clock=fixed_clock)["Records"][0]
    event_key = record["cos"]["cosObject"]["key"]
    bucket = record["cos"]["cosBucket"]
    assert event_key == "/1250000000/media-uploads/" + key
    assert strip_key_prefix(event_key, bucket["appid"], bucket["name"]) == key
    # what Tencent's own demos do
    assert event_key.replace("/" + bucket["appid"] + "/" + bucket["name"] + "/", "", 1) == key


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("videos/my clip 01.mp4", "/videos/my%20clip%2001.mp4"),
        ("in/a+b%20c 100%.mp4", "/in/a%2Bb%2520c%20100%25.mp4"),
        ("!!!!!!!", "/%21%21%21%21%21%21%21"),  # the captured event (scf-platform.md §1.2)
        ("a~b_c-d.e", "/a~b_c-d.e"),
    ],
)
def test_url_is_strictly_percent_encoded(key: str, path: str) -> None:
    record = build_cos_event([Created(key=key)], SUBMIT, clock=fixed_clock)["Records"][0]
    expected = "http://media-uploads-1250000000.cos.ap-guangzhou.myqcloud.com" + path
    assert record["cos"]["cosObject"]["url"] == expected


def test_url_of_the_unicode_sample_matches_the_sample() -> None:
    sample = load_event("cos_unicode_key.json")["Records"][0]["cos"]
    raw = strip_key_prefix(sample["cosObject"]["key"], "1250000000", "media-uploads")
    assert object_url("media-uploads-1250000000", "ap-guangzhou", raw) == sample["cosObject"]["url"]


@pytest.mark.parametrize("etag", ["abc123", '"abc123"'])
def test_meta_etag_carries_exactly_one_pair_of_quotes(etag: str) -> None:
    record = build_cos_event([Created(etag=etag)], SUBMIT, clock=fixed_clock)["Records"][0]
    assert record["cos"]["cosObject"]["meta"]["ETag"] == '"abc123"'


@pytest.mark.parametrize(
    ("region", "alias"), [("ap-guangzhou", "gz"), ("ap-shanghai", "sh"), ("ap-beijing", "bj")]
)
def test_bucket_carries_short_region_name_and_appid_apart(region: str, alias: str) -> None:
    created = Created(bucket="clips-1300000001", region=region)
    bucket = build_cos_event([created], SUBMIT, clock=fixed_clock)["Records"][0]["cos"]["cosBucket"]
    assert bucket == {
        "region": alias,
        "name": "clips",
        "appid": "1300000001",
        "cosRegion": region,
        "s3Region": region,
    }


def test_event_fields_from_the_upload() -> None:
    created = Created(
        event_name="CompleteMultipartUpload",
        version_id="MTg0NDUxNTc1NjIzMTQ1MDAwODg",
        content_type=None,
        request_headers={"x-cos-storage-class": "STANDARD_IA", "authorization": "q-sign..."},
    )
    record = build_cos_event([created], SUBMIT, clock=fixed_clock)["Records"][0]
    obj, event = record["cos"]["cosObject"], record["event"]
    assert event["eventName"] == "cos:ObjectCreated:CompleteMultipartUpload"
    assert event["eventTime"] == 1732500123
    assert event["requestParameters"]["requestHeaders"] == {"Authorization": "q-sign..."}
    assert (
        event["eventQueue"]
        == "qcs:0:scf:ap-guangzhou:appid/1250000000:default.media-submit.$DEFAULT"
    )
    assert obj["vid"] == "MTg0NDUxNTc1NjIzMTQ1MDAwODg"
    assert obj["meta"]["Content-Type"] == "application/octet-stream"
    assert obj["meta"]["x-cos-storage-class"] == "STANDARD_IA"
    assert "x-cos-meta-uploader" not in obj["meta"]


def test_several_created_objects_become_several_records_in_order() -> None:
    plain = {"Authorization": "q-sign..."}  # no x-cos-meta-*, like the multipart sample
    created = [Created(key="a.mp4", request_headers=plain), Created(key="b.m4a")]
    event = build_cos_event(created, SUBMIT, clock=fixed_clock)
    keys = [record["cos"]["cosObject"]["key"] for record in event["Records"]]
    assert keys == ["/1250000000/media-uploads/a.mp4", "/1250000000/media-uploads/b.m4a"]
    assert shape(event["Records"][0]) == shape(load_event("cos_multipart.json")["Records"][1])


# -- the context ------------------------------------------------------------------------------
def test_context_has_the_sample_keys_and_types() -> None:
    identity = FunctionIdentity(function_name="media-submit", time_limit_in_ms=3000)
    context = build_context(identity)
    assert shape(context) == shape(load_event("context.json"))
    assert uuid.UUID(context["request_id"]).version == 4
    assert json.loads(context["environment"]) == {"SCF_NAMESPACE": "default"}
    assert context["time_limit_in_ms"] == 3000
    assert context["function_version"] == "$LATEST"


def test_context_environment_is_a_json_string_and_environ_a_k_v_list() -> None:
    identity = FunctionIdentity(function_name="f", environment={"STAGE": "dev"})
    context = build_context(identity, request_id="r-1")
    assert json.loads(context["environment"]) == {"SCF_NAMESPACE": "default", "STAGE": "dev"}
    assert context["environ"] == "SCF_NAMESPACE=default;STAGE=dev"
    assert context["request_id"] == "r-1"


# -- asynchronous invocation ------------------------------------------------------------------
class Boom(RuntimeError):
    pass


class RecordingHandler:
    """Raises for the first ``failures`` calls, then returns {"ok": n}; can block on a gate."""

    def __init__(self, failures: int = 0, gate: threading.Event | None = None) -> None:
        self.failures = failures
        self.gate = gate
        self.calls: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.record_keys: list[list[str]] = []
        self.entered = threading.Event()

    def __call__(self, event: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((event, context))
        self.record_keys.append([record["cos"]["cosObject"]["key"] for record in event["Records"]])
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(5)
        event["Records"].clear()  # a handler mutating its event must not affect a retry
        if len(self.calls) <= self.failures:
            raise Boom(f"failure {len(self.calls)}")
        return {"ok": len(self.calls)}


def make_invoker(handler: RecordingHandler, **options: Any) -> AsyncInvoker:
    options.setdefault("retry_interval_s", 0)
    return AsyncInvoker(handler, SUBMIT, clock=fixed_clock, **options)


@pytest.mark.parametrize("retries", [0, 1, 2, 3])
def test_a_raising_handler_is_retried_exactly_retries_times_then_given_up(retries: int) -> None:
    handler = RecordingHandler(failures=100)
    invoker = make_invoker(handler, retries=retries)
    invoker.on_object_created(Created())
    assert invoker.wait_idle(5)
    invocations = invoker.invocations
    invoker.close()
    assert [inv.attempt for inv in invocations] == list(range(1, retries + 2))
    assert all(isinstance(inv.error, Boom) and not inv.ok for inv in invocations)
    assert len({inv.request_id for inv in invocations}) == 1  # one async event, retried
    assert len(handler.calls) == retries + 1


def test_default_policy_is_two_retries() -> None:
    handler = RecordingHandler(failures=100)
    invoker = AsyncInvoker(handler, SUBMIT, retry_interval_s=0)
    invoker.on_object_created(Created())
    assert invoker.wait_idle(5)
    invoker.close()
    assert len(handler.calls) == 3


def test_a_handler_that_recovers_is_not_retried_again() -> None:
    handler = RecordingHandler(failures=1)
    invoker = make_invoker(handler, retries=2)
    invoker.on_object_created(Created())
    assert invoker.wait_idle(5)
    invoker.close()
    outcomes = [(inv.attempt, inv.ok, inv.result) for inv in invoker.invocations]
    assert outcomes == [(1, False, None), (2, True, {"ok": 2})]


def test_a_succeeding_handler_runs_once_with_the_platform_event() -> None:
    handler = RecordingHandler()
    invoker = make_invoker(handler)
    invoker.on_object_created(Created(key="x y+z.mp4"))
    assert invoker.wait_idle(5)
    invoker.close()
    (invocation,) = invoker.invocations
    assert invocation.ok and invocation.result == {"ok": 1}
    assert invocation.event["Records"] == []  # recorded as the handler left it
    assert handler.record_keys == [["/1250000000/media-uploads/x y+z.mp4"]]
    context = handler.calls[0][1]
    assert context["function_name"] == "media-submit"
    assert context["request_id"] == invocation.request_id


def test_every_attempt_gets_a_fresh_copy_of_the_event() -> None:
    handler = RecordingHandler(failures=1)
    invoker = make_invoker(handler, retries=1)
    invoker.on_object_created(Created(key="k.mp4"))
    assert invoker.wait_idle(5)
    invoker.close()
    first, second = (inv.event for inv in invoker.invocations)
    assert first is not second
    # the first attempt cleared its Records; the retry still got the object
    assert handler.record_keys == [["/1250000000/media-uploads/k.mp4"]] * 2


def test_on_object_created_returns_before_the_handler_finishes() -> None:
    gate = threading.Event()
    handler = RecordingHandler(gate=gate)
    invoker = make_invoker(handler)
    invoker.on_object_created(Created())  # returns although the handler is blocked
    assert handler.entered.wait(5)
    assert invoker.in_flight == 1
    assert invoker.invocations == []
    assert not invoker.wait_idle(0.01)
    gate.set()
    assert invoker.wait_idle(5)
    invoker.close()
    assert invoker.in_flight == 0 and len(invoker.invocations) == 1


def test_a_handler_running_past_its_time_limit_counts_as_failed() -> None:
    identity = FunctionIdentity(function_name="media-submit", time_limit_in_ms=0)
    invoker = AsyncInvoker(RecordingHandler(), identity, retries=1, retry_interval_s=0)
    invoker.on_object_created(Created())
    assert invoker.wait_idle(5)
    invoker.close()
    errors = [type(inv.error) for inv in invoker.invocations]
    assert errors == [InvocationTimeoutError, InvocationTimeoutError]


def test_batch_window_merges_created_objects_into_one_invocation() -> None:
    handler = RecordingHandler()
    invoker = make_invoker(handler, batch_window_s=0.05)
    for key in ("a.mp4", "b.mp4", "c.mp4"):
        invoker.on_object_created(Created(key=key))
    assert invoker.wait_idle(5)
    invoker.close()
    prefix = "/1250000000/media-uploads/"
    assert handler.record_keys == [[prefix + "a.mp4", prefix + "b.mp4", prefix + "c.mp4"]]
    assert len(invoker.invocations) == 1


def test_without_a_batch_window_each_object_gets_its_own_invocation() -> None:
    handler = RecordingHandler()
    invoker = make_invoker(handler)
    for key in ("a.mp4", "b.mp4"):
        invoker.on_object_created(Created(key=key))
    assert invoker.wait_idle(5)
    invoker.close()
    assert sorted(len(keys) for keys in handler.record_keys) == [1, 1]
    assert len({inv.request_id for inv in invoker.invocations}) == 2


def test_close_cancels_a_pending_retry() -> None:
    handler = RecordingHandler(failures=100)
    invoker = make_invoker(handler, retries=2, retry_interval_s=60)
    invoker.on_object_created(Created())
    assert handler.entered.wait(5)
    invoker.close()
    assert invoker.in_flight == 0
    assert len(handler.calls) == 1


def test_invoke_event_delivers_a_ready_made_event() -> None:
    received: list[dict[str, Any]] = []
    invoker = AsyncInvoker(lambda event, context: received.append(event), SUBMIT)
    invoker.invoke_event(load_event("cos_multipart.json"))
    assert invoker.wait_idle(5)
    invoker.close()
    assert received == [load_event("cos_multipart.json")]
