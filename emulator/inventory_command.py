"""``python -m emulator inventory``: have the running emulator write a COS inventory of a bucket.

It posts to the admin endpoint ``/_emulator/inventory`` of MEDIA_TAGGER_ENDPOINT_URL (exported by
``python -m emulator serve``) and prints where the manifest landed, in the form
``python -m shared backfill --engine ci --manifest`` takes. The bucket defaults to
MEDIA_TAGGER_EMULATOR_BUCKET. Loopback only, as the endpoint is.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Mapping
from typing import TextIO
from urllib.parse import urlsplit

ENDPOINT_VARIABLE = "MEDIA_TAGGER_ENDPOINT_URL"
BUCKET_VARIABLE = "MEDIA_TAGGER_EMULATOR_BUCKET"


def run_inventory(
    options: Mapping[str, str | None], environ: Mapping[str, str], out: TextIO, err: TextIO
) -> int:
    """Ask for the inventory; 0 and the manifest's cos:// path, or 1 and the reason."""
    endpoint = environ.get(ENDPOINT_VARIABLE)
    bucket = options.get("bucket") or environ.get(BUCKET_VARIABLE)
    if not endpoint or not bucket:
        err.write(f"inventory needs {ENDPOINT_VARIABLE} and --bucket (or {BUCKET_VARIABLE}): ")
        err.write('eval "$(python -m emulator serve --detach)" sets both\n')
        return 1
    parts = urlsplit(endpoint)
    body = {"bucket": bucket, **{k: v for k, v in options.items() if v and k != "bucket"}}
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=60)
    try:
        connection.request(
            "POST", "/_emulator/inventory", body=json.dumps(body),
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        response = connection.getresponse()
        answer = json.loads(response.read() or b"{}")
    except (OSError, ValueError) as exc:
        err.write(f"inventory failed: the emulator at {endpoint} did not answer ({exc})\n")
        return 1
    finally:
        connection.close()
    if response.status != 200:
        err.write(f"inventory failed: {answer.get('error', response.status)}\n")
        return 1
    out.write(f"cos://{answer['bucket']}/{answer['manifest']}  ({answer['objects']} objects)\n")
    return 0
