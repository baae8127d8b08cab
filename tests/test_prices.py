"""The price table's arithmetic (benchmarks/prices.py): units, per-line costs, tags, break-even.

The expected values are worked out by hand from the published prices, and two come from
Tencent's own worked examples (SCF: 256 MB for 1,760 ms = 0.44 GB-s; COS tags: 100,000 tagged
objects for 30 days = 0.50 CNY).
"""

from __future__ import annotations

import pytest

from benchmarks import prices
from benchmarks.prices import Usage


def test_units_follow_tencents_own_examples() -> None:
    assert prices.gb_seconds(256, 1.76) == pytest.approx(0.44)
    assert prices.tag_cost_per_month(1, objects=100_000) == pytest.approx(0.50, abs=0.005)


def test_each_price_is_per_single_unit() -> None:
    assert prices.COS_REQUEST.each == pytest.approx(1e-6)  # 0.01 CNY / 10,000
    assert prices.SCF_INVOCATION.each == pytest.approx(1.33e-6)  # 0.0133 CNY / 10,000
    assert prices.CI_MEDIAINFO.each == pytest.approx(1e-4)  # 0.1 CNY / 1,000
    assert prices.TAG_DAY.each == pytest.approx(1.66667e-7)


def test_cost_lines_for_a_million_uploads_by_hand() -> None:
    # An upload at 64 MB for 25 ms with one GET ?tagging and one POST /jobs.
    upload = Usage(
        invocations=1,
        gb_s=prices.gb_seconds(64, 0.025),
        cos_requests=1,
        ci_requests=1,
        ci_jobs=1,
    )
    lines = prices.cost_lines(upload)
    assert lines["CI MediaInfo jobs"] == pytest.approx(100.0)  # 1M x 0.1 / 1000
    assert lines["SCF GB-s"] == pytest.approx(1e6 * 0.0625 * 0.025 * 0.00011108)  # 0.1736
    assert lines["SCF invocations"] == pytest.approx(1.33)
    assert lines["COS requests"] == pytest.approx(1.0)
    assert lines["CI requests"] == 0.0  # UNSOURCED, assumed free
    assert prices.one_time_cost(upload) == pytest.approx(100.0 + 0.1736 + 1.33 + 1.0, abs=1e-3)


def test_usage_adds_up_per_object() -> None:
    total = Usage(1, 0.002, 0, 1, 1).plus(Usage(1, 0.004, 3, 1, 0))
    assert total == Usage(2, pytest.approx(0.006), 3, 2, 1)  # type: ignore[arg-type]


def test_recurring_tag_cost_scales_with_tags_per_object() -> None:
    seven, ten = prices.tag_cost_per_month(7), prices.tag_cost_per_month(10)
    assert seven == pytest.approx(35.0, rel=1e-5)  # 7M tags x 0.00166667 / 10,000 x 30 days
    assert seven / ten == pytest.approx(0.7)


def test_break_even_share_of_duplicates() -> None:
    # A check costing 1.3 CNY per million events pays once 1.3 / 105 of them are duplicates.
    assert prices.break_even_rate(1.3e-6, 1.05e-4) == pytest.approx(0.01238, rel=1e-3)
    assert prices.break_even_rate(1e-6, 0.0) == float("inf")


def test_the_table_says_which_prices_are_unsourced() -> None:
    table = prices.render_price_table()
    assert table.count("\n") == len(prices.PRICES) + 1
    unsourced = [price for price in prices.PRICES if not price.sourced]
    assert {price.item for price in unsourced} == {prices.CI_MEDIAINFO.item, prices.CI_REQUEST.item}
    assert all("UNSOURCED" in price.source for price in unsourced)
    assert table.count("| **no** |") == len(unsourced)
