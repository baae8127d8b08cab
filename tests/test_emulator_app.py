"""The composed emulator (emulator.app) with stand-in handlers: triggers, environment, retries.

The handlers here are small recording doubles so the wiring is tested on its own; the real
functions run against the emulator in the end-to-end tests.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.app import DEFAULT_CALLBACK_HANDLER, DEFAULT_UPLOAD_HANDLER, Emulator, LazyHandler
from emulator.demo import run_demo
from shared.models import ObjectRef
from shared.ports import MediaInfoJobRequest
from shared.tencent.ci_client import CiClient
from shared.tencent.cos_client import CosClient
from shared.tencent.credentials import credential_from_environ
from shared.tencent.endpoints import Endpoint, cos_host
from shared.tencent.transport import Transport

pytestmark = pytest.mark.e2e  # the COS/CI core refuses to start without ffprobe

ROOT = Path(__file__).resolve().parent.parent
BUCKET, REGION = "media-uploads-1250000000", "ap-guangzhou"
ENV_NAMES = (
    "TENCENTCLOUD_SECRETID",
    "TENCENTCLOUD_SECRETKEY",
    "TENCENTCLOUD_SESSIONTOKEN",
    "MEDIA_TAGGER_ENDPOINT_URL",
    "MEDIA_TAGGER_CALLBACK_URL",
    "MEDIA_TAGGER_CALLBACK_SECRET",
    "MEDIA_TAGGER_CALLBACK_FORMAT",
    "MEDIA_TAGGER_EXTRA",
)
RECEIVED: list[dict[str, Any]] = []


def module_handler(event: dict[str, Any], context: dict[str, Any]) -> str:
    """Reached through the "tests.test_emulator_app:module_handler" import path."""
    RECEIVED.append(event)
    return "ok"


class Recorder:
    def __init__(self, fail_times: int = 0) -> None:
        self.fail_times = fail_times
        self.events: list[dict[str, Any]] = []
        self.environ: list[dict[str, str]] = []

    def __call__(self, event: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        self.environ.append({name: os.environ.get(name, "") for name in ENV_NAMES})
        if len(self.events) <= self.fail_times:
            raise RuntimeError("handler failure on purpose")
        return {"statusCode": 200, "headers": {}, "body": "{}"}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TENCENTCLOUD_SECRETID", "value-before")


def transport_for(emulator: Emulator) -> Transport:
    environ = emulator.function_environ()
    return Transport(
        lambda: credential_from_environ(environ), endpoint=Endpoint(emulator.endpoint_url)
    )


def put_object(transport: Transport, key: str, body: bytes = b"data") -> None:
    transport.request("cos", "PUT", cos_host(BUCKET, REGION), key, body=body)


@pytest.fixture
def upload() -> Recorder:
    return Recorder()


@pytest.fixture
def callback() -> Recorder:
    return Recorder()


@pytest.fixture
def emulator(
    tmp_path: Path, clean_env: None, upload: Recorder, callback: Recorder
) -> Iterator[Emulator]:
    with Emulator(
        tmp_path,
        upload_handler=upload,
        callback_handler=callback,
        retry_interval_s=0,
        function_env={"MEDIA_TAGGER_EXTRA": "x"},
        buckets=[BUCKET],
    ) as running:
        yield running


def test_start_sets_the_function_environment_and_stop_restores_it(
    tmp_path: Path, clean_env: None
) -> None:
    emulator = Emulator(tmp_path, upload_handler=Recorder(), callback_handler=Recorder())
    emulator.start()
    try:
        assert os.environ["TENCENTCLOUD_SECRETID"] == emulator.credentials.secret_id
        assert os.environ["TENCENTCLOUD_SESSIONTOKEN"] == emulator.credentials.token
        assert os.environ["MEDIA_TAGGER_ENDPOINT_URL"] == emulator.endpoint_url
        assert os.environ["MEDIA_TAGGER_CALLBACK_URL"] == emulator.callback_url
        assert len(os.environ["MEDIA_TAGGER_CALLBACK_SECRET"]) >= 32
        assert os.environ["MEDIA_TAGGER_CALLBACK_FORMAT"] == "JSON"
    finally:
        emulator.stop()
    assert os.environ["TENCENTCLOUD_SECRETID"] == "value-before"
    assert "MEDIA_TAGGER_ENDPOINT_URL" not in os.environ
    assert "TENCENTCLOUD_SESSIONTOKEN" not in os.environ


def test_callback_secret_is_random_per_run_unless_given(tmp_path: Path) -> None:
    first = Emulator(tmp_path / "a", upload_handler=Recorder(), callback_handler=Recorder())
    second = Emulator(tmp_path / "b", upload_handler=Recorder(), callback_handler=Recorder())
    fixed = Emulator(
        tmp_path / "c",
        upload_handler=Recorder(),
        callback_handler=Recorder(),
        callback_secret="s" * 40,
    )
    assert first.callback_secret != second.callback_secret
    assert fixed.callback_secret == "s" * 40
    for each in (first, second, fixed):
        each.stop()


def test_a_put_invokes_the_upload_function_with_the_cos_event(
    emulator: Emulator, upload: Recorder
) -> None:
    put_object(transport_for(emulator), "in/a+b 视频.mp4")
    assert emulator.wait_idle(10)
    (event,) = upload.events
    record = event["Records"][0]
    assert record["cos"]["cosObject"]["key"] == "/1250000000/media-uploads/in/a+b 视频.mp4"
    assert record["cos"]["cosObject"]["meta"]["ETag"] == '"8d777f385d3dfec8815d20f7496026dc"'
    assert record["event"]["eventName"] == "cos:ObjectCreated:Put"
    seen = upload.environ[0]
    assert seen["MEDIA_TAGGER_ENDPOINT_URL"] == emulator.endpoint_url
    assert seen["MEDIA_TAGGER_EXTRA"] == "x"


def test_tagging_fires_no_upload_event(emulator: Emulator, upload: Recorder) -> None:
    transport = transport_for(emulator)
    put_object(transport, "clip.mp4")
    assert emulator.wait_idle(10)
    CosClient(transport).put_object_tagging(ObjectRef(BUCKET, REGION, "clip.mp4"), (("k", "v"),))
    assert emulator.wait_idle(10)
    assert len(upload.events) == 1


def test_a_raising_upload_function_is_retried_then_given_up(
    tmp_path: Path, clean_env: None
) -> None:
    failing = Recorder(fail_times=100)
    with Emulator(
        tmp_path,
        upload_handler=failing,
        callback_handler=Recorder(),
        retries=1,
        retry_interval_s=0,
        buckets=[BUCKET],
    ) as emulator:
        put_object(transport_for(emulator), "clip.mp4")
        assert emulator.wait_idle(10)
        attempts = [inv.attempt for inv in emulator.upload.invocations]
        stats = emulator.stats()
    assert attempts == [1, 2]
    assert stats["upload_failures"] == 2


def test_a_finished_job_calls_the_callback_function_url(
    emulator: Emulator, callback: Recorder
) -> None:
    transport = transport_for(emulator)
    put_object(transport, "notes.txt", b"not media at all")
    request = MediaInfoJobRequest(
        "notes.txt", "mt1", 0, emulator.callback_url + "?token=t%2B1", "JSON"
    )
    job = CiClient(transport).submit_media_info_job(BUCKET, REGION, request)
    assert emulator.wait_idle(20)
    (event,) = callback.events
    assert event["httpMethod"] == "POST"
    assert event["queryString"] == {"token": "t+1"}
    notice = json.loads(event["body"])
    assert notice["JobsDetail"]["JobId"] == job.job_id
    assert notice["JobsDetail"]["State"] == "Failed"


def test_lazy_handler_imports_on_first_call() -> None:
    handler = LazyHandler("tests.test_emulator_app:module_handler")
    RECEIVED.clear()
    assert handler({"a": 1}, {}) == "ok"
    assert RECEIVED == [{"a": 1}]


@pytest.mark.parametrize("spec", ["no_colon", ":main_handler", "module:"])
def test_lazy_handler_refuses_a_malformed_path(spec: str) -> None:
    with pytest.raises(ValueError, match=r"package\.module:function"):
        LazyHandler(spec)


@pytest.mark.parametrize("spec", [DEFAULT_UPLOAD_HANDLER, DEFAULT_CALLBACK_HANDLER])
def test_default_handler_paths_resolve_to_the_functions(spec: str) -> None:
    assert callable(LazyHandler(spec).resolve())


def test_demo_timeout_explains_the_failure(tmp_path: Path, clean_env: None) -> None:
    media = tmp_path / "clip.mp4"
    media.write_bytes(b"\x00" * 64)

    def failing_emulator(data_dir: Path, **options: Any) -> Emulator:
        return Emulator(
            data_dir,
            upload_handler=Recorder(fail_times=100),
            callback_handler=Recorder(),
            retry_interval_s=0,
            **options,
        )

    out, err = io.StringIO(), io.StringIO()
    status = run_demo(media, timeout_s=0.5, out=out, err=err, make_emulator=failing_emulator)
    assert status == 1
    report = err.getvalue()
    assert "no media:status tag after 0.5 s" in report
    assert "no CI job was submitted" in report
    assert "upload function invocations: 3" in report
    assert "handler failure on purpose" in report


def test_serve_prints_exports_then_the_banner_on_stderr_and_stops_on_sigint(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "emulator", "serve", "--cos-port", "0"),
            *("--function-url-port", "0", "--data-dir", str(tmp_path)),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        exports = []
        for line in process.stdout:
            if line.strip() == "# ready":
                break
            exports.append(line.strip())
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert all(line.startswith("export ") for line in exports), exports
    assert any(
        line.startswith("export MEDIA_TAGGER_ENDPOINT_URL=http://127.0.0.1:") for line in exports
    )
    assert any(line.startswith("export MEDIA_TAGGER_CALLBACK_SECRET=") for line in exports)
    assert rest == ""  # stdout: the exports only
    assert "COS + CI endpoint:  http://127.0.0.1:" in err
    assert "SecretId:" in err and "IP='127.0.0.1'" in err
    assert process.returncode == 0
    assert err.strip().endswith("stopped")
