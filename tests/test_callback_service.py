"""shared.callback.service against typed fakes: decisions, order of checks, concurrency, logs."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from shared.callback.http_event import HttpRequest
from shared.callback.service import CallbackService
from shared.decision_log import DecisionLog
from shared.errors import CiError, CosError, CosNotFoundError, TransportError
from shared.models import ObjectRef, TagSet
from shared.ports import MediaJobs, ObjectStore
from shared.results.reply import CallbackReply
from shared.settings.functions import load_callback_settings
from tests.callback_helpers import (
    APPLIED,
    BUCKET,
    ENVIRON,
    ETAG,
    EXPECTED_OK_TAGS,
    JOB_ID,
    KEY,
    REGION,
    SECRET,
    SIZE,
    LineCollector,
    callback_json,
    collected_lines,
    job_from_detail,
    token_for,
)
from tests.fakes import FakeMediaJobs, FakeObjectStore

TOKEN = token_for(BUCKET, KEY)


@pytest.fixture
def lines() -> Iterator[LineCollector]:
    with collected_lines("tests.callback_service") as collector:
        yield collector


class World:
    """One object in the store, one job in CI, and a service wired to them."""

    def __init__(self, lines: LineCollector, environ: dict[str, str] | None = None) -> None:
        self.store = FakeObjectStore(forbid=("list",))  # the callback never lists
        self.store.add()
        self.jobs = FakeMediaJobs({JOB_ID: job_from_detail()}, forbid=("submit", "list"))
        self.settings = load_callback_settings({**ENVIRON, **(environ or {})})
        self.lines = lines

    def call(
        self, body: bytes, *, token: str | None = TOKEN, method: str = "POST"
    ) -> CallbackReply:
        store: ObjectStore = self.store  # mypy checks the fakes against the Protocols
        jobs: MediaJobs = self.jobs
        log = DecisionLog(
            "tag_on_callback",
            "req-1",
            secrets=(SECRET,),
            logger=logging.getLogger("tests.callback_service"),
        )
        service = CallbackService(self.settings, store, jobs, log, executor=_POOL)
        query = {} if token is None else {"token": token}
        return service.handle(HttpRequest(method=method, query=query, body=body))

    @property
    def remote_calls(self) -> int:
        return len(self.store.calls) + len(self.jobs.described)


_POOL = ThreadPoolExecutor(3)


@pytest.fixture
def world(lines: LineCollector) -> World:
    return World(lines)


def written(world: World) -> TagSet:
    assert len(world.store.puts) == 1
    return world.store.puts[0][1]


def test_success_writes_media_tags_from_get_jobs(world: World) -> None:
    reply = world.call(callback_json())
    assert (reply.status, reply.outcome, reply.reason) == (200, "tagged", "ok")
    assert written(world) == EXPECTED_OK_TAGS
    assert reply.tags_written == len(EXPECTED_OK_TAGS)
    assert world.jobs.described == [(BUCKET, REGION, JOB_ID)]
    assert reply.summary() == {
        "outcome": "tagged",
        "reason": "ok",
        "job_id": JOB_ID,
        "key": KEY,
        "tags_written": 7,
        "dropped": [],
    }


def test_forged_body_is_ignored_in_favour_of_get_jobs(world: World) -> None:
    forged = {"Format": {"Duration": "1.0", "FormatName": "evil,format"}, "Stream": {}}
    reply = world.call(callback_json(media_info=forged))
    assert reply.outcome == "tagged"
    assert written(world) == EXPECTED_OK_TAGS  # from GET /jobs, not from the body


def test_body_claiming_failure_of_a_successful_job_still_writes_success(world: World) -> None:
    world.call(callback_json(state="Failed", code="InvalidInput"))
    assert written(world) == EXPECTED_OK_TAGS


def test_failed_job_writes_failure_status(world: World) -> None:
    world.jobs.jobs[JOB_ID] = job_from_detail(state="Failed", code="ResourceNotSupported")
    reply = world.call(callback_json(state="Failed"))
    assert (reply.outcome, reply.reason) == ("tagged", "failed:ResourceNotSupported")
    assert written(world) == (
        ("media:status", "failed:ResourceNotSupported"),
        ("media:etag", APPLIED),
    )


def test_cancelled_job_without_code_reports_its_state(world: World) -> None:
    world.jobs.jobs[JOB_ID] = job_from_detail(state="Cancel", code="Success")
    world.call(callback_json())
    assert written(world) == (("media:status", "failed:Cancel"), ("media:etag", APPLIED))


def test_success_without_streams_is_a_classified_failure(world: World) -> None:
    world.jobs.jobs[JOB_ID] = job_from_detail(media_info={"Format": {"FormatName": "tty"}})
    world.call(callback_json())
    assert written(world) == (("media:status", "failed:NoMediaStreams"), ("media:etag", APPLIED))


def test_replay_of_the_same_callback_costs_no_write(world: World) -> None:
    assert world.call(callback_json()).outcome == "tagged"
    reply = world.call(callback_json())
    assert (reply.status, reply.outcome, reply.reason) == (200, "unchanged", "ok")
    assert len(world.store.puts) == 1


def test_user_tags_are_kept_and_our_old_tags_replaced(world: World) -> None:
    existing = (("owner", "alice"), ("media:status", "failed:X"), ("media:stale", "1"), ("b", "2"))
    world.store.add(tags=existing)
    reply = world.call(callback_json())
    # 2 user tags + our 7 fit in 10: nothing of ours is dropped, the stale tag of ours goes.
    assert written(world) == (("owner", "alice"), ("b", "2"), *EXPECTED_OK_TAGS)
    assert reply.dropped == ()


def test_nine_user_tags_leave_only_the_status(world: World) -> None:
    user = tuple((f"u{i}", "v") for i in range(9))
    world.store.add(tags=user)
    reply = world.call(callback_json())
    assert written(world) == (*user, ("media:status", "ok"))
    assert reply.dropped[:2] == ("etag", "duration")
    assert json.loads(world.lines.lines[-1])["dropped"] == list(reply.dropped)


def test_ten_user_tags_write_nothing(world: World) -> None:
    world.store.add(tags=tuple((f"u{i}", "v") for i in range(10)))
    reply = world.call(callback_json())
    assert (reply.status, reply.outcome, reply.reason) == (200, "skipped", "tag-limit")
    assert world.store.puts == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"etag": "ffff"}, "stale"),
        ({"size": SIZE + 1}, "stale"),
    ],
)
def test_stale_object_is_not_tagged(world: World, change: dict[str, Any], reason: str) -> None:
    world.store.add(**change)
    reply = world.call(callback_json())
    assert (reply.status, reply.outcome, reply.reason) == (200, "skipped", reason)
    assert world.store.puts == []


def test_deleted_object_is_skipped(world: World) -> None:
    world.store.objects.clear()
    reply = world.call(callback_json())
    assert (reply.status, reply.reason) == (200, "object-gone")
    assert world.store.puts == []


def test_unknown_job_is_skipped(world: World) -> None:
    world.jobs.jobs.clear()
    reply = world.call(callback_json())
    assert (reply.status, reply.outcome, reply.reason) == (200, "skipped", "unknown-job")
    assert world.store.puts == []


def test_unknown_job_wins_over_a_transient_head_failure(world: World) -> None:
    world.jobs.jobs.clear()
    world.store.errors["head"] = TransportError("reset")
    assert world.call(callback_json()).reason == "unknown-job"


def test_ci_refusing_the_job_id_means_unknown(world: World) -> None:
    world.jobs.jobs[JOB_ID] = CiError(400, "InvalidArgument", "bad id")
    assert world.call(callback_json()).reason == "unknown-job"


def test_job_not_finished_is_skipped(world: World) -> None:
    world.jobs.jobs[JOB_ID] = job_from_detail(state="Running")
    reply = world.call(callback_json())
    assert (reply.status, reply.reason) == (200, "not-finished")


def test_job_with_foreign_user_data_is_skipped(world: World) -> None:
    world.jobs.jobs[JOB_ID] = job_from_detail(user_data="src=videos/2024/11/demo.mp4")
    reply = world.call(callback_json(user_data="src=videos/2024/11/demo.mp4"))
    assert (reply.status, reply.reason) == (200, "unknown-provenance")
    assert world.store.puts == []


def test_job_for_another_object_is_forbidden(world: World) -> None:
    world.jobs.jobs[JOB_ID] = job_from_detail(key="other/object.mp4")
    reply = world.call(callback_json())
    assert (reply.status, reply.outcome, reply.reason) == (403, "rejected", "forbidden")
    assert world.store.puts == []


def test_versioned_object_is_read_and_tagged_at_its_version(world: World) -> None:
    user_data = f"mt1;e={ETAG};s={SIZE};v=MTg0NDUx"
    world.store.objects.clear()
    world.store.add(version="MTg0NDUx")
    world.jobs.jobs[JOB_ID] = job_from_detail(user_data=user_data)
    reply = world.call(callback_json(user_data=user_data))
    assert reply.outcome == "tagged"
    target = ObjectRef(BUCKET, REGION, KEY, "MTg0NDUx")
    assert world.store.puts == [(target, EXPECTED_OK_TAGS)]
    assert {obj for _, obj, _ in world.store.calls} == {target}


def test_body_naming_another_version_than_the_job_is_forbidden(world: World) -> None:
    world.store.add(version="v1")
    world.jobs.jobs[JOB_ID] = job_from_detail(user_data=f"mt1;e={ETAG};s={SIZE};v=v2")
    reply = world.call(callback_json(user_data=f"mt1;e={ETAG};s={SIZE};v=v1"))
    assert reply.status == 403
    assert world.store.puts == []


@pytest.mark.parametrize(
    ("token", "status", "reason"),
    [
        (None, 401, "unauthorized"),
        ("", 401, "unauthorized"),
        ("x" * 43, 403, "forbidden"),
        (token_for(BUCKET, "other.mp4"), 403, "forbidden"),  # another object's URL replayed
        (token_for("other-1250000000", KEY), 403, "forbidden"),
        (token_for(BUCKET, KEY, secret="another-secret-of-32-characters-xx"), 403, "forbidden"),
    ],
)
def test_authentication_happens_before_any_remote_call(
    world: World, token: str | None, status: int, reason: str
) -> None:
    reply = world.call(callback_json(), token=token)
    assert (reply.status, reply.outcome, reply.reason) == (status, "rejected", reason)
    assert world.remote_calls == 0


def test_method_other_than_post(world: World) -> None:
    reply = world.call(b"", method="GET")
    assert (reply.status, reply.reason) == (405, "method-not-allowed")
    assert world.remote_calls == 0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "malformed-body"),
        (b"", "malformed-body"),
        (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><Response/>', "xml-refused"),
        (b'{"EventName": "TaskFinish", "JobsDetail": {"State": "Success"}}', "malformed-body"),
    ],
)
def test_bad_bodies_are_400_without_remote_calls(world: World, body: bytes, reason: str) -> None:
    reply = world.call(body)
    assert (reply.status, reply.reason) == (400, reason)
    assert world.remote_calls == 0


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><Response/>',
        b'{"EventName": "TaskFinish", "JobsDetail": {"State": "Success"}}',
        callback_json(event_name="WorkflowFinish"),
        callback_json(),
    ],
    ids=["not-json", "empty", "xml-entity", "no-job", "other-event", "valid"],
)
def test_without_a_token_the_body_is_never_parsed(world: World, body: bytes) -> None:
    """401 whatever the body: an unauthenticated caller never reaches the parser."""
    reply = world.call(body, token=None)
    assert (reply.status, reply.outcome, reply.reason) == (401, "rejected", "unauthorized")
    assert world.remote_calls == 0


def test_the_token_is_looked_at_before_the_parser(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def parser_reached(body: bytes) -> None:
        raise AssertionError("an unauthenticated body reached the parser")

    monkeypatch.setattr("shared.callback.service.parse_callback_body", parser_reached)
    assert world.call(callback_json(), token=None).status == 401


def test_other_events_are_ignored(world: World) -> None:
    reply = world.call(callback_json(event_name="WorkflowFinish"))
    assert (reply.status, reply.outcome) == (200, "ignored")
    reply = world.call(callback_json(tag="Transcode"))
    assert (reply.status, reply.outcome) == (200, "ignored")
    assert world.remote_calls == 0


def test_other_event_for_another_object_is_still_refused(world: World) -> None:
    reply = world.call(callback_json(event_name="WorkflowFinish", key="other.mp4"))
    assert reply.status == 403


def test_two_jobs_in_one_callback_are_refused(world: World) -> None:
    body = json.dumps(
        {
            "EventName": "TaskFinish",
            "JobsDetail": [
                json.loads(callback_json())["JobsDetail"],
                json.loads(callback_json(job_id="jb2"))["JobsDetail"],
            ],
        }
    ).encode()
    assert world.call(body).status == 400
    assert world.remote_calls == 0


@pytest.mark.parametrize(
    "detail",
    [{"job_id": "../jobs,other"}, {"region": "evil.example.com#"}, {"region": ""}],
)
def test_hostile_job_id_or_region_is_400(world: World, detail: dict[str, Any]) -> None:
    reply = world.call(callback_json(**detail))
    assert reply.status == 400
    assert world.remote_calls == 0


def test_bucket_outside_the_allow_list_is_forbidden(lines: LineCollector) -> None:
    world = World(lines, {"MEDIA_TAGGER_ALLOWED_BUCKETS": "other-1250000000"})
    reply = world.call(callback_json())
    assert (reply.status, reply.reason) == (403, "forbidden")
    assert world.remote_calls == 0
    allowed = World(lines, {"MEDIA_TAGGER_ALLOWED_BUCKETS": f"x-1250000001,{BUCKET}"})
    assert allowed.call(callback_json()).outcome == "tagged"


@pytest.mark.parametrize(
    ("environ", "status"),
    [
        ({"MEDIA_TAGGER_ALLOWED_REGIONS": "ap-shanghai"}, 403),
        ({"TENCENTCLOUD_REGION": "ap-shanghai"}, 403),  # the function's own region by default
        ({"MEDIA_TAGGER_ALLOWED_REGIONS": "ap-shanghai,ap-guangzhou"}, 200),
        ({"TENCENTCLOUD_REGION": "ap-guangzhou"}, 200),
    ],
)
def test_a_region_this_function_does_not_serve_is_forbidden(
    lines: LineCollector, environ: dict[str, str], status: int
) -> None:
    # a v1 (query) token binds no region: only the allow-list keeps other regions out
    world = World(lines, environ)
    reply = world.call(callback_json())
    assert reply.status == status
    if status == 403:
        assert (reply.reason, world.remote_calls) == ("forbidden", 0)


@pytest.mark.parametrize(
    ("error", "status", "outcome"),
    [
        (TransportError("timeout"), 503, "error"),
        (CiError(503, "ServiceUnavailable"), 503, "error"),
        (CiError(429, "SlowDown"), 503, "error"),
        (CiError(403, "AccessDenied"), 502, "error"),
    ],
)
def test_remote_failures(world: World, error: Exception, status: int, outcome: str) -> None:
    world.jobs.jobs[JOB_ID] = error
    reply = world.call(callback_json())
    assert (reply.status, reply.outcome) == (status, outcome)
    assert "detail" not in reply.summary()  # upstream text never goes back to the caller
    assert world.store.puts == []


def test_put_failure_after_retries_is_503(world: World) -> None:
    world.store.errors["put_tagging"] = CosError(503, "ServiceUnavailable")
    assert world.call(callback_json()).status == 503


def test_object_deleted_before_put_is_skipped(world: World) -> None:
    world.store.errors["put_tagging"] = CosNotFoundError(404, "NoSuchKey")
    assert world.call(callback_json()).reason == "object-gone"


class Rendezvous:
    """Each read waits here until all three have started: reads made one after the other break
    it (after ``timeout_s``, only when broken). Records the thread each read ran on."""

    def __init__(self, world: World, timeout_s: float = 2.0) -> None:
        self.barrier = threading.Barrier(3, timeout=timeout_s)
        self.threads: list[str] = []
        self.lock = threading.Lock()
        world.store.before_read = world.jobs.before_read = self.arrive

    def arrive(self) -> None:
        with self.lock:
            self.threads.append(threading.current_thread().name)
            first_three = len(self.threads) <= 3
        if first_three:  # a later read (the writer's fresh tag read) does not wait
            self.barrier.wait()

    def held(self) -> bool:
        first = self.threads[:3]
        return not self.barrier.broken and len(set(first)) == len(first) == 3


def test_reads_run_concurrently(world: World) -> None:
    rendezvous = Rendezvous(world)
    reply = world.call(callback_json())
    assert reply.outcome == "tagged"
    assert rendezvous.held(), rendezvous.threads


def test_reads_run_concurrently_on_the_default_pool(world: World) -> None:
    rendezvous = Rendezvous(world)
    log = DecisionLog("tag_on_callback", "r", logger=logging.getLogger("tests.callback_service"))
    service = CallbackService(world.settings, world.store, world.jobs, log)  # lazily built pool
    request = HttpRequest(method="POST", query={"token": TOKEN}, body=callback_json())
    assert service.handle(request).outcome == "tagged"
    assert rendezvous.held(), rendezvous.threads
    assert sum(name.startswith("callback-read") for name in rendezvous.threads) == 2


def test_one_decision_line_per_request_without_secrets(world: World) -> None:
    world.call(callback_json())
    world.call(callback_json(), token="wrong-token-value-123")
    world.call(b"", method="PUT")
    decisions = world.lines.decisions()
    assert [d["outcome"] for d in decisions] == ["tagged", "rejected", "rejected"]
    first = decisions[0]
    assert (first["bucket"], first["key"], first["job_id"], first["reason"]) == (
        BUCKET,
        KEY,
        JOB_ID,
        "ok",
    )
    assert isinstance(first["ms"], int)
    text = "\n".join(world.lines.lines)
    assert SECRET not in text
    assert TOKEN not in text
