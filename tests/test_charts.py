"""Population charts (policy_dsl.charts): the SVG as text, and the pages in headless Chromium.

The data are hand-written dicts of the JSON reports' shape (``PopulationDiff.to_dict()`` and
``policy eval --population --format json``). The browser test reads the numbers every bar carries
from the DOM after load and compares them with the table under the chart, and decodes the
screenshot (a small PNG reader below) to count the pixels of each bar colour: a blank chart, or bars
drawn at the wrong length, give a different count than the rectangles the SVG declares.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import os
import re
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from test_html_report import _find_chromium, _run_chromium

from policy_dsl.charts import CHART_CSS, FONT_STACK, diff_population_section, population_page
from policy_dsl.source import display_width

EXAMPLE = Path(__file__).resolve().parent.parent / "policies" / "cq-foreign-trade-2022"

LONG = "对小微外贸企业投保短期出口信用保险给予保费补贴并对新业态企业适当放宽承保条件的政策利益"
EVIL = '新增<script>alert("x")</script>奖励'
EVIL_ID = '新增"奖励'

DIFF: dict[str, Any] = {
    "path": "population.csv",
    "enterprises": 1000,
    "as_of": "2022-07-01",
    "missing_facts": [{"fact": "投保短期出口信用保险", "rules": ["信保补贴"], "unknown_results": 115065}],
    "benefits": [
        {
            "benefit": "信保补贴",
            "label": LONG,
            "kind": "benefit",
            "currency": "CNY",
            "eligible": {"old": 120, "new": 95},
            "gained": {"count": 10, "ids": ["e1"]},
            "lost": {"count": 35},
            "changed": {"count": 60},
            "unknown": {"count": 3},
            "amount": {
                "old": "1200000.00",
                "new": "950000.50",
                "change": "-249999.50",
                "undetermined": {"old": 2, "new": 5},
            },
        },
        {
            "benefit": EVIL_ID,
            "label": EVIL,
            "kind": "benefit",
            "currency": "CNY",
            "eligible": {"old": 0, "new": 40},
            "gained": {"count": 40},
            "lost": {"count": 0},
            "changed": {"count": 0},
            "unknown": {"count": 0},
            "amount": {
                "old": "0",
                "new": "4000000",
                "change": "4000000",
                "undetermined": {"old": 0, "new": 0},
            },
        },
        {
            "benefit": "出口奖励",
            "label": "出口奖励",
            "kind": "benefit",
            "currency": "USD",
            "eligible": {"old": 10, "new": 10},
            "gained": {"count": 0},
            "lost": {"count": 0},
            "changed": {"count": 10},
            "unknown": {"count": 0},
            "amount": {
                "old": "50000",
                "new": "45000",
                "change": "-5000",
                "undetermined": {"old": 0, "new": 0},
            },
        },
        {
            "benefit": "报送义务",
            "label": "报送统计数据",
            "kind": "duty",
            "currency": None,
            "eligible": {"old": 300, "new": 280},
            "gained": {"count": 5},
            "lost": {"count": 25},
            "changed": {"count": 0},
            "unknown": {"count": 0},
            "amount": None,
        },
        {
            "benefit": "未变",
            "label": "没有变化的利益",
            "kind": "benefit",
            "currency": None,
            "eligible": {"old": 7, "new": 7},
            "gained": {"count": 0},
            "lost": {"count": 0},
            "changed": {"count": 0},
            "unknown": {"count": 0},
            "amount": None,
        },
    ],
    "totals": [
        {
            "currency": "CNY",
            "old": "1200000.00",
            "new": "4950000.50",
            "change": "3750000.50",
            "undetermined": {"old": 2, "new": 5},
        },
        {
            "currency": "USD",
            "old": "50000",
            "new": "45000",
            "change": "-5000",
            "undetermined": {"old": 0, "new": 0},
        },
    ],
    "groups": {
        "by": ["所在区县"],
        "rows": [
            {
                "group": {"所在区县": "渝中区"},
                "enterprises": 600,
                "benefits": [
                    {
                        "benefit": "信保补贴",
                        "eligible": {"old": 70, "new": 50},
                        "gained": 5,
                        "lost": 25,
                        "amount": {"old": "700000", "new": "500000", "change": "-200000"},
                    }
                ],
                "totals": [{"currency": "CNY", "old": "700000", "new": "500000", "change": "-200000"}],
            },
            {
                "group": {"所在区县": "江北区"},
                "enterprises": 399,
                "benefits": [
                    {
                        "benefit": EVIL_ID,
                        "eligible": {"old": 0, "new": 40},
                        "gained": 40,
                        "lost": 0,
                        "amount": {"old": "0", "new": "4000000", "change": "4000000"},
                    }
                ],
                "totals": [
                    {"currency": "CNY", "old": "500000.00", "new": "4450000.50", "change": "3950000.50"}
                ],
            },
            {
                "group": {"所在区县": None},
                "enterprises": 1,
                "benefits": [],
                "totals": [{"currency": "CNY", "old": "0", "new": "0", "change": "0"}],
            },
        ],
    },
}

EVAL: dict[str, Any] = {
    "population": "pop.parquet",
    "as_of": "2022-07-01",
    "enterprises": 1000,
    "missing_facts": [],
    "benefits": [
        {
            "benefit": "信保补贴",
            "label": LONG,
            "kind": "benefit",
            "currency": "CNY",
            "eligible": 120,
            "not_eligible": 800,
            "unknown": 70,
            "not_in_force": 10,
            "amount": {"total": "1200000.00", "undetermined": 2},
        },
        {
            "benefit": EVIL_ID,
            "label": EVIL,
            "kind": "benefit",
            "currency": "USD",
            "eligible": 10,
            "not_eligible": 990,
            "unknown": 0,
            "not_in_force": 0,
            "amount": {"total": "50000.25", "undetermined": 0},
        },
        {
            "benefit": "报送义务",
            "label": "报送统计数据",
            "kind": "duty",
            "currency": None,
            "eligible": 300,
            "not_eligible": 700,
            "unknown": 0,
            "not_in_force": 0,
            "amount": None,
        },
    ],
    "totals": [
        {"currency": "CNY", "total": "1200000.00", "undetermined": 2},
        {"currency": "USD", "total": "50000.25", "undetermined": 0},
    ],
    "groups": {
        "by": ["所在区县"],
        "rows": [
            {
                "group": {"所在区县": "渝中区"},
                "enterprises": 600,
                "benefits": [{"benefit": "信保补贴", "eligible": 70, "amount": {"total": "700000"}}],
                "totals": [{"currency": "CNY", "total": "700000"}],
            },
            {
                "group": {"所在区县": None},
                "enterprises": 400,
                "benefits": [{"benefit": "信保补贴", "eligible": 50, "amount": {"total": "500000.00"}}],
                "totals": [{"currency": "CNY", "total": "500000.00"}],
            },
        ],
    },
}


def _diff_page(section: str) -> str:
    """The diff's section on a page of its own, as the diff report includes it."""
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<style>body {{ margin: 16px; font-family: {FONT_STACK}; }}{CHART_CSS}</style></head>"
        f"<body><main>{section}</main></body></html>\n"
    )


# ---------------------------------------------------------------- reading charts back


class Charts(HTMLParser):
    """Every bar (with its chart, and the zero line of its SVG) and every chart table's cell."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.chart: str | None = None
        self.zero: int | None = None
        self.bars: list[tuple[str, int | None, dict[str, str]]] = []
        self.rects: list[dict[str, str]] = []  # every filled rectangle: bars and legend swatches
        self.cells: dict[tuple[str, str, str], str] = {}
        self.table: str | None = None
        self.row: str | None = None
        self.cell: str | None = None
        self.text: list[str] = []
        self.svgs: list[dict[str, str]] = []
        self.svg_text: list[str] = []
        self.in_svg = False
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = a.get("class", "").split()
        if tag == "figure" and "chart" in classes:
            self.chart = a["data-chart"]
        elif tag == "svg":
            self.in_svg = True
            self.svgs.append(a)
        elif tag == "line" and "zero" in classes:
            self.zero = int(a["x1"])
        elif tag == "rect":
            self.rects.append(a)
            if "bar" in classes:
                assert self.chart is not None, "a bar outside a chart figure"
                self.bars.append((self.chart, self.zero, a))
        elif tag == "table" and "chart-data" in classes:
            self.table = a["data-chart"]
        elif tag == "tr" and self.table is not None:
            self.row = a.get("data-row")
        elif tag == "td" and self.table is not None and "data-series" in a:
            self.cell, self.text = a["data-series"], []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.cell is not None:
            assert self.table is not None and self.row is not None
            self.cells[(self.table, self.row, self.cell)] = "".join(self.text).strip()
            self.cell = None
        elif tag == "table":
            self.table = None
        elif tag == "figure":
            self.chart = None
        elif tag == "svg":
            self.in_svg = False
            self.zero = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.text.append(data)
        if self.in_svg:
            self.svg_text.append(data)


def _number(cell: str) -> Decimal:
    return Decimal(cell.replace(",", ""))


def assert_bars_match_tables(page: str) -> Charts:
    """Every bar's data-value is the number in its table cell; returns the parsed charts."""
    charts = Charts(page)
    assert charts.bars, "no bars"
    for chart, _, bar in charts.bars:
        key = (chart, bar["data-row"], bar["data-series"])
        assert key in charts.cells, f"no table cell for the bar {key}"
        assert _number(charts.cells[key]) == Decimal(bar["data-value"]), key
    return charts


def _bars(charts: Charts, chart: str) -> list[dict[str, str]]:
    return [bar for name, _, bar in charts.bars if name == chart]


def _value(charts: Charts, chart: str, row: str, series: str) -> str:
    found = [
        b["data-value"] for b in _bars(charts, chart) if (b["data-row"], b["data-series"]) == (row, series)
    ]
    assert len(found) == 1, (chart, row, series, found)
    return found[0]


# ---------------------------------------------------------------- the diff's section as text


@pytest.fixture(scope="module")
def section() -> str:
    return diff_population_section(DIFF)


def test_diff_bars_carry_the_exact_numbers_of_their_tables(section: str) -> None:
    charts = assert_bars_match_tables(section)
    counts = Counter(name for name, _, _ in charts.bars)
    # winners: three benefits moved (the unchanged one and the one with only amount changes are
    # not drawn), two bars each; cost: two CNY benefits and the total, one USD benefit and the
    # total, old and new each; groups: two groups moved, and three changes of money
    assert counts == {
        "winners": 6,
        "cost-CNY": 6,
        "cost-USD": 4,
        "groups-winners": 4,
        "groups-change-CNY": 3,
    }
    assert _value(charts, "winners", "信保补贴", "lost") == "35"
    assert _value(charts, "cost-CNY", "信保补贴", "new") == "950000.50"  # the data's own string
    assert _value(charts, "cost-CNY", "#total", "new") == "4950000.50"
    assert _value(charts, "groups-change-CNY", "所在区县=渝中区", "change") == "-200000"
    assert charts.cells[("cost-CNY", "信保补贴", "change")] == "-249,999.50"
    assert charts.cells[("cost-CNY", "#total", "change")] == "+3,750,000.50"
    assert charts.cells[("cost-CNY", "#total", "undetermined-new")] == "5"
    # every benefit that moved is in the table, the one with only amount changes too
    assert ("winners", "出口奖励", "changed") in charts.cells
    assert not any(row == "未变" for _, row, _ in charts.cells)


def test_bar_lengths_are_proportional_and_signed(section: str) -> None:
    charts = Charts(section)
    for name in ("winners", "cost-CNY", "groups-change-CNY"):
        drawn = [(zero, bar) for chart, zero, bar in charts.bars if chart == name]
        values = [abs(Decimal(bar["data-value"])) for _, bar in drawn]
        widths = [int(bar["width"]) for _, bar in drawn]
        largest = max(range(len(values)), key=lambda i: values[i])
        per_unit = Decimal(widths[largest]) / values[largest]
        for value, width in zip(values, widths, strict=True):
            assert abs(value * per_unit - width) <= 1, (name, value, width)
        for zero, bar in drawn:
            value, x, width = Decimal(bar["data-value"]), int(bar["x"]), int(bar["width"])
            leftwards = value < 0 or bar["data-series"] == "lost"
            if value == 0:
                assert width == 0 and x == zero
            elif leftwards:
                assert x + width == zero, bar  # ends at zero: drawn to the left
            else:
                assert x == zero, bar


def test_labels_are_cut_by_display_width_with_the_full_label_as_tooltip(section: str) -> None:
    labels = re.findall(r'<g class="label"><title>(.*?)</title><text [^>]*>(.*?)</text></g>', section)
    long = [(full, shown) for full, shown in labels if full == LONG]
    assert long, "the long label is not drawn"
    for full, shown in long:
        assert shown.endswith("…") and full.startswith(shown[:-1])
        assert display_width(shown) <= 34
    assert ("报送统计数据", "报送统计数据") in labels  # a short one is whole


def test_policy_text_is_inert(section: str) -> None:
    page = population_page(EVAL, EVIL)
    for text in (section, page):
        assert "<script" not in text.lower()
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
        charts = Charts(text)
        # the quote in the id did not end the attribute: it reads back whole
        assert any(
            bar.get("data-row") == EVIL_ID and bar.get("data-benefit") == EVIL_ID for _, _, bar in charts.bars
        )
    assert f"<title>{'企业名单评估：'}&lt;script&gt;" not in page  # the title is escaped too
    assert "<title>企业名单评估：新增&lt;script&gt;" in page


def test_missing_facts_come_before_the_charts(section: str) -> None:
    note = section.index('<div class="missing-facts')
    assert note < section.index("<svg")
    assert "投保短期出口信用保险" in section[note:] and "115,065" in section[note:]


def test_every_chart_is_titled_described_and_has_axis_values(section: str) -> None:
    charts = Charts(section)
    for svg in charts.svgs:
        assert svg["role"] == "img"
        title, desc = svg["aria-labelledby"].split()
        assert f'<title id="{title}">' in section and f'<desc id="{desc}">' in section
    ids = re.findall(r'id="([^"]+)"', section)
    assert len(ids) == len(set(ids))
    assert '<g class="axis"' in section and "金额（元）" in section and "400万" in section
    assert FONT_STACK.split(",")[0].strip('"') in section  # the CJK font stack reaches the SVG


def test_nothing_moved_is_a_note_not_an_empty_chart() -> None:
    still = copy.deepcopy(DIFF)
    for benefit in still["benefits"]:
        for kind in ("gained", "lost", "changed", "unknown"):
            benefit[kind] = {"count": 0}
    still["groups"] = None
    text = diff_population_section(still)
    assert "没有企业获得或失去任何政策利益" in text
    assert 'data-chart="winners"' in text and '<figure class="chart" data-chart="winners"' not in text
    for empty in ({}, {"benefits": [], "totals": [], "groups": None}, {"benefits": "nonsense", "groups": 3}):
        fragment = diff_population_section(empty)
        assert "<svg" not in fragment and "没有企业获得或失去任何政策利益" in fragment
        page = population_page(empty, "空")
        assert "<svg" not in page and page.endswith("</html>\n")


def test_the_earlier_report_shape_still_renders() -> None:
    """Before budgets and groups: counts with ids, no kind, amounts, totals or groups."""
    earlier = {
        "path": "p.csv",
        "enterprises": 3,
        "as_of": "2022-07-01",
        "benefits": [
            {
                "benefit": "b",
                "label": "甲",
                "eligible": {"old": 1, "new": 2},
                "gained": {"count": 1, "ids": ["x"]},
                "lost": {"count": 0, "ids": []},
                "changed": {"count": 0, "ids": []},
                "unknown": {"count": 0, "ids": []},
            }
        ],
    }
    text = diff_population_section(earlier)
    assert_bars_match_tables(text)
    assert "这份结果没有金额数据" in text
    page = population_page({"population": "p.csv", "enterprises": 3, "benefits": {"b": {"eligible": 2}}}, "t")
    assert_bars_match_tables(page)


def test_amounts_stay_exact() -> None:
    big = copy.deepcopy(EVAL)
    big["benefits"][0]["amount"]["total"] = "12345678901234567890.10"
    big["totals"][0]["total"] = "12345678901234567890.10"
    page = population_page(big, "t")
    charts = assert_bars_match_tables(page)
    assert _value(charts, "amount-CNY", "信保补贴", "total") == "12345678901234567890.10"
    assert "12,345,678,901,234,567,890.10" in page


def test_eval_page_bars_match_tables_and_summary() -> None:
    page = population_page(EVAL, "关于推动外贸保稳提质的实施意见")
    charts = assert_bars_match_tables(page)
    counts = Counter(name for name, _, _ in charts.bars)
    assert counts == {
        "eligible": 12,  # three benefits, four statuses each
        "amount-CNY": 2,  # the benefit and the total
        "amount-USD": 2,
        "groups-enterprises": 2,
        "groups-amount-CNY": 2,
    }
    assert _value(charts, "groups-amount-CNY", "所在区县=", "total") == "500000.00"  # the NULL group
    assert "（空）" in page
    summary = page[page.index('<section id="summary">') : page.index("</section>")]
    assert "1,000" in summary and "2022-07-01" in summary and "1,200,000.00 CNY" in summary
    table = page[
        page.index('<table class="benefits">') : page.index("</table>", page.index('class="benefits"'))
    ]
    assert table.count("<tr data-row=") == 3 and "50,000.25 USD" in table and "义务" in table
    # stacked segments of a benefit fill one bar end to end
    segments = [b for b in _bars(charts, "eligible") if b["data-row"] == "信保补贴"]
    for left, right in itertools.pairwise(segments):
        assert int(left["x"]) + int(left["width"]) == int(right["x"])


def test_page_is_self_contained_and_deterministic() -> None:
    page = population_page(EVAL, "t")
    assert page == population_page(copy.deepcopy(EVAL), "t")
    assert page.startswith("<!DOCTYPE html>\n") and '<meta charset="utf-8">' in page
    lowered = page.lower()
    for external in ("<script", "<link", "<img", "<iframe", "@import", "url(", "src=", "http://", "https://"):
        assert external not in lowered, external


def test_the_diff_report_includes_the_charts() -> None:
    from policy_dsl.diff.compare import diff_paths
    from policy_dsl.diff.html_report import render_html
    from policy_dsl.diff.population import population_diff

    draft, revision = str(EXAMPLE / "draft.policy"), str(EXAMPLE / "revision-example.policy")
    diff = population_diff(
        diff_paths(draft, revision),
        draft,
        revision,
        str(EXAMPLE / "enterprises" / "population.csv"),
        dt.date(2022, 7, 1),
    )
    page = render_html(diff)
    population = page[page.index('<section id="population">') :]
    population = population[: population.index("</section>")]
    assert '<div class="population-charts">' in population
    charts = assert_bars_match_tables(population)
    assert any(name == "winners" for name, _, _ in charts.bars)
    assert "<script" not in page.lower()


# ---------------------------------------------------------------- a real browser


@pytest.fixture(scope="module")
def chromium() -> str:
    path = _find_chromium()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed, and CI must install it: apt-get install -y chromium")
        pytest.skip("Chromium not found; install it to run this test: apt-get install chromium")
    return path


def _cjk_font_installed() -> bool | None:
    """Whether fontconfig knows a Chinese font (None: no fc-list to ask)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    found = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=60)
    return bool(found.stdout.strip())


def decode_png(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """(width, height, channels, rows) of an 8-bit RGB or RGBA, non-interlaced PNG: zlib-compressed
    scanlines, each led by its filter type (none, sub, up, average, Paeth)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, chunks = 8, []
    width = height = channels = 0
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind == b"IEND":
            break
    raw = zlib.decompress(b"".join(chunks))
    stride, c = width * channels, channels
    previous = bytearray(stride)
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for x in range(c, stride):
                line[x] = (line[x] + line[x - c]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, previous, strict=True))
        elif kind == 3:
            for x in range(stride):
                left = line[x - c] if x >= c else 0
                line[x] = (line[x] + ((left + previous[x]) >> 1)) & 255
        elif kind == 4:
            for x in range(stride):
                a = line[x - c] if x >= c else 0
                b = previous[x]
                d = previous[x - c] if x >= c else 0
                p = a + b - d
                pa, pb, pd = abs(p - a), abs(p - b), abs(p - d)
                line[x] = (line[x] + (a if pa <= pb and pa <= pd else b if pb <= pd else d)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


def _colours(png: Path) -> Counter[str]:
    """How many pixels of each colour (#rrggbb) the screenshot has."""
    width, _, channels, rows = decode_png(png.read_bytes())
    seen: Counter[str] = Counter()
    for row in rows:
        seen.update(row[x : x + 3].hex() for x in range(0, width * channels, channels))
    return Counter({f"#{k}": v for k, v in seen.items()})


def _check_in_browser(chromium: str, page: str, tmp_path: Path, name: str, height: int) -> Charts:
    target = tmp_path / f"{name}.html"
    target.write_text(page, encoding="utf-8")
    profile = tmp_path / f"profile-{name}"
    profile.mkdir()
    dom = _run_chromium(chromium, profile, "--dump-dom", target.as_uri()).stdout
    # the numbers the browser's charts carry are the numbers of the tables under them
    charts = assert_bars_match_tables(dom)
    assert len(charts.bars) == len(Charts(page).bars)
    # labelled: the SVG text after load has the labels and axis values
    drawn = "".join(charts.svg_text)
    for label in ("报送统计数据", "新增<script>", "原版本" if name == "diff" else "符合"):
        assert label in drawn, label
    assert "<script" not in dom.replace("&lt;script", "")  # no element came out of a label

    shot = tmp_path / f"{name}.png"
    _run_chromium(
        chromium,
        profile,
        f"--window-size=1280,{height}",
        "--force-device-scale-factor=1",
        "--force-color-profile=srgb",
        f"--screenshot={shot}",
        target.as_uri(),
    )
    seen = _colours(shot)
    # every bar colour's pixels are exactly the bars and swatches of that colour: a blank chart
    # has none, a bar of the wrong length or outside the page a different number
    expected: Counter[str] = Counter()
    rects: Counter[str] = Counter()
    for rect in charts.rects:
        expected[rect["fill"]] += int(rect["width"]) * int(rect["height"])
        rects[rect["fill"]] += 1
    assert len(expected) >= 2
    for fill, area in expected.items():
        assert area > 0, fill
        assert abs(seen[fill] - area) <= 2 * rects[fill], (fill, seen[fill], area)
    return charts


def test_charts_in_a_headless_browser(chromium: str, section: str, tmp_path: Path) -> None:
    if os.environ.get("CI") and _cjk_font_installed() is False:
        pytest.fail("no CJK font: Chromium draws Chinese as blank boxes; install fonts-noto-cjk")
    diff_charts = _check_in_browser(chromium, _diff_page(section), tmp_path, "diff", 2200)
    assert {name for name, _, _ in diff_charts.bars} == {
        "winners",
        "cost-CNY",
        "cost-USD",
        "groups-winners",
        "groups-change-CNY",
    }
    page_charts = _check_in_browser(chromium, population_page(EVAL, EVIL), tmp_path, "eval", 3200)
    assert {name for name, _, _ in page_charts.bars} == {
        "eligible",
        "amount-CNY",
        "amount-USD",
        "groups-enterprises",
        "groups-amount-CNY",
    }
