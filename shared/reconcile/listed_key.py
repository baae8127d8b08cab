"""Which object a listed job is about, when CI may echo its key percent-encoded.

Whether GET /jobs lists ``Input.Object`` raw or percent-encoded is undocumented (cos-ci-api.md
section 9 item 10). A key that has a decoded reading (``shared.contract.object_key``: raw and
decoded, never more) could name either object, so HEAD decides: the first reading, raw first,
whose object exists and still has the ETag and size the job's UserData recorded. When neither
does, the raw key is kept and the reconcile path reports it as it would have (gone or stale).
Keys without a decoded reading cost no request. Written against ``ports.ObjectStore``.
"""

from __future__ import annotations

from shared.contract.object_key import key_forms
from shared.contract.userdata import UserDataFacts
from shared.errors import MediaTaggerError
from shared.models import ObjectRef
from shared.ports import ObjectStore


def listed_object(
    store: ObjectStore,
    bucket: str,
    region: str,
    key: str,
    facts: UserDataFacts,
    *,
    deadline: float | None = None,
) -> ObjectRef:
    """The object a listed job with ``key`` and ``facts`` is about (see the module docstring)."""
    forms = key_forms(key)
    if len(forms) == 1:
        return ObjectRef(bucket, region, key, facts.version_id)
    for _, form in forms:
        candidate = ObjectRef(bucket, region, form, facts.version_id)
        try:
            head = store.head_object(candidate, deadline=deadline)
        except MediaTaggerError:  # gone, refused or unreachable: this reading proves nothing
            continue
        if head.etag == facts.etag.strip('"') and head.size == facts.size:
            return candidate
    return ObjectRef(bucket, region, key, facts.version_id)
