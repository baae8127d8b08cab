"""Result documents on the verified writer path (shared.results.documents through JobResultWriter):
written before the tags, after the same ordering rules, never from an unverified or stale result;
a failed document write leaves the tags alone (503). Fakes only: no HTTP."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from shared.errors import CosError, CosNotFoundError, DocumentWriteError
from shared.media.tag_format import DEFAULT_TAG_FIELDS
from shared.models import Job, ObjectRef, ResultLocation
from shared.results.document_body import SCHEMA, SCHEMA_VERSION
from shared.results.documents import JOB_META, STATUS_META, ResultDocuments, document_ref
from shared.results.reply import CallbackReply, error_reply
from shared.results.writer import JobResultWriter
from tests.callback_helpers import (
    APPLIED,
    BUCKET,
    ETAG,
    JOB_ID,
    KEY,
    REGION,
    SIZE,
    job_from_detail,
)
from tests.fakes import FakeMediaJobs, FakeObjectStore

LOCATION = ResultLocation("docs-1250000000", "media-info/")
DOC_KEY = f"media-info/{BUCKET}/k/{KEY}.json"
WRITTEN_AT = 1_700_000_000.0  # 2023-11-14T22:13:20Z
NEWER_JOB = "j" + "f" * 32  # not a UUID v1: ordered by its creation time alone


class FakeDocumentStore:
    """DocumentStore over a dict; every call is also recorded in the object store's ``calls``,
    so a test sees the order of document and tag writes."""

    def __init__(self, store: FakeObjectStore) -> None:
        self.store = store
        self.objects: dict[str, tuple[bytes, str, dict[str, str]]] = {}
        self.errors: dict[str, BaseException] = {}

    def _record(self, operation: str, obj: ObjectRef, deadline: float | None) -> None:
        self.store.calls.append((operation, obj, deadline))
        if operation in self.errors:
            raise self.errors[operation]

    def put_object(
        self,
        obj: ObjectRef,
        body: bytes,
        *,
        content_type: str,
        metadata: Mapping[str, str],
        deadline: float | None = None,
    ) -> None:
        self._record("put_document", obj, deadline)
        self.objects[obj.key] = (body, content_type, dict(metadata))

    def head_metadata(self, obj: ObjectRef, *, deadline: float | None = None) -> dict[str, str]:
        self._record("head_document", obj, deadline)
        if obj.key not in self.objects:
            raise CosNotFoundError(404, "NoSuchKey", "gone")
        return dict(self.objects[obj.key][2])

    def get_object(self, obj: ObjectRef, *, deadline: float | None = None) -> bytes:
        self._record("get_document", obj, deadline)
        return self.objects[obj.key][0]

    def document(self) -> dict[str, Any]:
        return dict(json.loads(self.objects[DOC_KEY][0]))


def _setup(
    *jobs: Job, dry_run: bool = False
) -> tuple[JobResultWriter, FakeObjectStore, FakeDocumentStore]:
    store = FakeObjectStore()
    store.add()
    documents = FakeDocumentStore(store)
    writer = JobResultWriter(
        store,
        FakeMediaJobs({job.job_id: job for job in jobs}),
        tag_prefix="media:",
        tag_fields=DEFAULT_TAG_FIELDS,
        dry_run=dry_run,
        documents=ResultDocuments(documents, LOCATION, clock=lambda: WRITTEN_AT),
    )
    return writer, store, documents


def _apply(writer: JobResultWriter, job_id: str = JOB_ID) -> CallbackReply:
    return writer.apply(ObjectRef(BUCKET, REGION, KEY), job_id)


def _operations(store: FakeObjectStore) -> list[str]:
    return [name for name, _, _ in store.calls if name not in ("head", "get_tagging")]


def test_the_document_is_written_before_the_tags_with_the_whole_media_info() -> None:
    media_info = {
        "Format": {"FormatName": "mov", "Duration": "61.020000", "ProbeScore": "100"},
        "Stream": {
            "Video": {"CodecName": "h264", "Index": "0", "ColorSpace": "bt709"},
            "Audio": [{"CodecName": "aac", "Index": "1"}, {"CodecName": "ac3", "Index": "2"}],
            "Subtitle": {"Index": "3", "Language": "eng"},
        },
    }
    writer, store, documents = _setup(job_from_detail(media_info=media_info))
    reply = _apply(writer)
    assert (reply.outcome, reply.reason) == ("tagged", "ok")
    assert _operations(store) == ["head_document", "put_document", "put_tagging"]
    _body, content_type, metadata = documents.objects[DOC_KEY]
    assert content_type == "application/json"
    assert metadata == {STATUS_META: "ok", JOB_META: APPLIED}
    document = documents.document()
    assert (document["schema"], document["schema_version"], document["status"]) == (
        SCHEMA,
        SCHEMA_VERSION,
        "ok",
    )
    assert document["object"] == {
        "bucket": BUCKET,
        "region": REGION,
        "key": KEY,
        "version_id": None,
        "etag": ETAG,
        "size": SIZE,
        "last_modified": None,
    }
    assert document["job"]["id"] == JOB_ID
    assert document["job"]["creation_time"] == "2022-06-30T10:45:14Z"
    assert document["written_at"] == "2023-11-14T22:13:20Z"
    # every field CI sent, stream groups always lists; the typed reading beside it
    assert document["media_info"]["Format"]["ProbeScore"] == "100"
    assert document["media_info"]["Stream"]["Video"] == [
        {"CodecName": "h264", "Index": "0", "ColorSpace": "bt709"}
    ]
    assert [a["CodecName"] for a in document["media_info"]["Stream"]["Audio"]] == ["aac", "ac3"]
    assert document["media_info"]["Stream"]["Subtitle"] == [{"Index": "3", "Language": "eng"}]
    assert document["media"]["format"]["duration_s"] == 61.02
    assert [a["codec_name"] for a in document["media"]["audio"]] == ["aac", "ac3"]
    assert document["media"]["subtitle"] == [{"index": 3, "language": "eng"}]


def test_a_final_failure_writes_a_document_with_the_failure() -> None:
    failed = job_from_detail(state="Failed", code="ResourceNotSupported")
    writer, store, documents = _setup(failed)
    assert _apply(writer).reason == "failed:ResourceNotSupported"
    document = documents.document()
    assert document["status"] == "failed:ResourceNotSupported"
    assert (document["job"]["state"], document["job"]["code"]) == ("Failed", "ResourceNotSupported")
    assert document["media"] is None and document["media_info"] is None
    assert _operations(store) == ["head_document", "put_document", "put_tagging"]


@pytest.mark.parametrize(
    ("job", "head_etag", "reason"),
    [
        (job_from_detail(state="Failed", code="InternalError"), ETAG, "transient-failure"),
        (job_from_detail(), "f" * 32, "stale"),
        (job_from_detail(user_data=None), ETAG, "unknown-provenance"),
    ],
    ids=["transient-failure", "stale", "unverified"],
)
def test_a_result_that_is_not_written_writes_no_document(
    job: Job, head_etag: str, reason: str
) -> None:
    writer, store, documents = _setup(job)
    store.add(etag=head_etag)
    assert _apply(writer).reason == reason
    assert documents.objects == {} and _operations(store) == []


def test_a_newer_jobs_document_is_never_replaced_and_the_tags_stay() -> None:
    writer, store, documents = _setup(job_from_detail())
    newer = f"{ETAG}/20220630T110000Z/{NEWER_JOB}"
    documents.objects[DOC_KEY] = (b"{}", "application/json", {STATUS_META: "ok", JOB_META: newer})
    reply = _apply(writer)
    assert (reply.outcome, reply.reason) == ("skipped", "superseded")
    assert _operations(store) == ["head_document"]
    assert store.puts == []


def test_a_success_document_is_kept_over_a_failure_for_the_same_content() -> None:
    writer, store, documents = _setup(
        job_from_detail(job_id=NEWER_JOB, state="Failed", code="ResourceNotSupported")
    )
    documents.objects[DOC_KEY] = (b"{}", "application/json", {STATUS_META: "ok", JOB_META: APPLIED})
    reply = _apply(writer, NEWER_JOB)
    assert (reply.outcome, reply.reason) == ("skipped", "success-kept")
    assert _operations(store) == ["head_document"]


def test_an_older_document_is_replaced() -> None:
    writer, _, documents = _setup(job_from_detail(job_id=NEWER_JOB))
    older = {STATUS_META: "failed:InternalError", JOB_META: APPLIED}
    documents.objects[DOC_KEY] = (b"{}", "application/json", older)
    assert _apply(writer, NEWER_JOB).outcome == "tagged"
    assert documents.document()["job"]["id"] == NEWER_JOB


def test_a_failed_document_write_writes_no_tags_and_answers_503() -> None:
    writer, store, documents = _setup(job_from_detail())
    documents.errors["put_document"] = CosError(403, "AccessDenied", "no PutObject")
    with pytest.raises(DocumentWriteError, match="media-info/: cos 403 AccessDenied") as caught:
        _apply(writer)
    assert store.puts == []
    reply = error_reply(caught.value, job_id=JOB_ID, key=KEY)
    assert (reply.status, reply.reason) == (503, "result-document")


def test_after_a_failed_tag_write_the_retry_writes_the_tags_and_not_the_document_again() -> None:
    writer, store, _documents = _setup(job_from_detail())
    store.errors["put_tagging"] = CosError(503, "ServiceUnavailable", "busy")
    with pytest.raises(CosError, match="ServiceUnavailable"):
        _apply(writer)
    del store.errors["put_tagging"]
    store.calls.clear()
    assert _apply(writer).outcome == "tagged"
    assert _operations(store) == ["head_document", "put_tagging"]


def test_a_replay_and_a_dry_run_write_no_document() -> None:
    writer, store, _documents = _setup(job_from_detail())
    assert _apply(writer).outcome == "tagged"
    store.calls.clear()
    assert _apply(writer).outcome == "unchanged"  # the tags hold it already: no request at all
    assert _operations(store) == []
    dry, dry_store, dry_documents = _setup(job_from_detail(), dry_run=True)
    assert _apply(dry).outcome == "would-tag"
    assert _operations(dry_store) == [] and dry_documents.objects == {}


def test_documents_live_in_the_objects_region_under_the_location() -> None:
    obj = ObjectRef(BUCKET, "ap-shanghai", "a b.mp4", version_id="v1")
    assert document_ref(LOCATION, obj) == ObjectRef(
        "docs-1250000000", "ap-shanghai", f"media-info/{BUCKET}/k/a%20b.mp4.json"
    )
