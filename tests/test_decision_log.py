"""Decision log: one JSON line per decision with the contract fields; secrets never written."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from shared.decision_log import (
    LOGGER_NAME,
    REDACTED,
    DecisionLog,
    configure_logging,
    redact,
    url_without_query,
)
from tests.upload_helpers import ListHandler, isolated_project_loggers

AUTH = (
    "q-sign-algorithm=sha1&q-ak=AKIDEXAMPLEEXAMPLE&q-sign-time=1;2&q-key-time=1;2"
    "&q-header-list=host&q-url-param-list=&q-signature=00ff00ff00ff"
)


@pytest.fixture(autouse=True)
def _restore_loggers() -> Iterator[None]:
    with isolated_project_loggers():
        yield


@pytest.fixture
def captured() -> Iterator[ListHandler]:
    handler = ListHandler()
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def test_decision_line_has_the_contract_fields(captured: ListHandler) -> None:
    log = DecisionLog("submit_on_upload", "req-1")
    log.decision("submitted", bucket="b-1250000000", key="视频/a b.mp4", job_id="j1", ms=12, size=3)
    (line,) = captured.lines
    assert json.loads(line) == {
        "fn": "submit_on_upload",
        "request_id": "req-1",
        "bucket": "b-1250000000",
        "key": "视频/a b.mp4",
        "job_id": "j1",
        "outcome": "submitted",
        "reason": None,
        "ms": 12,
        "size": 3,
    }
    assert "\n" not in line


def test_extra_fields_cannot_override_contract_fields(captured: ListHandler) -> None:
    DecisionLog("fn", "req").decision("skipped", fn="other", outcome="x")
    assert json.loads(captured.lines[0])["fn"] == "fn"
    assert json.loads(captured.lines[0])["outcome"] == "skipped"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("authorization", "anything"),
        ("Authorization", "anything"),
        ("token", "abc"),
        ("callback_token", "abc"),
        ("secret_key", "abc"),
        ("x_cos_security_token", "abc"),
        ("q_signature", "abc"),
        ("password", "abc"),
        ("credentials", "abc"),
    ],
)
def test_secret_named_fields_are_redacted(name: str, value: str) -> None:
    assert redact(value, name=name) == REDACTED


@pytest.mark.parametrize(
    ("value", "gone"),
    [
        (AUTH, "q-signature"),
        ("https://cb.example/x?token=SeCrEtToKeN123&y=1", "SeCrEtToKeN123"),
        ("sent x-cos-security-token=TOKVALUE123 header", "TOKVALUE123"),
        ("key AKIDEXAMPLEq1w2e3r4t5y6 used", "AKIDEXAMPLEq1w2e3r4t5y6"),
        ("url?sign=abcdef0123", "abcdef0123"),
    ],
)
def test_secret_looking_values_are_redacted(value: str, gone: str) -> None:
    assert gone not in json.dumps(redact(value))


def test_registered_secrets_are_scrubbed_anywhere(captured: ListHandler) -> None:
    log = DecisionLog("fn", "req", secrets=["MyCallbackSecretValue0123456789", None, ""])
    log.add_secret("minted-token-value-xyz")
    log.decision(
        "failed",
        reason="error mentions MyCallbackSecretValue0123456789 and minted-token-value-xyz",
        detail={"nested": ["MyCallbackSecretValue0123456789"]},
    )
    line = captured.lines[0]
    assert "MyCallbackSecretValue0123456789" not in line
    assert "minted-token-value-xyz" not in line
    assert line.count(REDACTED) == 3


def test_nested_values_are_redacted() -> None:
    value = {"headers": {"Authorization": "x", "Host": "h"}, "list": [AUTH, 1]}
    assert redact(value) == {
        "headers": {"Authorization": REDACTED, "Host": "h"},
        "list": [REDACTED, 1],
    }


def test_ordinary_values_pass_unchanged() -> None:
    for value in ("videos/2024/11/demo.mp4", "cos:ObjectCreated:Put", 42, None, True):
        assert redact(value) == value


def test_url_without_query() -> None:
    assert url_without_query("https://h.example/cb?token=abc#x") == "https://h.example/cb"
    assert url_without_query("https://h.example/cb") == "https://h.example/cb"


def test_configure_logging_writes_json_lines_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    configure_logging("INFO")  # idempotent: still one handler, one line per record
    DecisionLog("fn", "req").decision("skipped", reason="folder-marker")
    DecisionLog("fn", "req").decision("debug-only", level=logging.DEBUG)
    logging.getLogger("shared.tencent.transport").warning("retrying after %s", AUTH)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["reason"] == "folder-marker"
    other = json.loads(lines[1])
    assert other["level"] == "WARNING"
    assert other["logger"] == "shared.tencent.transport"
    assert "q-signature" not in lines[1]
