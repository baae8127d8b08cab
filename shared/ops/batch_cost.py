"""What a batch backfill will cost, from the dry run's counts and Tencent's published prices.

Prices (mainland China, pay-as-you-go, CNY), as docs/costs.md has them with their sources:
- CI MediaInfo (视频元信息获取): first 3,000 calls a month free, then 0.1 元 per 1,000 calls
  (qcloud-documents ``…/对象存储 4.0/购买指南/计费项/数据处理费用/媒体处理费用.md`` @c4c591f8);
  that a batch's per-object job is billed as one such call is assumed (UNSOURCED);
- COS requests: 0.01 元 per 10,000, reads and writes alike (``…/计费项/请求费用.md`` @71db6367);
- COS object tags: 0.00166667 元 per 10,000 tags per day (``…/计费项/管理功能费用.md`` @89742253).
CI's batch and job-list API calls are taken as free (no price found: UNSOURCED). Requests are
counted from the code paths: GET Bucket per 1,000 listed objects, GET ?tagging per filtered-in
object when already tagged objects are skipped, one PUT per manifest part plus manifest.json,
and per job at most HEAD + GET ?tagging + PUT ?tagging, plus the drain's record PUTs (at most one
a second: counted as one per 100 jobs). Pure arithmetic; no I/O.
"""

from __future__ import annotations

import math

from shared.records import record

MEDIA_INFO_PER_1000 = 0.1
MEDIA_INFO_FREE_PER_MONTH = 3000
COS_REQUESTS_PER_10000 = 0.01
TAGS_PER_10000_PER_DAY = 0.00166667
DAYS_PER_MONTH = 30
LIST_PAGE = 1000
JOBS_PAGE = 100


@record
class BatchCounts:
    """What a dry run found: objects listed, filtered in, jobs CI will run, parts to write."""

    listed: int
    filtered_in: int
    jobs: int
    listing_requests: int  # GET Bucket pages we send (0 when CI lists: source prefix)
    tag_reads: int  # GET ?tagging while planning (skip_tagged)
    manifest_puts: int
    tags_per_object: int


@record
class CostLine:
    item: str
    arithmetic: str
    yuan: float


def estimate(counts: BatchCounts) -> list[CostLine]:
    """One line per billed item, then the one-time total and the tags' monthly charge."""
    billed_jobs = max(0, counts.jobs - MEDIA_INFO_FREE_PER_MONTH)
    drain = 3 * counts.jobs + math.ceil(counts.jobs / JOBS_PAGE)
    requests = counts.listing_requests + counts.tag_reads + counts.manifest_puts + drain
    tags = counts.filtered_in * counts.tags_per_object
    lines = [
        CostLine(
            "CI MediaInfo",
            f"({counts.jobs:,} jobs - {MEDIA_INFO_FREE_PER_MONTH:,} free) / 1,000 x 0.1",
            billed_jobs / 1000 * MEDIA_INFO_PER_1000,
        ),
        CostLine(
            "COS requests",
            f"({counts.listing_requests:,} list + {counts.tag_reads:,} tag reads + "
            f"{counts.manifest_puts:,} manifest PUTs + {drain:,} drain) / 10,000 x 0.01",
            requests / 10000 * COS_REQUESTS_PER_10000,
        ),
    ]
    total = sum(line.yuan for line in lines)
    lines.append(CostLine("one-time total", "the lines above", total))
    lines.append(
        CostLine(
            "COS tags, every month",
            f"at most {tags:,} tags / 10,000 x 0.00166667 x {DAYS_PER_MONTH} days",
            tags / 10000 * TAGS_PER_10000_PER_DAY * DAYS_PER_MONTH,
        )
    )
    return lines


def cost_lines(counts: BatchCounts) -> list[str]:
    """The estimate as the dry run prints it."""
    rows = [
        f"  {line.item:<22} {line.yuan:>12.2f} 元   {line.arithmetic}" for line in estimate(counts)
    ]
    return [
        "estimated cost (mainland China, pay-as-you-go; docs/costs.md has the sources):",
        *rows,
    ]
