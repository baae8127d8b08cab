"""BatchResultWriter: a batch's per-object result checked against HEAD instead of UserData.

A batch job carries no ETag or size of its own; what stands between a stale result and the
object is the job's read time against HEAD's Last-Modified (ordering rule 2, strict: no time, no
write), the order against what the object carries (rule 1) and finality (rule 3, attempt 1).
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.errors import CosNotFoundError
from shared.models import Job, ObjectHead, ObjectRef, TagSet
from shared.ops.batch_api import planned_filters
from shared.results.batch_writer import BatchFacts, BatchResultWriter, batch_content_check
from shared.results.reply import skipped
from shared.settings.functions import load_upload_settings
from tests.callback_helpers import (
    BUCKET,
    EXPECTED_MEDIA_TAGS,
    JOB_ID,
    JOB_STAMP,
    KEY,
    REGION,
    job_from_detail,
)
from tests.fakes import FakeObjectStore
from tests.upload_helpers import BASE_ENVIRON

BATCH = BatchFacts("b00000000000000000000000000000001", "mtb1;r=r1")
OBJ = ObjectRef(BUCKET, REGION, KEY)
HEAD_ETAG = "ffffffffffffffffffffffffffffffff"
STARTED_GMT = "Thu, 30 Jun 2022 10:45:14 GMT"  # the job's CreationTime and StartTime, in GMT
NEWER_JOB = "j1f0a6b2e0b5d11eda5c9c1c27f56a659"  # a UUIDv1 of 2022-11-06


def batch_job(**detail: Any) -> Job:
    detail.setdefault("user_data", BATCH.user_data)
    return job_from_detail(**detail)


def store_with(
    last_modified: str | None = STARTED_GMT, tags: TagSet = (), etag: str = HEAD_ETAG
) -> FakeObjectStore:
    store = FakeObjectStore()
    head = ObjectHead(etag=etag, size=100, last_modified=last_modified)
    store.objects[(KEY, None)] = (head, tags)
    return store


def writer(store: FakeObjectStore, *, refuse: str | None = None, **options: Any) -> Any:
    return BatchResultWriter(
        store,
        tag_prefix="media:",
        tag_fields=("status", "etag", "duration", "resolution", "vcodec", "acodec", "fps"),
        accept=lambda key, size: refuse,
        **options,
    )


def ok_tags(etag: str = HEAD_ETAG, job_id: str = JOB_ID, stamp: str = JOB_STAMP) -> TagSet:
    return (("media:status", "ok"), ("media:etag", f"{etag}/{stamp}/{job_id}"))


def test_a_success_is_written_with_heads_etag_and_the_job() -> None:
    store = store_with(tags=(("owner", "alice"),))
    reply = writer(store).apply(OBJ, batch_job(), BATCH)
    assert (reply.outcome, reply.reason, reply.tags_written) == ("tagged", "ok", 7)
    ((_, written),) = store.puts
    assert written == (("owner", "alice"), *ok_tags(), *EXPECTED_MEDIA_TAGS)


@pytest.mark.parametrize(
    ("last_modified", "stale"),
    [
        ("Thu, 30 Jun 2022 10:45:15 GMT", False),  # within CLOCK_SKEW_S of the read
        ("Thu, 30 Jun 2022 10:45:16 GMT", True),  # written after the job began reading
        ("Wed, 29 Jun 2022 10:45:16 GMT", False),  # written long before
        (None, True),  # nothing proves which content the job read
        ("not a date", True),
    ],
)
def test_the_read_time_against_last_modified_decides(
    last_modified: str | None, stale: bool
) -> None:
    store = store_with(last_modified)
    reply = writer(store).apply(OBJ, batch_job(), BATCH)
    assert (reply.reason == "stale") is stale
    assert bool(store.puts) is not stale
    if stale:
        assert store.keys_called("get_tagging") == []  # refused on HEAD alone


def test_start_time_counts_before_creation_time() -> None:
    late_start = "2022-06-30T18:45:30+0800"  # queued 16 s before a worker read it
    job = batch_job(start_time=late_start)
    head = ObjectHead(HEAD_ETAG, 100, last_modified="Thu, 30 Jun 2022 10:45:29 GMT")
    assert batch_content_check(job, head) is None
    assert batch_content_check(batch_job(start_time=None), head) is not None


@pytest.mark.parametrize(
    ("detail", "reason"),
    [
        ({"user_data": "mtb1;r=another"}, "unknown-provenance"),
        ({"state": "Running"}, "not-finished"),
        ({"state": "Cancel", "code": "Cancel"}, "cancelled"),
        ({"tag": "Transcode"}, "not-media-info"),
        ({"bucket": "other-1250000000"}, "other-bucket"),
        ({"state": "Failed", "code": "InternalError"}, "transient-failure"),
    ],
)
def test_results_that_are_not_written(detail: dict[str, Any], reason: str) -> None:
    store = store_with()
    reply = writer(store).apply(OBJ, batch_job(**detail), BATCH)
    assert (reply.outcome, reply.reason) == ("skipped", reason)
    assert store.puts == []


def test_a_job_without_user_data_is_taken_as_the_batchs() -> None:
    store = store_with()
    assert writer(store).apply(OBJ, batch_job(user_data=None), BATCH).outcome == "tagged"


def test_a_failure_about_the_content_is_final_at_once() -> None:
    store = store_with()
    job = batch_job(state="Failed", code="ResourceNotSupported")
    reply = writer(store).apply(OBJ, job, BATCH)
    assert (reply.outcome, reply.reason) == ("tagged", "failed:ResourceNotSupported")
    assert dict(store.puts[0][1])["media:status"] == "failed:ResourceNotSupported"


def test_filters_gone_objects_and_dry_run() -> None:
    store = store_with()
    refused = writer(store, refuse="extension-not-allowed:txt").apply(OBJ, batch_job(), BATCH)
    assert (refused.reason, refused.detail) == ("filtered", "extension-not-allowed:txt")
    gone = FakeObjectStore()
    assert writer(gone).apply(OBJ, batch_job(), BATCH).reason == "object-gone"
    dry = writer(store, dry_run=True).apply(OBJ, batch_job(), BATCH)
    assert dry.outcome == "would-tag" and store.puts == []
    store.key_errors[KEY] = CosNotFoundError(404, "NoSuchKey", "gone")
    head = ObjectHead(HEAD_ETAG, 100, last_modified=STARTED_GMT)
    assert writer(store).apply(OBJ, batch_job(), BATCH, head=head).reason == "object-gone"


def test_the_same_job_again_is_unchanged() -> None:
    store = store_with(tags=ok_tags())
    reply = writer(store).apply(OBJ, batch_job(), BATCH)
    assert reply.outcome == "unchanged" and store.puts == []


def test_a_final_result_for_the_current_content_stays() -> None:
    older = "j0c47b07ef7c511ec8a5a87e016101404"  # a UUIDv1 of 2022-06-29
    current = ok_tags(job_id=older, stamp="20220629T000000Z")
    store = store_with("Tue, 28 Jun 2022 00:00:00 GMT", tags=current)
    reply = writer(store).apply(OBJ, batch_job(), BATCH)
    assert (reply.outcome, reply.reason) == ("skipped", "already-tagged") and store.puts == []


def test_a_success_replaces_a_failure_for_the_same_content() -> None:
    failed = (("media:status", "failed:InternalError"), ("media:etag", HEAD_ETAG))
    store = store_with(tags=failed)
    assert writer(store).apply(OBJ, batch_job(), BATCH).outcome == "tagged"


def test_a_newer_jobs_result_is_never_replaced() -> None:
    newer = (("media:status", "ok"), ("media:etag", f"{'1' * 32}/20221106T000000Z/{NEWER_JOB}"))
    store = store_with(tags=newer)
    reply = writer(store).apply(OBJ, batch_job(), BATCH)
    assert (reply.outcome, reply.reason) == ("skipped", "superseded") and store.puts == []


class RecordingDocuments:
    """DocumentsFirst: records each write with what the tags looked like then."""

    def __init__(self, store: FakeObjectStore, refuse: bool = False) -> None:
        self.store = store
        self.refuse = refuse
        self.writes: list[tuple[str, str, int]] = []  # key, ETag of the facts, tag PUTs before

    def write(self, obj: Any, job: Job, facts: Any, head: ObjectHead, **options: Any) -> Any:
        self.writes.append((obj.key, facts.etag, len(self.store.puts)))
        if self.refuse:
            return skipped("superseded", "the document holds a newer job's result", job.job_id)
        return None


def test_the_result_document_is_written_before_the_tags_and_can_stop_them() -> None:
    store = store_with()
    documents = RecordingDocuments(store)
    reply = writer(store, documents=documents).apply(OBJ, batch_job(), BATCH)
    assert reply.outcome == "tagged" and documents.writes == [(KEY, HEAD_ETAG, 0)]
    unchanged_again = writer(store, documents=documents).apply(OBJ, batch_job(), BATCH)
    assert unchanged_again.outcome == "unchanged" and len(documents.writes) == 1
    refusing = RecordingDocuments(store_with(), refuse=True)
    stopped = writer(refusing.store, documents=refusing).apply(OBJ, batch_job(), BATCH)
    assert stopped.reason == "superseded" and refusing.store.puts == []
    stale = store_with("Thu, 30 Jun 2022 10:50:00 GMT")
    silent = RecordingDocuments(stale)
    assert writer(stale, documents=silent).apply(OBJ, batch_job(), BATCH).reason == "stale"
    assert silent.writes == []


def test_the_result_location_in_the_bucket_is_an_excluded_prefix_of_the_batch() -> None:
    environ = {**BASE_ENVIRON, "MEDIA_TAGGER_RESULT_DOCUMENT": f"cos://{BUCKET}/docs/"}
    filters = planned_filters(load_upload_settings(environ), BUCKET)
    assert filters.exclude_prefixes[-1:] == ("docs/",)
    assert planned_filters(load_upload_settings(environ), "other-1250000000").exclude_prefixes == ()
