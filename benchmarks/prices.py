"""Tencent Cloud list prices the cost figures use, with their sources, and the arithmetic on them.

The one place the project keeps prices: ``make bench`` prices what it measured per object with
them, and docs/costs.md prints the same table (``render_price_table``). Mainland China,
pay-as-you-go, CNY, before any free tier or package (the first 3,000 MediaInfo calls a month,
SCF's free quota for new accounts). A price no Tencent document gave is marked ``sourced=False``
with what was assumed; read /work/research/prices.md for the search behind each. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

QCLOUD_DOCS = "qcloud-documents"
SCF_PRICING = (
    f"{QCLOUD_DOCS} 无服务器云函数/购买指南/产品定价/云函数基本能力定价.md @154e4703, @1e7cd43c"
)
COS_BILLING = f"{QCLOUD_DOCS} 对象存储 4.0/购买指南/计费项"
DAYS_PER_MONTH = 30
PER_MILLION = 1_000_000
MB_PER_GB = 1024  # SCF's own example: 256 MB for 1,760 ms = 0.44 GB-s


@dataclass(frozen=True)
class Price:
    item: str
    cny: float  # for ``per`` units
    per: int
    unit: str
    source: str
    sourced: bool = True

    @property
    def each(self) -> float:
        return self.cny / self.per


SCF_GB_S = Price("SCF resource usage", 0.00011108, 1, "GB-s", SCF_PRICING)
SCF_INVOCATION = Price("SCF invocations", 0.0133, 10_000, "invocation", SCF_PRICING)
COS_REQUEST = Price(
    "COS requests, standard storage (reads and writes alike)",
    0.01,
    10_000,
    "request",
    f"{COS_BILLING}/请求费用.md @71db6367",
)
TAG_DAY = Price(
    "COS object tags (settled daily while the tags exist)",
    0.00166667,
    10_000,
    "tag-day",
    f"{COS_BILLING}/管理功能费用.md @89742253",
)
CI_MEDIAINFO = Price(
    "CI MediaInfo job (视频元信息获取)",
    0.1,
    1_000,
    "job",
    f"{COS_BILLING}/数据处理费用/媒体处理费用.md @c4c591f8 (the price of the line is sourced; "
    "that an asynchronous MediaInfo job is billed under it is UNSOURCED, assumed)",
    sourced=False,
)
CI_REQUEST = Price(
    "CI job API requests (POST /jobs, GET /jobs/<id>)",
    0.0,
    10_000,
    "request",
    "UNSOURCED: no Tencent price for CI's job API calls beyond the job itself; assumed free",
    sourced=False,
)
PRICES = (SCF_GB_S, SCF_INVOCATION, COS_REQUEST, TAG_DAY, CI_MEDIAINFO, CI_REQUEST)


@dataclass(frozen=True)
class Usage:
    """What one object costs one function: counts per object, GB-s per object."""

    invocations: float = 0.0
    gb_s: float = 0.0
    cos_requests: float = 0.0
    ci_requests: float = 0.0
    ci_jobs: float = 0.0

    def plus(self, other: Usage) -> Usage:
        return Usage(
            self.invocations + other.invocations,
            self.gb_s + other.gb_s,
            self.cos_requests + other.cos_requests,
            self.ci_requests + other.ci_requests,
            self.ci_jobs + other.ci_jobs,
        )


def gb_seconds(memory_mb: float, seconds: float) -> float:
    """SCF's billed resource usage: configured memory x actual run time."""
    return memory_mb / MB_PER_GB * seconds


def cost_lines(usage: Usage, objects: int = PER_MILLION) -> dict[str, float]:
    """CNY per line for ``objects`` objects (one-time: every line but tag storage)."""
    return {
        "CI MediaInfo jobs": usage.ci_jobs * objects * CI_MEDIAINFO.each,
        "SCF GB-s": usage.gb_s * objects * SCF_GB_S.each,
        "SCF invocations": usage.invocations * objects * SCF_INVOCATION.each,
        "COS requests": usage.cos_requests * objects * COS_REQUEST.each,
        "CI requests": usage.ci_requests * objects * CI_REQUEST.each,
    }


def one_time_cost(usage: Usage, objects: int = PER_MILLION) -> float:
    return sum(cost_lines(usage, objects).values())


def tag_cost_per_month(tags_per_object: float, objects: int = PER_MILLION) -> float:
    """CNY a month for keeping ``tags_per_object`` tags on each of ``objects`` objects."""
    return tags_per_object * objects * TAG_DAY.each * DAYS_PER_MONTH


def break_even_rate(extra_per_event: float, saved_per_duplicate: float) -> float:
    """The share of events that must be caught duplicates for a check to pay for itself."""
    return extra_per_event / saved_per_duplicate if saved_per_duplicate > 0 else float("inf")


def render_price_table() -> str:
    """The Markdown table docs/costs.md shows (the same numbers the bench used)."""
    lines = ["| item | price (CNY) | per | sourced | source |", "|---|---:|---|---|---|"]
    for price in PRICES:
        sourced = "yes" if price.sourced else "**no**"
        lines.append(
            f"| {price.item} | {price.cny:g} | {price.per:,} {price.unit} | {sourced} "
            f"| {price.source} |"
        )
    return "\n".join(lines)
