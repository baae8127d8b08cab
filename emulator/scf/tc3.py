"""TC3-HMAC-SHA256 verification for Tencent Cloud API 3.0 requests (the SCF API the functions call).

The signer side is tencentcloud-sdk-python-common (``AbstractClient._get_tc3_signature``,
``Sign.sign_tc3``); this recomputes it from the request: the canonical request
``POST\\n/\\n\\ncontent-type:<ct>\\nhost:<host>\\n\\ncontent-type;host\\n<sha256(body)>``, the
credential scope ``<UTC date>/<service>/tc3_request``, key chain TC3<secret> -> date -> service ->
tc3_request. Only POST with a JSON body is accepted (all the functions send). Returns a refusal
reason or None; never logs or returns a secret or a signature. Pure: no I/O, time passed in.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime, timezone

ALGORITHM = "TC3-HMAC-SHA256"
MAX_SKEW_S = (
    300  # API 3.0 refuses a timestamp more than 5 minutes off (AuthFailure.SignatureExpire)
)
_AUTHORIZATION = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[a-z]+)/"
    r"tc3_request, SignedHeaders=(?P<signed>[a-z;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def signature(secret_key: str, date: str, service: str, string_to_sign: str) -> str:
    key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode("utf-8"), date), service), "tc3_request")
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def string_to_sign(headers: Mapping[str, str], body: bytes, date: str, service: str) -> str:
    canonical = "\n".join(
        (
            "POST",
            "/",
            "",
            f"content-type:{headers.get('content-type', '')}\nhost:{headers.get('host', '')}\n",
            "content-type;host",
            hashlib.sha256(body).hexdigest(),
        )
    )
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    scope = f"{date}/{service}/tc3_request"
    return f"{ALGORITHM}\n{headers.get('x-tc-timestamp', '')}\n{scope}\n{digest}"


def verify(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secret_id: str,
    secret_key: str,
    token: str | None,
    now: float,
) -> tuple[str, str] | None:
    """(error code, message) as API 3.0 names them, or None when the request is signed right.
    ``headers`` have lower-case names."""
    match = _AUTHORIZATION.fullmatch(headers.get("authorization", ""))
    if match is None or match["signed"] != "content-type;host":
        return "AuthFailure.InvalidAuthorization", "Authorization is not a TC3 signature"
    if match["id"] != secret_id:
        return "AuthFailure.SecretIdNotFound", "unknown SecretId"
    if token and headers.get("x-tc-token") != token:
        return "AuthFailure.TokenFailure", "X-TC-Token is missing or wrong"
    stamp = headers.get("x-tc-timestamp", "")
    if not stamp.isdigit() or abs(int(stamp) - now) > MAX_SKEW_S:
        return "AuthFailure.SignatureExpire", "X-TC-Timestamp is missing or too far off"
    date = datetime.fromtimestamp(int(stamp), timezone.utc).strftime("%Y-%m-%d")
    expected = signature(
        secret_key, date, match["service"], string_to_sign(headers, body, date, match["service"])
    )
    if date != match["date"] or not hmac.compare_digest(expected, match["signature"]):
        return "AuthFailure.SignatureFailure", "the signature does not match"
    return None
