"""The emulator verifies every request's signature as COS does (cos-ci-api.md section 1).

Unit part: ``emulator.auth.verify_request`` accepts every vector the official SDK (and the
signature doc) produced, and refuses each one once tampered. HTTP part: raw requests signed
with ``shared.tencent.signing`` against a running emulator: good, wrong key, expired, header changed
after signing, missing token, missing Authorization, unknown SecretId, on COS and CI hosts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from emulator.auth import EmulatorCredentials, SignedRequest, verify_request
from shared.tencent.xml_answers import parse_error_body
from tests.emulator_fixtures import CI_HOST, Harness, harness, start_harness

__all__ = ["harness"]

VECTORS = json.loads(
    (Path(__file__).parent / "fixtures" / "sign_vectors.json").read_text(encoding="utf-8")
)
ALL_VECTORS = VECTORS["vectors"] + VECTORS["doc_examples"]


def _vector_request(vector: dict[str, Any]) -> tuple[EmulatorCredentials, SignedRequest]:
    headers = {name.lower(): value for name, value in vector["headers"].items()}
    headers["authorization"] = vector["authorization"]
    url = vector.get("url")
    if url:  # exactly what the server does with the request line
        parts = urlsplit(url)
        path, query = unquote(parts.path), parse_qsl(parts.query, keep_blank_values=True)
    else:
        path, query = vector["sign_path"], list(vector["params"].items())
    token = headers.get("x-cos-security-token") or headers.get("x-ci-security-token")
    credentials = EmulatorCredentials(vector["secret_id"], vector["secret_key"], token)
    return credentials, SignedRequest(vector["method"], path, query, headers)


def _service(vector: dict[str, Any]) -> str:
    """The API a vector was made for: the SDK sends x-ci-security-token only to CI."""
    return "ci" if "x-ci-security-token" in vector["headers"] else "cos"


@pytest.mark.parametrize("vector", ALL_VECTORS, ids=[v["name"] for v in ALL_VECTORS])
def test_sdk_and_doc_vectors_verify(vector: dict[str, Any]) -> None:
    credentials, request = _vector_request(vector)
    now = vector["start"] + 60
    assert verify_request(credentials, request, now, service=_service(vector)) is None


@pytest.mark.parametrize("vector", ALL_VECTORS, ids=[v["name"] for v in ALL_VECTORS])
def test_vectors_refused_when_a_signed_header_changes(vector: dict[str, Any]) -> None:
    credentials, request = _vector_request(vector)
    signed = vector["signed_headers"][0]
    request.headers[signed] = request.headers[signed] + "x"  # type: ignore[index]
    failure = verify_request(credentials, request, vector["start"] + 60, service=_service(vector))
    assert failure is not None and failure.kind == "signature"


def test_token_vectors_are_refused_by_the_other_service() -> None:
    with_token = [v for v in ALL_VECTORS if "token" in v["name"]]
    assert {_service(v) for v in with_token} == {"cos", "ci"}
    for vector in with_token:
        credentials, request = _vector_request(vector)
        other = "cos" if _service(vector) == "ci" else "ci"
        failure = verify_request(credentials, request, vector["start"] + 60, service=other)
        assert failure is not None and failure.kind == "token_missing", vector["name"]


def test_vector_refused_after_its_key_time() -> None:
    vector = VECTORS["vectors"][0]
    credentials, request = _vector_request(vector)
    failure = verify_request(credentials, request, vector["end"] + 1)
    assert failure is not None
    assert failure.status_and_code("cos") == (403, "AccessDenied")
    assert failure.status_and_code("ci") == (401, "SignatureExpired")
    assert failure.message == "Request has expired"
    assert verify_request(credentials, request, vector["start"] - 1) is not None


def test_unsigned_headers_and_params_do_not_matter() -> None:
    vector = VECTORS["vectors"][0]
    credentials, request = _vector_request(vector)
    request.headers["user-agent"] = "something else"  # type: ignore[index]
    request.query.append(("unsigned", "1"))
    assert verify_request(credentials, request, vector["start"] + 60) is None


def test_signed_param_value_change_is_refused() -> None:
    vector = next(v for v in VECTORS["doc_examples"] if v["params"])
    credentials, request = _vector_request(vector)
    tampered = [(k, v + "0" if k == "response-cache-control" else v) for k, v in request.query]
    request = SignedRequest(request.method, request.path, tampered, request.headers)
    failure = verify_request(credentials, request, vector["start"] + 60)
    assert failure is not None and failure.kind == "signature"


def test_repr_hides_the_secret_and_token() -> None:
    shown = repr(EmulatorCredentials.default())
    assert EmulatorCredentials.default().secret_key not in shown
    assert "local-emulator-session-token" not in shown


# -- over HTTP --------------------------------------------------------------------------------
pytestmark_e2e = pytest.mark.e2e


def _error(response: Any) -> Any:
    parsed = parse_error_body(response.content)
    assert parsed is not None, response.content
    return parsed


@pytestmark_e2e
def test_good_request_is_answered(harness: Harness) -> None:
    put = harness.client.send("PUT", "a.txt", body=b"hello")
    assert put.status_code == 200
    assert harness.client.send("HEAD", "a.txt").status_code == 200


@pytestmark_e2e
def test_wrong_secret_key_is_signature_does_not_match(harness: Harness) -> None:
    response = harness.client.send("PUT", "a.txt", body=b"x", secret_key="not-the-key")
    assert response.status_code == 403
    error = _error(response)
    assert error.code == "SignatureDoesNotMatch"
    assert error.request_id == response.headers["x-cos-request-id"]
    assert error.resource and error.resource.endswith("/a.txt")
    assert error.trace_id
    assert harness.server.store.head("media-1250000000", "a.txt") is None


@pytestmark_e2e
def test_expired_key_time_is_refused_on_cos_and_ci(harness: Harness) -> None:
    old = (1_500_000_000, 1_500_000_600)
    cos = harness.client.send("GET", "a.txt", key_time=old)
    assert cos.status_code == 403
    assert (_error(cos).code, _error(cos).message) == ("AccessDenied", "Request has expired")
    ci = harness.client.send("GET", "/jobs/jabc", host=CI_HOST, key_time=old)
    assert ci.status_code == 401
    assert _error(ci).code == "SignatureExpired"
    assert ci.headers["Server"] == "tencent-ci" and ci.headers["x-ci-request-id"]


@pytestmark_e2e
def test_key_time_in_the_future_is_refused(harness: Harness) -> None:
    future = (4_000_000_000, 4_000_000_600)
    assert harness.client.send("GET", "a.txt", key_time=future).status_code == 403


@pytestmark_e2e
def test_cos_header_changed_after_signing_is_refused(harness: Harness) -> None:
    response = harness.client.send(
        "PUT",
        "a.txt",
        body=b"x",
        headers={"x-cos-meta-owner": "alice"},
        after_signing={"x-cos-meta-owner": "mallory"},
    )
    assert response.status_code == 403
    assert _error(response).code == "SignatureDoesNotMatch"


@pytestmark_e2e
def test_body_length_changed_after_signing_is_refused(harness: Harness) -> None:
    response = harness.client.send(
        "PUT", "a.txt", body=b"abc", after_signing={"Content-Length": "3", "Content-Type": "x/y"}
    )
    assert response.status_code == 200  # Content-Type was not signed: not part of the check
    changed = harness.client.send(
        "PUT",
        "a.txt",
        body=b"abc",
        headers={"Content-Type": "a/b"},
        after_signing={"Content-Type": "x/y"},
    )
    assert changed.status_code == 403


@pytestmark_e2e
def test_unsigned_query_parameter_is_ignored_but_signed_one_is_checked(harness: Harness) -> None:
    harness.client.send("PUT", "a.txt", body=b"x")
    ok = harness.client.send("GET", "", params={"prefix": "a"}, unsigned_params={"x-extra": "1"})
    assert ok.status_code == 200
    bad = harness.client.send("GET", "", params={"prefix": "a"}, unsigned_params={"prefix": "b"})
    assert bad.status_code == 403


@pytestmark_e2e
def test_temporary_credentials_need_the_token(harness: Harness) -> None:
    missing = harness.client.send("GET", "a.txt", token=None)
    assert missing.status_code == 403
    assert _error(missing).code == "InvalidAccessKeyId"
    wrong = harness.client.send("GET", "a.txt", token="other-token")
    assert wrong.status_code == 403
    assert _error(wrong).code == "InvalidToken"
    ci_missing = harness.client.send("GET", "/jobs/jabc", host=CI_HOST, token=None)
    assert ci_missing.status_code == 403


@pytestmark_e2e
def test_each_service_reads_only_its_own_token_header(harness: Harness) -> None:
    token = harness.client.credentials.token or ""
    jobs = {"tag": "MediaInfo"}
    cos_with_ci_token = harness.client.send(
        "GET", "", token=None, headers={"x-ci-security-token": token}
    )
    assert (cos_with_ci_token.status_code, _error(cos_with_ci_token).code) == (
        403,
        "InvalidAccessKeyId",
    )
    ci_with_cos_token = harness.client.send(
        "GET",
        "/jobs",
        host=CI_HOST,
        token=None,
        params=jobs,
        headers={"x-cos-security-token": token},
    )
    assert (ci_with_cos_token.status_code, _error(ci_with_cos_token).code) == (
        403,
        "InvalidAccessKeyId",
    )
    # CI calls on the COS host name (the SDK's IP/Port mode) are CI's: x-ci- is the right one
    jobs_on_cos = harness.client.send(
        "GET", "/jobs", token=None, params=jobs, headers={"x-ci-security-token": token}
    )
    assert jobs_on_cos.status_code == 200
    both = harness.client.send(
        "GET",
        "",
        token=None,
        headers={"x-cos-security-token": token, "x-ci-security-token": "ignored-by-cos"},
    )
    assert both.status_code == 200


@pytestmark_e2e
def test_permanent_credentials_need_no_token(tmp_path: Path) -> None:
    running = start_harness(tmp_path, EmulatorCredentials("AKIDPERMANENT", "permanent-key"))
    try:
        assert running.client.send("PUT", "a.txt", body=b"x", token=None).status_code == 200
    finally:
        running.server.stop()


@pytestmark_e2e
def test_missing_authorization_and_unknown_secret_id(harness: Harness) -> None:
    session = harness.client.session
    url = harness.server.endpoint_url
    bare_cos = session.get(
        f"{url}/a.txt", headers={"Host": "media-1250000000.cos.ap-guangzhou.myqcloud.com"}
    )
    assert (bare_cos.status_code, _error(bare_cos).code) == (403, "AccessDenied")
    bare_ci = session.get(f"{url}/jobs/jx", headers={"Host": CI_HOST})
    assert (bare_ci.status_code, _error(bare_ci).code) == (401, "MissingAuthorization")
    other = harness.client.send("GET", "a.txt", secret_id="AKIDSOMEONEELSE")
    assert (other.status_code, _error(other).code) == (403, "InvalidAccessKeyId")
    other_ci = harness.client.send("GET", "/jobs/jx", host=CI_HOST, secret_id="AKIDSOMEONEELSE")
    assert (other_ci.status_code, _error(other_ci).code) == (401, "SecretidNotExist")


@pytestmark_e2e
def test_head_refusal_has_no_body(harness: Harness) -> None:
    response = harness.client.send("HEAD", "a.txt", secret_key="wrong")
    assert response.status_code == 403
    assert response.content == b""
