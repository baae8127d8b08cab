"""CosClient over a strict HTTP mock: HEAD, tagging GET/PUT (with and without versionId),
GET Bucket, keys encoded exactly as the SDK does, and Authorization equal to the official SDK's."""

from __future__ import annotations

from typing import Any

import pytest
import responses

from shared.errors import CosError, CosNotFoundError, EventError
from shared.models import BucketPage, ListedObject, ObjectHead, ObjectRef
from shared.ports import ObjectStore
from shared.tencent.cos_client import CosClient
from tests.client_helpers import (
    BUCKET,
    COS_HOST,
    KEY_WIRE_PATHS,
    REGION,
    TOKEN,
    expected_headers,
    make_transport,
    match_request,
    strict_mock,
)

KEY = "input/demo.mp4"
URL = f"https://{COS_HOST}/{KEY}"
OBJ = ObjectRef(BUCKET, REGION, KEY)
VERSIONED = ObjectRef(BUCKET, REGION, KEY, version_id="MTg0NDUxNTc1NjIzMTQ1MDAwODg=")
VERSION_QUERY = "versionId=MTg0NDUxNTc1NjIzMTQ1MDAwODg%3D"
TAGGING_XML = (
    b"<Tagging><TagSet><Tag><Key>media:duration</Key><Value>13.654</Value></Tag>"
    b"<Tag><Key>team</Key><Value>a b</Value></Tag></TagSet></Tagging>"
)
XML = {"Content-Type": "application/xml"}


def _client(**options: Any) -> CosClient:
    return CosClient(make_transport(**options))


def test_cos_client_satisfies_the_object_store_port() -> None:
    store: ObjectStore = _client()
    assert isinstance(store, CosClient)


def test_head_object_reads_the_metadata_headers() -> None:
    headers = expected_headers("HEAD", URL, COS_HOST, key=KEY)
    with strict_mock() as mock:
        mock.add(
            responses.HEAD,
            URL,
            headers={
                "ETag": '"d41d8cd98f00b204e9800998ecf8427e"',
                "Content-Length": "1234567",
                "Content-Type": "video/mp4",
                "Last-Modified": "Tue, 14 Nov 2023 22:13:20 GMT",
                "x-cos-request-id": "rid",
            },
            auto_calculate_content_length=False,
            match=match_request(headers=headers),
        )
        head = _client().head_object(OBJ)
    assert head == ObjectHead(
        etag="d41d8cd98f00b204e9800998ecf8427e",
        size=1234567,
        content_type="video/mp4",
        version_id=None,
        last_modified="Tue, 14 Nov 2023 22:13:20 GMT",
    )
    assert mock.calls[0].request.url == URL


def test_head_object_of_a_version() -> None:
    query = {"versionId": VERSIONED.version_id or ""}
    headers = expected_headers("HEAD", URL, COS_HOST, key=KEY, params=query)
    with strict_mock() as mock:
        mock.add(
            responses.HEAD,
            URL,
            headers={"ETag": '"e-2"', "Content-Length": "5", "x-cos-version-id": "v2"},
            auto_calculate_content_length=False,
            match=match_request(query=query, headers=headers),
        )
        head = _client().head_object(VERSIONED)
    assert (head.etag, head.size, head.version_id) == ("e-2", 5, "v2")
    assert mock.calls[0].request.url == f"{URL}?{VERSION_QUERY}"


def test_head_object_404_without_body_is_not_found() -> None:
    with strict_mock() as mock:
        mock.add(responses.HEAD, URL, status=404, headers={"x-cos-request-id": "rid-1"})
        with pytest.raises(CosNotFoundError, match="cos 404 NoSuchResource") as caught:
            _client().head_object(OBJ)
    assert (caught.value.code, caught.value.request_id) == ("NoSuchResource", "rid-1")


@pytest.mark.parametrize(("key", "wire"), KEY_WIRE_PATHS)
def test_keys_go_on_the_wire_encoded_and_are_signed_raw(key: str, wire: str) -> None:
    url = f"https://{COS_HOST}{wire}"
    headers = expected_headers("HEAD", url, COS_HOST, key=key)  # the oracle signs the raw key
    with strict_mock() as mock:
        mock.add(
            responses.HEAD,
            url,
            headers={"ETag": '"x"', "Content-Length": "1"},
            auto_calculate_content_length=False,
            match=match_request(headers=headers),
        )
        _client().head_object(ObjectRef(BUCKET, REGION, key))
    request = mock.calls[0].request
    assert request.url == url
    assert request.path_url == wire


@pytest.mark.parametrize("key", ["", "/"])
def test_an_empty_key_is_refused_before_sending(key: str) -> None:
    with strict_mock() as mock, pytest.raises(EventError, match="object key is empty"):
        _client().head_object(ObjectRef(BUCKET, REGION, key))
    assert len(mock.calls) == 0


@pytest.mark.parametrize(
    ("obj", "query", "url"),
    [
        (OBJ, {"tagging": ""}, f"{URL}?tagging="),
        (
            VERSIONED,
            {"tagging": "", "versionId": VERSIONED.version_id},
            f"{URL}?tagging=&{VERSION_QUERY}",
        ),
    ],
)
def test_get_object_tagging(obj: ObjectRef, query: dict[str, str], url: str) -> None:
    headers = expected_headers("GET", URL, COS_HOST, key=KEY, params=query)
    with strict_mock() as mock:
        mock.add(
            responses.GET, URL, body=TAGGING_XML, match=match_request(query=query, headers=headers)
        )
        tags = _client().get_object_tagging(obj)
    assert tags == (("media:duration", "13.654"), ("team", "a b"))
    assert mock.calls[0].request.url == url


def test_get_object_tagging_without_a_tag_set_is_empty() -> None:
    body = b"<Error><Code>NoSuchTagSet</Code><Message>The TagSet does not exist</Message></Error>"
    with strict_mock() as mock:
        mock.add(responses.GET, URL, status=404, body=body)
        assert _client().get_object_tagging(OBJ) == ()


def test_get_object_tagging_of_a_missing_object_raises() -> None:
    body = b"<Error><Code>NoSuchKey</Code><Message>no key</Message></Error>"
    with strict_mock() as mock:
        mock.add(responses.GET, URL, status=404, body=body)
        with pytest.raises(CosNotFoundError, match="cos 404 NoSuchKey: no key") as caught:
            _client().get_object_tagging(OBJ)
    assert caught.value.code == "NoSuchKey"


@pytest.mark.parametrize(
    ("obj", "query", "url"),
    [
        (OBJ, {"tagging": ""}, f"{URL}?tagging="),
        (
            VERSIONED,
            {"tagging": "", "versionId": VERSIONED.version_id},
            f"{URL}?tagging=&{VERSION_QUERY}",
        ),
    ],
)
def test_put_object_tagging_sends_the_exact_body(
    obj: ObjectRef, query: dict[str, str], url: str
) -> None:
    tags = (("media:duration", "13.654"), ("team", "a b"))
    headers = expected_headers(
        "PUT", URL, COS_HOST, key=KEY, params=query, extra=XML, body=TAGGING_XML
    )
    with strict_mock() as mock:
        mock.add(
            responses.PUT, URL, match=match_request(query=query, headers=headers, body=TAGGING_XML)
        )
        _client().put_object_tagging(obj, tags)
    assert mock.calls[0].request.url == url
    assert "q-header-list=content-length;content-type;host&" in headers["Authorization"]


def test_put_object_tagging_escapes_xml_and_sends_the_cos_token() -> None:
    body = (
        b"<Tagging><TagSet><Tag><Key>k&amp;1</Key><Value>&lt;v&gt;</Value></Tag></TagSet></Tagging>"
    )
    query = {"tagging": ""}
    extra = {**XML, "x-cos-security-token": TOKEN}
    headers = expected_headers("PUT", URL, COS_HOST, key=KEY, params=query, extra=extra, body=body)
    with strict_mock() as mock:
        mock.add(responses.PUT, URL, match=match_request(query=query, headers=headers, body=body))
        _client(token=TOKEN).put_object_tagging(OBJ, (("k&1", "<v>"),))
    assert "x-cos-security-token" in headers["Authorization"]


def test_put_object_tagging_error_is_a_cos_error() -> None:
    body = b"<Error><Code>InvalidTag</Code><Message>bad</Message><RequestId>r9</RequestId></Error>"
    with strict_mock() as mock:
        mock.add(responses.PUT, URL, status=400, body=body)
        with pytest.raises(CosError, match="cos 400 InvalidTag: bad") as caught:
            _client().put_object_tagging(OBJ, (("k", "v"),))
    assert (caught.value.status, caught.value.code, caught.value.request_id) == (
        400,
        "InvalidTag",
        "r9",
    )


LIST_BODY = (
    b"<ListBucketResult><Name>examplebucket-1250000000</Name><EncodingType>url</EncodingType>"
    b"<Prefix>videos%2F</Prefix><Marker/><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>"
    b"<NextMarker>videos%2Fb%20c.mp4</NextMarker>"
    b'<Contents><Key>videos%2Fa.mp4</Key><ETag>"e1"</ETag><Size>10</Size>'
    b"<LastModified>2023-11-14T22:13:20.000Z</LastModified></Contents>"
    b'<Contents><Key>videos%2Fb%20c.mp4</Key><ETag>"e2"</ETag><Size>20</Size></Contents>'
    b"</ListBucketResult>"
)


@pytest.mark.parametrize(
    ("kwargs", "query", "url_query"),
    [
        ({}, {"max-keys": "1000", "encoding-type": "url"}, "max-keys=1000&encoding-type=url"),
        (
            {"prefix": "videos/", "marker": "videos/a b.mp4", "max_keys": 2},
            {
                "prefix": "videos/",
                "marker": "videos/a b.mp4",
                "max-keys": "2",
                "encoding-type": "url",
            },
            "prefix=videos%2F&marker=videos%2Fa%20b.mp4&max-keys=2&encoding-type=url",
        ),
    ],
)
def test_list_objects(kwargs: dict[str, Any], query: dict[str, str], url_query: str) -> None:
    root = f"https://{COS_HOST}/"
    headers = expected_headers("GET", root, COS_HOST, key="/", params=query)
    with strict_mock() as mock:
        mock.add(
            responses.GET, root, body=LIST_BODY, match=match_request(query=query, headers=headers)
        )
        page = _client().list_objects(BUCKET, REGION, **kwargs)
    assert mock.calls[0].request.url == f"{root}?{url_query}"
    assert page == BucketPage(
        objects=(
            ListedObject("videos/a.mp4", "e1", 10, "2023-11-14T22:13:20.000Z"),
            ListedObject("videos/b c.mp4", "e2", 20),
        ),
        is_truncated=True,
        next_marker="videos/b c.mp4",
    )
