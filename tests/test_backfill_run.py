"""``shared.ops.backfill.Backfill`` against typed fakes: paging, checkpoints, interrupts, retries.

The fakes of ``tests.fakes`` implement ``ports.ObjectStore`` / ``ports.MediaJobs`` (mypy-checked);
the upload path is the real ``UploadService`` with settings loaded from an environ.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from shared.decision_log import DecisionLog
from shared.errors import CiError, CosError, MediaTaggerError
from shared.models import BucketPage, ListedObject
from shared.ops import backfill as backfill_module
from shared.ops.adaptive_rate import AdaptiveJobs, AdaptiveRate
from shared.ops.backfill import Backfill, BackfillTarget, category_of, list_bucket
from shared.ops.checkpoint import BackfillState, load_state, save_state
from shared.ops.named_keys import keys_from_lines, listing_time
from shared.ops.progress import Progress
from shared.ports import MediaInfoJobRequest, MediaJobs, ObjectStore
from shared.records import replace
from shared.settings.functions import load_upload_settings
from shared.upload.service import Failed, Skipped, Submitted, UploadService
from tests.callback_helpers import LineCollector, collected_lines
from tests.fakes import FakeMediaJobs, FakeObjectStore
from tests.upload_helpers import BASE_ENVIRON

BUCKET, REGION = "media-uploads-1250000000", "ap-guangzhou"
TARGET = BackfillTarget(BUCKET, REGION)


def etag_of(key: str) -> str:
    return hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()


def bucket_store(
    keys: Sequence[str],
    *,
    next_marker: bool = True,
    kind: type[FakeObjectStore] = FakeObjectStore,
) -> FakeObjectStore:
    """A bucket of ``keys`` listed 3 at a time (etag from the key; "empty" keys are 0 bytes)."""
    store = kind(page_size=3, next_marker=next_marker, forbid=("put_tagging",))  # never writes
    for key in keys:
        store.add(key, etag_of(key), 0 if "empty" in key else 100)
    return store


def backfill_jobs() -> FakeMediaJobs:
    """CI that accepts submissions, or fails/interrupts on keys set in ``fail_once``."""
    return FakeMediaJobs(forbid=("describe", "list"))  # backfill only submits


@pytest.fixture
def lines() -> Iterator[LineCollector]:
    with collected_lines("tests.backfill") as collector:
        yield collector


def make_backfill(
    store: FakeObjectStore,
    jobs: FakeMediaJobs,
    state_file: Path | None,
    *,
    environ: dict[str, str] | None = None,
    dry_run: bool = False,
    max_objects: int | None = None,
    progress: Progress | None = None,
    target: BackfillTarget = TARGET,
    concurrency: int = backfill_module.DEFAULT_CONCURRENCY,
) -> Backfill:
    settings = replace(
        load_upload_settings({**BASE_ENVIRON, **(environ or {})}), idempotency_check=True
    )
    log = DecisionLog("backfill", "run-1", logger=logging.getLogger("tests.backfill"))
    object_store: ObjectStore = store
    media_jobs: MediaJobs = jobs
    service = UploadService(settings, object_store, media_jobs, log, dry_run=dry_run)
    return Backfill(
        service,
        object_store,
        log,
        target,
        state_file=state_file,
        write_state=not dry_run,
        progress=progress,
        max_objects=max_objects,
        concurrency=concurrency,
    )


KEYS = ["a.mp4", "b.txt", "c.mov", "d/", "e.mp3", "f-empty.mp4", "g.MKV", "h.mp4"]
MEDIA = ["a.mp4", "c.mov", "e.mp3", "g.MKV", "h.mp4"]


def test_every_page_is_listed_and_only_media_is_submitted(tmp_path: Path) -> None:
    store, jobs = bucket_store(KEYS), backfill_jobs()
    result = make_backfill(store, jobs, tmp_path / "s.json").run()
    assert jobs.accepted == MEDIA
    assert result.tally.counts == {
        "submitted": 5, "would_submit": 0, "already_tagged": 0, "filtered": 3, "gone": 0,
        "failed": 0, "retry": 0,
    }  # fmt: skip
    assert result.state.complete and result.state.last_key == "h.mp4"
    # one counting pass and one working pass, each marker-paged 3 keys at a time
    assert store.markers == ["", "c.mov", "f-empty.mp4"] * 2


def test_without_next_marker_the_last_key_pages_on() -> None:
    store = bucket_store(KEYS, next_marker=False)
    assert [o.key for o in list_bucket(store, TARGET, None)] == sorted(KEYS)
    assert [o.key for o in list_bucket(store, TARGET, "d/")] == sorted(KEYS)[4:]


def test_a_listing_that_does_not_advance_is_an_error() -> None:
    class Stuck(FakeObjectStore):
        def list_objects(self, bucket: str, region: str, **options: object) -> BucketPage:
            return BucketPage((), True, None)

    with pytest.raises(CosError, match="does not advance"):
        list(list_bucket(bucket_store(KEYS, kind=Stuck), TARGET, None))


class LoopingListing(FakeObjectStore):
    """Truncated pages by marker: ``pages[marker]`` = (the page's one key, its NextMarker). More
    than 5 listings fail the test, so a listing loop shows as a failure instead of a hang."""

    def __init__(self, pages: dict[str, tuple[str, str | None]]) -> None:
        super().__init__(forbid=("put_tagging",))
        self.pages = pages

    def list_objects(self, bucket: str, region: str, **options: object) -> BucketPage:
        marker = str(options.get("marker", ""))
        self.markers.append(marker)
        assert len(self.markers) <= 5, f"still listing after markers {self.markers}"
        key, following = self.pages[marker]
        return BucketPage((ListedObject(key, etag_of(key), 100),), True, following)


@pytest.mark.parametrize(
    "pages",
    [
        {"": ("a.mp4", "b"), "b": ("c.mp4", "b")},  # NextMarker equal to the marker asked with
        {"": ("a.mp4", "b"), "b": ("c.mp4", "a")},  # NextMarker before it
        {"": ("a.mp4", "b"), "b": ("a.mp4", None)},  # none, and the last key is before it
    ],
    ids=["equal", "backwards", "last-key-backwards"],
)
def test_a_next_marker_that_does_not_advance_is_an_error(
    pages: dict[str, tuple[str, str | None]],
) -> None:
    store = LoopingListing(pages)
    with pytest.raises(CosError, match="does not advance"):
        list(list_bucket(store, TARGET, None))
    assert store.markers == ["", "b"]


class QuotingListing(FakeObjectStore):
    """A store whose listing keeps the ETag's quotes (the port does not promise bare ones)."""

    def _etag_and_size(self, key: str) -> tuple[str, int]:
        etag, size = super()._etag_and_size(key)
        return f'"{etag}"', size


def test_a_quoted_listed_etag_reaches_the_user_data_bare(tmp_path: Path) -> None:
    store, jobs = bucket_store(["a.mp4"], kind=QuotingListing), backfill_jobs()
    make_backfill(store, jobs, tmp_path / "s.json").run()
    (submitted,) = jobs.submitted
    assert submitted[2].user_data == f"mt1;e={etag_of('a.mp4')};s=100"


def test_already_tagged_objects_are_not_resubmitted(tmp_path: Path) -> None:
    store, jobs = bucket_store(KEYS), backfill_jobs()
    store.set_tags("c.mov", (("media:status", "ok"), ("media:etag", etag_of("c.mov"))))
    store.set_tags("e.mp3", (("media:status", "ok"), ("media:etag", "0" * 32)))  # older content
    # the upload function's check may be switched off; backfill's never is
    environ = {"MEDIA_TAGGER_IDEMPOTENCY_CHECK": "false"}
    result = make_backfill(store, jobs, tmp_path / "s.json", environ=environ).run()
    assert jobs.accepted == ["a.mp4", "e.mp3", "g.MKV", "h.mp4"]
    assert result.tally.counts["already_tagged"] == 1


def test_the_upload_functions_filters_apply(tmp_path: Path) -> None:
    store, jobs = bucket_store(KEYS), backfill_jobs()
    environ = {"MEDIA_TAGGER_EXTENSIONS": "mp4", "MEDIA_TAGGER_EXCLUDE_PREFIXES": "h"}
    make_backfill(store, jobs, tmp_path / "s.json", environ=environ).run()
    assert jobs.accepted == ["a.mp4"]


def test_ctrl_c_keeps_the_last_fully_handled_key_and_the_run_resumes_after_it(
    tmp_path: Path,
) -> None:
    store, jobs, state_file = bucket_store(KEYS), backfill_jobs(), tmp_path / "s.json"
    jobs.fail_once["e.mp3"] = KeyboardInterrupt()
    first = make_backfill(store, jobs, state_file, concurrency=1).run()
    assert first.interrupted and not first.state.complete
    assert jobs.accepted == ["a.mp4", "c.mov"]
    saved = load_state(state_file)
    assert saved is not None and saved.last_key == "d/" and not saved.complete
    store.markers.clear()
    second = make_backfill(store, jobs, state_file).run()
    assert second.state.complete
    assert jobs.accepted == MEDIA  # e.mp3 (in flight at ^C) once; nothing else twice
    assert store.markers[0] == "d/"  # listing continues after the checkpoint
    assert second.state.totals["submitted"] == 5


def test_ctrl_c_with_many_threads_records_only_what_finished_in_order(tmp_path: Path) -> None:
    store, jobs, state_file = bucket_store(KEYS), backfill_jobs(), tmp_path / "s.json"
    jobs.fail_once["e.mp3"] = KeyboardInterrupt()
    first = make_backfill(store, jobs, state_file, concurrency=4).run()
    assert first.interrupted and first.state.last_key == "d/"  # e.mp3 never finished
    ahead = set(jobs.accepted) - {"a.mp4", "c.mov"}  # after e.mp3, already submitted by threads
    assert {"a.mp4", "c.mov"} <= set(jobs.accepted) and ahead <= {"g.MKV", "h.mp4"}
    second = make_backfill(store, jobs, state_file, concurrency=4).run()
    assert second.state.complete
    assert Counter(jobs.accepted) == Counter(MEDIA) + Counter(ahead)  # only those twice


def test_checkpoints_are_written_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved: list[str | None] = []
    real_save = save_state

    def recording_save(path: Path, state: BackfillState, *, durable: bool = True) -> None:
        saved.append(state.last_key)
        real_save(path, state, durable=durable)

    monkeypatch.setattr(backfill_module, "save_state", recording_save)
    monkeypatch.setattr(backfill_module, "SAVE_EVERY_OBJECTS", 3)
    backfill = make_backfill(bucket_store(KEYS), backfill_jobs(), tmp_path / "s.json")
    backfill._clock = lambda: 0.0  # no time-based saves: only every 3 objects, then the last
    backfill.run()
    assert saved == ["c.mov", "f-empty.mp4", "h.mp4"]


def test_transient_failures_are_kept_and_tried_first_next_time(tmp_path: Path) -> None:
    store, jobs, state_file = bucket_store(KEYS), backfill_jobs(), tmp_path / "s.json"
    jobs.fail_once["c.mov"] = CiError(503, "ServiceUnavailable")
    jobs.fail_once["e.mp3"] = CiError(400, "InvalidArgument")  # permanent: logged, not retried
    first = make_backfill(store, jobs, state_file).run()
    assert first.state.retry_keys == ("c.mov",) and not first.state.complete
    assert first.tally.counts["retry"] == 1 and first.tally.counts["failed"] == 1
    assert jobs.accepted == ["a.mp4", "g.MKV", "h.mp4"]
    second = make_backfill(store, jobs, state_file).run()
    assert store.keys_called("head") == ["c.mov"] and jobs.accepted[-1] == "c.mov"
    assert second.state.retry_keys == () and second.state.complete


def test_a_key_that_fails_again_on_its_retry_stays_for_the_next_run(tmp_path: Path) -> None:
    store, jobs, state_file = bucket_store(KEYS), backfill_jobs(), tmp_path / "s.json"
    jobs.errors["c.mov"] = CiError(503, "ServiceUnavailable")  # every time, retries included
    first = make_backfill(store, jobs, state_file).run()
    assert first.state.retry_keys == ("c.mov",) and not first.state.complete
    second = make_backfill(store, jobs, state_file).run()
    assert second.tally.counts["retry"] == 1
    assert second.state.retry_keys == ("c.mov",) and not second.state.complete
    saved = load_state(state_file)
    assert saved is not None and saved.retry_keys == ("c.mov",) and not saved.complete
    del jobs.errors["c.mov"]
    third = make_backfill(store, jobs, state_file).run()
    assert third.state.retry_keys == () and third.state.complete
    assert jobs.accepted == ["a.mp4", "e.mp3", "g.MKV", "h.mp4", "c.mov"]


def test_a_retry_whose_head_fails_transiently_stays_too(tmp_path: Path) -> None:
    store, jobs, state_file = bucket_store(KEYS), backfill_jobs(), tmp_path / "s.json"
    save_state(state_file, BackfillState(BUCKET, REGION, "", "h.mp4", ("c.mov",)))
    store.key_errors["c.mov"] = CosError(503, "ServiceUnavailable")
    result = make_backfill(store, jobs, state_file).run()
    assert result.state.retry_keys == ("c.mov",) and not result.state.complete
    assert jobs.accepted == []


def test_a_retried_object_that_is_gone_is_dropped(tmp_path: Path) -> None:
    store, jobs, state_file = bucket_store(KEYS), backfill_jobs(), tmp_path / "s.json"
    save_state(state_file, BackfillState(BUCKET, REGION, "", "h.mp4", ("zz.mp4",)))
    result = make_backfill(store, jobs, state_file).run()
    assert result.tally.counts["gone"] == 1 and result.state.complete and jobs.accepted == []


def test_max_objects_stops_resumably(tmp_path: Path) -> None:
    store, jobs, state_file = bucket_store(KEYS), backfill_jobs(), tmp_path / "s.json"
    first = make_backfill(store, jobs, state_file, max_objects=3).run()
    assert first.stopped_early and first.tally.handled == 3 and not first.state.complete
    second = make_backfill(store, jobs, state_file).run()
    assert second.state.complete and jobs.accepted == MEDIA


def test_a_complete_state_file_means_nothing_to_do(tmp_path: Path) -> None:
    store, jobs, state_file = bucket_store(KEYS), backfill_jobs(), tmp_path / "s.json"
    make_backfill(store, jobs, state_file).run()
    store.markers.clear()
    again = make_backfill(store, jobs, state_file).run()
    assert again.already_complete and store.markers == [] and jobs.accepted == MEDIA


def test_a_state_file_of_another_prefix_is_refused(tmp_path: Path) -> None:
    state_file = tmp_path / "s.json"
    save_state(state_file, BackfillState(BUCKET, REGION, "videos/", "videos/a.mp4"))
    with pytest.raises(MediaTaggerError, match="belongs to bucket"):
        make_backfill(bucket_store(KEYS), backfill_jobs(), state_file).run()


def test_dry_run_submits_nothing_and_writes_no_state(tmp_path: Path) -> None:
    store, jobs, state_file = bucket_store(KEYS), backfill_jobs(), tmp_path / "s.json"
    result = make_backfill(store, jobs, state_file, dry_run=True).run()
    assert jobs.accepted == [] and not state_file.exists()
    assert result.tally.counts["would_submit"] == 5


def test_a_listing_failure_keeps_the_checkpoint(tmp_path: Path) -> None:
    class Failing(FakeObjectStore):
        def list_objects(self, bucket: str, region: str, **options: object) -> BucketPage:
            if options.get("marker") == "f-empty.mp4" and len(self.markers) > 3:
                raise CosError(503, "SlowDown")
            return super().list_objects(bucket, region, **options)  # type: ignore[arg-type]

    store, state_file = bucket_store(KEYS, kind=Failing), tmp_path / "s.json"
    with pytest.raises(CosError, match="cos 503 SlowDown"):
        make_backfill(store, backfill_jobs(), state_file).run()
    saved = load_state(state_file)
    assert saved is not None and saved.last_key == "f-empty.mp4" and not saved.complete


def test_one_decision_line_per_object_and_a_summary(tmp_path: Path, lines: LineCollector) -> None:
    make_backfill(bucket_store(KEYS), backfill_jobs(), tmp_path / "s.json").run()
    decisions = lines.decisions()
    assert sorted(d["key"] for d in decisions[:-1]) == sorted(KEYS)  # in completion order
    assert {d["event_name"] for d in decisions[:-1]} == {"backfill"}
    summary = decisions[-1]
    assert summary["outcome"] == "backfill-summary" and summary["submitted"] == 5
    assert summary["complete"] is True
    assert all(d["fn"] == "backfill" for d in decisions)
    assert "token=" not in json.dumps(decisions)


def test_progress_counts_against_the_counted_total(tmp_path: Path) -> None:
    import io

    out = io.StringIO()
    progress = Progress(out, tty=False, interval_s=0)
    make_backfill(bucket_store(KEYS), backfill_jobs(), tmp_path / "s.json", progress=progress).run()
    shown = [line for line in out.getvalue().splitlines() if "objects" in line]
    assert shown[-1].startswith("8/8 objects (100%) | submitted 5 | filtered 3")


@pytest.mark.parametrize(
    ("outcome", "category"),
    [
        (Submitted("j1"), "submitted"),
        (Skipped("already-tagged"), "already_tagged"),
        (Skipped("dry-run"), "would_submit"),
        (Skipped("object-gone"), "gone"),
        (Skipped("extension-not-allowed:txt"), "filtered"),
        (Failed("InvalidArgument", True, "400"), "failed"),
        (Failed("SlowDown", False, "429"), "retry"),
    ],
)
def test_outcome_categories(outcome: Submitted | Skipped | Failed, category: str) -> None:
    assert category_of(outcome) == category


def test_paced_jobs_wait_only_before_submitting() -> None:
    waits: list[float] = []
    jobs = backfill_jobs()
    limited: MediaJobs = AdaptiveJobs(
        jobs, AdaptiveRate(2, clock=lambda: 0.0, sleep=waits.append), clock=lambda: 0.0
    )
    request = MediaInfoJobRequest("a.mp4", "mt1;e=x;s=1", 0, "https://cb.example/", "JSON")
    limited.submit_media_info_job(BUCKET, REGION, request)
    limited.submit_media_info_job(BUCKET, REGION, request)
    assert waits == [0.5] and jobs.accepted == ["a.mp4", "a.mp4"]
    with pytest.raises(AssertionError, match="never lists"):
        limited.list_jobs(BUCKET, REGION)
    assert waits == [0.5]


def test_named_keys_are_headed_and_submitted_without_a_listing_or_state(
    tmp_path: Path, lines: LineCollector
) -> None:
    """``--key``/``--keys-from``: the recovery path of the upload function's unsubmitted keys.
    A key that is gone is one ``object-gone`` line and counted, never silently left out."""
    store, jobs = bucket_store(KEYS), backfill_jobs()
    target = replace(TARGET, keys=("h.mp4", "zz-gone.mp4", "b.txt", "a.mp4"))
    result = make_backfill(store, jobs, None, target=target).run()
    assert jobs.accepted == ["h.mp4", "a.mp4"]
    assert store.markers == []  # nothing listed
    counts = {k: v for k, v in result.tally.counts.items() if v}
    assert counts == {"submitted": 2, "gone": 1, "filtered": 1}
    gone = [d for d in lines.decisions() if d["key"] == "zz-gone.mp4"]
    assert [(d["outcome"], d["reason"]) for d in gone] == [("skipped", "object-gone")]
    assert not list(tmp_path.iterdir())  # no state file


def test_keys_from_lines_takes_plain_keys_or_the_unsubmitted_decisions() -> None:
    log = [
        '{"fn":"submit_on_upload","key":"a b.mp4","outcome":"unsubmitted","reason":"x"}\n',
        '{"fn":"submit_on_upload","key":"c.mp4","outcome":"submitted"}\n',
        "{not json\n",
        "\n",
        "plain/key.mov\r\n",
        '{"fn":"submit_on_upload","key":"a b.mp4","outcome":"unsubmitted","reason":"y"}\n',
        '{"outcome":"unsubmitted","key":""}\n',
    ]
    assert keys_from_lines(log) == ("a b.mp4", "plain/key.mov")
    assert listing_time("Wed, 28 Oct 2026 20:30:00 GMT") == "2026-10-28T20:30:00.000Z"
    assert listing_time("yesterday") is None and listing_time(None) is None
