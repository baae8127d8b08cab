"""Hosts, paths and query strings exactly as cos-python-sdk-v5 builds them (CosConfig.uri).

Object keys stay raw for signing (``sign_path``) and are percent-encoded once for the request
line (``wire_path``). ``Endpoint`` may redirect the very same request to a local emulator; the
caller keeps the real virtual host in the Host header so signatures do not change. This module
must not do I/O or read the environment.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from urllib.parse import quote, urlsplit

from shared.errors import ConfigError, EventError

ENDPOINT_URL_VARIABLE = "MEDIA_TAGGER_ENDPOINT_URL"
WIRE_SAFE_CHARS = "/-_.~"
QUERY_SAFE_CHARS = "-_.~"
# Bucket "<name>-<appid>" and region are placed in a host name: refuse anything else there.
_BUCKET_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
_REGION_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")
_HOST_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# urllib3 removes trailing "." / ".." segments from the path, so such keys cannot be addressed.
_DOT_SEGMENT_TAIL = (".", "..")


def _virtual_host(bucket: str, region: str, service: str) -> str:
    if not _BUCKET_RE.fullmatch(bucket):
        raise EventError(f"invalid bucket name {bucket!r}")
    if not _REGION_RE.fullmatch(region):
        raise EventError(f"invalid region {region!r}")
    return f"{bucket}.{service}.{region}.myqcloud.com"


def cos_host(bucket: str, region: str) -> str:
    """``<bucket>.cos.<region>.myqcloud.com``; ``bucket`` is the full ``<name>-<appid>``."""
    return _virtual_host(bucket, region, "cos")


def ci_host(bucket: str, region: str) -> str:
    """``<bucket>.ci.<region>.myqcloud.com`` (the SDK always uses myqcloud.com for CI)."""
    return _virtual_host(bucket, region, "ci")


def sign_path(key: str) -> str:
    """UriPathname of the signature: the raw key, '/' prepended unless already there."""
    if not key:
        return "/"
    return key if key.startswith("/") else "/" + key


def wire_path(key: str) -> str:
    """Request-line path: one leading '/' dropped, quote(safe '/-_.~'), './' -> '.%2F', and a
    leading '//' sent as '/%2F'.

    The last step is where we differ from the SDK: requests rewrites a path starting with '//'
    to a single '/' ("Don't confuse urllib3", ``HTTPAdapter.request_url``) after the SDK signed
    '//', so the SDK's own request for a key like ``//a.txt`` is refused (SignatureDoesNotMatch).
    COS decodes '%2F' (the SDK relies on it for './'), so the signed path still matches."""
    bare = key[1:] if key.startswith("/") else key
    if bare.rsplit("/", 1)[-1] in _DOT_SEGMENT_TAIL:
        raise EventError(f"object key {key!r} ends in a dot segment the HTTP stack would rewrite")
    encoded = "/" + quote(bare.encode("utf-8"), safe=WIRE_SAFE_CHARS).replace("./", ".%2F")
    return "/%2F" + encoded[2:] if encoded.startswith("//") else encoded


def encode_query(params: Mapping[str, str]) -> str:
    """``k=v&...`` in the given order, '%20' for spaces (never '+'); empty value -> ``k=``."""
    return "&".join(
        f"{quote(name.encode('utf-8'), safe=QUERY_SAFE_CHARS)}"
        f"={quote(value.encode('utf-8'), safe=QUERY_SAFE_CHARS)}"
        for name, value in params.items()
    )


def _valid_override_host(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return all(_HOST_LABEL_RE.fullmatch(label) for label in host.split("."))


def _override_base(override_url: str) -> str:
    parts = urlsplit(override_url)
    try:
        port = parts.port  # raises ValueError on a bad port
    except ValueError:
        port = -1
    usable = (
        parts.scheme in ("http", "https")
        and parts.hostname is not None
        and _valid_override_host(parts.hostname)
        and port != -1
        and parts.username is None
        and parts.path in ("", "/")
        and not parts.query
        and not parts.fragment
    )
    if not usable:
        raise ConfigError(
            ENDPOINT_URL_VARIABLE, "must be http(s)://<loopback address or host name>[:port]"
        )
    return f"{parts.scheme}://{parts.netloc}"


class Endpoint:
    """Where requests go: the real virtual host over https, or one override base URL."""

    def __init__(self, override_url: str | None = None) -> None:
        self._base = _override_base(override_url) if override_url else None

    @property
    def overridden(self) -> bool:
        return self._base is not None

    def url(self, host: str, wire_path: str, query: str = "") -> str:
        base = self._base if self._base is not None else f"https://{host}"
        return f"{base}{wire_path}?{query}" if query else f"{base}{wire_path}"
