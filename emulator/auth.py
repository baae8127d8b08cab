"""Signature verification for every COS / CI request, as COS does it (cos-ci-api.md section 1).

The signature travels in the Authorization header or, for a presigned URL, as the same q-* fields
in the query string (COS "Request signature" doc, "Using a Signature"). Either way it is checked
with the same rules: the key time window against the emulator's clock, the security token when
the configured credentials are temporary (header ``x-cos-security-token``, or for a presigned URL
the ``x-cos-security-token`` query parameter, signed or not, as the doc's "Using a Temporary
Credential" and cos-python-sdk-v5's ``Params={'x-cos-security-token': ...}`` send it), and the
signature recomputed with ``shared.tencent.signing.authorization`` over exactly the headers named
in q-header-list and the parameters named in q-url-param-list (the q-* fields themselves are
never signed). A request carrying both forms is judged by its header: COS does not document the
case (UNCERTAIN), the header is the primary form. Failures are ``AuthFailure`` values that the
server renders in the COS or CI error flavour. Never log a secret, a token, an Authorization
header or a signature from here.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from shared.tencent.signing import authorization, sign_encode

REQUIRED_FIELDS = (
    "q-sign-algorithm",
    "q-ak",
    "q-sign-time",
    "q-key-time",
    "q-header-list",
    "q-url-param-list",
    "q-signature",
)
# Each service reads only its own token header (COS common request headers vs CI common request
# headers; research cos-facts.md section 11): the other one is an unknown header to it, so a
# temporary key that sends only the other header is refused as if it sent no token. "Service" is
# the API answering, not the Host: CI calls on a COS host (the SDK's IP/Port mode) carry x-ci-.
TOKEN_HEADER = {"cos": "x-cos-security-token", "ci": "x-ci-security-token"}
TOKEN_PARAM = "x-cos-security-token"  # noqa: S105 -- a parameter name, not a secret

# (status, code) per failure kind, for COS and for CI. The COS codes come from the handbook's
# COS error table (cos-ci-api.md section 1.4 / 2.5): an expired key time is "403 AccessDenied,
# Request has expired" on COS and "401 SignatureExpired" on CI; a bad signature is 403
# SignatureDoesNotMatch on both. Token failures: 403 InvalidAccessKeyId when the token is absent,
# 403 InvalidToken when it differs (COS documents no finer code; chosen for clarity).
_CODES: dict[str, tuple[tuple[int, str], tuple[int, str]]] = {
    "missing": ((403, "AccessDenied"), (401, "MissingAuthorization")),
    "malformed": ((403, "AccessDenied"), (401, "InvalidAuthorization")),
    "access_key": ((403, "InvalidAccessKeyId"), (401, "SecretidNotExist")),
    "expired": ((403, "AccessDenied"), (401, "SignatureExpired")),
    "token_missing": ((403, "InvalidAccessKeyId"), (403, "InvalidAccessKeyId")),
    "token_wrong": ((403, "InvalidToken"), (403, "InvalidToken")),
    "signature": ((403, "SignatureDoesNotMatch"), (403, "SignatureDoesNotMatch")),
}


@dataclass(frozen=True)
class EmulatorCredentials:
    """The one key pair the emulator accepts; a ``token`` makes them temporary credentials."""

    secret_id: str
    secret_key: str
    token: str | None = None

    @classmethod
    def default(cls) -> EmulatorCredentials:
        """Fixed, obviously fake values for local runs (never real cloud credentials)."""
        return cls(
            secret_id="AKIDLOCALEMULATOR000000000000000000",  # noqa: S106 -- fake, local only
            secret_key="LocalEmulatorSecretKeyNotASecret0000",  # noqa: S106 -- fake, local only
            token="local-emulator-session-token",  # noqa: S106 -- fake, local only
        )

    def __repr__(self) -> str:  # keep the key and token out of logs and tracebacks
        return f"EmulatorCredentials(secret_id={self.secret_id!r}, secret_key=***, token=***)"


@dataclass(frozen=True)
class AuthFailure:
    kind: str
    message: str

    def status_and_code(self, service: str) -> tuple[int, str]:
        cos, ci = _CODES[self.kind]
        return ci if service == "ci" else cos


@dataclass(frozen=True)
class SignedRequest:
    """What verification needs from a request. ``path`` is percent-decoded."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: Mapping[str, str]  # lower-case names


def parse_authorization(value: str) -> dict[str, str] | None:
    """``q-…=…&q-…=…`` -> fields; None when a required field is missing."""
    fields = {}
    for part in value.strip().split("&"):
        name, _, field_value = part.partition("=")
        fields[name.strip().lower()] = field_value.strip()
    if any(name not in fields for name in REQUIRED_FIELDS):
        return None
    return fields


def _key_time(text: str) -> tuple[int, int] | None:
    start, sep, end = text.partition(";")
    if not sep or not start.isdigit() or not end.isdigit():
        return None
    return int(start), int(end)


def _token_failure(
    credentials: EmulatorCredentials, sent: list[str], service: str
) -> AuthFailure | None:
    if credentials.token is None:
        return None
    if not sent:
        return AuthFailure("token_missing", f"temporary credentials need {TOKEN_HEADER[service]}")
    if not any(hmac.compare_digest(token, credentials.token) for token in sent):
        return AuthFailure("token_wrong", "The security token does not match the key")
    return None


def _signed_values(
    names: str, available: Mapping[str, str], what: str
) -> dict[str, str] | AuthFailure:
    chosen: dict[str, str] = {}
    for name in filter(None, names.lower().split(";")):
        if name not in available:
            return AuthFailure("signature", f"{what} {name!r} is signed but not in the request")
        chosen[name] = available[name]
    return chosen


def _expected_signature(
    credentials: EmulatorCredentials,
    request: SignedRequest,
    fields: Mapping[str, str],
    times: tuple[int, int],
) -> str | AuthFailure:
    headers = _signed_values(fields["q-header-list"], request.headers, "header")
    if isinstance(headers, AuthFailure):
        return headers
    # Names are matched case-insensitively in their encoded form but signed as sent, so the
    # signer's own encoding produces the listed name again.
    original_name: dict[str, str] = {}
    by_encoded_name: dict[str, str] = {}
    for name, value in request.query:
        encoded = sign_encode(name).lower()
        original_name.setdefault(encoded, name)
        by_encoded_name.setdefault(encoded, value)
    chosen = _signed_values(fields["q-url-param-list"], by_encoded_name, "parameter")
    if isinstance(chosen, AuthFailure):
        return chosen
    params = {original_name[name]: value for name, value in chosen.items()}
    header_value = authorization(
        credentials.secret_id,
        credentials.secret_key,
        request.method,
        request.path,
        params,
        headers,
        times[0],
        times[1],
    )
    return header_value.rsplit("q-signature=", 1)[1]


def _header_failure(
    credentials: EmulatorCredentials, header: str
) -> tuple[dict[str, str], tuple[int, int]] | AuthFailure:
    """Parsed Authorization fields and key time, or why the header itself is refused."""
    if not header.strip():
        return AuthFailure(
            "missing", "The request carries no Authorization header and no q-signature parameter"
        )
    fields = parse_authorization(header)
    if fields is None or fields["q-sign-algorithm"].lower() != "sha1":
        return AuthFailure("malformed", "Authorization is malformed or not q-sign-algorithm=sha1")
    if not hmac.compare_digest(fields["q-ak"], credentials.secret_id):
        return AuthFailure("access_key", "The SecretId in the Authorization is not known")
    times = _key_time(fields["q-key-time"])
    if times is None:
        return AuthFailure("malformed", "q-key-time must be '<start>;<end>' in Unix seconds")
    return fields, times


def _sent_tokens(request: SignedRequest, presigned: bool, service: str) -> list[str]:
    """The token the answering service reads: its own header (see TOKEN_HEADER) and, in a
    presigned COS URL, the x-cos-security-token parameter."""
    name = TOKEN_HEADER[service]
    sent = [request.headers[name]] if name in request.headers else []
    if presigned and service == "cos":
        sent += [value for name, value in request.query if name.lower() == TOKEN_PARAM]
    return sent


def _signature_text(request: SignedRequest) -> tuple[str, bool]:
    """The q-* fields as one ``a=b&c=d`` text, and whether they came from the query string."""
    header = request.headers.get("authorization", "")
    if header.strip():
        return header, False
    fields = [(name, value) for name, value in request.query if name.lower().startswith("q-")]
    if not any(name.lower() == "q-signature" for name, _ in fields):
        return "", False
    return "&".join(f"{name}={value}" for name, value in fields), True


def verify_request(
    credentials: EmulatorCredentials, request: SignedRequest, now: float, *, service: str = "cos"
) -> AuthFailure | None:
    """None when the request is signed by ``credentials`` and valid at ``now`` for ``service``."""
    text, presigned = _signature_text(request)
    parsed = _header_failure(credentials, text)
    if isinstance(parsed, AuthFailure):
        return parsed
    fields, times = parsed
    if not times[0] <= now <= times[1]:
        return AuthFailure("expired", "Request has expired")
    sent = _sent_tokens(request, presigned, service)
    token_failure = _token_failure(credentials, sent, service)
    if token_failure is not None:
        return token_failure
    expected = _expected_signature(credentials, request, fields, times)
    if isinstance(expected, AuthFailure):
        return expected
    if not hmac.compare_digest(expected, fields["q-signature"].lower()):
        return AuthFailure(
            "signature", "The Signature you specified does not match what we calculated"
        )
    return None
