"""The largest inputs the functions' defaults allow, for the peak-memory figure of ``make bench``.

Callback: ``MEDIA_TAGGER_MAX_CALLBACK_BYTES`` (default 1 MiB) bounds the body, and the body is
decoded before the token can be checked (the token is bound to the bucket and key the body
names), so anyone who knows the function URL can send one. Three bodies of exactly that size:

- ``padded``: a real CI callback with one long string added (``Padding``): it must still be
  tagged, so the peak includes the whole piece of work;
- ``json-objects``: one list of empty JSON objects, the most Python objects per byte in JSON;
- ``xml-elements``: one ``<Response>`` of empty elements, the same for XML.

Upload: one COS event with ``UPLOAD_RECORDS`` records (SCF caps an asynchronous event at 128 KB,
about 100 such records). Every body is built by the driver, never inside a measured process.
"""

from __future__ import annotations

import json

from shared.settings.functions import DEFAULT_MAX_CALLBACK_BYTES

UPLOAD_RECORDS = 100
CALLBACK_BODY_BYTES = DEFAULT_MAX_CALLBACK_BYTES
BODY_KINDS = ("padded", "json-objects", "xml-elements")


def _with_body(line: str, body: str) -> str:
    event, context = json.loads(line)
    headers = {**event.get("headers", {}), "content-length": str(len(body.encode("utf-8")))}
    event = {**event, "body": body, "headers": headers, "isBase64Encoded": False}
    return json.dumps([event, context])


def padded_body(real_body: str, size: int) -> str:
    """``real_body`` (a JSON callback) with a ``Padding`` string so that it is ``size`` bytes."""
    notice = json.loads(real_body)
    notice["Padding"] = ""
    shortfall = size - len(json.dumps(notice, separators=(",", ":")).encode("utf-8"))
    if shortfall < 0:
        raise ValueError(f"the real callback body is already over {size} bytes")
    notice["Padding"] = "x" * shortfall
    return json.dumps(notice, separators=(",", ":"))


def json_objects_body(size: int) -> str:
    """``{"Padding":[{},{},...]}`` of exactly ``size`` bytes (some trailing spaces)."""
    head, tail = '{"Padding":[', "]}"
    count = (size - len(head) - len(tail) + 1) // 3
    body = head + ",".join(["{}"] * count) + tail
    return body + " " * (size - len(body))


def xml_elements_body(size: int) -> str:
    """``<Response><a/><a/>...</Response>`` of exactly ``size`` bytes (some trailing spaces)."""
    head, tail = "<Response>", "</Response>"
    body = head + "<a/>" * ((size - len(head) - len(tail)) // 4) + tail
    return body + " " * (size - len(body))


def worst_callback_lines(real_line: str, size: int = CALLBACK_BODY_BYTES) -> dict[str, str]:
    """The three worst callback events, built from one real one (same path, token, headers)."""
    event, _ = json.loads(real_line)
    bodies = {
        "padded": padded_body(event["body"], size),
        "json-objects": json_objects_body(size),
        "xml-elements": xml_elements_body(size),
    }
    for kind, body in bodies.items():
        assert len(body.encode("utf-8")) == size, kind
    return {kind: _with_body(real_line, body) for kind, body in bodies.items()}
