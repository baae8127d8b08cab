"""Properties of the function edges: COS trigger keys, HTTP event bodies, callback URL tokens.

Events are built the platform way (tests.events.cos_record follows the captured cos_put.json;
emulator.scf.events.build_cos_record is the emulator's SCF) and delivered as SCF does, as JSON text.
Whatever the key ('/', '%', '+', '#', '?', spaces, any script, RTL marks, NUL), parsing must give
back exactly that key. Complements the examples in test_cos_event.py and test_http_event.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from emulator.scf.events import FunctionIdentity, build_cos_record
from emulator.scf.function_url import build_url_event
from shared.callback.authentication import presented_token
from shared.callback.http_event import parse_http_event
from shared.contract.callback_token import callback_url_for, matching_secret
from shared.errors import PayloadTooLargeError
from shared.upload.cos_event import UploadRecord, parse_cos_event
from tests.events import cos_event, cos_record

# Any Unicode text except surrogates (a COS key is UTF-8), biased towards the tricky characters.
TRICKY = "/%+#?&= .~\\\"'<>\u202e\u202d\u200b\u200f\ufeff\u0000\n\t视频\uff41\u0435"
key_chars = st.one_of(st.sampled_from(TRICKY), st.characters(blacklist_categories=("Cs",)))
object_keys = st.text(key_chars, min_size=1, max_size=120)
bucket_names = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?", fullmatch=True)
appids = st.from_regex(r"[1-9][0-9]{4,11}", fullmatch=True)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def delivered(event: Mapping[str, object]) -> object:
    """What the handler receives: SCF serialises the event as JSON."""
    return json.loads(json.dumps(event, ensure_ascii=False))


def only_record(event: object) -> UploadRecord:
    (record,) = parse_cos_event(event)
    assert isinstance(record, UploadRecord), record
    return record


@FAST
@given(key=object_keys, name=bucket_names, appid=appids)
def test_the_exact_key_comes_back_from_a_captured_style_event(
    key: str, name: str, appid: str
) -> None:
    event = cos_event(cos_record(key, bucket_name=name, appid=appid))
    record = only_record(delivered(event))
    assert (record.key, record.bucket) == (key, f"{name}-{appid}")


@dataclass(frozen=True)
class Created:
    """emulator.scf.events.ObjectCreatedFacts for one upload."""

    bucket: str
    key: str
    region: str = "ap-shanghai"
    etag: str = '"d41d8cd98f00b204e9800998ecf8427e"'
    size: int = 1
    content_type: str | None = None
    version_id: str | None = None
    event_name: str = "Put"
    request_headers: Mapping[str, str] = field(default_factory=dict)
    source_ip: str = "127.0.0.1"


@FAST
@given(key=object_keys, name=bucket_names, appid=appids)
def test_the_exact_key_comes_back_from_the_emulated_platform(
    key: str, name: str, appid: str
) -> None:
    identity = FunctionIdentity("media-submit", appid=appid)
    created = Created(bucket=f"{name}-{appid}", key=key)
    event = {"Records": [build_cos_record(created, identity, now=1_700_000_000.0)]}
    record = only_record(delivered(event))
    assert (record.key, record.bucket, record.region) == (key, created.bucket, "ap-shanghai")
    assert record.etag == "d41d8cd98f00b204e9800998ecf8427e"


@FAST
@given(body=st.binary(max_size=3000), cap=st.integers(1024, 2048), wrap=st.booleans())
def test_a_base64_body_is_returned_exactly_or_refused_by_size(
    body: bytes, cap: int, wrap: bool
) -> None:
    encoded = base64.b64encode(body).decode()
    if wrap:  # API Gateway may wrap long base64 lines
        encoded = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    event = {"httpMethod": "POST", "body": encoded, "isBase64Encoded": True}
    if len(body) > cap:
        with pytest.raises(PayloadTooLargeError, match="larger than"):
            parse_http_event(event, max_body_bytes=cap)
    else:
        assert parse_http_event(event, max_body_bytes=cap).body == body


@FAST
@given(text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=1500))
def test_a_text_body_is_its_utf8_bytes_or_refused_by_size(text: str) -> None:
    event = {"httpMethod": "POST", "body": text}
    data = text.encode("utf-8")
    if len(data) > 1024:
        with pytest.raises(PayloadTooLargeError, match="body larger than 1024 bytes"):
            parse_http_event(event, max_body_bytes=1024)
    else:
        assert parse_http_event(event, max_body_bytes=1024).body == data


SECRET = "property-secret-0123456789abcdefghijklmnop"


REGIONS = st.sampled_from(["ap-guangzhou", "ap-shanghai-fsi", "na-siliconvalley"])
BASE_PATHS = st.sampled_from(["/", "", "/ci/callback", "/ci/callback/?env=prod"])


@FAST
@given(key=object_keys, other=object_keys, name=bucket_names, appid=appids, region=REGIONS,
       base=BASE_PATHS)  # fmt: skip
def test_the_callback_url_token_survives_the_function_url_and_binds_one_object(
    *, key: str, other: str, name: str, appid: str, region: str, base: str
) -> None:
    assume(other != key)
    bucket = f"{name}-{appid}"
    url = callback_url_for(
        "https://1250000000-abc.ap-guangzhou.tencentscf.com" + base, SECRET, bucket, key,
        region=region,
    )  # fmt: skip
    target = urlsplit(url)
    event = build_url_event("POST", f"{target.path}?{target.query}", [], b"{}", "203.0.113.9")
    token = presented_token(parse_http_event(delivered(event), max_body_bytes=1024))
    assert token.kind == "v2-path"
    assert matching_secret((SECRET,), token, region, bucket, key) == 0
    assert matching_secret((SECRET,), token, region, bucket, other) is None
    assert matching_secret((SECRET,), token, "ap-chengdu", bucket, key) is None
