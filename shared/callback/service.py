"""The callback use case: a CI job-finished notice -> verified result -> merged tags on the object.

Order matters and is the security model (docs/architecture.md "The callback's checks",
SECURITY.md): method, token presence (path or query, ``shared.callback.authentication``), parse,
token bound to every claimed region/bucket/key (constant time, current or previous secret, raw or
percent-decoded key), bucket and region allow-lists -- all before any remote call. The body is only
a hint: the job is fetched again with GET /jobs/<id> under our own credentials and only its result
is written, after the checks of ``shared.results.writer.JobResultWriter`` (shared with reconcile):
the same object, a finished MediaInfo job, the current content and incarnation, a final result,
not older than the one the object carries. Every request ends in exactly one decision log line.
Written against ports only: no HTTP here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor

from shared.callback.authentication import Verdict, authenticate, presented_token
from shared.callback.http_event import HttpRequest
from shared.callback.notice import parse_callback_body
from shared.contract.userdata import decode_user_data
from shared.decision_log import DecisionLog
from shared.errors import EventError, ForbiddenError, MediaTaggerError, MethodNotAllowedError
from shared.models import MEDIA_INFO_TAG, CallbackNotice, Job, ObjectRef
from shared.ports import MediaJobs, ObjectStore
from shared.results.reply import CallbackReply, error_reply, ignored
from shared.results.writer import DocumentsFirst, JobResultWriter
from shared.settings.functions import CallbackSettings
from shared.tencent.ci_client import is_job_id
from shared.tencent.endpoints import ci_host

TASK_FINISH = "TaskFinish"
# Context entries that also go into the decision line (what authenticated, never a value).
AUTH_LOG_FIELDS = ("auth", "verified_by", "key_form")


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
        documents: DocumentsFirst | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._jobs = jobs
        self._log = log
        self._clock = clock
        self._deadline = deadline
        self._executor = executor
        self._documents = documents  # result documents (MEDIA_TAGGER_RESULT_DOCUMENT) or None

    def handle(self, request: HttpRequest) -> CallbackReply:
        """Never raises MediaTaggerError: every outcome is a reply, logged once."""
        started = self._clock()
        context: dict[str, str | None] = {}
        try:
            reply = self._decide(request, context)
        except MediaTaggerError as exc:
            reply = error_reply(exc, job_id=context.get("job_id"), key=context.get("key"))
        ms = round((self._clock() - started) * 1000)
        auth = {name: context[name] for name in AUTH_LOG_FIELDS if context.get(name)}
        reply.log_to(self._log, bucket=context.get("bucket"), ms=ms, **auth)
        return reply

    def _decide(self, request: HttpRequest, context: dict[str, str | None]) -> CallbackReply:
        if request.method != "POST":
            raise MethodNotAllowedError(f"method {request.method} not allowed; CI sends POST")
        token = presented_token(request)
        context["auth"] = token.kind
        notice = parse_callback_body(request.body)
        authentication = authenticate(notice, token, self._settings.verifying_secrets)
        claim = _media_info_claim(notice)
        if claim is None:
            return ignored(f"event {notice.event_name[:64]!r} carries no MediaInfo job")
        verdict = authentication.verdict_for(claim)
        if verdict is not None:  # logged even when a later check refuses the claim
            context.update(verified_by=verdict.verified_by, key_form=verdict.key_form)
        obj = self._claimed_object(claim, verdict)
        context.update(bucket=obj.bucket, key=obj.key, job_id=claim.job_id)
        writer = JobResultWriter(
            self._store,
            self._jobs,
            tag_prefix=self._settings.tag_prefix,
            tag_fields=self._settings.tag_fields,
            own_tag_cap=self._settings.own_tag_cap,
            deadline=self._deadline,
            executor=self._executor,
            documents=self._documents,
        )
        return writer.apply(obj, claim.job_id)

    def _claimed_object(self, claim: Job, verdict: Verdict | None) -> ObjectRef:
        bucket, region = claim.input.bucket_id, claim.input.region
        if not (bucket and claim.input.object and region) or verdict is None:
            raise EventError("callback job names no bucket, object or region")
        allowed = self._settings.allowed_buckets
        if allowed and bucket not in allowed:
            raise ForbiddenError("bucket is not in MEDIA_TAGGER_ALLOWED_BUCKETS")
        if not is_job_id(claim.job_id):  # keeps '/', ',' and '..' out of GET /jobs/<id>
            raise EventError("JobId is not a CI job id")
        ci_host(bucket, region)  # refuses a region or bucket that is not a host label
        regions = self._settings.allowed_regions
        if regions and region not in regions:
            # A v1 token binds no region: without this a leaked URL could point our signed
            # reads at another region's hosts. v2 tokens bind it, this also holds for them.
            raise ForbiddenError(
                "region is not one this function serves (MEDIA_TAGGER_ALLOWED_REGIONS, "
                "else TENCENTCLOUD_REGION)"
            )
        # Reads address the version the body's UserData names; checked against GET /jobs later.
        hint = decode_user_data(claim.operation.user_data)
        return ObjectRef(bucket, region, verdict.address_key, hint.version_id if hint else None)


def _media_info_claim(notice: CallbackNotice) -> Job | None:
    """The one MediaInfo job a TaskFinish notice is about, or None when there is nothing to do."""
    if notice.event_name != TASK_FINISH:
        return None
    claims = [job for job in notice.jobs if job.tag == MEDIA_INFO_TAG]
    if len({job.job_id for job in claims}) > 1:
        raise EventError("one callback must carry one MediaInfo job")
    return claims[0] if claims else None
