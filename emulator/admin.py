"""Admin endpoints under ``/_emulator/`` (on a non-bucket Host such as 127.0.0.1:PORT).

``GET /_emulator/stats`` -> the server's stats as JSON; ``GET /_emulator/faults`` -> injected
fault counters; ``POST /_emulator/faults`` with ``{"method": "<Faults method>", "params": {...}}``
(or a list of such objects) arms faults from another process (benchmarks, soak runs). Only the
``Faults`` methods listed in ``FAULT_METHODS`` can be called. ``GET /_emulator/queue`` -> the CI
media queue; ``POST /_emulator/queue`` with any of ``{"state": "Paused"|"Active", "max_size": N,
"max_concurrent": N}`` changes it. ``POST /_emulator/inventory`` with ``{"bucket": B,
"destination": D, "prefix": P, "inventory_id": ID}`` (all but ``bucket`` optional) writes a
one-time COS inventory of B into D, as COS lays it out, and answers its manifest key.
Unsigned: the server listens on loopback only. This module does not touch sockets.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from emulator.ci.queue import QueueView
from emulator.faults import Faults
from emulator.wire import ApiRequest, Reply

MAX_ADMIN_BODY = 64 * 1024
FAULT_METHODS = frozenset(
    {
        "fail_next",
        "delay",
        "stall",
        "drop_next_callbacks",
        "duplicate_next_callbacks",
        "reorder_callbacks",
        "random_failures",
        "random_callback_faults",
        "reset",
    }
)
QUEUE_SETTINGS = frozenset({"state", "max_size", "max_concurrent"})
INVENTORY_SETTINGS = frozenset({"bucket", "destination", "prefix", "inventory_id"})


def json_reply(status: int, payload: object) -> Reply:
    body = json.dumps(payload, sort_keys=True).encode("utf-8")
    return Reply(status, [("Content-Type", "application/json")], body)


def _apply(faults: Faults, command: Any) -> None:
    if not isinstance(command, Mapping):
        raise ValueError("each command must be an object with 'method' and 'params'")
    method = command.get("method")
    params = command.get("params") or {}
    if method not in FAULT_METHODS:
        raise ValueError(f"method must be one of {sorted(FAULT_METHODS)}")
    if not isinstance(params, Mapping):
        raise ValueError("params must be an object")
    getattr(faults, method)(**params)


def _queue_changes(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, Mapping) or not set(payload) <= QUEUE_SETTINGS:
        raise ValueError(f"the body must be an object with some of {sorted(QUEUE_SETTINGS)}")
    return dict(payload)


class AdminApi:
    def __init__(
        self,
        faults: Faults,
        stats: Callable[[], dict[str, Any]],
        configure_queue: Callable[..., QueueView],
        *,
        write_inventory: Callable[..., dict[str, object]] | None = None,
    ) -> None:
        self._faults = faults
        self._stats = stats
        self._configure_queue = configure_queue
        self._write_inventory = write_inventory

    def handle(self, request: ApiRequest) -> Reply:
        request.service = "admin"
        name = request.path.rstrip("/")
        if name == "/_emulator/stats" and request.method == "GET":
            return json_reply(200, self._stats())
        if name == "/_emulator/faults" and request.method == "GET":
            return json_reply(200, self._faults.summary())
        if name == "/_emulator/faults" and request.method == "POST":
            return self._arm(request)
        if name == "/_emulator/queue" and request.method in ("GET", "POST"):
            return self._queue(request)
        if name == "/_emulator/inventory" and request.method == "POST" and self._write_inventory:
            return self._inventory(request)
        return json_reply(404, {"error": f"no admin endpoint {request.method} {request.path}"})

    def _arm(self, request: ApiRequest) -> Reply:
        try:
            payload = json.loads(request.body.read_all(MAX_ADMIN_BODY) or b"null")
            for command in payload if isinstance(payload, list) else [payload]:
                _apply(self._faults, command)
        except (ValueError, TypeError) as exc:
            return json_reply(400, {"error": str(exc)})
        return json_reply(200, self._faults.summary())

    def _queue(self, request: ApiRequest) -> Reply:
        try:
            changes: dict[str, Any] = {}
            if request.method == "POST":
                changes = _queue_changes(json.loads(request.body.read_all(MAX_ADMIN_BODY) or b"{}"))
            view = self._configure_queue(**changes)
        except (ValueError, TypeError) as exc:
            return json_reply(400, {"error": str(exc)})
        return json_reply(200, view.summary())

    def _inventory(self, request: ApiRequest) -> Reply:
        assert self._write_inventory is not None
        try:
            payload = json.loads(request.body.read_all(MAX_ADMIN_BODY) or b"{}")
            if not isinstance(payload, Mapping) or not set(payload) <= INVENTORY_SETTINGS:
                raise ValueError(f"the body must be an object with {sorted(INVENTORY_SETTINGS)}")
            written = self._write_inventory(**payload)
        except (ValueError, TypeError) as exc:
            return json_reply(400, {"error": str(exc)})
        return json_reply(200, written)
