"""Every documented callback body shape the emulator can send, read back two ways.

Each shape is checked for what makes it that shape (prolog, EventName, JobsDetail array,
workflow fields) and is decoded by the callback function's own parser
(``shared.callback.notice``) into the same finished-job notice.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator.ci.callback_shapes import CALLBACK_SHAPES, callback_body
from emulator.ci.jobs import JobRecord, job_detail_nodes
from emulator.xmlreply import XmlNode
from shared.callback.notice import parse_callback_body
from shared.tencent.xml_parser import element_to_tree, parse_xml

JOB = JobRecord(
    job_id="j" + "1" * 32,
    seq=1,
    bucket="media-1250000000",
    region="ap-guangzhou",
    object_key="in/clip.mp4",
    queue_id="p" + "0" * 32,
    job_level="0",
    user_data="u",
    callback_url="http://127.0.0.1:1/cb",
    callback_format="JSON",
    creation_time=1_700_000_000.0,
    state="Success",
    media_info=(("Format", [("Duration", "1.000000")]),),
)
HEADERS = (("Content-Type", "video/mp4"), ("Size", "42"), ("EventName", "cos:ObjectCreated:Put"))


def _body(shape: str, fmt: str) -> bytes:
    detail: list[XmlNode] = job_detail_nodes(JOB)
    body, content_type = callback_body(CALLBACK_SHAPES[shape], fmt, detail, HEADERS)
    assert content_type == ("application/json" if fmt == "JSON" else "application/xml")
    return body


@pytest.mark.parametrize("fmt", ["JSON", "XML"])
@pytest.mark.parametrize("shape", list(CALLBACK_SHAPES))
def test_every_shape_is_a_finished_media_info_job_to_the_callback_parser(
    shape: str, fmt: str
) -> None:
    notice = parse_callback_body(_body(shape, fmt))
    assert notice.event_name == "TaskFinish"
    assert [(job.job_id, job.tag, job.input.object) for job in notice.jobs] == [
        (JOB.job_id, "MediaInfo", "in/clip.mp4")
    ]


def _json(shape: str) -> dict[str, Any]:
    return json.loads(_body(shape, "JSON"))  # type: ignore[no-any-return]


def _xml(shape: str) -> dict[str, Any]:
    return element_to_tree(parse_xml(_body(shape, "XML")))


def test_the_xml_prolog_is_there_unless_no_prolog() -> None:
    assert _body("standard", "XML").startswith(
        b'<?xml version="1.0" encoding="utf-8"?>\n<Response>'
    )
    assert _body("no-prolog", "XML").startswith(b"<Response><EventName>TaskFinish</EventName>")


def test_no_event_name_leaves_event_name_out() -> None:
    assert "EventName" not in _json("no-event-name")
    assert "EventName" not in _xml("no-event-name")
    assert _json("standard")["EventName"] == "TaskFinish"


def test_jobs_list_makes_json_jobs_detail_an_array() -> None:
    assert isinstance(_json("jobs-list")["JobsDetail"], list)
    assert isinstance(_json("standard")["JobsDetail"], dict)


def test_workflow_adds_cos_headers_and_the_workflow_node() -> None:
    (detail,) = _json("workflow")["JobsDetail"]
    assert detail["Input"]["CosHeaders"] == [{"Key": k, "Value": v} for k, v in HEADERS]
    workflow = detail["Workflow"]
    assert set(workflow) == {"Name", "RunId", "WorkflowId", "WorkflowName"}
    assert workflow["RunId"][0] == "i" and workflow["WorkflowId"][0] == "w"
    xml_detail = _xml("workflow")["JobsDetail"]
    assert len(xml_detail["Input"]["CosHeaders"]) == 3 and "Workflow" in xml_detail
