"""Reads always happen; writes happen only when applying: one code path for ``plan`` and ``up``.

Every step reads the deployed state through ``ChangeSet.read`` and routes each change through
``ChangeSet.write`` with a one-line summary (``+`` create, ``~`` update, ``-`` delete, ``!`` a
difference that stops ``up``). ``plan`` records the summaries and sends nothing; ``up`` prints them
as it sends each call. A summary names resources and variable names, never a value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from deploy.cloud.api import CloudApi


class ChangeSet:
    """The calls of one command run, and the summaries of the changes it made or would make."""

    def __init__(self, api: CloudApi, *, apply: bool, report: Callable[[str], None]) -> None:
        self.api = api
        self.apply = apply
        self.report = report
        self.summaries: list[str] = []
        self.stops: list[str] = []

    def read(self, service: str, action: str, params: Mapping[str, Any]) -> dict[str, Any]:
        return self.api.call(service, action, params)

    def write(
        self, summary: str, service: str, action: str, params: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Send a write call when applying (its answer), else only record ``summary`` (None)."""
        self.summaries.append(summary)
        self.report(f"  {summary}")
        if not self.apply:
            return None
        return self.api.call(service, action, params)

    def note(self, summary: str) -> None:
        """A change outside the API 3.0 calls (e.g. the CI XML call) made or planned."""
        self.summaries.append(summary)
        self.report(f"  {summary}")

    def unchanged(self, what: str) -> None:
        self.report(f"  = {what}")

    def stop(self, problem: str) -> None:
        """A difference ``up`` must not change without a flag: reported, collected."""
        self.stops.append(problem)
        self.report(f"  ! {problem}")
