"""Issue 10's orderings, end to end: the real handlers against the emulator, in the orders COS, CI
and SCF really produce, each object checked against ffprobe of its current content.

The emulator's test hooks pick the moments: ``job_gate`` holds a started job before it reads its
object (CI reads when the job runs, not when it is submitted), ``callbacks.park`` keeps every
callback until the test releases it, ``GatedUpload`` holds the upload function's invocation for
one key, and a shifted clock moves the emulator's time (Last-Modified, job times) forward without
sleeping. Every scenario failed on the code before issue 10 (the note says how each was checked).
"""

from __future__ import annotations

import json
import shlex
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from emulator.app import Emulator
from functions.submit_on_upload import index as upload_function
from functions.tag_on_callback import index as callback_function
from shared.ops.cli import main as operator_main
from tests.e2e_helpers import (
    AUDIO_ARGS,
    BUCKET,
    PREFIX,
    SETTLE_S,
    VIDEO_ARGS,
    Media,
    Pipeline,
    comparable,
    expected_tags,
    generate_media,
    oracle_client,
    read_tags,
    wait_until,
)

pytestmark = pytest.mark.e2e


class ShiftedClock:
    """The emulator's clock: real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class GatedUpload:
    """The upload function's handler; an invocation for a key in ``held`` waits for ``open``."""

    def __init__(self) -> None:
        self.held: set[str] = set()
        self._open = threading.Event()
        self.waiting = threading.Event()

    def __call__(self, event: dict[str, Any], context: dict[str, Any]) -> Any:
        keys = {r["cos"]["cosObject"]["key"].split("/", 3)[-1] for r in event.get("Records", [])}
        if keys & self.held:
            self.waiting.set()
            assert self._open.wait(SETTLE_S), "the gated upload was never opened"
        return upload_function.main_handler(event, context)

    def open(self) -> None:
        self._open.set()


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return generate_media(tmp_path_factory.mktemp("order-media"), "clip.mp4", VIDEO_ARGS)


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return generate_media(tmp_path_factory.mktemp("order-media"), "tone.mp3", AUDIO_ARGS)


class Script:
    """One emulator driven step by step."""

    def __init__(self, emulator: Emulator, clock: ShiftedClock) -> None:
        self.emulator = emulator
        self.clock = clock
        self.pipeline = Pipeline(emulator, oracle_client(emulator))
        self.server = emulator.server

    def put(self, key: str, body: bytes) -> None:
        self.pipeline.put(key, body)

    def delete(self, key: str) -> None:
        self.pipeline.client.delete_object(Bucket=BUCKET, Key=key)

    def job(self, key: str, number: int) -> str:
        """The ``number``-th job (1-based) submitted for ``key``, once it exists."""

        def jobs() -> list[str]:
            return [job.job_id for job in self.server.jobs.all() if job.object_key == key]

        assert wait_until(lambda: len(jobs()) >= number), f"no job {number} for {key}"
        return jobs()[number - 1]

    def held(self, key: str, number: int) -> str:
        """Job ``number`` of ``key``, waiting at the gate before it reads the object."""
        job_id = self.job(key, number)
        assert wait_until(lambda: job_id in self.server.job_gate.waiting()), job_id
        return job_id

    def read(self, job_id: str, fail_code: str | None = None) -> None:
        """Let the job read the object now; wait until its callback is parked."""
        self.server.job_gate.release(job_id, fail_code)
        assert wait_until(lambda: job_id in self.server.callbacks.parked()), job_id

    def deliver(self, job_id: str) -> dict[str, Any]:
        """Deliver the job's parked callback; the callback function's reply."""
        before = len(self.emulator.function_url.invocations)
        assert self.server.callbacks.release(job_id), job_id
        assert wait_until(lambda: len(self.emulator.function_url.invocations) > before)
        reply = json.loads(self.emulator.function_url.invocations[before].reply.body)
        assert reply["job_id"] == job_id
        return dict(reply)

    def tags(self, key: str) -> dict[str, str]:
        return read_tags(self.pipeline.client, key)

    def settle(self) -> None:
        self.server.job_gate.hold(False)
        self.server.callbacks.park(False)
        for job_id in self.server.callbacks.parked():
            self.server.callbacks.release(job_id)
        assert self.emulator.wait_idle(SETTLE_S)


@pytest.fixture
def script(tmp_path: Path) -> Iterator[Script]:
    clock = ShiftedClock()
    with Emulator(tmp_path, job_runner_delay_s=0.0, buckets=[BUCKET], clock=clock) as running:
        running.server.job_gate.hold()
        running.server.callbacks.park()
        yield Script(running, clock)


def test_1_delete_recreate_same_bytes_late_failed_callback(tmp_path: Path, video: Media) -> None:
    """The job runs between the delete and the re-create and fails ResourceNotFound; its callback
    arrives after the re-create, before the re-create's upload event is handled (duplicate check
    on). Before issue 10 the failure was written and the check then skipped the re-create."""
    clock, gated = ShiftedClock(), GatedUpload()
    env = {"MEDIA_TAGGER_IDEMPOTENCY_CHECK": "true"}
    with Emulator(
        tmp_path, buckets=[BUCKET], clock=clock, upload_handler=gated, function_env=env
    ) as emulator:
        run = Script(emulator, clock)
        run.server.job_gate.hold()
        run.server.callbacks.park()
        key = "one/clip.mp4"
        run.put(key, video.body)
        first = run.held(key, 1)
        run.delete(key)
        run.read(first)  # the object is gone: ResourceNotFound
        clock.advance(3)
        gated.held.add(key)
        run.put(key, video.body)  # the re-create: its upload event waits at the gate
        assert gated.waiting.wait(SETTLE_S)
        reply = run.deliver(first)  # the failed callback, after the re-create
        assert (reply["outcome"], reply["reason"]) == ("skipped", "stale")
        assert PREFIX + "status" not in run.tags(key)
        gated.open()  # now the re-create's event: nothing recorded, so it submits
        second = run.held(key, 2)
        run.read(second)
        assert run.deliver(second)["outcome"] == "tagged"
        run.settle()
        assert comparable(run.tags(key)) == expected_tags(video)


def test_2_a_b_a_with_reordered_callbacks(script: Script, video: Media, audio: Media) -> None:
    """Job 1 was submitted for A but read B; the content is A again when its callback arrives,
    last. Before issue 10 B's media was written under A's ETag."""
    key = "aba/clip.mp4"
    script.put(key, video.body)
    job_a = script.held(key, 1)
    script.put(key, audio.body)
    job_b = script.held(key, 2)
    script.read(job_a)  # submitted for A, reads B
    script.clock.advance(3)
    script.put(key, video.body)  # A again
    job_a2 = script.held(key, 3)
    script.read(job_b)
    script.read(job_a2)
    assert script.deliver(job_a2)["outcome"] == "tagged"
    late = script.deliver(job_a)
    assert (late["outcome"], late["reason"]) == ("skipped", "stale")
    assert script.deliver(job_b)["reason"] == "stale"  # B's job: ETag differs
    script.settle()
    assert comparable(script.tags(key)) == expected_tags(video)


def test_3_delete_recreate_with_reordered_callbacks(script: Script, video: Media) -> None:
    """The failed job's callback arrives after the re-created object's success. Before issue 10
    the valid video ended failed:ResourceNotFound."""
    key = "three/clip.mp4"
    script.put(key, video.body)
    first = script.held(key, 1)
    script.delete(key)
    script.read(first)
    script.clock.advance(3)
    script.put(key, video.body)
    second = script.held(key, 2)
    script.read(second)
    assert script.deliver(second)["outcome"] == "tagged"
    late = script.deliver(first)
    assert late["outcome"] == "skipped" and late["reason"] in ("stale", "transient-failure")
    script.settle()
    assert comparable(script.tags(key)) == expected_tags(video)


@pytest.mark.parametrize("failed_first", [False, True], ids=["failure-last", "failure-first"])
def test_4_an_older_failed_job_never_downgrades_a_success(
    script: Script, video: Media, failed_first: bool
) -> None:
    """Two jobs for one upload (the event came twice); the older one failed. In either arrival
    order, and when the failure is replayed, the object ends ok. Before issue 10 the failure,
    arriving last, replaced ok and the media tags."""
    key = f"four/{failed_first}.mp4"
    script.put(key, video.body)
    older = script.held(key, 1)
    (upload,) = [inv for inv in script.emulator.upload.invocations if inv.ok]
    script.emulator.upload.invoke_event(upload.event)  # SCF delivered the event twice
    newer = script.held(key, 2)
    script.read(older, fail_code="ResourceNotSupported")  # final, not a transient code
    script.read(newer)
    order = (older, newer) if failed_first else (newer, older)
    replies = [script.deliver(job_id) for job_id in order]
    expected = ["tagged", "tagged"] if failed_first else ["tagged", "skipped"]
    assert [reply["outcome"] for reply in replies] == expected
    assert comparable(script.tags(key)) == expected_tags(video)
    (failed,) = [
        inv for inv in script.emulator.function_url.invocations if older in inv.event["body"]
    ]
    replay = callback_function.main_handler(failed.event, failed.context)  # replayed later
    assert json.loads(replay["body"])["reason"] == "success-kept"
    script.settle()
    assert comparable(script.tags(key)) == expected_tags(video)


def _uploads(emulator: Emulator, keys: list[str], body: bytes) -> None:
    client = oracle_client(emulator)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda key: client.put_object(Bucket=BUCKET, Key=key, Body=body), keys))


@pytest.mark.parametrize("concurrency", ["8", "1"], ids=["default", "one-at-a-time"])
def test_5_sixty_records_in_one_event_against_a_3_s_limit(
    tmp_path: Path, video: Media, concurrency: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """One COS event with 60 records, a 3 s function limit, 50 ms answers: none is lost. One at a
    time, 60 x 50 ms outlives the 1.5 s deadline: the rest is handed on, not dropped. Before
    issue 10, 34-35 of 60 never got a job."""
    env = {"MEDIA_TAGGER_UPLOAD_CONCURRENCY": concurrency}
    with Emulator(
        tmp_path,
        buckets=[BUCKET],
        function_time_limit_ms=3000,
        batch_window_s=1.0,
        function_env=env,
    ) as emulator:
        emulator.faults.delay("cos", 0.05)
        emulator.faults.delay("ci", 0.05)
        keys = [f"sixty/{n:02d}.mp4" for n in range(60)]
        _uploads(emulator, keys, video.body)
        assert wait_until(lambda: len(emulator.server.jobs.all()) >= 60, timeout_s=SETTLE_S)
        emulator.faults.reset()  # the callbacks need no slow answers: the upload side is tested
        assert emulator.wait_idle(SETTLE_S)
        invocations = emulator.upload.invocations
        cos_events = [inv for inv in invocations if "Records" in inv.event]
        assert max(len(inv.event["Records"]) for inv in cos_events) >= 50  # batched
        handed = [inv for inv in invocations if "MediaTaggerHandOn" in inv.event]
        assert (len(handed) > 0) == (concurrency == "1")
        assert all(inv.ok for inv in invocations)  # no SCF retry was needed
        submitted = sorted(job.object_key for job in emulator.server.jobs.all())
        assert submitted == keys  # every record got exactly one job
        client = oracle_client(emulator)
        found = {key: comparable(read_tags(client, key)) for key in keys}
        assert {k: v for k, v in found.items() if v != expected_tags(video)} == {}
    assert '"outcome":"unsubmitted"' not in capsys.readouterr().out


def test_5_answers_slower_than_the_deadline_end_at_error_and_are_recovered(
    tmp_path: Path, video: Media, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every POST /jobs outlives the deadline: after the fruitless hand-ons each key is one ERROR
    line naming the recovery command, which then submits it. Before issue 10: 10/10 gone."""
    # 2 s limit: the deadline is at 1 s (margin min(half, max(1.5 s, 10 %))) and no record
    # starts after 0.5 s, so the hand-on usually fits before the limit even on a loaded machine
    # (at 1 s, invocations overran and SCF retried the event: two chains per key).
    with Emulator(
        tmp_path, buckets=[BUCKET], function_time_limit_ms=2000, batch_window_s=0.2
    ) as emulator:
        keys = [f"slow/{n}.mp4" for n in range(10)]
        emulator.faults.stall("ci", 1.6)  # each answer after the deadline, unprocessed
        _uploads(emulator, keys, video.body)
        assert emulator.wait_idle(40.0)
        lines = [
            json.loads(line) for line in capsys.readouterr().out.splitlines() if line[:1] == "{"
        ]
        errors = [line for line in lines if line.get("outcome") == "unsubmitted"]
        assert sorted({line["key"] for line in errors}) == keys, lines
        if all(inv.ok for inv in emulator.upload.invocations):
            assert sorted(line["key"] for line in errors) == keys  # one line per key
        # else: an invocation outlived its limit on this loaded machine and SCF ran its event
        # again, which starts a second chain for the same keys: their lines come twice (the
        # recovery below is the same command either way)
        assert all(line["reason"].startswith("no-progress:") for line in errors), errors
        emulator.faults.reset()
        environ = emulator.function_environ()
        argv = shlex.split(
            errors[0]["recover"]
        )  # one key: the command exactly as its line gives it
        assert argv[:3] == ["python", "-m", "shared"]
        assert operator_main(argv[3:], environ=environ) == 0, capsys.readouterr()
        log = tmp_path / "function.log"  # the rest at once: the same command over the log
        log.write_text("\n".join(json.dumps(line) for line in errors[1:]) + "\n")
        batch = [*argv[3:8], "--keys-from", str(log)]
        assert batch[:5] == ["backfill", "--bucket", BUCKET, "--region", argv[7]]
        assert operator_main(batch, environ=environ) == 0, capsys.readouterr()
        assert emulator.wait_idle(SETTLE_S)
        client = oracle_client(emulator)
        found = {key: comparable(read_tags(client, key)) for key in keys}
        assert {k: v for k, v in found.items() if v != expected_tags(video)} == {}


def test_6_a_user_tag_written_while_get_jobs_is_slow_is_kept(
    script: Script, video: Media, capsys: pytest.CaptureFixture[str]
) -> None:
    """CI answers in 200 ms, COS in 20 ms; the user writes a tag just after our concurrent tag
    read. The tags feeding the merge are read again once GET /jobs answered, so the PUT keeps the
    user's tag; the window between that read's answer and our PUT is one COS round trip. Before
    issue 10 the tag read ran beside GET /jobs and the user's tag was reverted."""
    key = "six/clip.mp4"
    script.server.job_gate.hold(False)
    script.put(key, video.body)
    (job_id,) = [script.job(key, 1)]
    assert wait_until(lambda: job_id in script.server.callbacks.parked())
    script.emulator.faults.delay("ci", 0.2)
    script.emulator.faults.delay("cos", 0.02)
    mark = len(script.server.timeline)
    release = threading.Thread(target=script.deliver, args=(job_id,))
    release.start()

    def our_first_tag_read() -> bool:
        return any(
            t.operation == "cos:GET:tagging" and t.key == key
            for t in list(script.server.timeline)[mark:]
        )

    assert wait_until(our_first_tag_read, timeout_s=5.0)
    user = {"Key": "owner", "Value": "alice"}
    script.pipeline.client.put_object_tagging(
        Bucket=BUCKET, Key=key, Tagging={"TagSet": {"Tag": [user]}}
    )
    release.join(SETTLE_S)
    script.settle()
    tags = script.tags(key)
    assert tags["owner"] == "alice"
    assert comparable({k: v for k, v in tags.items() if k != "owner"}) == expected_tags(video)
    timeline = [t for t in list(script.server.timeline)[mark:] if t.key == key]
    ours = [t for t in timeline if t.operation == "cos:PUT:tagging"][-1]  # after the user's
    reads = [t for t in timeline if t.operation == "cos:GET:tagging" and t.answered <= ours.started]
    # COS serves a read when it arrives and applies a PUT when it arrives: the window in which a
    # user's write is lost runs from our read's arrival to our PUT's
    window = ours.started - reads[-1].started
    first = ours.started - reads[0].started
    print(f"lost-update window: {window * 1000:.0f} ms (the first tag read: {first * 1000:.0f} ms)")
    assert len(reads) == 2  # the concurrent read, then the fresh one after GET /jobs answered
    assert window < 0.05 and first > 0.15


def test_7_the_defaults_leave_three_tags_for_the_user(script: Script, video: Media) -> None:
    """A tagged object carries 7 of our tags; a user adds 3 of their own without InvalidTag.
    Before issue 10 our 10 tags filled every slot."""
    key = "seven/clip.mp4"
    script.server.job_gate.hold(False)
    script.server.callbacks.park(False)
    script.put(key, video.body)
    script.settle()
    tags = script.tags(key)
    assert len(tags) == 7 and comparable(tags) == expected_tags(video)
    mine = [{"Key": f"team{n}", "Value": "x"} for n in range(3)]
    tag_set = [{"Key": k, "Value": v} for k, v in tags.items()] + mine
    script.pipeline.client.put_object_tagging(
        Bucket=BUCKET, Key=key, Tagging={"TagSet": {"Tag": tag_set}}
    )
    assert len(script.tags(key)) == 10
