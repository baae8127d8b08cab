"""COS / Cloud Infinite request signing, ``q-sign-algorithm=sha1`` (cos-ci-api.md section 1).

A pure core (``authorization`` and its intermediates, time passed in) plus ``CosRequestSigner``, a
requests ``AuthBase`` that chooses the headers to sign and reads time from an injected clock. This
module must not do I/O, read the environment or log anything: its inputs include secrets.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import quote, urlparse

import requests
from tencentcloud.common.credential import Credential

# UrlEncode of the signature doc: only A-Z a-z 0-9 - _ . ~ stay unescaped; space is %20, never '+'.
SIGN_SAFE_CHARS = "-_.~"
# The SDK back-dates KeyTime by 60 s to absorb small clock skew (cos_auth.CosS3Auth).
BACKDATE_S = 60
DEFAULT_EXPIRE_S = 900
# Signed by name; every x-cos-* / x-ci-* header by prefix. Date is never signed (as the SDK).
SIGNED_HEADER_NAMES = frozenset({"host", "content-type", "content-md5", "content-length"})
SIGNED_HEADER_PREFIXES = ("x-cos-", "x-ci-")


def sign_encode(text: str) -> str:
    """UTF-8 percent-encoding with only ``-_.~`` left as is (the doc's UrlEncode)."""
    return quote(text.encode("utf-8"), safe=SIGN_SAFE_CHARS)


def canonical_pairs(items: Mapping[str, str]) -> list[tuple[str, str]]:
    """Names encoded and lower-cased, values encoded, sorted by encoded name."""
    return sorted((sign_encode(name).lower(), sign_encode(value)) for name, value in items.items())


def _join_pairs(pairs: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{name}={value}" for name, value in pairs)


def _join_names(pairs: Iterable[tuple[str, str]]) -> str:
    return ";".join(name for name, _ in pairs)


def uri_pathname(path: str) -> str:
    """The raw (never URL-encoded) path of the HttpString: '/' prepended when missing."""
    if not path:
        return "/"
    return path if path.startswith("/") else "/" + path


def key_time(start: int, end: int) -> str:
    return f"{start};{end}"


def http_string(
    method: str, path: str, params: Mapping[str, str], headers: Mapping[str, str]
) -> str:
    """``<method>\\n<UriPathname>\\n<HttpParameters>\\n<HttpHeaders>\\n``."""
    return (
        f"{method.lower()}\n{uri_pathname(path)}\n"
        f"{_join_pairs(canonical_pairs(params))}\n{_join_pairs(canonical_pairs(headers))}\n"
    )


def _hmac_sha1_hex(key: str, message: str) -> str:
    return hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha1).hexdigest()


def sign_key(secret_key: str, start: int, end: int) -> str:
    return _hmac_sha1_hex(secret_key, key_time(start, end))


def string_to_sign(start: int, end: int, http_str: str) -> str:
    # SHA1 is what the protocol prescribes; it is not used here as a password hash.
    digest = hashlib.sha1(http_str.encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"sha1\n{key_time(start, end)}\n{digest}\n"


def authorization(  # noqa: PLR0917 -- positional signature fixed by issue 2
    secret_id: str,
    secret_key: str,
    method: str,
    path: str,
    params: Mapping[str, str],
    headers: Mapping[str, str],
    start: int,
    end: int,
) -> str:
    """The Authorization header value. ``headers`` are exactly the headers to sign."""
    signature = _hmac_sha1_hex(
        sign_key(secret_key, start, end),
        string_to_sign(start, end, http_string(method, path, params, headers)),
    )
    times = key_time(start, end)
    return (
        f"q-sign-algorithm=sha1&q-ak={secret_id}&q-sign-time={times}&q-key-time={times}"
        f"&q-header-list={_join_names(canonical_pairs(headers))}"
        f"&q-url-param-list={_join_names(canonical_pairs(params))}"
        f"&q-signature={signature}"
    )


def is_signed_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in SIGNED_HEADER_NAMES or lowered.startswith(SIGNED_HEADER_PREFIXES)


def headers_to_sign(headers: Mapping[str, str], url: str) -> dict[str, str]:
    """Choose the headers to sign; ``host`` comes from the URL when no Host header is set."""
    chosen = {name: value for name, value in headers.items() if is_signed_header(name)}
    if not any(name.lower() == "host" for name in chosen):
        hostname = urlparse(url).hostname  # lower-case, port dropped (as the SDK)
        if hostname:
            chosen["host"] = hostname
    return chosen


class CosRequestSigner(requests.auth.AuthBase):
    """Signs a prepared request. ``sign_path`` is the raw path, ``params`` the query to sign."""

    def __init__(
        self,
        credential: Credential,
        sign_path: str,
        params: Mapping[str, str],
        clock: Callable[[], float] = time.time,
        expire_s: int = DEFAULT_EXPIRE_S,
    ) -> None:
        self._credential = credential
        self._sign_path = sign_path
        self._params = dict(params)
        self._clock = clock
        self._expire_s = expire_s

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        now = int(self._clock())
        r.headers["Authorization"] = authorization(
            self._credential.secret_id,
            self._credential.secret_key,
            r.method or "GET",
            self._sign_path,
            self._params,
            headers_to_sign(r.headers, r.url or ""),
            now - BACKDATE_S,
            now + self._expire_s,
        )
        return r
