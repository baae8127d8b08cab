"""Reconcile when GET /jobs lists ``Input.Object`` percent-encoded (undocumented either way):
HEAD proves which reading of the key is the object (it exists and still has the UserData's ETag
and size); the result is written at exactly that key. Typed fakes, no HTTP."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest

from shared.contract.userdata import UserDataFacts
from shared.decision_log import DecisionLog
from shared.errors import TransportError
from shared.models import ObjectRef
from shared.reconcile.listed_key import listed_object
from shared.reconcile.service import Reconciler, ReconcileSummary, ReconcileWindow
from tests.callback_helpers import BUCKET, ETAG, EXPECTED_OK_TAGS, REGION, SIZE, job_from_detail
from tests.fakes import FakeMediaJobs, FakeObjectStore

WINDOW = ReconcileWindow(1_732_500_000.0, 1_732_503_600.0)
HOSTILE = "视频/a b+c 100%#1.mp4"  # space, '+', '%', CJK, '#'
ENCODED = quote(HOSTILE, safe="/")
FACTS = UserDataFacts(ETAG, SIZE)


def reconcile(store: FakeObjectStore, listed_key: str) -> ReconcileSummary:
    listed = job_from_detail(key=listed_key)  # JOB_ID, created CREATION_TIME
    jobs = FakeMediaJobs(pages=[[listed]], forbid=("submit",))
    log = DecisionLog("reconcile", "run-1", logger=logging.getLogger("tests.reconcile"))
    reconciler = Reconciler(store, jobs, log, tag_prefix="media:", tag_fields=("status", "etag",
                            "duration", "resolution", "vcodec", "acodec", "fps", "bitrate",
                            "container"))  # fmt: skip
    return reconciler.run(BUCKET, REGION, WINDOW)


def test_an_encoded_listing_is_written_at_the_decoded_key() -> None:
    store = FakeObjectStore(forbid=("list",))
    store.add(key=HOSTILE)
    summary = reconcile(store, ENCODED)
    assert summary.outcomes == {"tagged": 1}
    assert store.puts == [(ObjectRef(BUCKET, REGION, HOSTILE), EXPECTED_OK_TAGS)]
    assert store.keys_called("head")[:2] == [ENCODED, HOSTILE]  # raw first, it is gone


def test_a_raw_look_alike_with_other_content_is_passed_over() -> None:
    store = FakeObjectStore(forbid=("list",))
    store.add(key=ENCODED, etag="f" * 32)  # a real object literally named like the encoding
    store.add(key=HOSTILE)
    reconcile(store, ENCODED)
    assert [obj.key for obj, _ in store.puts] == [HOSTILE]


def test_a_raw_key_that_is_the_object_stays_raw() -> None:
    store = FakeObjectStore(forbid=("list",))
    store.add(key="in/a%20b 100%.mp4")
    reconcile(store, "in/a%20b 100%.mp4")
    assert [obj.key for obj, _ in store.puts] == ["in/a%20b 100%.mp4"]


def test_a_key_without_a_decoded_reading_costs_no_extra_request() -> None:
    store = FakeObjectStore(forbid=("list",))
    store.add(key="videos/plain.mp4", tags=EXPECTED_OK_TAGS)
    assert reconcile(store, "videos/plain.mp4").outcomes == {"unchanged": 1}
    assert [name for name, _, _ in store.calls] == ["get_tagging"]


@pytest.mark.parametrize(
    "error", [None, TransportError("reset")], ids=["neither-matches", "head-fails"]
)
def test_when_no_reading_is_proven_the_raw_key_is_kept(error: Exception | None) -> None:
    store = FakeObjectStore(forbid=("list", "put_tagging"))
    store.add(key=HOSTILE, etag="f" * 32)  # exists, but holds other content
    if error is not None:
        store.errors["head"] = error
    assert listed_object(store, BUCKET, REGION, ENCODED, FACTS) == ObjectRef(
        BUCKET, REGION, ENCODED
    )
    assert store.keys_called("head") == [ENCODED, HOSTILE]  # never a third reading


def test_the_version_of_the_user_data_is_kept() -> None:
    store = FakeObjectStore()
    store.add(key=HOSTILE, version="v7")
    found = listed_object(store, BUCKET, REGION, ENCODED, UserDataFacts(ETAG, SIZE, "v7"))
    assert found == ObjectRef(BUCKET, REGION, HOSTILE, "v7")
