"""The documented shapes of CI's job-finished callback body, so the emulator can send each one.

Research ci-facts.md section 6 and cos-ci-api.md 9.11 list them; the emulator's name for each:

- ``standard``: ``EventName`` TaskFinish + one JobsDetail object; XML with the
  ``<?xml version="1.0" encoding="utf-8"?>`` prolog real callbacks carry (Java SDK demo).
- ``no-prolog``: the same XML without the prolog (MediaInfo callback doc, sample 1).
- ``no-event-name``: no EventName (generic task-callback doc and console doc:
  ``<Response><JobsDetail>...``).
- ``jobs-list``: JobsDetail as a JSON array (SDRtoHDR callback doc sample 3; ImageInspect calls it
  a "Container array"). One job in XML is one element whatever the shape, so XML is unchanged.
- ``workflow``: the array plus a workflow-triggered job's ``Input.CosHeaders`` and ``Workflow``
  (SDRtoHDR doc; the MediaInfo doc says the same CosHeaders rule applies).

Only the body changes; delivery is ``emulator.ci.callbacks``. Pure: no I/O, no clock.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from emulator.xmlreply import XmlNode, to_json_object, to_xml

STANDARD = "standard"
XML_PROLOG = b'<?xml version="1.0" encoding="utf-8"?>\n'


@dataclass(frozen=True)
class CallbackShape:
    xml_prolog: bool = True
    event_name: bool = True
    jobs_detail_list: bool = False
    workflow: bool = False


CALLBACK_SHAPES = {
    STANDARD: CallbackShape(),
    "no-prolog": CallbackShape(xml_prolog=False),
    "no-event-name": CallbackShape(event_name=False),
    "jobs-list": CallbackShape(jobs_detail_list=True),
    "workflow": CallbackShape(jobs_detail_list=True, workflow=True),
}


def _workflow_detail(
    detail: Sequence[XmlNode], cos_headers: Sequence[tuple[str, str]]
) -> list[XmlNode]:
    """JobsDetail children with Input.CosHeaders and a Workflow node added (ids as CI's)."""
    headers: list[XmlNode] = [
        ("CosHeaders", [("Key", key), ("Value", value)]) for key, value in cos_headers
    ]
    workflow: list[XmlNode] = [
        ("Name", "MediaInfo_1581665960537"),
        ("RunId", "i" + uuid.uuid1().hex),
        ("WorkflowId", "w" + uuid.uuid4().hex),
        ("WorkflowName", "media-tagger-emulator"),
    ]
    nodes: list[XmlNode] = []
    for name, value in detail:
        if name == "Input" and isinstance(value, list):
            nodes.append((name, [*value, *headers]))
        else:
            nodes.append((name, value))
    return [*nodes, ("Workflow", workflow)]


def callback_body(
    shape: CallbackShape,
    callback_format: str,
    detail: Sequence[XmlNode],
    cos_headers: Sequence[tuple[str, str]] = (),
) -> tuple[bytes, str]:
    """(body, Content-Type) of one callback about the job whose JobsDetail children are
    ``detail``; ``cos_headers`` are the object's headers a workflow-triggered job carries."""
    children: list[XmlNode] = list(detail)
    if shape.workflow:
        children = _workflow_detail(children, cos_headers)
    nodes: list[XmlNode] = [("EventName", "TaskFinish")] if shape.event_name else []
    nodes.append(("JobsDetail", children))
    if callback_format == "JSON":
        document = to_json_object(nodes)
        if shape.jobs_detail_list:
            document["JobsDetail"] = [document["JobsDetail"]]
        return json.dumps(document, ensure_ascii=False).encode("utf-8"), "application/json"
    xml = to_xml("Response", nodes, declaration=False)
    return (XML_PROLOG + xml if shape.xml_prolog else xml), "application/xml"
