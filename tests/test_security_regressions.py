"""Regression tests for the defects the security review (issue 6, SECURITY.md) found and fixed.

1. A 2xx COS/CI answer that is not a usable document (an XXE, HTML from a proxy, junk) used to
   surface as MalformedBodyError, an EventError: the callback answered 400 ("your input is bad")
   and the upload function treated the record as permanently failed (never retried, the object
   left without an outcome). It is now a RemoteError of that service: 502 upstream-error in the
   callback, a transient failure (SCF retries) in the upload function.
(2. Decision lines escaping U+0085/U+2028/U+2029 is proven by tests/test_properties_logs.py.)
"""

from __future__ import annotations

import pytest
import responses

from shared.errors import CiError, CosError, RemoteError
from shared.models import ObjectRef
from shared.ports import MediaInfoJobRequest
from shared.results.reply import error_reply
from shared.tencent.ci_client import CiClient
from shared.tencent.cos_client import CosClient
from shared.upload.service import _outcome_of_error
from tests.client_helpers import (
    BUCKET,
    CI_HOST,
    COS_HOST,
    JOB_ID,
    REGION,
    make_transport,
    strict_mock,
)

HOSTILE_ANSWERS = [
    b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Response>&x;</Response>',
    b"<html><body>502 Bad Gateway</body></html",
    b"\x00\x01 not xml",
    b"<Error><Code>x</Code></Error>",
]
OBJ = ObjectRef(BUCKET, REGION, "videos/a.mp4")
REQUEST = MediaInfoJobRequest("videos/a.mp4", "mt1;e=e;s=1", 0, "https://cb.example/", "JSON")


def assert_upstream_fault(error: RemoteError) -> None:
    assert error.code == "MalformedResponse"
    assert not error.permanent  # the upload function lets SCF retry
    reply = error_reply(error)
    assert (reply.status, reply.outcome, reply.reason) == (502, "error", "upstream-error")
    assert reply.summary().get("detail") is None  # nothing of the answer is echoed to callers
    outcome = _outcome_of_error(error)
    assert getattr(outcome, "permanent", None) is False


@pytest.mark.parametrize("answer", HOSTILE_ANSWERS)
def test_unusable_ci_answers_are_ci_faults(answer: bytes) -> None:
    ci = CiClient(make_transport())
    with strict_mock() as mock:
        mock.add(responses.GET, f"https://{CI_HOST}/jobs/{JOB_ID}", body=answer)
        mock.add(responses.POST, f"https://{CI_HOST}/jobs", body=answer)
        mock.add(responses.GET, f"https://{CI_HOST}/jobs", body=answer)
        for call in (
            lambda: ci.describe_job(BUCKET, REGION, JOB_ID),
            lambda: ci.submit_media_info_job(BUCKET, REGION, REQUEST),
            lambda: ci.list_jobs(BUCKET, REGION),
        ):
            with pytest.raises(
                CiError,
                match="ci 200 MalformedResponse: CI answered a document that cannot be used",
            ) as raised:
                call()
            assert_upstream_fault(raised.value)


@pytest.mark.parametrize("answer", HOSTILE_ANSWERS)
def test_unusable_cos_answers_are_cos_faults(answer: bytes) -> None:
    cos = CosClient(make_transport())
    with strict_mock() as mock:
        mock.add(responses.GET, f"https://{COS_HOST}/videos/a.mp4", body=answer)
        mock.add(responses.GET, f"https://{COS_HOST}/", body=answer)
        with pytest.raises(
            CosError, match="cos 200 MalformedResponse: COS answered a document that cannot be used"
        ) as raised:
            cos.get_object_tagging(OBJ)
        assert_upstream_fault(raised.value)
        with pytest.raises(
            CosError, match="cos 200 MalformedResponse: COS answered a document that cannot be used"
        ) as raised:
            cos.list_objects(BUCKET, REGION)
        assert_upstream_fault(raised.value)
