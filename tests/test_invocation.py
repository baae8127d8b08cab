"""``shared.scf.invocation``: what the SCF entry points read from the context and build per call.

The upload/reconcile margin of ``invocation_deadline`` is covered in test_upload_service; the
handlers' tests drive the rest end to end. Expected values here are written out by hand.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from typing import NamedTuple

import pytest

from shared.decision_log import LOGGER_NAME, DecisionLog
from shared.errors import ConfigError
from shared.scf.invocation import (
    context_request_id,
    context_time_limit_ms,
    environ_credentials,
    invocation_deadline,
    load_function_settings,
    platform_secrets,
)
from tests.events import load_context
from tests.upload_helpers import BASE_ENVIRON, SECRET_KEY, SESSION_TOKEN, ListHandler
from tests.upload_helpers import isolated_project_loggers as isolated

T0 = 1_732_500_200.0


class LevelOnly(NamedTuple):
    endpoint_url: str | None = None
    max_attempts: int = 4
    log_level: str = "WARNING"


@pytest.fixture
def decisions() -> Iterator[list[str]]:
    handler = ListHandler()
    with isolated():
        logger = logging.getLogger(LOGGER_NAME)
        logger.addHandler(handler)
        yield handler.lines
        logger.removeHandler(handler)


def test_the_sample_context_gives_its_request_id_and_limit() -> None:
    context = load_context(request_id="req-7", time_limit_in_ms=3000)
    assert context_request_id(context) == "req-7"
    assert context_time_limit_ms(context) == 3000


@pytest.mark.parametrize("context", [None, "req-7", ["request_id"], {"request_id": 7}, {}])
def test_anything_else_reads_as_not_given(context: object) -> None:
    assert context_request_id(context) is None
    assert context_time_limit_ms(context if isinstance(context, Mapping) else None) is None


@pytest.mark.parametrize(
    ("limit_ms", "expected"),
    [
        (3000, T0 + 2.0),  # the callback keeps one second for its reply
        (60_000, T0 + 59.0),  # no fraction: one second however long the limit
        (1000, T0 + 0.5),  # never more than half of a short limit
        (None, None),
        ("3000", None),
        (0, None),
        (True, None),
    ],
)
def test_a_fixed_margin_without_fraction(limit_ms: object, expected: float | None) -> None:
    assert invocation_deadline(T0, limit_ms, margin_s=1.0, margin_fraction=0.0) == expected


def test_platform_secrets_are_the_key_and_the_token() -> None:
    assert platform_secrets(BASE_ENVIRON) == (SECRET_KEY, SESSION_TOKEN)
    assert platform_secrets({}) == (None, None)


def test_environ_credentials_read_the_environ_on_every_call() -> None:
    environ = dict(BASE_ENVIRON)
    credentials = environ_credentials(environ)
    assert credentials().secret_key == SECRET_KEY
    environ["TENCENTCLOUD_SECRETKEY"] = "RotatedSecretKey0123456789abcdef"
    assert credentials().secret_key == "RotatedSecretKey0123456789abcdef"


def test_settings_are_loaded_and_logging_set_to_their_level(decisions: list[str]) -> None:
    log = DecisionLog("fn", "req-1")
    settings = load_function_settings(lambda env: LevelOnly(), BASE_ENVIRON, log)
    assert settings == LevelOnly()
    assert logging.getLogger(LOGGER_NAME).level == logging.WARNING
    assert decisions == []


def test_a_missing_role_is_one_config_error_decision_then_raised(decisions: list[str]) -> None:
    environ = {k: v for k, v in BASE_ENVIRON.items() if k != "TENCENTCLOUD_SECRETID"}
    with pytest.raises(ConfigError, match="TENCENTCLOUD_SECRETID"):
        load_function_settings(lambda env: LevelOnly(), environ, DecisionLog("fn", "req-1"))
    (line,) = [json.loads(text) for text in decisions]
    assert (line["outcome"], line["fn"], line["request_id"]) == ("config-error", "fn", "req-1")
    assert "TENCENTCLOUD_SECRETID" in line["reason"]


def test_a_config_error_of_the_loader_is_logged_too(decisions: list[str]) -> None:
    def refuse(env: Mapping[str, str]) -> LevelOnly:
        raise ConfigError("MEDIA_TAGGER_X", "missing")

    with pytest.raises(ConfigError, match="MEDIA_TAGGER_X: missing"):
        load_function_settings(refuse, BASE_ENVIRON, DecisionLog("fn", None))
    assert [json.loads(text)["outcome"] for text in decisions] == ["config-error"]
