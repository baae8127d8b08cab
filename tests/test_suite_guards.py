"""The suite's own guards: the loopback-only socket guard refuses other addresses."""

from __future__ import annotations

import socket

import pytest


def test_non_loopback_connection_is_refused() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(OSError, match=r"non-loopback address '203\.0\.113\.7'"):
            sock.connect(("203.0.113.7", 9))  # TEST-NET-3: never routed
    finally:
        sock.close()


def test_loopback_connection_is_allowed() -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        client.connect(server.getsockname())
    finally:
        client.close()
        server.close()
