"""SCF role credentials from the environment, as a tencentcloud ``Credential``.

SCF injects rotating temporary keys as TENCENTCLOUD_SECRETID / TENCENTCLOUD_SECRETKEY /
TENCENTCLOUD_SESSIONTOKEN, so they are read on every call and never cached. This module must not
log or echo any credential value (error messages name the variable only).
"""

from __future__ import annotations

from collections.abc import Mapping

from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from shared.errors import ConfigError

# Names of environment variables, not secrets.
SECRET_ID_VARIABLE = "TENCENTCLOUD_SECRETID"  # noqa: S105
SECRET_KEY_VARIABLE = "TENCENTCLOUD_SECRETKEY"  # noqa: S105
SESSION_TOKEN_VARIABLE = "TENCENTCLOUD_SESSIONTOKEN"  # noqa: S105


def _required(environ: Mapping[str, str], variable: str) -> str:
    value = environ.get(variable, "")
    if not value.strip():
        raise ConfigError(
            variable, "missing or blank (the function needs a role with COS/CI access)"
        )
    if value.strip() != value:
        raise ConfigError(variable, "has leading or trailing whitespace")
    return value


def credential_from_environ(environ: Mapping[str, str]) -> Credential:
    """Build the credential from ``environ`` now. A blank session token means "no token"."""
    secret_id = _required(environ, SECRET_ID_VARIABLE)
    secret_key = _required(environ, SECRET_KEY_VARIABLE)
    token = environ.get(SESSION_TOKEN_VARIABLE, "").strip() or None
    try:
        return Credential(secret_id, secret_key, token)
    except TencentCloudSDKException as exc:
        # The SDK message names the field but never the secret; we still do not forward it.
        variable = SECRET_KEY_VARIABLE if "key" in str(exc).lower() else SECRET_ID_VARIABLE
        raise ConfigError(variable, "rejected by the Tencent Cloud SDK") from exc
