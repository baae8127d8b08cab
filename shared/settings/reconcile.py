"""Settings of the reconcile timer function and of the operator CLIs' tag handling.

Reconcile needs no callback secret: it never mints or checks callback tokens, it re-reads jobs
with its own credentials. Variable names live in ``shared.settings.functions`` with all the others.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.errors import ConfigError
from shared.models import ResultLocation
from shared.records import record
from shared.settings.functions import (
    DEFAULT_MAX_ATTEMPTS,
    LOG_LEVEL,
    LOG_LEVELS,
    MAX_ATTEMPTS,
    MAX_ATTEMPTS_RANGE,
    RECONCILE_BUCKETS,
    RECONCILE_REGION,
    RECONCILE_SETTLE,
    RECONCILE_WINDOW,
    SCF_REGION,
    check_bucket_name,
    check_region,
    endpoint_url_setting,
    own_tag_cap_setting,
    queue_id_setting,
    result_document_setting,
    tag_fields_setting,
    tag_prefix_setting,
)
from shared.settings.values import choice, comma_list, duration_seconds, int_in, raw_value

# Timer every 30 min: a 70 min window ending 5 min ago covers every job in at least two runs.
DEFAULT_RECONCILE_WINDOW_S = 70 * 60
DEFAULT_RECONCILE_SETTLE_S = 5 * 60
RECONCILE_WINDOW_RANGE_S = (60, 7 * 86400)


@record
class ReconcileSettings:
    """The reconcile timer function and the CLIs' tag settings (no callback secret needed).
    ``buckets`` empty and ``region`` None mean "not configured" (the CLI takes them as options)."""

    tag_prefix: str
    tag_fields: tuple[str, ...]
    own_tag_cap: int
    endpoint_url: str | None
    max_attempts: int
    log_level: str
    buckets: tuple[str, ...]
    region: str | None
    window_s: float
    settle_s: float
    queue_id: str | None  # GET /jobs' queueId (MEDIA_TAGGER_QUEUE_ID); None: not sent
    result_document: ResultLocation | None = None  # MEDIA_TAGGER_RESULT_DOCUMENT; None: off


def _reconcile_target(environ: Mapping[str, str]) -> tuple[tuple[str, ...], str | None]:
    buckets = tuple(
        check_bucket_name(b, RECONCILE_BUCKETS) for b in comma_list(environ, RECONCILE_BUCKETS)
    )
    region = raw_value(environ, RECONCILE_REGION) or raw_value(environ, SCF_REGION)
    return buckets, check_region(region.strip(), RECONCILE_REGION) if region else None


def load_reconcile_settings(environ: Mapping[str, str]) -> ReconcileSettings:
    """Settings of reconcile; ConfigError names the first bad variable."""
    window = duration_seconds(environ, RECONCILE_WINDOW, DEFAULT_RECONCILE_WINDOW_S)
    low, high = RECONCILE_WINDOW_RANGE_S
    if not low <= window <= high:
        raise ConfigError(RECONCILE_WINDOW, "must be from 1m to 7d")
    settle = duration_seconds(environ, RECONCILE_SETTLE, DEFAULT_RECONCILE_SETTLE_S)
    if settle >= window:
        raise ConfigError(RECONCILE_SETTLE, f"must be shorter than {RECONCILE_WINDOW}")
    buckets, region = _reconcile_target(environ)
    return ReconcileSettings(
        tag_prefix=tag_prefix_setting(environ),
        tag_fields=tag_fields_setting(environ),
        own_tag_cap=own_tag_cap_setting(environ),
        endpoint_url=endpoint_url_setting(environ),
        max_attempts=int_in(environ, MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS, MAX_ATTEMPTS_RANGE),
        log_level=choice(environ, LOG_LEVEL, "INFO", LOG_LEVELS),
        buckets=buckets,
        region=region,
        window_s=window,
        settle_s=settle,
        queue_id=queue_id_setting(environ),
        result_document=result_document_setting(environ),
    )
