"""Callback authentication: which token the request presents, and whether it fits every claim.

The token may come in the request path (v2, what new submissions use) or in the ``token`` query
parameter (v1 from jobs submitted before, or v2): CI may drop or rewrite the CallBack URL's query
string (undocumented, cos-ci-api.md section 9 item 9), a function URL always passes ``path``.
Both present and different: refused (403) rather than picking one, so a request can never be
authenticated by one token while carrying another. Neither: 401.

Each object the body claims must verify, under the current secret or a previous one (rotation),
for its key as CI echoed it or, failing that, percent-decoded (``shared.contract.object_key``:
never more than those two readings). The reading that verified is the key COS is addressed with.
The outcome names the token kind, the secret (``current``/``previous-<n>``) and the key reading
for the decision log, never a value. No I/O here.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence

from shared.callback.http_event import HttpRequest
from shared.contract.callback_token import (
    TOKEN_PARAMETER,
    PresentedToken,
    matching_secret,
    parse_presented,
    path_token,
    secret_label,
)
from shared.contract.object_key import key_forms
from shared.errors import ForbiddenError, UnauthorizedError
from shared.models import CallbackNotice, Job
from shared.records import record


@record
class Verdict:
    """How one claimed object verified: the key to address, its reading, the secret's label."""

    address_key: str
    key_form: str
    verified_by: str


@record
class Authentication:
    token: PresentedToken
    verdicts: Mapping[tuple[str, str], Verdict]

    def verdict_for(self, job: Job) -> Verdict | None:
        """The verdict of ``job``'s claimed object; None when the job claims no object."""
        bucket, key = job.input.bucket_id, job.input.object
        return self.verdicts.get((bucket, key)) if bucket and key else None


def _same(first: str, second: str) -> bool:
    """Both values are the caller's own; compared in constant time all the same (a JSON event
    may carry a lone surrogate, hence ``surrogatepass``)."""
    return hmac.compare_digest(
        first.encode("utf-8", "surrogatepass"), second.encode("utf-8", "surrogatepass")
    )


def presented_token(request: HttpRequest) -> PresentedToken:
    """The request's token: UnauthorizedError when none, ForbiddenError when path and query
    carry different ones (no secret is involved). A malformed one matches no object later."""
    in_query = request.query.get(TOKEN_PARAMETER, "").strip()
    in_path = path_token(request.path)
    if in_query and in_path and not _same(in_query, in_path):
        raise ForbiddenError("the path and the query carry different callback tokens")
    if in_path:
        return parse_presented(in_path, "path")
    if in_query:
        return parse_presented(in_query, "query")
    raise UnauthorizedError("callback token missing")


def _verify(
    secrets: Sequence[str], token: PresentedToken, region: str, bucket: str, key: str
) -> Verdict:
    for form_name, form in key_forms(key):
        index = matching_secret(secrets, token, region, bucket, form)
        if index is not None:
            return Verdict(form, form_name, secret_label(index))
    raise ForbiddenError("callback token does not match this object")


def authenticate(
    notice: CallbackNotice, token: PresentedToken, secrets: Sequence[str]
) -> Authentication:
    """The token must match every (region, bucket, object) the body claims; no claim, no trust.
    ``secrets``: the current secret first, then the previous ones, newest first."""
    verdicts: dict[tuple[str, str], Verdict] = {}
    for job in notice.jobs:
        bucket, key = job.input.bucket_id, job.input.object
        if bucket and key:
            verdicts[(bucket, key)] = _verify(secrets, token, job.input.region or "", bucket, key)
    return Authentication(token, verdicts)
