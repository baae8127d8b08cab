"""The demo's and the soak's uploader: one PUT up to 1 MiB, multipart above, as upload_file does.

The boundary is cos-python-sdk-v5's own (``file_size <= 1024 * 1024 * PartSize``, PartSize=1):
exactly 1 MiB is one PUT, one byte more is two parts. ``make demo`` of a multipart-sized video
prints the ``<hex>-<parts>`` ETag and the tags.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.demo import run_demo
from emulator.upload_client import MULTIPART_THRESHOLD, complete_body, upload_object
from shared.models import ObjectRef
from shared.tencent.credentials import credential_from_environ
from shared.tencent.endpoints import Endpoint
from shared.tencent.transport import Transport
from tests.emulator_fixtures import BUCKET, REGION, Harness, start_harness
from tests.sdk_helpers import MIB, make_mp4, md5_hex, padded_mp4, sdk_client

pytestmark = pytest.mark.e2e


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Harness, Transport]]:
    harness = start_harness(tmp_path)
    credentials = harness.client.credentials
    environ = {
        "TENCENTCLOUD_SECRETID": credentials.secret_id,
        "TENCENTCLOUD_SECRETKEY": credentials.secret_key,
        "TENCENTCLOUD_SESSIONTOKEN": credentials.token or "",
    }
    transport = Transport(
        lambda: credential_from_environ(environ), endpoint=Endpoint(harness.server.endpoint_url)
    )
    try:
        yield harness, transport
    finally:
        harness.server.stop()


def test_complete_body_quotes_etags_as_the_sdk_does() -> None:
    assert complete_body(['"ab"', '"cd"']) == (
        b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;ab&quot;</ETag>"
        b"</Part><Part><PartNumber>2</PartNumber><ETag>&quot;cd&quot;</ETag></Part>"
        b"</CompleteMultipartUpload>"
    )


def test_the_sdk_boundary_one_put_at_1_mib_parts_above(
    running: tuple[Harness, Transport],
) -> None:
    harness, transport = running
    assert MULTIPART_THRESHOLD == MIB
    exactly = b"a" * MIB
    etag = upload_object(transport, ObjectRef(BUCKET, REGION, "one.bin"), exactly, "x/y")
    assert etag == md5_hex(exactly)
    before = Counter(harness.server.stats()["operations"])
    above = exactly + b"b"
    etag = upload_object(transport, ObjectRef(BUCKET, REGION, "two.bin"), above, "x/y")
    assert re.fullmatch(r"[0-9a-f]{32}-2", etag)
    used = Counter(harness.server.stats()["operations"]) - before
    assert used == Counter({"cos:POST:uploads": 1, "cos:PUT:part": 2, "cos:POST:upload": 1})
    client = sdk_client(harness.server.port, harness.client.credentials)
    got = client.get_object(Bucket=BUCKET, Key="two.bin")
    assert got["Body"].get_raw_stream().read() == above and got["Content-Type"] == "x/y"
    assert [e.event_name for e in harness.events] == [
        "cos:ObjectCreated:Put",
        "cos:ObjectCreated:CompleteMultipartUpload",
    ]


def test_demo_uploads_a_big_video_in_parts_and_prints_its_tags(tmp_path: Path) -> None:
    video = padded_mp4(make_mp4(tmp_path / "base.mp4"), tmp_path / "big.mp4", 5 * MIB // 2)
    out, err = io.StringIO(), io.StringIO()
    assert run_demo(video, timeout_s=30, out=out, err=err) == 0, err.getvalue()
    printed = out.getvalue()
    etag = re.search(r"stored with ETag ([0-9a-f]{32}-3)\n", printed)
    assert etag is not None, printed
    assert re.search(
        rf"media:etag +{etag.group(1)}/[0-9]{{8}}T[0-9]{{6}}Z/j[0-9a-f]{{32}}\n", printed
    )
    assert re.search(r"media:status +ok\n", printed)
    assert re.search(r"media:resolution +160x120\n", printed)
