"""SCF role credentials from the environment: required, optional token, never cached."""

from __future__ import annotations

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from shared.errors import ConfigError
from shared.tencent import credentials
from shared.tencent.credentials import credential_from_environ

FULL = {
    "TENCENTCLOUD_SECRETID": "AKIDsecretid",
    "TENCENTCLOUD_SECRETKEY": "topsecretkey",
    "TENCENTCLOUD_SESSIONTOKEN": "tok+/=en",
}


def test_reads_id_key_and_token() -> None:
    cred = credential_from_environ(FULL)
    assert (cred.secret_id, cred.secret_key, cred.token) == (
        "AKIDsecretid",
        "topsecretkey",
        "tok+/=en",
    )


@pytest.mark.parametrize("token", [None, "", "   "])
def test_missing_or_blank_token_means_no_token(token: str | None) -> None:
    environ = {k: v for k, v in FULL.items() if k != "TENCENTCLOUD_SESSIONTOKEN"}
    if token is not None:
        environ["TENCENTCLOUD_SESSIONTOKEN"] = token
    assert credential_from_environ(environ).token is None


@pytest.mark.parametrize("variable", ["TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY"])
@pytest.mark.parametrize("value", [None, "", "  \t"])
def test_missing_or_blank_secret_names_the_variable(variable: str, value: str | None) -> None:
    environ = {k: v for k, v in FULL.items() if k != variable}
    if value is not None:
        environ[variable] = value
    with pytest.raises(ConfigError, match=f"^{variable}: missing or blank") as caught:
        credential_from_environ(environ)
    assert caught.value.variable == variable


def test_whitespace_around_a_secret_is_refused_without_echoing_it() -> None:
    environ = dict(FULL, TENCENTCLOUD_SECRETKEY=" topsecretkey ")
    with pytest.raises(
        ConfigError, match="TENCENTCLOUD_SECRETKEY: has leading or trailing whitespace"
    ) as caught:
        credential_from_environ(environ)
    assert caught.value.variable == "TENCENTCLOUD_SECRETKEY"
    assert "topsecretkey" not in str(caught.value)


def test_values_are_read_on_every_call() -> None:
    environ = dict(FULL)
    first = credential_from_environ(environ)
    environ["TENCENTCLOUD_SECRETKEY"] = "rotatedkey"
    environ["TENCENTCLOUD_SESSIONTOKEN"] = "rotatedtoken"
    second = credential_from_environ(environ)
    assert (first.secret_key, first.token) == ("topsecretkey", "tok+/=en")
    assert (second.secret_key, second.token) == ("rotatedkey", "rotatedtoken")


@pytest.mark.parametrize(
    ("sdk_message", "variable"),
    [
        ("secret id should not contain spaces", "TENCENTCLOUD_SECRETID"),
        ("secret key should not be none or empty", "TENCENTCLOUD_SECRETKEY"),
    ],
)
def test_sdk_rejection_becomes_a_config_error(
    monkeypatch: pytest.MonkeyPatch, sdk_message: str, variable: str
) -> None:
    def refuse(*_args: object) -> None:
        raise TencentCloudSDKException("InvalidCredential", sdk_message)

    monkeypatch.setattr(credentials, "Credential", refuse)
    with pytest.raises(ConfigError, match="rejected by the Tencent Cloud SDK") as caught:
        credential_from_environ(FULL)
    assert caught.value.variable == variable
    assert isinstance(caught.value.__cause__, TencentCloudSDKException)
