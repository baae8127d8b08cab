"""Transport retries: backoff with full jitter, attempts, deadline, timeouts, quiet logs."""

from __future__ import annotations

import logging

import pytest
import requests
import responses
from tencentcloud.common.credential import Credential

from shared.errors import (
    CosError,
    TransportError,
)
from tests.client_helpers import (
    COS_HOST,
    SECRET_ID,
    SECRET_KEY,
    T0,
    TOKEN,
    FakeClock,
    expected_headers,
    make_transport,
    match_request,
    strict_mock,
)

URL = f"https://{COS_HOST}/input/demo.mp4"
COS_ERROR = b"<Error><Code>AccessDenied</Code><Message>Access Denied.</Message></Error>"
SLOW_DOWN = (
    b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
)


def _get(mock: responses.RequestsMock, status: int, **kwargs: object) -> None:
    mock.add(responses.GET, URL, status=status, **kwargs)  # type: ignore[arg-type]


def test_connection_error_becomes_transport_error_after_retries() -> None:
    clock = FakeClock()
    with strict_mock(ordered=True) as mock:
        for _ in range(3):
            _get(mock, 200, body=requests.ConnectionError("refused"))
        with pytest.raises(
            TransportError,
            match=r"myqcloud\.com: ConnectionError$",
        ) as caught:
            make_transport(clock, max_attempts=3).request("cos", "GET", COS_HOST, "input/demo.mp4")
    assert isinstance(caught.value.__cause__, requests.ConnectionError)
    assert clock.sleeps == [0.2, 0.4]


def test_timeout_then_success_is_retried() -> None:
    clock = FakeClock()
    with strict_mock(ordered=True) as mock:
        _get(mock, 200, body=requests.ReadTimeout("slow"))
        _get(mock, 200, body=b"done")
        response = make_transport(clock).request("cos", "GET", COS_HOST, "input/demo.mp4")
    assert response.content == b"done"
    assert clock.sleeps == [0.2]


def test_other_requests_errors_are_not_retried() -> None:
    clock = FakeClock()
    with strict_mock() as mock:
        _get(mock, 200, body=requests.exceptions.InvalidHeader("bad"))
        with pytest.raises(
            TransportError,
            match=r"GET examplebucket-1250000000\.cos\.ap-guangzhou\.myqcloud\.com: InvalidHeader",
        ) as caught:
            make_transport(clock).request("cos", "GET", COS_HOST, "input/demo.mp4")
    assert isinstance(caught.value.__cause__, requests.exceptions.InvalidHeader)
    assert clock.sleeps == []


def test_429_then_200_retries_and_signs_each_attempt_afresh() -> None:
    clock = FakeClock()
    fetched_at: list[float] = []

    def credentials() -> Credential:
        fetched_at.append(clock.now)
        return Credential(SECRET_ID, SECRET_KEY)

    # jitter 0.5 * base 2.2 s = 1.1 s: the second attempt signs with another start second
    transport = make_transport(clock, jitter=0.5, base_delay_s=2.2, credentials=credentials)
    first = expected_headers("GET", URL, COS_HOST, key="input/demo.mp4", now=T0)
    second = expected_headers("GET", URL, COS_HOST, key="input/demo.mp4", now=T0 + 1.1)
    assert first["Authorization"] != second["Authorization"]
    with strict_mock(ordered=True) as mock:
        _get(mock, 429, body=SLOW_DOWN, match=match_request(headers=first))
        _get(mock, 200, body=b"ok", match=match_request(headers=second))
        response = transport.request("cos", "GET", COS_HOST, "input/demo.mp4")
    assert response.status_code == 200
    assert clock.sleeps == [pytest.approx(1.1)]
    assert fetched_at == [T0, pytest.approx(T0 + 1.1)]


def test_503_until_attempts_run_out_raises_the_last_error() -> None:
    clock = FakeClock()
    with strict_mock(ordered=True) as mock:
        for _ in range(4):
            _get(mock, 503, body=b"<Error><Code>ServiceUnavailable</Code></Error>")
        with pytest.raises(CosError, match=r"^cos 503 ServiceUnavailable$") as caught:
            make_transport(clock).request("cos", "GET", COS_HOST, "input/demo.mp4")
    assert (caught.value.status, caught.value.code) == (503, "ServiceUnavailable")
    assert clock.sleeps == [pytest.approx(0.2), pytest.approx(0.4), pytest.approx(0.8)]


def test_backoff_is_capped_by_max_delay_and_scaled_by_jitter() -> None:
    clock = FakeClock()
    with strict_mock(ordered=True) as mock:
        for _ in range(5):
            _get(mock, 500)
        with pytest.raises(CosError, match="cos 500 HTTP500: Internal Server Error"):
            make_transport(
                clock, jitter=0.25, max_attempts=5, base_delay_s=1.0, max_delay_s=3.0
            ).request("cos", "GET", COS_HOST, "input/demo.mp4")
    assert clock.sleeps == [0.25, 0.5, 0.75, 0.75]


@pytest.mark.parametrize("status", [400, 403, 409])
def test_other_4xx_is_never_retried(status: int) -> None:
    clock = FakeClock()
    with strict_mock() as mock:
        _get(mock, status, body=COS_ERROR)
        with pytest.raises(CosError, match=f"cos {status} AccessDenied"):
            make_transport(clock).request("cos", "GET", COS_HOST, "input/demo.mp4")
    assert len(mock.calls) == 1
    assert clock.sleeps == []


def test_deadline_stops_retrying() -> None:
    clock = FakeClock()
    with strict_mock(ordered=True) as mock:
        _get(mock, 503)
        _get(mock, 503)
        with pytest.raises(CosError, match="cos 503 HTTP503: Service Unavailable") as caught:
            # sleeps 0.2 (ends at +0.2 <= +0.5), then 0.4 would end at +0.6 > +0.5: stop
            make_transport(clock).request(
                "cos", "GET", COS_HOST, "input/demo.mp4", deadline=T0 + 0.5
            )
    assert caught.value.status == 503
    assert clock.sleeps == [0.2]
    assert clock.now <= T0 + 0.5


def test_deadline_stops_retrying_connection_errors_too() -> None:
    clock = FakeClock()
    with strict_mock() as mock:
        _get(mock, 200, body=requests.ConnectTimeout("no route"))
        with pytest.raises(
            TransportError,
            match=r"GET examplebucket-1250000000\.cos\.ap-guangzhou\.myqcloud\.com: ConnectTimeout",
        ):
            make_transport(clock).request(
                "cos", "GET", COS_HOST, "input/demo.mp4", deadline=T0 + 0.1
            )
    assert clock.sleeps == []


def test_timeouts_are_set_and_read_timeout_shrinks_to_the_deadline() -> None:
    with strict_mock() as mock:
        _get(mock, 200)
        _get(mock, 200)
        transport = make_transport(connect_timeout_s=2.0, read_timeout_s=9.0)
        transport.request("cos", "GET", COS_HOST, "input/demo.mp4")
        transport.request("cos", "GET", COS_HOST, "input/demo.mp4", deadline=T0 + 4.0)
    kwargs = [call.request.req_kwargs for call in mock.calls]  # type: ignore[attr-defined]
    assert [k["timeout"] for k in kwargs] == [(2.0, 9.0), (2.0, 4.0)]


def test_retry_logs_carry_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with strict_mock(ordered=True) as mock:
        _get(mock, 503)
        _get(mock, 200)
        make_transport(token=TOKEN).request("cos", "GET", COS_HOST, "input/demo.mp4")
    assert "retrying GET /input/demo.mp4" in caplog.text
    for secret in (TOKEN, SECRET_KEY, "q-signature", "Authorization"):
        assert secret not in caplog.text
