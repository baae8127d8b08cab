"""The small interfaces the use cases are written against (STYLE.md: service -> Protocols).

``shared.tencent.cos_client.CosClient`` and ``shared.tencent.ci_client.CiClient`` implement them
over HTTP; tests may implement them with fakes, and mypy checks those fakes against these Protocols.
Nothing here does I/O. ``deadline`` is an absolute time on the transport's clock (seconds) after
which no retry starts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from shared.models import BucketPage, Job, JobsPage, ObjectHead, ObjectRef, TagSet
from shared.records import record


@record
class MediaInfoJobRequest:
    """What POST /jobs needs for one MediaInfo job (body order fixed by xmlcodec)."""

    object_key: str
    user_data: str
    job_level: int
    callback_url: str
    callback_format: str  # "JSON" or "XML"


class ObjectStore(Protocol):
    def head_object(self, obj: ObjectRef, *, deadline: float | None = None) -> ObjectHead: ...

    def get_object_tagging(self, obj: ObjectRef, *, deadline: float | None = None) -> TagSet: ...

    def put_object_tagging(
        self, obj: ObjectRef, tags: TagSet, *, deadline: float | None = None
    ) -> None: ...

    def list_objects(
        self,
        bucket: str,
        region: str,
        *,
        prefix: str = "",
        marker: str = "",
        max_keys: int = 1000,
        deadline: float | None = None,
    ) -> BucketPage: ...


class DocumentStore(Protocol):
    """Where result documents are written and read back (``CosClient`` implements it)."""

    def put_object(
        self,
        obj: ObjectRef,
        body: bytes,
        *,
        content_type: str,
        metadata: Mapping[str, str],
        deadline: float | None = None,
    ) -> None: ...

    def head_metadata(self, obj: ObjectRef, *, deadline: float | None = None) -> dict[str, str]:
        """The object's user metadata (x-cos-meta-*, names lower case, without the prefix);
        CosNotFoundError when there is no such object."""
        ...

    def get_object(self, obj: ObjectRef, *, deadline: float | None = None) -> bytes: ...


class MediaJobs(Protocol):
    def submit_media_info_job(
        self,
        bucket: str,
        region: str,
        request: MediaInfoJobRequest,
        *,
        deadline: float | None = None,
    ) -> Job: ...

    def describe_job(
        self, bucket: str, region: str, job_id: str, *, deadline: float | None = None
    ) -> Job | None:
        """The job, or None when CI lists the id in NonExistJobIds."""
        ...

    def list_jobs(
        self,
        bucket: str,
        region: str,
        *,
        states: Sequence[str] = (),
        start_creation_time: str | None = None,
        end_creation_time: str | None = None,
        size: int = 100,
        next_token: str | None = None,
        order_by_time: str = "Desc",
        deadline: float | None = None,
    ) -> JobsPage: ...


class RecordHandOn(Protocol):
    def hand_on(self, event: Mapping[str, Any], *, deadline: float | None = None) -> None:
        """Invoke the upload function asynchronously with ``event`` (records it could not
        submit in time); MediaTaggerError when the platform refused or did not answer."""
        ...
