"""The upload use case against typed fakes of ports.ObjectStore / ports.MediaJobs (mypy-checked)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from shared.decision_log import LOGGER_NAME, DecisionLog
from shared.errors import CiError, CosError, CosNotFoundError, EventError, TransportError
from shared.models import Job, ObjectHead, ObjectRef, TagSet
from shared.ports import MediaInfoJobRequest, MediaJobs, ObjectStore
from shared.records import replace
from shared.scf.invocation import invocation_deadline
from shared.settings.functions import UploadSettings, load_upload_settings
from shared.upload.event_run import EventRun, HandOnPolicy, TransientSubmitError
from shared.upload.service import UploadService
from tests.events import BUCKET, REGION, cos_event, cos_record, load_event
from tests.fakes import FakeMediaJobs, FakeObjectStore
from tests.upload_helpers import (
    BASE_ENVIRON,
    CALLBACK_BASE,
    CALLBACK_SECRET,
    ListHandler,
    isolated_project_loggers,
)

DEMO_KEY = "videos/2024/11/demo.mp4"
DEMO_ETAG = "eb6cf523ae4d528e72f2d11f3a91cd40"
T0 = 1_732_500_200.0


def token_for(key: str, bucket: str = BUCKET) -> str:
    """The contract's v2 path token, computed here independently of shared.contract."""
    message = b"media-tagger/v2\n" + f"{REGION}\n{bucket}\n{key}".encode()
    digest = hmac.new(CALLBACK_SECRET.encode(), message, hashlib.sha256).digest()
    return "v2." + base64.urlsafe_b64encode(digest).decode().rstrip("=")


class Clock:
    def __init__(self, now: float = T0, step: float = 0.0) -> None:
        self.now = now
        self.step = step  # seconds that pass on every reading

    def __call__(self) -> float:
        value = self.now
        self.now += self.step
        return value


def upload_store(
    tags: Mapping[str, TagSet] | None = None,
    heads: Mapping[str, ObjectHead] | None = None,
    errors: Mapping[str, Exception] | None = None,
) -> FakeObjectStore:
    """Per-key tags, heads and errors; a key never given reads as an untagged object."""
    store = FakeObjectStore(
        unknown_is_untagged=True, key_errors=errors, forbid=("put_tagging", "list")
    )  # the upload function never writes tags nor lists
    tags, heads = tags or {}, heads or {}
    for key, head in heads.items():
        store.add(key, head.etag, head.size, tags.get(key, ()))
    for key in tags.keys() - heads.keys():
        store.add(key, tags=tags[key])
    return store


def upload_jobs(errors: Mapping[str, Exception] | None = None) -> FakeMediaJobs:
    """CI that accepts every submission unless an error is set for the key."""
    return FakeMediaJobs(errors=errors, forbid=("describe", "list"))  # the upload only submits


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    handler = ListHandler()
    with isolated_project_loggers():
        logger = __import__("logging").getLogger(LOGGER_NAME)
        logger.setLevel("DEBUG")
        logger.addHandler(handler)
        yield handler.lines


def settings(**extra: str) -> UploadSettings:
    return load_upload_settings({**BASE_ENVIRON, **extra})


def run(
    event: Any,
    *,
    store: ObjectStore | None = None,
    jobs: MediaJobs | None = None,
    config: UploadSettings | None = None,
    deadline: float | None = T0 + 100,
    clock: Clock | None = None,
) -> dict[str, Any]:
    service = UploadService(
        config or settings(),
        store or upload_store(),
        jobs or upload_jobs(),
        DecisionLog("submit_on_upload", "req-1", secrets=[CALLBACK_SECRET]),
        clock=clock or Clock(),
    )
    runner = EventRun(service, None, HandOnPolicy(concurrency=1), clock=clock or Clock())
    return runner.run(event, deadline=deadline)


def decisions(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines]


def test_put_event_submits_one_job_with_the_contract_request(log_lines: list[str]) -> None:
    store, jobs = upload_store(), upload_jobs()
    summary = run(load_event("cos_put"), store=store, jobs=jobs, deadline=T0 + 7)
    assert summary == {
        "submitted": [{"key": DEMO_KEY, "job_id": "j" + "0" * 30 + "1"}],
        "skipped": [],
        "failed": [],
        "handed_on": [],
        "unsubmitted": [],
    }
    ref = ObjectRef(BUCKET, REGION, DEMO_KEY, None)
    assert store.calls == [("get_tagging", ref, T0 + 7)]
    expected = MediaInfoJobRequest(
        object_key=DEMO_KEY,
        user_data=f"mt1;e={DEMO_ETAG};s=2561690",
        job_level=0,
        callback_url=f"{CALLBACK_BASE}{token_for(DEMO_KEY)}",  # the token in the path
        callback_format="JSON",
    )
    assert jobs.submitted == [(BUCKET, REGION, expected, T0 + 7)]
    submitted, summary_line = decisions(log_lines)
    assert submitted["outcome"] == "submitted"
    assert submitted["job_id"] == "j" + "0" * 30 + "1"
    assert (submitted["bucket"], submitted["key"], submitted["etag"]) == (
        BUCKET,
        DEMO_KEY,
        DEMO_ETAG,
    )
    assert submitted["callback"] == CALLBACK_BASE  # logged without its token
    assert summary_line["outcome"] == "invocation-summary"
    assert (summary_line["submitted"], summary_line["skipped"], summary_line["failed"]) == (1, 0, 0)
    assert token_for(DEMO_KEY) not in "".join(log_lines)


def test_settings_choose_level_and_format() -> None:
    jobs = upload_jobs()
    config = settings(MEDIA_TAGGER_JOB_LEVEL="2", MEDIA_TAGGER_CALLBACK_FORMAT="XML")
    run(load_event("cos_put"), jobs=jobs, config=config)
    request = jobs.submitted[0][2]
    assert (request.job_level, request.callback_format) == (2, "XML")


def test_callback_base_keeps_its_own_path_and_query_after_the_token() -> None:
    jobs = upload_jobs()
    config = replace(settings(), callback_url=CALLBACK_BASE + "ci/callback?env=prod")
    run(load_event("cos_put"), jobs=jobs, config=config)
    url = jobs.submitted[0][2].callback_url
    assert url == f"{CALLBACK_BASE}ci/callback/{token_for(DEMO_KEY)}?env=prod"


def test_already_tagged_for_this_etag_submits_nothing(log_lines: list[str]) -> None:
    tags: TagSet = (("owner", "alice"), ("media:status", "ok"), ("media:etag", DEMO_ETAG))
    jobs = upload_jobs()
    summary = run(load_event("cos_put"), store=upload_store({DEMO_KEY: tags}), jobs=jobs)
    assert summary == {
        "submitted": [],
        "skipped": [{"key": DEMO_KEY, "reason": "already-tagged"}],
        "failed": [],
        "handed_on": [],
        "unsubmitted": [],
    }
    assert jobs.submitted == []
    assert decisions(log_lines)[0]["reason"] == "already-tagged"


@pytest.mark.parametrize(
    ("applied", "submits"),
    [
        # the sample upload's eventTime is 1732500123 = 2024-11-25T02:02:03Z
        (f"{DEMO_ETAG}/20241125T020202Z/j1", False),  # job created 1 s before: the clock skew
        (f"{DEMO_ETAG}/20241125T020204Z/j1", False),  # after the upload: its own result
        (f"{DEMO_ETAG}/20241125T020201Z/j1", True),  # 2 s before: an earlier upload's result
        (f"{DEMO_ETAG}/20241124T020203Z/j1", True),  # same bytes uploaded again a day later
    ],
)
def test_a_result_for_this_etag_counts_only_from_this_upload_on(
    applied: str, submits: bool
) -> None:
    tags: TagSet = (("media:status", "ok"), ("media:etag", applied))
    jobs = upload_jobs()
    run(load_event("cos_put"), store=upload_store({DEMO_KEY: tags}), jobs=jobs)
    assert len(jobs.submitted) == (1 if submits else 0)


def test_a_failed_result_for_this_etag_also_counts_as_done() -> None:
    tags: TagSet = (("media:status", "failed:ResourceNotSupported"), ("media:etag", DEMO_ETAG))
    jobs = upload_jobs()
    run(load_event("cos_put"), store=upload_store({DEMO_KEY: tags}), jobs=jobs)
    assert jobs.submitted == []


@pytest.mark.parametrize(
    "tags",
    [
        (("media:status", "ok"), ("media:etag", "0" * 32)),  # result of older content
        (("media:etag", DEMO_ETAG),),  # no status: not a finished result
        (("other:status", "ok"), ("other:etag", DEMO_ETAG)),  # another namespace
    ],
)
def test_other_tags_do_not_stop_the_submission(tags: TagSet) -> None:
    jobs = upload_jobs()
    run(load_event("cos_put"), store=upload_store({DEMO_KEY: tags}), jobs=jobs)
    assert len(jobs.submitted) == 1


def test_custom_tag_prefix_is_used_for_the_check() -> None:
    tags: TagSet = (("mi/status", "ok"), ("mi/etag", DEMO_ETAG))
    jobs = upload_jobs()
    config = settings(MEDIA_TAGGER_TAG_PREFIX="mi/")
    run(load_event("cos_put"), store=upload_store({DEMO_KEY: tags}), jobs=jobs, config=config)
    assert jobs.submitted == []


def test_idempotency_check_off_reads_no_tags() -> None:
    store, jobs = upload_store(), upload_jobs()
    config = settings(MEDIA_TAGGER_IDEMPOTENCY_CHECK="false")
    run(load_event("cos_put"), store=store, jobs=jobs, config=config)
    assert store.calls == []
    assert len(jobs.submitted) == 1


def test_missing_etag_is_read_with_head() -> None:
    store = upload_store(heads={DEMO_KEY: ObjectHead(etag="abcdef", size=99)})
    jobs = upload_jobs()
    run(cos_event(cos_record(DEMO_KEY, etag=None)), store=store, jobs=jobs)
    assert [call[0] for call in store.calls] == ["head", "get_tagging"]
    assert jobs.submitted[0][2].user_data == "mt1;e=abcdef;s=99"


def test_versioned_object() -> None:
    store, jobs = upload_store(), upload_jobs()
    run(cos_event(cos_record(DEMO_KEY, vid="MTg0NDUx")), store=store, jobs=jobs)
    assert store.calls[0][1] == ObjectRef(BUCKET, REGION, DEMO_KEY, "MTg0NDUx")
    assert jobs.submitted[0][2].user_data == f"mt1;e={DEMO_ETAG};s=2561690;v=MTg0NDUx"


@pytest.mark.parametrize(
    ("event_name", "key", "reason"),
    [
        ("cos_folder_marker", "videos/2024/12/", "folder-marker"),
        ("cos_empty_object", "videos/placeholder.mp4", "empty-object"),
        ("cos_non_media", "docs/quarterly report.pdf", "extension-not-allowed:pdf"),
    ],
)
def test_filtered_records_cost_no_request(
    event_name: str, key: str, reason: str, log_lines: list[str]
) -> None:
    store, jobs = upload_store(), upload_jobs()
    summary = run(load_event(event_name), store=store, jobs=jobs)
    assert summary["skipped"] == [{"key": key, "reason": reason}]
    assert store.calls == []
    assert jobs.submitted == []
    line = decisions(log_lines)[0]
    assert (line["outcome"], line["reason"], line["key"]) == ("skipped", reason, key)


def test_prefix_settings_are_applied() -> None:
    jobs = upload_jobs()
    config = settings(MEDIA_TAGGER_INCLUDE_PREFIXES="audio/")
    summary = run(load_event("cos_put"), jobs=jobs, config=config)
    assert summary["skipped"] == [{"key": DEMO_KEY, "reason": "outside-include-prefixes"}]


def test_object_deleted_since_upload_is_skipped() -> None:
    store = upload_store(errors={DEMO_KEY: CosNotFoundError(404, "NoSuchKey")})
    summary = run(load_event("cos_put"), store=store)
    assert summary["skipped"] == [{"key": DEMO_KEY, "reason": "object-gone"}]


def test_ci_refusing_a_missing_input_at_submit_is_object_gone(log_lines: list[str]) -> None:
    # CI's error table: 400 ResourceNotFound "The specified input resource does not exist"
    error = CiError(400, "ResourceNotFound", "The specified input resource does not exist.")
    jobs = upload_jobs(errors={DEMO_KEY: error})
    summary = run(
        load_event("cos_put"), jobs=jobs, config=settings(MEDIA_TAGGER_IDEMPOTENCY_CHECK="false")
    )
    assert summary["skipped"] == [{"key": DEMO_KEY, "reason": "object-gone"}]
    assert summary["submitted"] == summary["failed"] == summary["handed_on"] == []
    assert len(jobs.submitted) == 1
    (line,) = [d for d in decisions(log_lines) if d["outcome"] != "invocation-summary"]
    assert (line["outcome"], line["reason"]) == ("skipped", "object-gone")  # not an ERROR line


def test_permanent_ci_error_is_reported_not_raised(log_lines: list[str]) -> None:
    jobs = upload_jobs(errors={DEMO_KEY: CiError(403, "AccessDenied", "no ci:CreateMediaJobs")})
    summary = run(load_event("cos_put"), jobs=jobs)
    assert summary["failed"] == [{"key": DEMO_KEY, "code": "AccessDenied", "permanent": True}]
    assert len(jobs.submitted) == 1
    line = decisions(log_lines)[0]
    assert (line["outcome"], line["code"], line["permanent"]) == ("failed", "AccessDenied", True)


def test_permanent_cos_error_on_the_check_is_reported() -> None:
    store = upload_store(errors={DEMO_KEY: CosError(403, "AccessDenied")})
    jobs = upload_jobs()
    summary = run(load_event("cos_put"), store=store, jobs=jobs)
    assert summary["failed"] == [{"key": DEMO_KEY, "code": "AccessDenied", "permanent": True}]
    assert jobs.submitted == []


def test_record_the_clients_refuse_is_a_permanent_failure() -> None:
    jobs = upload_jobs(errors={DEMO_KEY: EventError("object key contains U+0001")})
    summary = run(load_event("cos_put"), jobs=jobs)
    assert summary["failed"] == [{"key": DEMO_KEY, "code": "InvalidRecord", "permanent": True}]


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (CiError(503, "ServiceUnavailable"), "ServiceUnavailable"),
        (TransportError("POST host: ConnectTimeout"), "TransportError"),
    ],
)
def test_transient_failure_raises_after_every_record_was_tried(
    error: Exception, code: str, log_lines: list[str]
) -> None:
    """Without a hand-on (no SCF identity), SCF's own retry is the fallback."""
    jobs = upload_jobs(errors={"videos/2024/11/big-lecture.mov": error})
    one_left = r"^1 record\(s\) not submitted, SCF will retry: 'videos/2024/11/big-lecture\.mov'$"
    with pytest.raises(TransientSubmitError, match=one_left) as caught:
        run(load_event("cos_multipart"), jobs=jobs)
    assert [item[2].object_key for item in jobs.submitted] == [
        "videos/2024/11/big-lecture.mov",
        "audio/2024/11/podcast-ep12.m4a",
    ]
    assert caught.value.failed_keys == ("videos/2024/11/big-lecture.mov",)
    assert "big-lecture.mov" in str(caught.value)
    assert caught.value.summary["failed"] == [
        {"key": "videos/2024/11/big-lecture.mov", "code": code, "permanent": False}
    ]
    assert caught.value.summary["submitted"][0]["key"] == "audio/2024/11/podcast-ep12.m4a"
    assert [line["outcome"] for line in decisions(log_lines)] == [
        "submitted",
        "failed",
        "invocation-summary",
    ]


def test_permanent_and_transient_together_raise_for_the_transient_only() -> None:
    jobs = upload_jobs(
        errors={
            "videos/2024/11/big-lecture.mov": CiError(400, "InvalidArgument"),
            "audio/2024/11/podcast-ep12.m4a": CiError(500, "InternalError"),
        }
    )
    with pytest.raises(
        TransientSubmitError,
        match=r"1 record\(s\) not submitted, SCF will retry: 'audio/2024/11/podcast-ep12\.m4a'",
    ) as caught:
        run(load_event("cos_multipart"), jobs=jobs)
    assert caught.value.failed_keys == ("audio/2024/11/podcast-ep12.m4a",)


def test_a_broken_record_is_skipped_and_the_others_submitted(log_lines: list[str]) -> None:
    jobs = upload_jobs()
    summary = run(load_event("cos_several_records_one_broken"), jobs=jobs)
    assert [s["key"] for s in summary["submitted"]] == ["videos/first.mp4", "audio/third.m4a"]
    (skipped,) = summary["skipped"]
    assert skipped["key"] == "/1250000000/media-uploads/videos/broken-record.mp4"
    assert skipped["reason"].startswith("unreadable-record: ")
    assert "xx" in skipped["reason"]
    assert summary["failed"] == []
    (line,) = [d for d in decisions(log_lines) if d["key"] == skipped["key"]]
    assert line["outcome"] == "skipped" and line["reason"] == skipped["reason"]


def test_not_a_cos_event_is_logged_and_reported_skipped(log_lines: list[str]) -> None:
    summary = run({"hello": "world"})
    (skip,) = summary.pop("skipped")
    assert skip["key"] is None and skip["reason"].startswith("not-a-cos-event")
    assert summary == {
        "submitted": [],
        "failed": [],
        "handed_on": [],
        "unsubmitted": [],
    }
    assert decisions(log_lines)[0]["reason"].startswith("not-a-cos-event")


def test_no_record_is_started_after_the_deadline() -> None:
    jobs, store = upload_jobs(), upload_store()
    with pytest.raises(TransientSubmitError, match=r"2 record\(s\) not submitted") as caught:
        run(load_event("cos_multipart"), jobs=jobs, store=store, deadline=T0 - 1)
    assert jobs.submitted == []
    assert store.calls == []
    assert [f["code"] for f in caught.value.summary["failed"]] == ["DeadlineExceeded"] * 2


class SlowJobs(FakeMediaJobs):
    """Every submission takes ``seconds`` on ``clock``."""

    def __init__(self, clock: Clock, seconds: float) -> None:
        super().__init__(forbid=("describe", "list"))
        self._clock, self._seconds = clock, seconds

    def submit_media_info_job(
        self,
        bucket: str,
        region: str,
        request: MediaInfoJobRequest,
        *,
        deadline: float | None = None,
    ) -> Job:
        self._clock.now += self._seconds
        return super().submit_media_info_job(bucket, region, request, deadline=deadline)


def test_time_runs_out_between_records() -> None:
    clock = Clock()
    jobs = SlowJobs(clock, 5.0)
    with pytest.raises(
        TransientSubmitError,
        match=r"1 record\(s\) not submitted, SCF will retry: 'audio/2024/11/podcast-ep12\.m4a'",
    ) as caught:
        run(load_event("cos_multipart"), jobs=jobs, clock=clock, deadline=T0 + 3)
    assert [item[2].object_key for item in jobs.submitted] == ["videos/2024/11/big-lecture.mov"]
    assert caught.value.failed_keys == ("audio/2024/11/podcast-ep12.m4a",)


@pytest.mark.parametrize(
    ("first_s", "second_started"), [(1.4, True), (1.5, True), (1.6, False), (1.9, False)]
)
def test_no_record_starts_within_the_read_timeout_floor_of_the_deadline(
    first_s: float, second_started: bool
) -> None:
    """The deadline is 2 s away; the first record's POST takes ``first_s``. A request started
    less than 0.5 s before the deadline would wait the transport's read-timeout floor past it
    (and could push the invocation past its limit), so the second record is handed on."""
    clock = Clock()
    jobs = SlowJobs(clock, first_s)
    event = load_event("cos_multipart")
    if second_started:
        summary = run(event, jobs=jobs, clock=clock, deadline=T0 + 2)
        assert len(summary["submitted"]) == 2
        return
    with pytest.raises(TransientSubmitError, match=r"1 record\(s\) not submitted") as caught:
        run(event, jobs=jobs, clock=clock, deadline=T0 + 2)
    assert len(jobs.submitted) == 1
    assert [f["code"] for f in caught.value.summary["failed"]] == ["DeadlineExceeded"]


@pytest.mark.parametrize("deadline_s", [0.4, 0.1])
def test_a_short_invocation_still_starts_its_records(deadline_s: float) -> None:
    """The margin is at most half the time the invocation had, so a short limit still submits."""
    summary = run(load_event("cos_multipart"), deadline=T0 + deadline_s)
    assert len(summary["submitted"]) == 2


def test_ms_is_measured_per_record(log_lines: list[str]) -> None:
    run(load_event("cos_put"), clock=Clock(step=0.25), deadline=None)
    record_line, summary_line = decisions(log_lines)
    assert record_line["ms"] == 250  # read when the record starts and when it ends
    assert summary_line["ms"] > record_line["ms"]  # the invocation spans the record
    assert summary_line["ms"] % 250 == 0


@pytest.mark.parametrize(
    ("limit_ms", "expected"),
    [
        (3000, T0 + 1.5),  # 1.5 s margin
        (60_000, T0 + 54.0),  # 10 % margin
        (900_000, T0 + 810.0),
        (1000, T0 + 0.5),  # never more than half of a short limit
        (None, None),
        ("3000", None),
        (0, None),
        (-5, None),
        (True, None),
    ],
)
def test_invocation_deadline(limit_ms: object, expected: float | None) -> None:
    assert invocation_deadline(T0, limit_ms) == expected
