"""Log lines under hostile values: always one line, always JSON; decisions never hold a secret.

Object keys, job ids and reasons come from uploaders and callers. Whatever they hold (newlines,
U+2028/U+2029/U+0085 line separators, quotes, the secret itself embedded in other text), the
decision is exactly one line for every line splitter, parses back to what was logged, and a
registered secret or a token= value never survives.
"""

from __future__ import annotations

import json
import logging

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.decision_log import DecisionLog, JsonLineFormatter

SECRET = "cb-secret-0123456789abcdefghijklmnopqrstu"
BREAKS = '\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"\\{}'
hostile = st.text(
    st.one_of(st.sampled_from(BREAKS), st.characters(blacklist_categories=("Cs",))), max_size=60
)


tokens = st.from_regex(r"[A-Za-z0-9_-]{8,43}", fullmatch=True)


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonLineFormatter())
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


@settings(max_examples=300, deadline=None)
@given(key=hostile, reason=hostile, before=hostile, after=hostile, token=tokens)
def test_a_decision_is_one_json_line_without_secrets(
    key: str, reason: str, before: str, after: str, token: str
) -> None:
    logger = logging.getLogger("test.properties.logs")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    lines = Lines()
    logger.handlers = [lines]
    log = DecisionLog("tag_on_callback", "r1", secrets=[SECRET], logger=logger)
    log.decision("skipped", key=key, reason=reason, detail=before + SECRET + after)
    log.decision("skipped", key=key, reason=f"{before}?token={token}&{after}")
    logger.warning("plain %s", key)  # a non-decision record (e.g. a retry warning)
    for line in lines.records:
        assert len(line.splitlines()) == 1, line
        json.loads(line)
    assert all(SECRET not in line for line in lines.records[:2])
    first = json.loads(lines.records[0])
    looks_secret = any(
        word in (key + reason).lower() for word in ("akid", "token", "sign", "secret")
    )
    assert (first["key"], first["reason"]) == (key, reason) or looks_secret
    assert "token=" + token not in lines.records[1]
