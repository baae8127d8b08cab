"""What a batch run leaves in the bucket and in CI: its reserved prefix, its name, its UserData.

Everything the batch path writes into the bucket (the batch records the reconcile timer drains,
the manifests CI reads) lives under ``RESERVED_PREFIX``. The upload filter refuses that prefix
whatever the settings say (``shared.upload.filters``), so writing there never triggers a job,
and listings for a batch leave it out. A batch is named ``media-tagger-<run id>`` (CI: at most
128 letters, digits, ``-`` and ``_``) and carries the UserData ``mtb1;r=<run id>``: one UserData
for the whole batch (CI has no per-object one), recognisable so reconcile leaves its jobs to the
drain. Pure: no I/O.
"""

from __future__ import annotations

import re

RESERVED_PREFIX = ".media-tagger/"
BATCH_RECORDS_PREFIX = RESERVED_PREFIX + "batches/"
MANIFESTS_PREFIX = RESERVED_PREFIX + "manifests/"
BATCH_NAME_PREFIX = "media-tagger-"
BATCH_USER_DATA_VERSION = "mtb1"
MAX_BATCH_NAME = 128
_RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def is_reserved_key(key: str) -> bool:
    """Whether ``key`` is under the prefix the batch path writes to (never a media object)."""
    return key.startswith(RESERVED_PREFIX)


def check_run_id(run_id: str) -> str:
    if not _RUN_ID.fullmatch(run_id):
        raise ValueError(f"a run id is 1-64 letters, digits, '-' or '_', not {run_id!r}")
    return run_id


def batch_name(run_id: str) -> str:
    """CI's Name of the batch of ``run_id`` (unique per run, so a resumed run can find it)."""
    return BATCH_NAME_PREFIX + check_run_id(run_id)


def batch_user_data(run_id: str) -> str:
    return f"{BATCH_USER_DATA_VERSION};r={check_run_id(run_id)}"


def batch_run_of(user_data: str | None) -> str | None:
    """The run id in a batch's UserData, or None when ``user_data`` is not a batch's."""
    if not isinstance(user_data, str):
        return None
    head, _, rest = user_data.partition(";")
    name, _, value = rest.partition("=")
    if head != BATCH_USER_DATA_VERSION or name != "r" or not _RUN_ID.fullmatch(value):
        return None
    return value


def batch_record_key(batch_id: str) -> str:
    """Where the drain state of batch ``batch_id`` lives in the bucket."""
    if not _BATCH_ID.fullmatch(batch_id):
        raise ValueError(f"not a CI batch id: {batch_id!r}")
    return f"{BATCH_RECORDS_PREFIX}{batch_id}.json"


def manifest_prefix(run_id: str) -> str:
    """The folder of the manifest (manifest.json and its CSV parts) of ``run_id``."""
    return f"{MANIFESTS_PREFIX}{check_run_id(run_id)}/"
