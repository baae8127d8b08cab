"""A web app's browser upload reaches the pipeline: presigned PUT made by cos-python-sdk-v5.

The app's backend (the SDK, configured as in production: no IP override, so the URL names
``<bucket>.cos.<region>.myqcloud.com``) presigns a PUT with the STS token as the
``x-cos-security-token`` parameter (the SDK's presigned-URL doc); the "browser" is plain
``requests`` with no SDK and no Authorization header, reaching the emulator as its HTTP proxy. The
COS trigger fires, the unchanged handlers run, and the tags match the test's own ffprobe run.
A presigned GET with ``response-content-disposition`` then downloads it as an attachment.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.app import Emulator
from tests.e2e_helpers import (
    BUCKET,
    README_REQUESTS,
    SETTLE_S,
    VIDEO_ARGS,
    Media,
    Pipeline,
    comparable,
    expected_tags,
    generate_media,
    oracle_client,
    read_tags,
    same_requests,
)
from tests.sdk_helpers import browser, presigning_client

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return generate_media(tmp_path_factory.mktemp("browser-media"), "clip.mp4", VIDEO_ARGS)


@pytest.fixture
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    data = tmp_path_factory.mktemp("browser-emulator")
    with Emulator(data, job_runner_delay_s=0.01, buckets=[BUCKET]) as running:
        yield running


def test_browser_put_with_a_presigned_url_is_tagged(emulator: Emulator, clip: Media) -> None:
    pipeline = Pipeline(emulator, oracle_client(emulator))
    token = {"x-cos-security-token": emulator.credentials.token or ""}
    backend = presigning_client(emulator.credentials)
    key = "uploads/from the browser 视频.mp4"
    put_url = backend.get_presigned_url(
        Bucket=BUCKET, Key=key, Method="PUT", Expired=600, Params=token
    )
    assert put_url.startswith(f"http://{BUCKET}.cos.ap-guangzhou.myqcloud.com/")
    since = pipeline.mark()
    with browser(emulator.endpoint_url) as session:
        stored = session.put(
            put_url, data=clip.body, headers={"Content-Type": "video/mp4"}, timeout=10
        )
        assert stored.status_code == 200, stored.content
        assert "Authorization" not in stored.request.headers
        activity = pipeline.settle(since)
        ((record,),) = [upload.event["Records"] for upload in activity.uploads]
        assert record["event"]["eventName"] == "cos:ObjectCreated:Put"
        assert record["cos"]["cosObject"]["meta"]["Content-Type"] == "video/mp4"
        assert same_requests(activity.operations, README_REQUESTS), activity.operations
        assert activity.outcomes() == ["tagged:ok"]
        assert comparable(read_tags(pipeline.client, key)) == expected_tags(clip)

        get_url = backend.get_presigned_download_url(
            Bucket=BUCKET,
            Key=key,
            Params={**token, "response-content-disposition": "attachment; filename=clip.mp4"},
        )
        fetched = session.get(get_url, timeout=10)
    assert fetched.status_code == 200 and fetched.content == clip.body
    assert fetched.headers["Content-Disposition"] == "attachment; filename=clip.mp4"
    assert fetched.headers["Content-Type"] == "video/mp4"
    assert pipeline.emulator.wait_idle(SETTLE_S)
