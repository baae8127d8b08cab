"""The one pair of typed fakes of ``shared.ports``: ``FakeObjectStore`` and ``FakeMediaJobs``.

Every use-case test (upload, backfill, callback, reconcile) drives its service through these, so
a change of a port breaks here once instead of drifting in several test files; mypy checks them
against the Protocols (see the end of the module; run it with the tests that use them). They
record every call, answer from dicts the test fills, raise the errors a test sets, and fail the
test with an AssertionError on an operation the test says its code never calls (``forbid``).
No I/O, no clock, no sleeping here; nothing is computed by the code under test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from shared.errors import CosNotFoundError
from shared.models import BucketPage, Job, JobsPage, ListedObject, ObjectHead, ObjectRef, TagSet
from shared.ports import MediaInfoJobRequest
from tests.callback_helpers import ETAG, KEY, SIZE

if TYPE_CHECKING:
    from shared.ports import MediaJobs, ObjectStore

# Operation names (recorded in ``calls``, accepted by ``forbid``) -> what a forbidden call says.
STORE_OPERATIONS = {
    "head": "reads heads",
    "get_tagging": "reads tags",
    "put_tagging": "writes tags",
    "list": "lists objects",
}
JOBS_OPERATIONS = {"submit": "submits jobs", "describe": "describes jobs", "list": "lists jobs"}


def _forbidden(names: Iterable[str], known: Mapping[str, str]) -> frozenset[str]:
    chosen = frozenset(names)
    unknown = chosen - set(known)
    if unknown:
        raise ValueError(f"unknown operations {sorted(unknown)}; known: {sorted(known)}")
    return chosen


def _refuse(operation: str, forbidden: frozenset[str], known: Mapping[str, str]) -> None:
    if operation in forbidden:
        raise AssertionError(f"the code under test never {known[operation]}")


class FakeObjectStore:
    """ObjectStore over ``objects``: (key, version id) -> (head, tags).

    ``calls`` records (operation, object, deadline) of head / get_tagging / put_tagging, ``puts``
    the (object, tags) written, ``markers`` the marker of every listing. ``errors`` (by operation)
    and ``key_errors`` (by object key) are raised after the call is recorded. An object never
    added is gone (404 NoSuchKey); with ``unknown_is_untagged`` its tags read as empty instead.
    ``list_objects`` pages the unversioned objects in key order, ``page_size`` at a time (default:
    ``max_keys``); ``next_marker=False`` leaves NextMarker out, as COS may.
    """

    def __init__(
        self,
        *,
        unknown_is_untagged: bool = False,
        key_errors: Mapping[str, BaseException] | None = None,
        page_size: int | None = None,
        next_marker: bool = True,
        forbid: Iterable[str] = (),
    ) -> None:
        self.objects: dict[tuple[str, str | None], tuple[ObjectHead, TagSet]] = {}
        self.calls: list[tuple[str, ObjectRef, float | None]] = []
        self.puts: list[tuple[ObjectRef, TagSet]] = []
        self.markers: list[str] = []
        self.errors: dict[str, BaseException] = {}
        self.key_errors: dict[str, BaseException] = dict(key_errors or {})
        self.before_read: Callable[[], object] = lambda: None
        self.unknown_is_untagged = unknown_is_untagged
        self.page_size = page_size
        self.next_marker = next_marker
        self.forbidden = _forbidden(forbid, STORE_OPERATIONS)

    def add(
        self,
        key: str = KEY,
        etag: str = ETAG,
        size: int = SIZE,
        tags: TagSet = (),
        version: str | None = None,
        *,
        last_modified: str | None = None,
    ) -> None:
        """Put (or replace) one object; the defaults are the callback fixtures' demo object."""
        head = ObjectHead(etag=etag, size=size, version_id=version, last_modified=last_modified)
        self.objects[(key, version)] = (head, tags)

    def set_tags(self, key: str, tags: TagSet, version: str | None = None) -> None:
        """Replace the tags of an object that was added."""
        head, _ = self.objects[(key, version)]
        self.objects[(key, version)] = (head, tags)

    def keys_called(self, operation: str) -> list[str]:
        """The object keys of the recorded calls of ``operation``, in call order."""
        return [obj.key for name, obj, _ in self.calls if name == operation]

    def _find(
        self, operation: str, obj: ObjectRef, deadline: float | None
    ) -> tuple[ObjectHead, TagSet] | None:
        self.calls.append((operation, obj, deadline))
        if operation in self.errors:
            raise self.errors[operation]
        if obj.key in self.key_errors:
            raise self.key_errors[obj.key]
        return self.objects.get((obj.key, obj.version_id))

    def head_object(self, obj: ObjectRef, *, deadline: float | None = None) -> ObjectHead:
        _refuse("head", self.forbidden, STORE_OPERATIONS)
        self.before_read()
        found = self._find("head", obj, deadline)
        if found is None:
            raise CosNotFoundError(404, "NoSuchKey", "gone")
        return found[0]

    def get_object_tagging(self, obj: ObjectRef, *, deadline: float | None = None) -> TagSet:
        _refuse("get_tagging", self.forbidden, STORE_OPERATIONS)
        self.before_read()
        found = self._find("get_tagging", obj, deadline)
        if found is None:
            if self.unknown_is_untagged:
                return ()
            raise CosNotFoundError(404, "NoSuchKey", "gone")
        return found[1]

    def put_object_tagging(
        self, obj: ObjectRef, tags: TagSet, *, deadline: float | None = None
    ) -> None:
        _refuse("put_tagging", self.forbidden, STORE_OPERATIONS)
        found = self._find("put_tagging", obj, deadline)
        if found is None:
            raise CosNotFoundError(404, "NoSuchKey", "gone")
        self.puts.append((obj, tags))
        self.objects[(obj.key, obj.version_id)] = (found[0], tags)

    def list_objects(
        self,
        bucket: str,
        region: str,
        *,
        prefix: str = "",
        marker: str = "",
        max_keys: int = 1000,
        deadline: float | None = None,
    ) -> BucketPage:
        _refuse("list", self.forbidden, STORE_OPERATIONS)
        self.markers.append(marker)
        if "list" in self.errors:
            raise self.errors["list"]
        keys = sorted(
            key
            for key, version in self.objects
            if version is None and key.startswith(prefix) and key > marker
        )
        page = keys[: self.page_size or max_keys]
        more = len(keys) > len(page)
        following = page[-1] if more and self.next_marker else None
        listed = (ListedObject(key, *self._etag_and_size(key)) for key in page)
        return BucketPage(tuple(listed), more, following)

    def _etag_and_size(self, key: str) -> tuple[str, int]:
        head = self.objects[(key, None)][0]
        return head.etag, head.size


class FakeMediaJobs:
    """MediaJobs: CI's /jobs for one test.

    ``submit_media_info_job`` answers job "j" + the number of accepted jobs (32 characters)
    unless ``errors`` (by object key, every time) or ``fail_once`` (by object key, the next time
    only) has an error for the key; ``submitted`` records every submission as (bucket, region,
    request, deadline), ``accepted`` the object keys of those answered with a job.
    ``describe_job`` answers from ``jobs`` (job id -> job, or an error to raise; absent: None,
    CI's NonExistJobIds) and records ``described`` (bucket, region, job id). ``list_jobs``
    answers ``pages`` in turn, chained by next tokens "1", "2", ...; every listed job is also in
    ``jobs``; ``queries`` records what each listing asked for.
    """

    def __init__(
        self,
        jobs: Mapping[str, Job | BaseException] | None = None,
        *,
        errors: Mapping[str, BaseException] | None = None,
        pages: Sequence[Sequence[Job]] = (),
        forbid: Iterable[str] = (),
    ) -> None:
        self.pages = [tuple(page) for page in pages]
        self.jobs: dict[str, Job | BaseException] = {
            job.job_id: job for page in self.pages for job in page
        }
        self.jobs.update(jobs or {})
        self.errors: dict[str, BaseException] = dict(errors or {})
        self.fail_once: dict[str, BaseException] = {}
        self.submitted: list[tuple[str, str, MediaInfoJobRequest, float | None]] = []
        self.accepted: list[str] = []
        self.described: list[tuple[str, str, str]] = []
        self.queries: list[dict[str, Any]] = []
        self.before_read: Callable[[], object] = lambda: None
        self.forbidden = _forbidden(forbid, JOBS_OPERATIONS)

    def submit_media_info_job(
        self,
        bucket: str,
        region: str,
        request: MediaInfoJobRequest,
        *,
        deadline: float | None = None,
    ) -> Job:
        _refuse("submit", self.forbidden, JOBS_OPERATIONS)
        self.submitted.append((bucket, region, request, deadline))
        failure = self.fail_once.pop(request.object_key, None)
        if failure is None:
            failure = self.errors.get(request.object_key)
        if failure is not None:
            raise failure
        self.accepted.append(request.object_key)
        return Job(job_id=f"j{len(self.accepted):031d}", state="Submitted")

    def describe_job(
        self, bucket: str, region: str, job_id: str, *, deadline: float | None = None
    ) -> Job | None:
        _refuse("describe", self.forbidden, JOBS_OPERATIONS)
        self.described.append((bucket, region, job_id))
        self.before_read()
        found = self.jobs.get(job_id)
        if isinstance(found, BaseException):
            raise found
        return found

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
    ) -> JobsPage:
        _refuse("list", self.forbidden, JOBS_OPERATIONS)
        self.queries.append(
            {
                "states": tuple(states),
                "start": start_creation_time,
                "end": end_creation_time,
                "token": next_token,
                "order": order_by_time,
            }
        )
        if not self.pages:
            return JobsPage((), next_token=None)
        index = int(next_token or "0")
        token = str(index + 1) if index + 1 < len(self.pages) else None
        return JobsPage(self.pages[index], next_token=token)


if TYPE_CHECKING:  # mypy proves the fakes implement the ports; nothing runs here
    _STORE: ObjectStore = FakeObjectStore()
    _JOBS: MediaJobs = FakeMediaJobs()
