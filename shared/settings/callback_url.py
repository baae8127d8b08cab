"""The upload function's callback base URL: where CI is told to call back, before the token.

An absolute https URL (plain http only for a loopback host, e.g. the emulator), no user info, no
fragment, no ``token`` query parameter and no last path segment starting with ``v2.``: the
per-object token is appended there (``shared.contract.callback_token.callback_url_for``; this
package may not import ``shared.contract``, so the prefix is repeated below). A bad value is a
``ConfigError`` naming the variable, never echoing it. Pure: no ``os.environ``, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

from shared.errors import ConfigError
from shared.settings.values import raw_value

_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_TOKEN_SEGMENT_PREFIX = "v2."  # noqa: S105 -- = shared.contract.callback_token.V2_PREFIX


def _ends_in_token_segment(path: str) -> bool:
    return path.rstrip("/").rsplit("/", 1)[-1].startswith(_TOKEN_SEGMENT_PREFIX)


def callback_base_url(environ: Mapping[str, str], variable: str) -> str:
    raw = raw_value(environ, variable)
    if raw is None:
        raise ConfigError(variable, "missing (the callback function's URL)")
    url = raw.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:  # e.g. an unbalanced IPv6 bracket
        raise ConfigError(variable, "is not a URL") from exc
    if parts.scheme not in ("https", "http") or not host or parts.fragment:
        raise ConfigError(variable, "must be an absolute http(s) URL without a #fragment")
    if parts.scheme == "http" and host not in _LOOPBACK_HOSTS:
        raise ConfigError(variable, "must use https (plain http only for a loopback host)")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(variable, "must not carry user info")
    if any(name == "token" for name, _ in parse_qsl(parts.query, keep_blank_values=True)):
        raise ConfigError(variable, "must not contain a token parameter (it is added per job)")
    if _ends_in_token_segment(parts.path):
        raise ConfigError(variable, "must not end in a v2. path segment (the token goes there)")
    return url
