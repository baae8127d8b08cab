"""Request bodies for COS and CI, byte for byte: POST /jobs (MediaInfo) and PUT ?tagging.

Elements come in the order the seed prescribes, with no XML prolog and no whitespace, UTF-8.
Every value is escaped; characters XML 1.0 cannot carry are refused with ``EventError`` instead
of being sent. Import these through ``shared.tencent.xml_answers``. No parsing and no I/O here.
"""

from __future__ import annotations

import re

from shared.errors import EventError
from shared.models import TagSet

CALLBACK_FORMATS = frozenset({"JSON", "XML"})
JOB_LEVELS = frozenset({0, 1, 2})
MAX_USER_DATA = 1024

# What XML 1.0 cannot carry: C0 controls but tab/LF/CR, surrogates, U+FFFE/U+FFFF. Written as
# this small class rather than the complement of the allowed ranges: same set (checked over every
# code point in tests), a tenth of the compile time, which every cold start pays.
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_PRINTABLE_ASCII = re.compile("[\x20-\x7e]*")


def _xml_text(value: str, what: str) -> str:
    bad = _NOT_XML_CHAR.search(value)
    if bad:
        raise EventError(f"{what} contains U+{ord(bad.group()):04X}, which XML 1.0 cannot carry")
    # A raw CR would be read back as LF by the server's parser, so it travels as a reference.
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def build_media_info_job_request(
    *,
    object_key: str,
    user_data: str,
    job_level: int,
    callback_url: str,
    callback_format: str,
    queue_id: str | None = None,
) -> bytes:
    """POST /jobs body for one MediaInfo job, in the seed's element order, no prolog, UTF-8.

    ``queue_id`` adds ``<QueueId>`` where the docs that require it place it: after Operation,
    before CallBack (the MediaInfo submit doc's sample, zh, 2023).
    """
    if not object_key:
        raise EventError("object key is empty")
    if len(user_data) > MAX_USER_DATA or not _PRINTABLE_ASCII.fullmatch(user_data):
        raise EventError(f"UserData must be at most {MAX_USER_DATA} printable ASCII characters")
    if isinstance(job_level, bool) or job_level not in JOB_LEVELS:
        raise ValueError(f"JobLevel must be one of {sorted(JOB_LEVELS)}, not {job_level!r}")
    if callback_format not in CALLBACK_FORMATS:
        raise ValueError(f"CallBackFormat must be JSON or XML, not {callback_format!r}")
    if not callback_url:
        raise ValueError("callback URL is empty")
    parts = (
        "<Request><Tag>MediaInfo</Tag>",
        f"<Input><Object>{_xml_text(object_key, 'object key')}</Object></Input>",
        f"<Operation><UserData>{_xml_text(user_data, 'UserData')}</UserData>",
        f"<JobLevel>{job_level}</JobLevel></Operation>",
        f"<QueueId>{_xml_text(queue_id, 'QueueId')}</QueueId>" if queue_id else "",
        f"<CallBack>{_xml_text(callback_url, 'callback URL')}</CallBack>",
        f"<CallBackFormat>{callback_format}</CallBackFormat></Request>",
    )
    return "".join(parts).encode("utf-8")


def build_tagging(tags: TagSet) -> bytes:
    """PUT ?tagging body. Order is kept; limits (count, length, charset) are shared.media's job."""
    items = "".join(
        f"<Tag><Key>{_xml_text(key, 'tag key')}</Key>"
        f"<Value>{_xml_text(value, 'tag value')}</Value></Tag>"
        for key, value in tags
    )
    return f"<Tagging><TagSet>{items}</TagSet></Tagging>".encode()
