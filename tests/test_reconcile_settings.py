"""Reconcile settings, time window parsing, the timer function glue, its serverless.yml block."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from functions.reconcile_on_timer import index as timer_function
from shared.errors import ConfigError
from shared.reconcile.batch_runner import BatchDrainSummary
from shared.reconcile.service import ReconcileSummary
from shared.settings import functions as config
from shared.settings.reconcile import load_reconcile_settings
from shared.time_window import ci_time, parse_ci_time, parse_duration, parse_instant
from tests.upload_helpers import isolated_project_loggers

ROOT = Path(__file__).resolve().parent.parent
CREDENTIALS = {"TENCENTCLOUD_SECRETID": "AKIDexample0123456789", "TENCENTCLOUD_SECRETKEY": "k" * 32}
NOW = datetime(2024, 11, 25, 2, 0, 0, tzinfo=timezone.utc).timestamp()


# -- durations and instants -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("24h", 86400), ("7d", 604800), ("1h30m", 5400), (" 2H ", 7200)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "m", "-5m", "1.5h", "5 m", "1y", "999d"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|longer"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("24h", NOW - 86400),
        ("2024-11-25T10:00:00+08:00", NOW),
        ("2024-11-25T10:00:00+0800", NOW),
        ("2024-11-25T02:00:00Z", NOW),
        ("2024-11-25T02:00Z", NOW),
    ],
)
def test_instants(text: str, expected: float) -> None:
    assert parse_instant(text, NOW) == expected


@pytest.mark.parametrize("text", ["2024-11-25T10:00:00", "yesterday", "2024-13-01T00:00:00Z"])
def test_an_instant_needs_an_offset_and_a_real_date(text: str) -> None:
    with pytest.raises(ValueError, match="offset"):
        parse_instant(text, NOW)


def test_ci_time_is_printed_in_cis_own_offset() -> None:
    assert ci_time(NOW + 0.9) == "2024-11-25T10:00:00+0800"
    assert parse_ci_time("2024-11-25T10:00:00+0800") == NOW
    assert parse_ci_time("-") is None and parse_ci_time(None) is None


# -- settings -----------------------------------------------------------------------------------


def test_defaults_need_neither_the_secret_nor_a_target() -> None:
    settings = load_reconcile_settings({})
    assert (settings.window_s, settings.settle_s) == (70 * 60, 5 * 60)
    assert settings.buckets == () and settings.region is None
    assert settings.tag_prefix == "media:" and settings.tag_fields[:2] == ("status", "etag")


def test_the_functions_own_region_is_the_default() -> None:
    settings = load_reconcile_settings(
        {
            "TENCENTCLOUD_REGION": "ap-shanghai",
            config.RECONCILE_BUCKETS: "a-1250000000, b-1250000000",
        }
    )
    assert settings.region == "ap-shanghai"
    assert settings.buckets == ("a-1250000000", "b-1250000000")
    explicit = load_reconcile_settings(
        {"TENCENTCLOUD_REGION": "ap-shanghai", config.RECONCILE_REGION: "ap-beijing"}
    )
    assert explicit.region == "ap-beijing"


DURATION = "must be a duration like 30m, 2h or 1h30m"


@pytest.mark.parametrize(
    ("environ", "variable", "problem"),
    [
        ({config.RECONCILE_BUCKETS: "media"}, config.RECONCILE_BUCKETS, "must be a full bucket"),
        ({config.RECONCILE_REGION: "guangzhou"}, config.RECONCILE_REGION, "must be a COS region"),
        ({config.RECONCILE_WINDOW: "soon"}, config.RECONCILE_WINDOW, DURATION),
        ({config.RECONCILE_WINDOW: "30s"}, config.RECONCILE_WINDOW, "must be from 1m to 7d"),
        ({config.RECONCILE_WINDOW: "8d"}, config.RECONCILE_WINDOW, "must be from 1m to 7d"),
        ({config.RECONCILE_SETTLE: "70m"}, config.RECONCILE_SETTLE, "must be shorter than"),
        ({config.RECONCILE_SETTLE: "x"}, config.RECONCILE_SETTLE, DURATION),
        ({config.TAG_PREFIX: "qcs:x"}, config.TAG_PREFIX, "must not start with a reserved"),
        ({config.MAX_ATTEMPTS: "0"}, config.MAX_ATTEMPTS, "must be a whole number from 1 to 10"),
    ],
)
def test_a_bad_value_names_its_variable(
    environ: dict[str, str], variable: str, problem: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"{variable}: {problem}")) as caught:
        load_reconcile_settings(environ)
    assert caught.value.variable == variable


# -- the timer function -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({}, config.RECONCILE_BUCKETS),
        ({config.RECONCILE_BUCKETS: "media-1250000000"}, config.RECONCILE_REGION),
        (
            {config.RECONCILE_BUCKETS: "media-1250000000", config.RECONCILE_REGION: "ap-guangzhou"},
            "TENCENTCLOUD_SECRETID",
        ),
    ],
)
def test_the_timer_function_refuses_to_run_unconfigured(
    environ: dict[str, str], variable: str
) -> None:
    missing = re.escape(variable) + ": missing"
    with isolated_project_loggers(), pytest.raises(ConfigError, match=missing) as caught:
        timer_function.handle({}, {}, environ=environ)
    assert caught.value.variable == variable


def test_the_timer_function_reconciles_its_window_and_stops_before_its_time_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}

    def fake_run(buckets: Any, region: str, **options: Any) -> ReconcileSummary:
        seen.update(buckets=buckets, region=region, **options)
        return ReconcileSummary(jobs=3, objects=2)

    monkeypatch.setattr(timer_function, "run_reconcile", fake_run)
    monkeypatch.setattr(timer_function, "run_batch_drains", lambda *a, **k: BatchDrainSummary())
    environ = {
        **CREDENTIALS,
        config.RECONCILE_BUCKETS: "media-1250000000",
        "TENCENTCLOUD_REGION": "ap-guangzhou",
    }
    context = {"request_id": "r-1", "time_limit_in_ms": 300_000}
    with isolated_project_loggers():
        result = timer_function.handle(
            {"Type": "Timer"}, context, environ=environ, clock=lambda: NOW
        )
    assert (seen["buckets"], seen["region"]) == (("media-1250000000",), "ap-guangzhou")
    assert (seen["since"], seen["until"]) == (NOW - 4200, NOW - 300)
    assert NOW + 200 < seen["deadline"] < NOW + 300
    assert result["jobs"] == 3 and result["window"] == [NOW - 4200, NOW - 300]


def test_transient_failures_make_the_timer_invocation_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        timer_function, "run_reconcile", lambda *a, **k: ReconcileSummary(objects=2, errors=1)
    )
    monkeypatch.setattr(timer_function, "run_batch_drains", lambda *a, **k: BatchDrainSummary())
    environ = {
        **CREDENTIALS,
        config.RECONCILE_BUCKETS: "media-1250000000",
        "TENCENTCLOUD_REGION": "ap-guangzhou",
    }
    with (
        isolated_project_loggers(),
        pytest.raises(
            timer_function.ReconcileIncompleteError, match=r"1 object\(s\) failed transiently"
        ),
    ):
        timer_function.handle({}, {}, environ=environ)


# -- serverless.yml -------------------------------------------------------------------------------


def _instance() -> dict[str, Any]:
    manifest = yaml.safe_load((ROOT / "serverless.yml").read_text(encoding="utf-8"))
    inputs: dict[str, Any] = manifest["instances"]["reconcile_on_timer"]["inputs"]
    return inputs


def test_the_timer_is_on_every_30_minutes_with_an_overlapping_window() -> None:
    (event,) = _instance()["events"]
    parameters = event["timer"]["parameters"]
    assert parameters["enable"] is True
    cron = parameters["cronExpression"].split()
    assert len(cron) == 7 and cron[0] == "0" and cron[1] == "*/30"  # SCF: seconds first
    variables = _instance()["environment"]["variables"]
    settings = load_reconcile_settings(
        {
            name: re.sub(r"\$\{env:[A-Z_]+\}", "media-1250000000", value)
            if name.endswith("BUCKETS")
            else re.sub(r"\$\{env:[A-Z_]+\}", "ap-guangzhou", value)
            for name, value in variables.items()
        }
    )
    covered = settings.window_s - settings.settle_s
    assert covered >= 2 * 30 * 60  # every job falls into at least two runs
    # resubmissions mint callback tokens: the same URL and secret as the upload function's
    for name in (config.CALLBACK_SECRET, config.CALLBACK_URL):
        assert variables[name] == f"${{env:{name}}}"


def test_the_function_has_time_for_a_run() -> None:
    inputs = _instance()
    assert inputs["timeout"] >= 60 and inputs["handler"] == "index.main_handler"
