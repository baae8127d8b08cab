"""The callback use case: a CI job-finished notice -> verified result -> merged tags on the object.

Order matters and is the security model (docs/architecture.md "The callback's checks",
SECURITY.md): method, token presence, parse, token bound to the claimed bucket/key (constant time),
bucket allow-list -- all before any remote call. The body is only a hint: the job is fetched again
with GET /jobs/<id> under our own credentials, must name the same bucket/object and be finished,
and only its result is written. HEAD guards against stale results (ETag in the job's UserData), GET
?tagging feeds the merge; that part after authentication is
``shared.results.writer.JobResultWriter``, shared with reconcile. Every request ends in exactly one
decision log line. Written against ports only: no HTTP here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor

from shared.callback.http_event import HttpRequest
from shared.callback.notice import parse_callback_body
from shared.contract.callback_token import TOKEN_PARAMETER, verify_callback_token
from shared.contract.userdata import decode_user_data
from shared.decision_log import DecisionLog
from shared.errors import (
    EventError,
    ForbiddenError,
    MediaTaggerError,
    MethodNotAllowedError,
    UnauthorizedError,
)
from shared.models import CallbackNotice, Job, ObjectRef
from shared.ports import MediaJobs, ObjectStore
from shared.results.reply import CallbackReply, error_reply, ignored
from shared.results.writer import JobResultWriter
from shared.settings.functions import CallbackSettings
from shared.tencent.ci_client import MEDIA_INFO_TAG, is_job_id
from shared.tencent.endpoints import ci_host

TASK_FINISH = "TaskFinish"


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
        writer = JobResultWriter(
            self._store,
            self._jobs,
            tag_prefix=self._settings.tag_prefix,
            tag_fields=self._settings.tag_fields,
            deadline=self._deadline,
            executor=self._executor,
        )
        return writer.apply(obj, claim.job_id)

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
        if not is_job_id(claim.job_id):  # keeps '/', ',' and '..' out of GET /jobs/<id>
            raise EventError("JobId is not a CI job id")
        ci_host(bucket, region)  # refuses a region or bucket that is not a host label
        # Reads address the version the body's UserData names; checked against GET /jobs later.
        hint = decode_user_data(claim.operation.user_data)
        return ObjectRef(bucket, region, key, hint.version_id if hint else None)


def _media_info_claim(notice: CallbackNotice) -> Job | None:
    """The one MediaInfo job a TaskFinish notice is about, or None when there is nothing to do."""
    if notice.event_name != TASK_FINISH:
        return None
    claims = [job for job in notice.jobs if job.tag == MEDIA_INFO_TAG]
    if len({job.job_id for job in claims}) > 1:
        raise EventError("one callback must carry one MediaInfo job")
    return claims[0] if claims else None
