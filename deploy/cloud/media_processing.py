"""Cloud Infinite media processing on the bucket: checked, enabled, or the exact console step.

CI has no API 3.0 action (and no SDK package) for this; it is CI's XML API, signed like COS, sent
through the project's own ``shared.tencent`` transport (signing, retries, error parsing) and parsed
by its one safe XML parser:

* check: ``GET /mediabucket?bucketNames=<bucket>&regions=<region>`` on ``ci.<region>.myqcloud.com``
  (DescribeMediaBuckets): the bucket is listed in ``MediaBucketList`` when enabled;
* enable: ``POST /mediabucket`` with an empty body on ``<bucket>.ci.<region>.myqcloud.com``
  (CreateMediaBucket). It needs the bucket bound to CI first; when CI refuses, the error says
  what to do in the console. ``down`` leaves media processing on (there is no documented API
  to turn it off).
"""

from __future__ import annotations

from deploy.cloud.deployment import Deployment
from deploy.cloud.errors import MediaProcessingError
from deploy.cloud.target import DeployTarget
from shared.errors import MediaTaggerError
from shared.tencent.endpoints import ci_host
from shared.tencent.transport import Transport
from shared.tencent.xml_parser import as_list, parse_document

MEDIA_BUCKET_PATH = "/mediabucket"


def console_steps(target: DeployTarget) -> str:
    return (
        "in the Cloud Infinite console (https://console.cloud.tencent.com/ci): Bucket management "
        f"> Bind bucket > choose {target.bucket} ({target.region}) and authorize the service "
        "role CI_QCSRole when asked; then open the bucket > Media processing > Enable. "
        "Then run `python -m deploy up` again"
    )


class MediaProcessing:
    """The two CI calls, through one ``Transport``."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def is_enabled(self, bucket: str, region: str) -> bool:
        params = {"bucketNames": bucket, "regions": region, "pageSize": "100"}
        host = f"ci.{region}.myqcloud.com"
        response = self._transport.request("ci", "GET", host, MEDIA_BUCKET_PATH, params=params)
        tree = parse_document(response.content, "Response")
        for item in as_list(tree.get("MediaBucketList")):
            if isinstance(item, dict) and bucket in (item.get("Name"), item.get("BucketId")):
                return True
        return False

    def enable(self, bucket: str, region: str) -> None:
        self._transport.request("ci", "POST", ci_host(bucket, region), MEDIA_BUCKET_PATH, body=b"")


def check_media_processing(media: MediaProcessing, target: DeployTarget) -> bool:
    """Whether media processing is on; MediaProcessingError when CI cannot be asked."""
    try:
        return media.is_enabled(target.bucket, target.region)
    except MediaTaggerError as exc:
        raise MediaProcessingError(f"cannot check {describe(target)}: {exc}") from exc


def describe(target: DeployTarget) -> str:
    return f"Cloud Infinite media processing on bucket {target.bucket}"


def media_processing_stop(target: DeployTarget) -> str:
    return f"{describe(target)} is off; enable it {console_steps(target)}"


def enable_media_processing(dep: Deployment, media: MediaProcessing) -> None:
    """POST /mediabucket (when applying); the error gives the console steps."""
    changes, target, state = dep.changes, dep.target, dep.state
    changes.note(f"+ {describe(target)} (POST {MEDIA_BUCKET_PATH})")
    if not changes.apply:
        return
    try:
        media.enable(target.bucket, target.region)
    except MediaTaggerError as exc:
        raise MediaProcessingError(
            f"Cloud Infinite refused to enable media processing on {target.bucket} ({exc}); "
            f"enable it {console_steps(target)}"
        ) from exc
    state.media_processing_enabled = True
    state.save()
