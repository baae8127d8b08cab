"""deploy/cloud/api.py: the official SDK's own requests, intercepted by ``responses`` with strict
matchers (X-TC-Action, the exact JSON parameters), every registered answer required to fire.

Also: throttling retried with backoff through the injected sleep (ordered registry), network
errors retried for reads only, an error answer whose Content-Type the SDK does not recognise
still raising, and a parameter the SDK model does not know refused before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

import pytest
import responses
from responses import matchers
from responses.registries import OrderedRegistry

from deploy.cloud.api import CloudApi
from deploy.cloud.credentials import DeployCredentials
from deploy.cloud.errors import CloudApiError, SetupError
from tests.deploy_fake_cloud import CAM_URL, SCF_URL, SECRET_ID, SECRET_KEY

CREDENTIALS = DeployCredentials(SECRET_ID, SECRET_KEY, "session-token-0123456789", source="test")
GET_FUNCTION = {"FunctionName": "cos-media-tagger-dev-tag-on-callback", "Namespace": "default"}


def _answer(body: dict[str, object]) -> str:
    return json.dumps({"Response": {**body, "RequestId": "req-1"}})


def _throttled() -> str:
    return json.dumps(
        {
            "Response": {
                "Error": {"Code": "RequestLimitExceeded", "Message": "slow"},
                "RequestId": "req-t",
            }
        }
    )


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def api(sleeps: list[float]) -> CloudApi:
    return CloudApi(CREDENTIALS, "ap-guangzhou", sleep=sleeps.append)


@pytest.fixture
def strict() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def _action(
    name: str, params: Mapping[str, object], region: str | None = "ap-guangzhou"
) -> list[object]:
    headers = {
        "X-TC-Action": name,
        "Content-Type": "application/json",
        "X-TC-Token": "session-token-0123456789",
    }
    if region:
        headers["X-TC-Region"] = region
    return [
        matchers.header_matcher(headers),
        matchers.json_params_matcher(params, strict_match=True),
    ]


def test_scf_call_is_built_and_signed_by_the_sdk(
    api: CloudApi, strict: responses.RequestsMock
) -> None:
    strict.add(
        responses.POST,
        SCF_URL,
        body=_answer({"Status": "Active"}),
        content_type="application/json",
        match=_action("GetFunction", GET_FUNCTION),
    )
    assert api.call("scf", "GetFunction", GET_FUNCTION)["Status"] == "Active"
    authorization = strict.calls[0].request.headers["Authorization"]
    assert authorization.startswith(f"TC3-HMAC-SHA256 Credential={SECRET_ID}/")
    assert "/scf/tc3_request, SignedHeaders=content-type;host, Signature=" in authorization
    assert strict.calls[0].request.headers["X-TC-Version"] == "2018-04-16"


def test_cam_is_global_no_region_header(api: CloudApi, strict: responses.RequestsMock) -> None:
    strict.add(
        responses.POST,
        CAM_URL,
        body=_answer({"AppId": 1250000000}),
        content_type="application/json",
        match=_action("GetUserAppId", {}, region=None),
    )
    assert api.call("cam", "GetUserAppId", {})["AppId"] == 1250000000
    assert "X-TC-Region" not in strict.calls[0].request.headers


def test_throttling_is_retried_with_backoff(sleeps: list[float], api: CloudApi) -> None:
    params = {"PolicyId": 7, "AttachRoleName": "media-tagger-scf"}
    with responses.RequestsMock(
        assert_all_requests_are_fired=True, registry=OrderedRegistry
    ) as mock:
        for body in (_throttled(), _throttled(), _answer({})):
            mock.add(
                responses.POST,
                CAM_URL,
                body=body,
                content_type="application/json",
                match=_action("AttachRolePolicy", params, region=None),
            )
        assert api.call("cam", "AttachRolePolicy", params) == {"RequestId": "req-1"}
    assert sleeps == [1.0, 2.0]


def test_network_errors_are_retried_for_reads_only(sleeps: list[float], api: CloudApi) -> None:
    with responses.RequestsMock(
        assert_all_requests_are_fired=True, registry=OrderedRegistry
    ) as mock:
        mock.add(responses.POST, SCF_URL, body=ConnectionError("reset"))
        mock.add(
            responses.POST,
            SCF_URL,
            body=_answer({"Status": "Active"}),
            content_type="application/json",
        )
        assert api.call("scf", "GetFunction", GET_FUNCTION)["Status"] == "Active"
    assert sleeps == [1.0]
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.add(responses.POST, SCF_URL, body=ConnectionError("reset"))
        with pytest.raises(CloudApiError, match="ClientNetworkError"):
            api.call("scf", "DeleteFunction", GET_FUNCTION)


def test_an_error_answer_raises_whatever_its_content_type(
    api: CloudApi, strict: responses.RequestsMock
) -> None:
    body = json.dumps(
        {
            "Response": {
                "Error": {"Code": "ResourceNotFound.Function", "Message": "no"},
                "RequestId": "req-9",
            }
        }
    )
    strict.add(
        responses.POST,
        SCF_URL,
        body=body,
        content_type="application/json; charset=utf-8",
        match=_action("GetFunction", GET_FUNCTION),
    )
    with pytest.raises(
        CloudApiError, match=r"scf GetFunction: ResourceNotFound\.Function: no \(request id req-9\)"
    ) as caught:
        api.call("scf", "GetFunction", GET_FUNCTION)
    assert caught.value.is_code("ResourceNotFound") and caught.value.request_id == "req-9"


def test_a_parameter_unknown_to_the_sdk_model_is_refused_before_sending(
    api: CloudApi, strict: responses.RequestsMock
) -> None:
    with pytest.raises(SetupError, match="not in the SDK model"):
        api.call("scf", "UpdateFunctionConfiguration", {"FunctionName": "f", "MemorySise": 128})
    with pytest.raises(SetupError, match="not in the SDK model"):
        api.call("scf", "CreateFunction", {"FunctionName": "f", "Code": {"Zipfile": "x"}})
    with pytest.raises(SetupError, match="no action"):
        api.call("scf", "PutFunctionEventInvokeConfig", {})
    assert len(strict.calls) == 0


def test_errors_never_carry_the_secret_key(api: CloudApi, strict: responses.RequestsMock) -> None:
    strict.add(responses.POST, SCF_URL, body=_throttled(), content_type="application/json")
    strict.add(responses.POST, SCF_URL, body="<html>bad gateway</html>", status=502)
    with pytest.raises(CloudApiError, match="scf GetFunction: ServerNetworkError") as caught:
        CloudApi(CREDENTIALS, "ap-guangzhou", sleep=lambda s: None, max_attempts=2).call(
            "scf", "GetFunction", GET_FUNCTION
        )
    assert caught.value.code == "ServerNetworkError"
    assert SECRET_KEY not in str(caught.value)
