"""CiBatchClient and CosClient's small-object GET/PUT over a strict HTTP mock: every new CI and
COS call, its exact XML body, query and signed headers (Authorization computed by
cos-python-sdk-v5's CosS3Auth).

The batch body follows the "trigger job (independent node)" doc (ci-facts.md 8.1); the list
names Type=Job (the SDK's default Workflow would hide MediaInfo batches, ci-facts.md 8.3).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
import responses

from shared.batch_jobs import BatchInput, BatchRequest
from shared.errors import CiError, CosError, EventError
from shared.models import ObjectRef
from shared.tencent.ci_batches import CiBatchClient
from shared.tencent.cos_client import CosClient
from shared.tencent.media_queue import QueueCache
from tests.client_helpers import (
    BUCKET,
    CI_HOST,
    COS_HOST,
    REGION,
    TOKEN,
    expected_headers,
    jobs_detail_xml,
    jobs_response,
    make_transport,
    match_request,
    strict_mock,
)

BATCH_URL = f"https://{CI_HOST}/inventorytriggerjob"
BATCH_ID = "bb16331089f7c11ecb10252540019ee59"  # the SDK demo's batch id (ci-facts.md 5)
XML = {"Content-Type": "application/xml"}
MANIFEST = f"https://{COS_HOST}/.media-tagger/manifests/r1/manifest.json"
REQUEST = BatchRequest("media-tagger-r1-0", BatchInput("Manifest", MANIFEST), "mtb1;r=r1")
BODY = (
    "<Request><Name>media-tagger-r1-0</Name><Type>Job</Type>"
    f"<Input><Manifest>{MANIFEST}</Manifest></Input><Operation>"
    "<UserData>mtb1;r=r1</UserData><CallBack>no</CallBack>"
    "<Tag>MediaInfo</Tag><JobParam></JobParam><JobLevel>0</JobLevel></Operation></Request>"
).encode()


def batch_detail(batch_id: str = BATCH_ID, state: str = "Submitted", name: str = "n") -> str:
    """One batch <JobsDetail> as the create/describe doc shows it (ci-facts.md 8.1)."""
    return (
        f"<JobsDetail><Code>Success</Code><Type>Job</Type><Message/><Name>{name}</Name>"
        f"<JobId>{batch_id}</JobId><State>{state}</State>"
        "<CreationTime>2022-06-27T15:23:10+0800</CreationTime><StartTime>-</StartTime>"
        "<EndTime>-</EndTime><Input><Prefix>input</Prefix></Input>"
        "<Operation><Tag>MediaInfo</Tag><UserData>mtb1;r=r1</UserData></Operation></JobsDetail>"
    )


def _client(**options: Any) -> CiBatchClient:
    return CiBatchClient(make_transport(**options), queue_cache=QueueCache())


def test_create_sends_the_documented_body_with_callback_no() -> None:
    headers = expected_headers(
        "POST", BATCH_URL, CI_HOST, key="/inventorytriggerjob", extra=XML, body=BODY
    )
    with strict_mock() as mock:
        mock.add(
            responses.POST,
            BATCH_URL,
            body=jobs_response(batch_detail(name="media-tagger-r1-0")),
            match=match_request(headers=headers, body=BODY),
        )
        batch = _client().create_batch(BUCKET, REGION, REQUEST)
    assert (batch.job_id, batch.state, batch.name) == (BATCH_ID, "Submitted", "media-tagger-r1-0")
    assert batch.input == BatchInput("Prefix", "input") and batch.user_data == "mtb1;r=r1"
    assert (batch.start_time, batch.end_time) == (None, None)  # "-" is no time


def test_create_names_the_configured_queue_and_sends_the_ci_token() -> None:
    body = BODY.replace(b"<Operation>", b"<Operation><QueueId>p123</QueueId>")
    extra = {**XML, "x-ci-security-token": TOKEN}
    headers = expected_headers(
        "POST", BATCH_URL, CI_HOST, key="/inventorytriggerjob", extra=extra, body=body
    )
    with strict_mock() as mock:
        mock.add(
            responses.POST,
            BATCH_URL,
            body=jobs_response(batch_detail()),
            match=match_request(headers=headers, body=body),
        )
        client = CiBatchClient(make_transport(token=TOKEN), queue_id="p123")
        client.create_batch(BUCKET, REGION, REQUEST)


def test_create_escapes_values_and_refuses_what_ci_would() -> None:
    prefix = BatchRequest("n", BatchInput("Prefix", "a&b <c>/"), "u", job_level=2)
    with strict_mock() as mock:
        mock.add(responses.POST, BATCH_URL, body=jobs_response(batch_detail()))
        _client().create_batch(BUCKET, REGION, prefix)
    sent = mock.calls[0].request.body
    assert b"<Input><Prefix>a&amp;b &lt;c&gt;/</Prefix></Input>" in sent
    assert b"<JobLevel>2</JobLevel>" in sent
    bad = [
        BatchRequest("has space", REQUEST.input, "u"),
        BatchRequest("n" * 129, REQUEST.input, "u"),
        BatchRequest("n", BatchInput("UrlFile", "x"), "u"),
        BatchRequest("n", REQUEST.input, "ü"),
        BatchRequest("n", REQUEST.input, "u", job_level=3),
    ]
    for request in bad:
        with strict_mock() as mock, pytest.raises(EventError, match=r"batch|UserData|JobLevel"):
            _client().create_batch(BUCKET, REGION, request)
        assert len(mock.calls) == 0


def test_create_without_jobs_detail_is_a_ci_error() -> None:
    with strict_mock() as mock:
        mock.add(responses.POST, BATCH_URL, body=jobs_response())
        with pytest.raises(CiError, match="without a JobsDetail"):
            _client().create_batch(BUCKET, REGION, REQUEST)


def test_describe_returns_the_batch_or_none_when_ci_does_not_know_it() -> None:
    url = f"{BATCH_URL}/{BATCH_ID}"
    headers = expected_headers("GET", url, CI_HOST, key=f"/inventorytriggerjob/{BATCH_ID}")
    with strict_mock() as mock:
        mock.add(
            responses.GET,
            url,
            body=jobs_response(batch_detail(state="Running")),
            match=match_request(headers=headers),
        )
        mock.add(
            responses.GET,
            f"{BATCH_URL}/bunknown",
            body=jobs_response("<NonExistJobIds>bunknown</NonExistJobIds>"),
        )
        batch = _client().describe_batch(BUCKET, REGION, BATCH_ID)
        assert batch is not None and batch.state == "Running" and not batch.is_final
        assert _client().describe_batch(BUCKET, REGION, "bunknown") is None


@pytest.mark.parametrize("batch_id", ["", "../x", "b/1", "b 1", "b?cancel"])
def test_ids_that_would_change_the_path_are_refused(batch_id: str) -> None:
    client = _client()
    with strict_mock() as mock:
        with pytest.raises(EventError, match="not a CI batch id"):
            client.describe_batch(BUCKET, REGION, batch_id)
        with pytest.raises(EventError, match="not a CI batch id"):
            client.cancel_batch(BUCKET, REGION, batch_id)
        with pytest.raises(EventError, match="not a CI batch id"):
            client.list_batch_jobs(BUCKET, REGION, batch_id)
    assert len(mock.calls) == 0


def test_find_batches_names_type_job_and_pages() -> None:
    query = {
        "type": "Job",
        "orderByTime": "Desc",
        "states": "Submitted,Running",
        "size": "100",
        "nextToken": "7",
        "name": "media-tagger-r1-0",
    }
    headers = expected_headers("GET", BATCH_URL, CI_HOST, key="/inventorytriggerjob", params=query)
    body = jobs_response(batch_detail(name="media-tagger-r1-0"), "<NextToken>3</NextToken>")
    with strict_mock() as mock:
        mock.add(
            responses.GET, BATCH_URL, body=body, match=match_request(query=query, headers=headers)
        )
        page = _client().find_batches(
            BUCKET,
            REGION,
            name="media-tagger-r1-0",
            states=("Submitted", "Running"),
            next_token="7",
        )
    assert [b.job_id for b in page.batches] == [BATCH_ID] and page.next_token == "3"


def test_find_batches_defaults_to_every_state() -> None:
    query = {"type": "Job", "orderByTime": "Desc", "states": "All", "size": "10"}
    with strict_mock() as mock:
        mock.add(
            responses.GET,
            BATCH_URL,
            body=jobs_response(),
            match=match_request(
                query=query,
                headers=expected_headers(
                    "GET", BATCH_URL, CI_HOST, key="/inventorytriggerjob", params=query
                ),
            ),
        )
        assert _client().find_batches(BUCKET, REGION, size=10).batches == ()
    with pytest.raises(ValueError, match="size"):
        _client().find_batches(BUCKET, REGION, size=101)


def test_cancel_is_a_put_with_the_cancel_parameter_and_no_body() -> None:
    url = f"{BATCH_URL}/{BATCH_ID}"
    query = {"cancel": ""}
    headers = expected_headers(
        "PUT", url, CI_HOST, key=f"/inventorytriggerjob/{BATCH_ID}", params=query
    )
    with strict_mock() as mock:
        mock.add(responses.PUT, url, body=b"", match=match_request(query=query, headers=headers))
        _client().cancel_batch(BUCKET, REGION, BATCH_ID)
    assert mock.calls[0].request.url == f"{url}?cancel="
    assert not mock.calls[0].request.body


def test_list_batch_jobs_asks_for_the_batch_oldest_first() -> None:
    url = f"https://{CI_HOST}/jobs"
    query = {
        "tag": "MediaInfo",
        "inventoryTriggerJobId": BATCH_ID,
        "orderByTime": "Asc",
        "size": "100",
        "startCreationTime": "2024-01-01T00:00:00+0800",
        "nextToken": "n2",
    }
    headers = expected_headers("GET", url, CI_HOST, key="/jobs", params=query)
    body = jobs_response(jobs_detail_xml(state="Success"), "<NextToken>n3</NextToken>")
    with strict_mock() as mock:
        mock.add(responses.GET, url, body=body, match=match_request(query=query, headers=headers))
        page = _client().list_batch_jobs(
            BUCKET,
            REGION,
            BATCH_ID,
            start_creation_time="2024-01-01T00:00:00+0800",
            next_token="n2",
        )
    assert [job.state for job in page.jobs] == ["Success"] and page.next_token == "n3"
    assert "startCreationTime=2024-01-01T00%3A00%3A00%2B0800" in mock.calls[0].request.url


def test_list_batch_jobs_names_the_configured_queue() -> None:
    url = f"https://{CI_HOST}/jobs"
    query = {
        "tag": "MediaInfo",
        "queueId": "p123",
        "inventoryTriggerJobId": BATCH_ID,
        "orderByTime": "Asc",
        "size": "100",
    }
    headers = expected_headers("GET", url, CI_HOST, key="/jobs", params=query)
    with strict_mock() as mock:
        mock.add(
            responses.GET,
            url,
            body=jobs_response(),
            match=match_request(query=query, headers=headers),
        )
        client = CiBatchClient(make_transport(), queue_id="p123")
        assert client.list_batch_jobs(BUCKET, REGION, BATCH_ID).jobs == ()


def test_an_answer_that_is_not_a_ci_document_is_a_ci_error() -> None:
    with strict_mock() as mock:
        mock.add(responses.GET, f"{BATCH_URL}/{BATCH_ID}", body=b"<html>oops</html>")
        with pytest.raises(CiError, match="cannot be used"):
            _client().describe_batch(BUCKET, REGION, BATCH_ID)


OBJ = ObjectRef(BUCKET, REGION, ".media-tagger/batches/b1.json")
OBJ_URL = f"https://{COS_HOST}/.media-tagger/batches/b1.json"


def test_put_object_bytes_sends_the_body_with_content_md5() -> None:
    body = b'{"a": 1}'
    md5 = base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()
    extra = {"Content-Type": "application/json", "Content-MD5": md5}
    headers = expected_headers("PUT", OBJ_URL, COS_HOST, key=OBJ.key, extra=extra, body=body)
    with strict_mock() as mock:
        mock.add(responses.PUT, OBJ_URL, match=match_request(headers=headers, body=body))
        bodies = CosClient(make_transport())
        bodies.put_object_bytes(OBJ, body, content_type="application/json")


def test_get_object_bytes_reads_the_body_none_for_404_and_refuses_large_ones() -> None:
    headers = expected_headers("GET", OBJ_URL, COS_HOST, key=OBJ.key)
    bodies = CosClient(make_transport())
    with strict_mock(ordered=True) as mock:
        mock.add(responses.GET, OBJ_URL, body=b"12345", match=match_request(headers=headers))
        mock.add(responses.GET, OBJ_URL, status=404)
        mock.add(responses.GET, OBJ_URL, body=b"123456")
        assert bodies.get_object_bytes(OBJ, max_bytes=5) == b"12345"
        assert bodies.get_object_bytes(OBJ, max_bytes=5) is None
        with pytest.raises(CosError, match="at most 5"):
            bodies.get_object_bytes(OBJ, max_bytes=5)
