"""The pieces of result documents: MEDIA_TAGGER_RESULT_DOCUMENT, the whole-MediaInfo tree, the
COS calls (strict HTTP mock, Authorization from the SDK oracle), the upload function's refusal of
the result location, the CAM policy the deploy tool renders, and ``show``'s summary."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import responses

from deploy.cloud.errors import SetupError
from deploy.cloud.policy_documents import grants, render_policy, result_location_of
from shared.decision_log import DecisionLog
from shared.errors import ConfigError
from shared.media.mediainfo_tree import media_info_json, media_info_tree
from shared.models import ObjectRef, ResultLocation
from shared.ops.show import stream_rows, summary_lines
from shared.ports import DocumentStore
from shared.records import replace
from shared.settings.functions import load_callback_settings, load_upload_settings
from shared.settings.reconcile import load_reconcile_settings
from shared.tencent.cos_client import CosClient
from shared.tencent.xml_answers import parse_jobs_response
from shared.upload.cos_event import UploadRecord
from shared.upload.filters import RESULT_LOCATION_REASON, result_location_skip
from shared.upload.service import Skipped, Submitted, UploadService
from tests.client_helpers import (
    BUCKET,
    COS_HOST,
    expected_headers,
    make_transport,
    match_request,
    strict_mock,
)
from tests.fakes import FakeMediaJobs, FakeObjectStore

ROOT = Path(__file__).resolve().parent.parent
VARIABLE = "MEDIA_TAGGER_RESULT_DOCUMENT"
SECRET = "s3cr3t-callback-key-0123456789abcdefXYZ"
UPLOAD_BASE = {
    "MEDIA_TAGGER_CALLBACK_URL": "https://1250000000-abc.ap-guangzhou.tencentscf.com",
    "MEDIA_TAGGER_CALLBACK_SECRET": SECRET,
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("cos://media-1250000000/media-info/", ResultLocation("media-1250000000", "media-info/")),
        (" cos://docs-1250000000/a/b.c/(x)!/ ", ResultLocation("docs-1250000000", "a/b.c/(x)!/")),
        ("", None),
        ("   ", None),
    ],
)
def test_the_location_setting_takes_one_strict_form(
    value: str, expected: ResultLocation | None
) -> None:
    environ = {**UPLOAD_BASE, VARIABLE: value}
    assert load_upload_settings(environ).result_document == expected
    assert load_callback_settings(environ).result_document == expected
    assert load_reconcile_settings(environ).result_document == expected


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("undefined", "unset"),
        ("media-1250000000/media-info/", "cos://"),
        ("cos://media/media-info/", "cos://"),
        ("cos://media-1250000000", "cos://"),
        ("cos://media-1250000000/", "prefix ending"),
        ("cos://media-1250000000/media-info", "prefix ending"),
        ("https://media-1250000000/x/", "cos://"),
        ("cos://media-1250000000//x/", "non-empty"),
        ("cos://media-1250000000/a/../x/", "not . or .."),
        ("cos://media-1250000000/a b/", "A-Z"),
        ("cos://media-1250000000/视频/", "A-Z"),
        ("cos://media-1250000000/" + "a" * 200 + "/", "at most 200"),
    ],
)
def test_a_bad_location_names_the_variable_and_the_rule(value: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=VARIABLE) as caught:
        load_callback_settings({"MEDIA_TAGGER_CALLBACK_SECRET": SECRET, VARIABLE: value})
    assert problem in caught.value.problem


def test_the_media_info_tree_keeps_every_field_with_stable_types() -> None:
    tree = media_info_tree(
        {
            "MediaInfo": {
                "Format": {"FormatName": "mp3", "Extra": {"Deep": "x"}},
                "Stream": {"Audio": {"Index": "0"}, "Subtitle": "", "Data": [{"Index": "9"}]},
            }
        }
    )
    assert tree == {
        "Format": {"FormatName": "mp3", "Extra": {"Deep": "x"}},
        "Stream": {
            "Video": [],
            "Audio": [{"Index": "0"}],
            "Subtitle": [],
            "Data": [{"Index": "9"}],
        },
    }
    # JSON leaves (a callback body's) are made safe for JSON, never trusted for more
    odd = media_info_tree({"Format": {"N": math.inf, "B": True, "S": "\ud800", "L": [1, None]}})
    assert odd == {"Format": {"N": None, "B": True, "S": "\ufffd", "L": [1, None]}, "Stream": {
        "Video": [], "Audio": [], "Subtitle": []}}  # fmt: skip
    assert media_info_tree("") is None and media_info_tree({}) is None
    assert media_info_json({"Stream": ""}) == '{"Stream":{"Video":[],"Audio":[],"Subtitle":[]}}'


def test_get_jobs_keeps_the_whole_media_info_node() -> None:
    body = (
        "<Response><JobsDetail><JobId>j1</JobId><State>Success</State><Tag>MediaInfo</Tag>"
        "<Operation><MediaInfo><Format><FormatName>mp4</FormatName><ProbeScore>100</ProbeScore>"
        "</Format><Stream><Audio><Index>1</Index><CodecTag>0x6134706d</CodecTag></Audio>"
        "<Audio><Index>2</Index></Audio><Subtitle><Index>3</Index><Language>中文</Language>"
        "</Subtitle><Video><Index>0</Index><ColorSpace>bt709</ColorSpace></Video></Stream>"
        "</MediaInfo></Operation></JobsDetail></Response>"
    ).encode()
    job = parse_jobs_response(body).jobs[0]
    assert job.operation.media_info_json is not None
    whole = json.loads(job.operation.media_info_json)
    assert whole["Format"]["ProbeScore"] == "100"
    assert whole["Stream"]["Audio"] == [{"Index": "1", "CodecTag": "0x6134706d"}, {"Index": "2"}]
    assert whole["Stream"]["Subtitle"] == [{"Index": "3", "Language": "中文"}]
    assert whole["Stream"]["Video"] == [{"Index": "0", "ColorSpace": "bt709"}]


OBJ = ObjectRef(BUCKET, "ap-guangzhou", "media-info/b-1250000000/k/a%20b.mp4.json")
URL = f"https://{COS_HOST}/media-info/b-1250000000/k/a%2520b.mp4.json"
JSON_BODY = b'{"schema": 1}'


def test_put_object_sends_json_with_the_stamp_metadata() -> None:
    extra = {
        "Content-Type": "application/json",
        "x-cos-meta-media-tagger-status": "ok",
        "x-cos-meta-media-tagger-job": "e/20220630T104514Z/j1",
    }
    headers = expected_headers("PUT", URL, COS_HOST, key=OBJ.key, extra=extra, body=JSON_BODY)
    store: DocumentStore = CosClient(make_transport())
    with strict_mock() as mock:
        mock.add(responses.PUT, URL, match=match_request(headers=headers, body=JSON_BODY))
        store.put_object(
            OBJ,
            JSON_BODY,
            content_type="application/json",
            metadata={"media-tagger-status": "ok", "media-tagger-job": "e/20220630T104514Z/j1"},
        )


def test_head_metadata_and_get_object_read_the_document_back() -> None:
    with strict_mock() as mock:
        mock.add(
            responses.HEAD,
            URL,
            headers={"X-Cos-Meta-Media-Tagger-Status": "ok", "x-cos-request-id": "r"},
            match=match_request(headers=expected_headers("HEAD", URL, COS_HOST, key=OBJ.key)),
        )
        mock.add(
            responses.GET,
            URL,
            body=JSON_BODY,
            match=match_request(headers=expected_headers("GET", URL, COS_HOST, key=OBJ.key)),
        )
        client = CosClient(make_transport())
        assert client.head_metadata(OBJ) == {"media-tagger-status": "ok"}
        assert client.get_object(OBJ) == JSON_BODY


LOCATION = ResultLocation("media-1250000000", "uploads/.media-info/")


def test_nothing_under_the_result_location_is_processed_whatever_its_extension() -> None:
    assert result_location_skip("media-1250000000", "uploads/.media-info/x.json", LOCATION)
    assert result_location_skip("media-1250000000", "uploads/.media-info/a.mp4", LOCATION)
    assert result_location_skip("other-1250000000", "uploads/.media-info/a.mp4", LOCATION) is None
    assert result_location_skip("media-1250000000", "uploads/a.json", LOCATION) is None
    assert result_location_skip("media-1250000000", "uploads/a.json", None) is None
    settings = replace(
        load_upload_settings({**UPLOAD_BASE, "MEDIA_TAGGER_EXTENSIONS": "*"}),
        result_document=LOCATION,
    )
    jobs = FakeMediaJobs()
    service = UploadService(settings, FakeObjectStore(), jobs, DecisionLog("test", "r"))

    def record(key: str) -> UploadRecord:
        return UploadRecord(
            index=0,
            bucket="media-1250000000",
            region="ap-guangzhou",
            key=key,
            size=10,
            etag="e" * 32,
            version_id=None,
            event_name="cos:ObjectCreated:Put",
            request_id=None,
        )

    document = "uploads/.media-info/media-1250000000/k/uploads/a.mp4.json"
    assert service.handle_object(record(document), deadline=None) == Skipped(RESULT_LOCATION_REASON)
    assert isinstance(service.handle_object(record("uploads/a.json"), deadline=None), Submitted)
    assert jobs.accepted == ["uploads/a.json"]


POLICY = (ROOT / "deploy" / "cam-policy.json").read_text(encoding="utf-8")
IDENTITY = ("ap-guangzhou", "1250000000", "media-1250000000", "100000000001")
UPLOAD = {"namespace": "default", "upload_function": "media-submit"}


def test_with_documents_off_the_policy_asks_for_no_put_object() -> None:
    off = result_location_of([{"MEDIA_TAGGER_TAG_PREFIX": "media:"}, {}])
    assert off is None
    actions = {
        action
        for _, action, target, _ in grants(render_policy(POLICY, *IDENTITY, **UPLOAD))
        if not target.endswith("/.media-tagger/batches/*")  # the batch drain's records only
    }
    assert "cos:PutObject" not in actions and "cos:GetObject" not in actions


def test_with_documents_on_the_policy_grants_put_object_on_the_location_only() -> None:
    value = "cos://docs-1250000000/media-info/"
    on = result_location_of([{VARIABLE: value}, {VARIABLE: value}, {VARIABLE: value}])
    policy = render_policy(POLICY, *IDENTITY, **UPLOAD, result_document=on)
    base = grants(render_policy(POLICY, *IDENTITY, **UPLOAD))
    resource = "qcs::cos:ap-guangzhou:uid/1250000000:docs-1250000000/media-info/*"
    assert grants(policy) - base == {
        ("allow", "cos:PutObject", resource, "null"),
        ("allow", "cos:HeadObject", resource, "null"),
    }
    with pytest.raises(SetupError, match="every function needs the same"):
        result_location_of([{VARIABLE: value}, {}])
    with pytest.raises(SetupError, match="must belong to this account"):
        other = ResultLocation("docs-1250000001", "media-info/")
        render_policy(POLICY, *IDENTITY, **UPLOAD, result_document=other)
    with pytest.raises(SetupError, match=VARIABLE):
        result_location_of([{VARIABLE: "cos://docs-1250000000/no-slash"}])


DOCUMENT = {
    "schema": "cos-media-tagger/result-document",
    "status": "ok",
    "written_at": "2026-01-01T00:00:00Z",
    "object": {"bucket": "b-1250000000", "region": "ap-guangzhou", "key": "a.mkv", "size": 9},
    "job": {"id": "j1", "state": "Success", "code": "Success", "attempt": 1},
    "media_info": {
        "Format": {"FormatName": "matroska,webm", "Duration": "1.300000", "NumStream": "4"},
        "Stream": {
            "Video": [{"Index": "0", "CodecName": "h264", "Width": "160", "Height": "120"}],
            "Audio": [
                {"Index": "2", "CodecName": "opus", "Language": "fra", "SampleRate": "48000"},
                {"Index": "1", "CodecName": "aac", "Language": "eng", "Channel": "1"},
            ],
            "Subtitle": [{"Index": "3", "Language": "eng"}],
        },
    },
}


def test_show_prints_the_streams_as_a_table_in_index_order() -> None:
    rows = stream_rows(DOCUMENT["media_info"])  # type: ignore[arg-type]
    assert [row[:4] for row in rows] == [
        ("0", "video", "h264", "-"),
        ("1", "audio", "aac", "eng"),
        ("2", "audio", "opus", "fra"),
        ("3", "subtitle", "-", "eng"),
    ]
    lines = summary_lines("cos://d-1250000000/x.json", DOCUMENT)
    assert lines[0] == "document  cos://d-1250000000/x.json"
    assert "status    ok" in lines
    assert lines[lines.index("streams") + 1].split() == [
        "index", "type", "codec", "language", "details"]  # fmt: skip
    assert lines[-1].split()[:4] == ["3", "subtitle", "-", "eng"]
    assert stream_rows(None) == []
