"""The callback use case: a CI job-finished notice -> verified result -> merged tags on the object.

Order matters and is the security model (README "Callback security"): method, token presence,
parse, token bound to the claimed bucket/key (constant time), bucket allow-list -- all before any
remote call. The body is only a hint: the job is fetched again with GET /jobs/<id> under our own
credentials, must name the same bucket/object and be finished, and only its result is written.
HEAD guards against stale results (ETag in the job's UserData), GET ?tagging feeds the merge.
Every request ends in exactly one decision log line. Written against ports only: no HTTP here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import Executor

from shared.callback_reads import CallbackReads, read_concurrently
from shared.callback_reply import CallbackReply, error_reply, ignored, skipped, unchanged
from shared.callback_token import TOKEN_PARAMETER, verify_callback_token
from shared.config import CallbackSettings
from shared.decision_log import DecisionLog
from shared.endpoints import ci_host
from shared.errors import (
    CosNotFoundError,
    EventError,
    ForbiddenError,
    MediaTaggerError,
    MethodNotAllowedError,
    UnauthorizedError,
)
from shared.http_event import HttpRequest
from shared.models import CallbackNotice, Job, ObjectRef, TagSet
from shared.ports import MediaJobs, ObjectStore
from shared.tags import (
    STATUS_FIELD,
    media_tags,
    merge_tags,
    same_tags,
    status_tags_for_failure,
    status_tags_for_success,
)
from shared.userdata import UserDataFacts, decode_user_data
from shared.xmlcodec import parse_callback_body

TASK_FINISH = "TaskFinish"
MEDIA_INFO_TAG = "MediaInfo"
NO_STREAMS_CODE = "NoMediaStreams"
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")  # keeps '/', ',' and '..' out of GET /jobs/<id>


class CallbackService:
    """One instance per invocation: settings, clients and the decision log are fixed per call."""

    def __init__(
        self,
        settings: CallbackSettings,
        store: ObjectStore,
        jobs: MediaJobs,
        log: DecisionLog,
        *,
        clock: Callable[[], float] = time.monotonic,
        deadline: float | None = None,
        executor: Executor | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._jobs = jobs
        self._log = log
        self._clock = clock
        self._deadline = deadline
        self._executor = executor

    def handle(self, request: HttpRequest) -> CallbackReply:
        """Never raises MediaTaggerError: every outcome is a reply, logged once."""
        started = self._clock()
        context: dict[str, str | None] = {}
        try:
            reply = self._decide(request, context)
        except MediaTaggerError as exc:
            reply = error_reply(exc, job_id=context.get("job_id"), key=context.get("key"))
        ms = round((self._clock() - started) * 1000)
        reply.log_to(self._log, bucket=context.get("bucket"), ms=ms)
        return reply

    def _decide(self, request: HttpRequest, context: dict[str, str | None]) -> CallbackReply:
        if request.method != "POST":
            raise MethodNotAllowedError(f"method {request.method} not allowed; CI sends POST")
        token = request.query.get(TOKEN_PARAMETER, "")
        if not token.strip():
            raise UnauthorizedError("callback token missing")
        notice = parse_callback_body(request.body)
        self._authenticate(notice, token)
        claim = _media_info_claim(notice)
        if claim is None:
            return ignored(f"event {notice.event_name[:64]!r} carries no MediaInfo job")
        obj = self._claimed_object(claim)
        context.update(bucket=obj.bucket, key=obj.key, job_id=claim.job_id)
        reads = read_concurrently(
            self._jobs,
            self._store,
            obj,
            claim.job_id,
            deadline=self._deadline,
            executor=self._executor,
        )
        return self._apply(obj, claim.job_id, reads)

    def _authenticate(self, notice: CallbackNotice, token: str) -> None:
        """The token must match every (bucket, object) the body claims; no claim, no trust."""
        for job in notice.jobs:
            bucket, key = job.input.bucket_id, job.input.object
            if bucket and key:
                verify_callback_token(self._settings.callback_secret, bucket, key, token)

    def _claimed_object(self, claim: Job) -> ObjectRef:
        bucket, key, region = claim.input.bucket_id, claim.input.object, claim.input.region
        if not (bucket and key and region):
            raise EventError("callback job names no bucket, object or region")
        allowed = self._settings.allowed_buckets
        if allowed and bucket not in allowed:
            raise ForbiddenError("bucket is not in MEDIA_TAGGER_ALLOWED_BUCKETS")
        if not _JOB_ID.fullmatch(claim.job_id):
            raise EventError("JobId is not a CI job id")
        ci_host(bucket, region)  # refuses a region or bucket that is not a host label
        # Reads address the version the body's UserData names; checked against GET /jobs later.
        hint = decode_user_data(claim.operation.user_data)
        return ObjectRef(bucket, region, key, hint.version_id if hint else None)

    def _apply(self, obj: ObjectRef, job_id: str, reads: CallbackReads) -> CallbackReply:
        verdict = self._verified_job(obj, job_id, reads.job())
        if isinstance(verdict, CallbackReply):
            return verdict
        job, facts = verdict
        head = reads.head()
        if head is None:
            return skipped("object-gone", "HEAD answered 404", job_id, obj.key)
        if head.etag != facts.etag.strip('"') or head.size != facts.size:
            return skipped("stale", "object changed since the job was submitted", job_id, obj.key)
        existing = reads.tags()
        if existing is None:
            return skipped("object-gone", "GET tagging answered 404", job_id, obj.key)
        return self._write(obj, job, facts, existing)

    @staticmethod
    def _verified_job(
        obj: ObjectRef, job_id: str, job: Job | None
    ) -> tuple[Job, UserDataFacts] | CallbackReply:
        """GET /jobs' answer checked against the authenticated claim; a reply when we stop."""
        if job is None:
            return skipped("unknown-job", "CI does not know this JobId", job_id, obj.key)
        if (job.input.bucket_id, job.input.object) != (obj.bucket, obj.key):
            raise ForbiddenError("the job names another bucket or object than the callback")
        if not job.is_finished:
            return skipped("not-finished", f"job state is {job.state}", job_id, obj.key)
        facts = decode_user_data(job.operation.user_data)
        if facts is None:
            return skipped("unknown-provenance", "job UserData is not ours", job_id, obj.key)
        if facts.version_id != obj.version_id:
            raise ForbiddenError("the callback's UserData differs from the job's")
        return job, facts

    def _result_tags(self, job: Job, facts: UserDataFacts) -> TagSet:
        prefix = self._settings.tag_prefix
        info = job.operation.media_info
        if not job.succeeded:
            # A cancelled job may carry no code (or "Success"): its state then says what happened.
            code = job.code if job.code and job.code != "Success" else job.state
            return status_tags_for_failure(code, facts.etag, prefix)
        if info is None or not (info.videos or info.audios):
            return status_tags_for_failure(NO_STREAMS_CODE, facts.etag, prefix)
        ours = status_tags_for_success(facts.etag, prefix)
        return ours + media_tags(info, self._settings.tag_fields, prefix)

    def _write(
        self, obj: ObjectRef, job: Job, facts: UserDataFacts, existing: TagSet
    ) -> CallbackReply:
        prefix = self._settings.tag_prefix
        ours = self._result_tags(job, facts)
        merged, dropped = merge_tags(existing, ours, prefix)
        status_value = dict(ours)[prefix + STATUS_FIELD]
        if prefix + STATUS_FIELD not in dict(merged):
            reason = "10 tags outside our namespace: nothing fits"
            return skipped("tag-limit", reason, job.job_id, obj.key, dropped=dropped)
        if same_tags(merged, existing):
            return unchanged(status_value, job.job_id, obj.key, dropped=dropped)
        try:
            self._store.put_object_tagging(obj, merged, deadline=self._deadline)
        except CosNotFoundError:
            return skipped("object-gone", "PUT tagging answered 404", job.job_id, obj.key)
        written = sum(1 for key, _ in merged if key.startswith(prefix))
        return CallbackReply(200, "tagged", status_value, job.job_id, obj.key, written, dropped)


def _media_info_claim(notice: CallbackNotice) -> Job | None:
    """The one MediaInfo job a TaskFinish notice is about, or None when there is nothing to do."""
    if notice.event_name != TASK_FINISH:
        return None
    claims = [job for job in notice.jobs if job.tag == MEDIA_INFO_TAG]
    if len({job.job_id for job in claims}) > 1:
        raise EventError("one callback must carry one MediaInfo job")
    return claims[0] if claims else None
