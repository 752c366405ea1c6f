"""Charts of population results as inline SVG, for self-contained HTML pages (standard library only).

Two entry points:

* :func:`diff_population_section` — the population layer of ``policy-diff``'s HTML report: who gains
  and who loses each benefit, what each benefit and each currency's total costs under the old and the
  new version, and the same per group when the population was grouped (``--by``);
* :func:`population_page` — a whole page for ``policy eval --population --format html``: the summary,
  a table per benefit, and charts of the eligible counts and the money per benefit and per group.

Both read the plain dicts of the JSON reports (``PopulationDiff.to_dict()`` and the eval population
JSON), with ``.get`` and defaults throughout, so a report that lacks a field still renders. Amounts
are decimal strings and stay :class:`~decimal.Decimal`: the tables print them exactly, and bar
lengths are Decimal ratios rounded to whole pixels (crisp edges, no float anywhere).

Every chart is a ``<figure class="chart" data-chart="…">`` holding one ``<svg role="img">`` with a
``<title>`` and a ``<desc>``, visible labels, a legend and axis values, followed by a
``<table class="chart-data">`` with the same numbers. Each bar is a ``<rect class="bar">`` with
``data-row`` (the table row it belongs to), ``data-series`` (the table column) and ``data-value``
(the exact number, as the data gave it); each table cell ``<td data-series="…">`` of the row
``<tr data-row="…">`` prints that number, grouped by thousands. Long labels are cut with … by display
width (CJK characters count two columns), the full label in a ``<title>`` tooltip. Every text from
the data is escaped: policy text is untrusted. No scripts, no fonts, no links: the page reads the
same with JavaScript off.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from policy_dsl.source import display_width

#: Chinese first (a CJK font has Latin glyphs too), then each platform's CJK font, then anything.
FONT_STACK = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", '
    '"WenQuanYi Micro Hei", "Noto Sans SC", system-ui, sans-serif'
)

# Bar colours: used by no other element of the pages, so a screenshot's pixels of a colour are the
# bars (and legend swatches) of that colour. Text uses darker shades.
GAINED_FILL = "#3a9d5d"
LOST_FILL = "#d1453b"
OLD_FILL = "#9aa4af"
NEW_FILL = "#2f6fd6"
MONEY_FILL = "#2f6fd6"
COUNT_FILL = "#7d6bb3"
STATUS_FILLS = {
    "eligible": "#3a9d5d",
    "not_eligible": "#b8c0c8",
    "unknown": "#e0a526",
    "not_in_force": "#7d6bb3",
    "superseded": "#8c6d46",
}
_INK, _MUTED, _GRID, _ZERO = "#1f2328", "#656d76", "#d8dee4", "#57606a"
_UP_INK, _DOWN_INK = "#1a7f37", "#a40e26"

_STATUS_WORDS = {"eligible": "符合", "not_eligible": "不符合", "unknown": "未知", "not_in_force": "未生效"}
#: superseded (不重复享受: its exclusive group kept another): a series only where a benefit has it
_SUPERSEDED_WORD = "不重复享受"


def _statuses(benefits: list[dict[str, Any]]) -> list[str]:
    found = list(_STATUS_WORDS)
    return [*found, "superseded"] if any(b.get("superseded") is not None for b in benefits) else found


def _status_word(status: str) -> str:
    return _SUPERSEDED_WORD if status == "superseded" else _STATUS_WORDS[status]


_KIND_WORDS = {"benefit": "利益", "duty": "义务"}
_CURRENCY_WORDS = {"CNY": "元", "USD": "美元"}

CHART_CSS = """
.population-charts h3 { margin: 22px 0 6px; }
figure.chart { margin: 10px 0 22px; max-width: 100%; overflow-x: auto; }
figure.chart figcaption { font-weight: 600; margin: 0 0 4px; }
figure.chart svg { display: block; max-width: none; }
table.chart-data { width: auto; min-width: 50%; font-size: 13px; margin-top: 4px; }
table.chart-data td.num, table.benefits td.num, table.totals td.num {
  text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.chart-data td.up { color: #1a7f37; }
table.chart-data td.down { color: #a40e26; }
table.chart-data tr.total th, table.chart-data tr.total td { font-weight: 700; }
div.missing-facts { background: #fff8e1; border: 1px solid #e5c56a; border-radius: 6px; padding: 8px 14px;
  margin: 8px 0 14px; font-size: 14px; }
div.missing-facts p { margin: 0; }
div.missing-facts ul { margin: 4px 0 0; padding-left: 1.3em; }
div.missing-facts summary { color: #656d76; }
p.nothing { color: #656d76; }
"""

#: The page of ``policy eval --population --format html``: the diff report's look, in brief.
_PAGE_CSS = (
    """
:root { --ink: #1f2328; --muted: #656d76; --rule: #d0d7de; --paper: #ffffff; --panel: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 64px; color: var(--ink); background: var(--paper);
  font-family: """
    + FONT_STACK
    + """;
  font-size: 15px; line-height: 1.75; overflow-wrap: anywhere; }
main { max-width: 1280px; margin: 0 auto; }
h1 { font-size: 24px; line-height: 1.4; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 2px solid var(--ink); }
h3 { font-size: 16px; line-height: 1.5; }
code, .id { font-family: ui-monospace, Menlo, Consolas, "Noto Sans Mono CJK SC", monospace;
  font-size: 0.86em; color: var(--muted); }
p.lede, p.note { color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 14px; }
th, td { border: 1px solid var(--rule); padding: 6px 10px; vertical-align: top; text-align: left; }
thead th { background: var(--panel); font-weight: 600; white-space: nowrap; }
tbody th { background: var(--panel); font-weight: 600; }
footer { margin-top: 40px; color: var(--muted); font-size: 12.5px; }
"""
    + CHART_CSS
)

#: Rows a chart draws at most; the table under it lists them all.
MAX_ROWS = 60

# Geometry of a chart, in CSS pixels (the SVG is drawn at 1:1).
_WIDTH = 960
_LABEL_RIGHT = 250
_PLOT_LEFT = 262
_VALUES_WIDTH = 172
_CHANGE_WIDTH = 112
_TOP = 30
_BOTTOM = 42
_LABEL_COLUMNS = 34  # display columns of a label at 13 px: 17 CJK characters


def _e(text: object) -> str:
    """Escape anything shown on the page: policy text is untrusted."""
    return html.escape(str(text), quote=True)


# ---------------------------------------------------------------- reading the data defensively


def _dicts(value: object) -> list[dict[str, Any]]:
    if isinstance(value, Mapping):
        return [dict(value)]
    if isinstance(value, list | tuple):
        return [dict(v) for v in value if isinstance(v, Mapping)]
    return []


def _mapping(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _dec(value: object) -> Decimal | None:
    """An exact number: an int, a decimal string or a Decimal (never a float); else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _count(value: object) -> int:
    """A count: an int, or the ``count`` of a ``{"count": …, "ids": […]}``; else 0."""
    if isinstance(value, Mapping):
        value = value.get("count", 0)
    number = _dec(value)
    if number is None or number != number.to_integral_value():
        return 0
    return int(number)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _exact_string(value: object, number: Decimal) -> str:
    """The number as the data wrote it (its exact string), for ``data-value``."""
    return value.strip() if isinstance(value, str) else str(number)


# ---------------------------------------------------------------- numbers and labels


def _exact(number: Decimal, sign: bool = False) -> str:
    """Every digit, grouped by thousands: 1,234,567.50 (with ``sign``, +1,234.00 and -5)."""
    text = format(number, ",f")
    return "+" + text if sign and number > 0 else text


def _short(number: Decimal, sign: bool = False) -> str:
    """A compact Chinese reading for chart labels: 1.23亿, 3000万, 1,234.5."""
    size = abs(number)
    unit, scaled = "", number
    if size >= Decimal(10) ** 8:
        unit, scaled = "亿", number / Decimal(10) ** 8
    elif size >= Decimal(10) ** 4:
        unit, scaled = "万", number / Decimal(10) ** 4
    if scaled != scaled.to_integral_value():
        scaled = scaled.quantize(Decimal("0.01"), ROUND_HALF_UP)
    text = format(scaled.normalize() if scaled != 0 else Decimal(0), ",f")
    if sign and number > 0:
        text = "+" + text
    return text + unit


def _money(number: Decimal, currency: str, sign: bool = False) -> str:
    return _short(number, sign) + _CURRENCY_WORDS.get(currency, f" {currency}" if currency else "")


def _cut(text: str, columns: int = _LABEL_COLUMNS) -> str:
    """``text`` cut to ``columns`` display columns with … (CJK characters count two)."""
    if display_width(text) <= columns:
        return text
    out = ""
    for char in text:
        if display_width(out + char) > columns - 1:
            break
        out += char
    return out + "…"


def _label(benefit: Mapping[str, Any]) -> str:
    return _text(benefit.get("label")) or _text(benefit.get("benefit"))


def _group_label(group: Mapping[str, Any], by: Sequence[str]) -> str:
    names = [n for n in by if n in group] or list(group)
    values = ["（空）" if group.get(n) is None else _text(group.get(n)) for n in names]
    return " · ".join(values) or "（全部）"


def _group_key(group: Mapping[str, Any], by: Sequence[str]) -> str:
    names = [n for n in by if n in group] or list(group)
    return "|".join(f"{n}={'' if group.get(n) is None else group.get(n)}" for n in names)


# ---------------------------------------------------------------- one chart


@dataclass
class _Bar:
    series: str
    value: Decimal
    exact: str  # the data's own string, for data-value
    fill: str
    tip: str
    left: bool = False  # drawn leftwards from zero (a diverging chart's losses); the value stays as given


@dataclass
class _Row:
    key: str
    label: str
    bars: list[_Bar]
    values: list[tuple[str, str]]  # texts written right of the plot, one per line: (text, colour)
    change: tuple[str, str] | None = None  # written in the last column: (text, colour)
    benefit: str | None = None
    total: bool = False


@dataclass
class _Chart:
    name: str  # data-chart
    heading: str
    desc: str
    layout: str  # "paired" (one line per bar), "diverging" (one line, some bars leftwards), "stacked"
    legend: list[tuple[str, str]]
    axis: str  # what the axis counts
    rows: list[_Row]
    integer: bool = False
    absolute_ticks: bool = False  # a diverging chart of counts: the left side counts up too
    change: bool = False
    extra: list[str] = field(default_factory=list)


def _sign_ink(number: Decimal | None) -> str:
    if number is None or number == 0:
        return _MUTED
    return _UP_INK if number > 0 else _DOWN_INK


def _ticks(low: Decimal, high: Decimal, integer: bool) -> list[Decimal]:
    """Round axis values covering [low, high] (low <= 0 <= high, low < high): steps of 1, 2, 5 × 10ⁿ."""
    raw = (high - low) / 5
    base = Decimal(1).scaleb(raw.adjusted())
    step = base * 10
    for factor in (1, 2, 5):
        if base * factor >= raw:
            step = base * factor
            break
    if integer and step < 1:
        step = Decimal(1)
    start = (low / step).to_integral_value(ROUND_FLOOR) * step
    stop = (high / step).to_integral_value(ROUND_CEILING) * step
    ticks = []
    value = start
    while value <= stop:
        ticks.append(value)
        value += step
    return ticks


@dataclass(frozen=True)
class _Scale:
    low: Decimal
    high: Decimal
    left: int
    right: int

    def __call__(self, value: Decimal) -> int:
        position = Decimal(self.left) + (value - self.low) * (self.right - self.left) / (self.high - self.low)
        return int(position.to_integral_value(ROUND_HALF_UP))


def _geometry(layout: str, bars: int) -> tuple[int, int, int]:
    """(row height, line height, bar height) of a layout."""
    if layout == "paired":
        return max(bars, 1) * 17 + 10, 17, 13
    return 30, 30, 18


def _svg(chart: _Chart, ident: str) -> str:
    rows = chart.rows[:MAX_ROWS]
    plot_right = _WIDTH - _VALUES_WIDTH - (_CHANGE_WIDTH if chart.change else 0) - 12
    values: list[Decimal] = []
    for row in rows:
        if chart.layout == "stacked":
            values.append(sum((max(b.value, Decimal(0)) for b in row.bars), Decimal(0)))
        else:
            values.extend(-b.value if b.left else b.value for b in row.bars)
    low, high = min([Decimal(0), *values]), max([Decimal(0), *values])
    if low == high:
        high = low + 1
    ticks = _ticks(low, high, chart.integer)
    scale = _Scale(ticks[0], ticks[-1], _PLOT_LEFT, plot_right)
    heights = [_geometry(chart.layout, len(r.bars))[0] for r in rows]
    bottom = _TOP + sum(heights)
    height = bottom + _BOTTOM
    out = [
        f'<svg class="chart" width="{_WIDTH}" height="{height}" viewBox="0 0 {_WIDTH} {height}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" font-family="{_e(FONT_STACK)}" font-size="13" '
        f'fill="{_INK}">',
        f'<title id="{ident}-title">{_e(chart.heading)}</title>',
        f'<desc id="{ident}-desc">{_e(chart.desc)}</desc>',
    ]
    # legend
    x = _PLOT_LEFT
    legend = ['<g class="legend">']
    for name, fill in chart.legend:
        legend.append(
            f'<rect class="swatch" x="{x}" y="8" width="11" height="11" fill="{fill}" '
            f'shape-rendering="crispEdges"/><text x="{x + 15}" y="18">{_e(name)}</text>'
        )
        x += 15 + display_width(name) * 7 + 22
    legend.append("</g>")
    out.extend(legend)
    # grid and axis values
    grid = [f'<g class="axis" font-size="11" fill="{_MUTED}" text-anchor="middle">']
    for tick in ticks:
        at = scale(tick)
        shown = _short(abs(tick) if chart.absolute_ticks else tick)
        grid.append(
            f'<line x1="{at}" y1="{_TOP - 4}" x2="{at}" y2="{bottom}" stroke="{_GRID}" '
            f'shape-rendering="crispEdges"/><text x="{at}" y="{bottom + 15}">{_e(shown)}</text>'
        )
    zero = scale(Decimal(0))
    grid.append(
        f'<line class="zero" x1="{zero}" y1="{_TOP - 4}" x2="{zero}" y2="{bottom}" stroke="{_ZERO}" '
        f'shape-rendering="crispEdges"/>'
    )
    grid.append(f'<text x="{(_PLOT_LEFT + plot_right) // 2}" y="{bottom + 33}">{_e(chart.axis)}</text>')
    grid.append("</g>")
    out.extend(grid)
    # rows
    values_x = plot_right + 10
    change_x = _WIDTH - _CHANGE_WIDTH + 4
    top = _TOP
    for row, row_height in zip(rows, heights, strict=True):
        _, line, bar_height = _geometry(chart.layout, len(row.bars))
        pad = (row_height - line * (len(row.bars) if chart.layout == "paired" else 1)) // 2
        benefit = f' data-benefit="{_e(row.benefit)}"' if row.benefit is not None else ""
        out.append(f'<g class="row{" total" if row.total else ""}" data-row="{_e(row.key)}"{benefit}>')
        if row.total:
            out.append(
                f'<line x1="8" y1="{top}" x2="{_WIDTH - 8}" y2="{top}" stroke="{_ZERO}" '
                f'shape-rendering="crispEdges"/>'
            )
        middle = top + row_height // 2
        weight = ' font-weight="700"' if row.total else ""
        out.append(
            f'<g class="label"><title>{_e(row.label)}</title><text x="{_LABEL_RIGHT}" y="{middle + 5}" '
            f'text-anchor="end"{weight}>{_e(_cut(row.label))}</text></g>'
        )
        stacked = Decimal(0)
        for index, bar in enumerate(row.bars):
            line_top = top + pad + (index * line if chart.layout == "paired" else 0)
            y = line_top + (line - bar_height) // 2
            if chart.layout == "stacked":
                part = max(bar.value, Decimal(0))
                start, end = scale(stacked), scale(stacked + part)
                stacked += part
            else:
                start, end = zero, scale(-bar.value if bar.left else bar.value)
            left, width = min(start, end), abs(end - start)
            out.append(
                f'<rect class="bar" data-row="{_e(row.key)}"{benefit} data-series="{_e(bar.series)}" '
                f'data-value="{_e(bar.exact)}" x="{left}" y="{y}" width="{width}" height="{bar_height}" '
                f'fill="{bar.fill}" shape-rendering="crispEdges"><title>{_e(bar.tip)}</title></rect>'
            )
        for index, (text, ink) in enumerate(row.values):
            line_top = top + pad + (index * line if chart.layout == "paired" else 0)
            out.append(
                f'<text class="value" x="{values_x}" y="{line_top + line // 2 + 5}" fill="{ink}"'
                f"{weight}>{_e(text)}</text>"
            )
        if row.change is not None:
            text, ink = row.change
            out.append(
                f'<text class="change" x="{change_x}" y="{middle + 5}" fill="{ink}" font-weight="700">'
                f"{_e(text)}</text>"
            )
        out.append("</g>")
        top += row_height
    out.append("</svg>")
    return "\n".join(out)


def _figure(chart: _Chart, ident: str, table: str) -> str:
    if not chart.rows:
        return f'<p class="nothing" data-chart="{_e(chart.name)}">{_e(chart.desc)}</p>\n{table}'
    more = len(chart.rows) - MAX_ROWS
    note = f'<p class="note">图中列出前 {MAX_ROWS} 行，其余 {more} 行见下表。</p>' if more > 0 else ""
    return "\n".join(
        [
            f'<figure class="chart" data-chart="{_e(chart.name)}">',
            f"<figcaption>{_e(chart.heading)}</figcaption>",
            _svg(chart, ident),
            note,
            table,
            "</figure>",
        ]
    )


@dataclass
class _Cell:
    series: str
    text: str
    css: str = "num"


def _table(name: str, first: str, columns: Sequence[tuple[str, str]], rows: Sequence[_TableRow]) -> str:
    """The numbers of a chart: ``columns`` are (series, heading); each row's cells by series."""
    if not rows:
        return ""
    head = "".join(f'<th data-series="{_e(s)}">{_e(h)}</th>' for s, h in columns)
    out = [
        f'<table class="chart-data" data-chart="{_e(name)}">',
        f"<thead><tr><th>{_e(first)}</th>{head}</tr></thead>",
        "<tbody>",
    ]
    for row in rows:
        cells = []
        for series, _ in columns:
            cell = row.cells.get(series)
            if cell is None:
                cells.append(f'<td data-series="{_e(series)}" class="none">—</td>')
            else:
                cells.append(f'<td data-series="{_e(series)}" class="{cell.css}">{_e(cell.text)}</td>')
        css = ' class="total"' if row.total else ""
        benefit = f' data-benefit="{_e(row.benefit)}"' if row.benefit is not None else ""
        identity = (
            f' <span class="id">{_e(row.benefit)}</span>' if row.benefit and row.benefit != row.label else ""
        )
        out.append(
            f'<tr data-row="{_e(row.key)}"{benefit}{css}><th>{_e(row.label)}{identity}</th>'
            f"{''.join(cells)}</tr>"
        )
    out.append("</tbody></table>")
    return "\n".join(out)


@dataclass
class _TableRow:
    key: str
    label: str
    cells: dict[str, _Cell]
    benefit: str | None = None
    total: bool = False


class _Ids:
    """Ids for the charts' titles, unique in a page and the same on every run."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"{self.prefix}-{self.count}"


def _count_cell(series: str, number: int) -> _Cell:
    return _Cell(series, f"{number:,}")


def _money_cell(series: str, number: Decimal | None, sign: bool = False) -> _Cell | None:
    if number is None:
        return None
    css = "num"
    if sign:
        css += " up" if number > 0 else " down" if number < 0 else ""
    return _Cell(series, _exact(number, sign), css)


# ---------------------------------------------------------------- notes


#: Facts listed before the rest fold into a <details>; rules named per fact before "等 N 条".
SHOWN_FACTS = 6
SHOWN_RULES = 5


def _missing_facts(data: Mapping[str, Any]) -> str:
    """Why results are unknown: the facts a version needs that the population has no column for."""
    missing = _dicts(data.get("missing_facts"))
    if not missing:
        return ""
    items = []
    for entry in missing:
        listed = entry.get("rules")
        rules = [_text(r) for r in listed if r is not None] if isinstance(listed, list | tuple) else []
        unknown = _count(entry.get("unknown_results"))
        fact = _text(entry.get("fact"))
        where = ""
        if rules:
            more = f" 等 {len(rules)} 条规则" if len(rules) > SHOWN_RULES else ""
            where = f"，涉及 {'、'.join(rules[:SHOWN_RULES])}{more}"
        items.append(
            f'<li data-fact="{_e(fact)}" data-unknown="{unknown}"><b>{_e(fact)}</b>{_e(where)}，'
            f"使 <b>{unknown:,}</b> 个结果未知</li>"
        )
    rest = ""
    if len(items) > SHOWN_FACTS:
        rest = (
            f"<details><summary>其余 {len(items) - SHOWN_FACTS} 项事实</summary>"
            f"<ul>{''.join(items[SHOWN_FACTS:])}</ul></details>"
        )
    total = sum(_count(entry.get("unknown_results")) for entry in missing)
    return (
        f'<div class="missing-facts note"><p>{len(missing)} 项事实不是企业名单中的列，'
        f"所需的结果因此为“未知”（共 {total:,} 个结果）：</p>"
        f"<ul>{''.join(items[:SHOWN_FACTS])}</ul>{rest}</div>"
    )


def _currencies(data: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Currencies in order of first appearance: the totals, then the benefits."""
    found: list[str] = []
    for entry in [*_dicts(data.get("totals")), *rows]:
        currency = _text(entry.get("currency"))
        if currency not in found and (entry.get("amount") is not None or "currency" in entry):
            found.append(currency)
    return found


# ---------------------------------------------------------------- the diff's population layer


def _winners(benefits: list[dict[str, Any]], ids: _Ids) -> str:
    chart_rows: list[_Row] = []
    table_rows: list[_TableRow] = []
    gained_total = lost_total = 0
    for b in benefits:
        key = _text(b.get("benefit"))
        label = _label(b)
        eligible = _mapping(b.get("eligible"))
        gained, lost = _count(b.get("gained")), _count(b.get("lost"))
        changed, unknown = _count(b.get("changed")), _count(b.get("unknown"))
        if not (gained or lost or changed or unknown):
            continue
        kind = _KIND_WORDS.get(_text(b.get("kind")), "")
        table_rows.append(
            _TableRow(
                key,
                label,
                {
                    "kind": _Cell("kind", kind, ""),
                    "eligible-old": _count_cell("eligible-old", _count(eligible.get("old"))),
                    "eligible-new": _count_cell("eligible-new", _count(eligible.get("new"))),
                    "gained": _count_cell("gained", gained),
                    "lost": _count_cell("lost", lost),
                    "changed": _count_cell("changed", changed),
                    "unknown": _count_cell("unknown", unknown),
                },
                benefit=key,
            )
        )
        if not (gained or lost):
            continue
        gained_total += gained
        lost_total += lost
        chart_rows.append(
            _Row(
                key,
                label,
                [
                    _Bar(
                        "lost",
                        Decimal(lost),
                        str(lost),
                        LOST_FILL,
                        f"{label}：{lost:,} 家企业失去",
                        left=True,
                    ),
                    _Bar(
                        "gained", Decimal(gained), str(gained), GAINED_FILL, f"{label}：{gained:,} 家企业获得"
                    ),
                ],
                [(f"获得 {gained:,}，失去 {lost:,}", _INK)],
                benefit=key,
            )
        )
    chart = _Chart(
        "winners",
        "各项政策利益的获得与失去（企业数）",
        f"{len(chart_rows)} 项政策利益有企业获得或失去："
        f"共 {gained_total:,} 家次获得，{lost_total:,} 家次失去。"
        if chart_rows
        else "没有企业获得或失去任何政策利益。",
        "diverging",
        [("失去", LOST_FILL), ("获得", GAINED_FILL)],
        "← 失去　获得 →",
        chart_rows,
        integer=True,
        absolute_ticks=True,
    )
    table = _table(
        "winners",
        "政策利益",
        [
            ("kind", "类型"),
            ("eligible-old", "原版本符合"),
            ("eligible-new", "新版本符合"),
            ("gained", "获得"),
            ("lost", "失去"),
            ("changed", "金额变化"),
            ("unknown", "变为/不再未知"),
        ],
        table_rows,
    )
    return _figure(chart, ids(), table)


def _paired_money(
    name: str,
    heading: str,
    currency: str,
    entries: Sequence[tuple[str, str, str | None, Mapping[str, Any], bool]],
    ids: _Ids,
    first: str,
    undetermined: bool,
) -> str:
    """Old and new amounts side by side with the change written; entries: (key, label, benefit,
    amount dict with old / new / change, is a total)."""
    chart_rows: list[_Row] = []
    table_rows: list[_TableRow] = []
    for key, label, benefit, amount, total in entries:
        old, new = _dec(amount.get("old")), _dec(amount.get("new"))
        change = _dec(amount.get("change"))
        if change is None and old is not None and new is not None:
            change = new - old
        if old is None and new is None:
            continue
        cells: dict[str, _Cell] = {}
        for series, number in (("old", old), ("new", new)):
            cell = _money_cell(series, number)
            if cell is not None:
                cells[series] = cell
        change_cell = _money_cell("change", change, sign=True)
        if change_cell is not None:
            cells["change"] = change_cell
        if undetermined:
            counts = _mapping(amount.get("undetermined"))
            cells["undetermined-old"] = _count_cell("undetermined-old", _count(counts.get("old")))
            cells["undetermined-new"] = _count_cell("undetermined-new", _count(counts.get("new")))
        table_rows.append(_TableRow(key, label, cells, benefit=benefit, total=total))
        bars = []
        texts = []
        for series, word, fill, number in (
            ("old", "原版本", OLD_FILL, old),
            ("new", "新版本", NEW_FILL, new),
        ):
            if number is None:
                texts.append(("—", _MUTED))
                continue
            exact = _exact_string(amount.get(series), number)
            bars.append(
                _Bar(series, number, exact, fill, f"{label}：{word} {_exact(number)} {currency}".rstrip())
            )
            texts.append((f"{word[0]} {_money(number, currency)}", _INK))
        shown = None if change is None else (_money(change, currency, sign=True), _sign_ink(change))
        chart_rows.append(_Row(key, label, bars, texts, shown, benefit=benefit, total=total))
    moved = [r for r in table_rows if not r.total]
    totals = [r for r in table_rows if r.total]
    word = _CURRENCY_WORDS.get(currency, currency)
    if totals:
        written = totals[0].cells.get("change")
        desc = (
            f"{len(moved)} 项政策利益的金额（{word}），原版本与新版本；"
            f"合计变化 {written.text if written else '—'}。"
        )
    else:
        desc = f"{len(moved)} 项政策利益的金额（{word}），原版本与新版本。"
    chart = _Chart(
        name,
        heading,
        desc if chart_rows else f"没有以{word}计的金额。",
        "paired",
        [("原版本", OLD_FILL), ("新版本", NEW_FILL)],
        f"金额（{word}）" if word else "金额",
        chart_rows,
        change=True,
    )
    columns = [("old", "原版本"), ("new", "新版本"), ("change", "变化")]
    if undetermined:
        columns += [("undetermined-old", "无法确定（原）"), ("undetermined-new", "无法确定（新）")]
    return _figure(chart, ids(), _table(name, first, columns, table_rows))


def _cost(data: Mapping[str, Any], benefits: list[dict[str, Any]], ids: _Ids) -> str:
    priced = [b for b in benefits if isinstance(b.get("amount"), Mapping)]
    totals = _dicts(data.get("totals"))
    if not priced and not totals:
        return '<p class="nothing" data-chart="cost">这份结果没有金额数据。</p>'
    out = []
    for currency in _currencies(data, priced):
        entries: list[tuple[str, str, str | None, Mapping[str, Any], bool]] = [
            (_text(b.get("benefit")), _label(b), _text(b.get("benefit")), _mapping(b.get("amount")), False)
            for b in priced
            if _text(b.get("currency")) == currency
        ]
        entries += [("#total", "合计", None, t, True) for t in totals if _text(t.get("currency")) == currency]
        word = _CURRENCY_WORDS.get(currency, currency)
        out.append(
            _paired_money(
                f"cost-{currency or 'none'}",
                f"各项政策利益的金额：原版本与新版本（{word or '未注明币种'}）",
                currency,
                entries,
                ids,
                "政策利益",
                undetermined=True,
            )
        )
    return "\n".join(out)


def _group_rows(data: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    groups = _mapping(data.get("groups"))
    by = [_text(n) for n in groups.get("by") or ()] if isinstance(groups.get("by"), list | tuple) else []
    return by, _dicts(groups.get("rows"))


def _diff_groups(data: Mapping[str, Any], ids: _Ids) -> str:
    by, rows = _group_rows(data)
    if not rows:
        return ""
    heading = "、".join(by) or "分组"
    out = [f"<h3>按{_e(heading)}分组</h3>"]
    chart_rows: list[_Row] = []
    table_rows: list[_TableRow] = []
    for row in rows:
        group = _mapping(row.get("group"))
        key, label = _group_key(group, by), _group_label(group, by)
        gained = sum(_count(b.get("gained")) for b in _dicts(row.get("benefits")))
        lost = sum(_count(b.get("lost")) for b in _dicts(row.get("benefits")))
        table_rows.append(
            _TableRow(
                key,
                label,
                {
                    "enterprises": _count_cell("enterprises", _count(row.get("enterprises"))),
                    "gained": _count_cell("gained", gained),
                    "lost": _count_cell("lost", lost),
                },
            )
        )
        if gained or lost:
            chart_rows.append(
                _Row(
                    key,
                    label,
                    [
                        _Bar(
                            "lost",
                            Decimal(lost),
                            str(lost),
                            LOST_FILL,
                            f"{label}：{lost:,} 家次失去",
                            left=True,
                        ),
                        _Bar(
                            "gained",
                            Decimal(gained),
                            str(gained),
                            GAINED_FILL,
                            f"{label}：{gained:,} 家次获得",
                        ),
                    ],
                    [(f"获得 {gained:,}，失去 {lost:,}", _INK)],
                )
            )
    chart = _Chart(
        "groups-winners",
        f"按{heading}：获得与失去（家次）",
        f"{len(chart_rows)} 组有企业获得或失去政策利益。"
        if chart_rows
        else "各组都没有企业获得或失去政策利益。",
        "diverging",
        [("失去", LOST_FILL), ("获得", GAINED_FILL)],
        "← 失去　获得 →",
        chart_rows,
        integer=True,
        absolute_ticks=True,
    )
    table = _table(
        "groups-winners",
        heading,
        [("enterprises", "企业数"), ("gained", "获得（家次）"), ("lost", "失去（家次）")],
        table_rows,
    )
    out.append(_figure(chart, ids(), table))
    totals = [t for row in rows for t in _dicts(row.get("totals"))]
    for currency in _currencies({"totals": totals}, []):
        word = _CURRENCY_WORDS.get(currency, currency)
        money_rows: list[_Row] = []
        money_table: list[_TableRow] = []
        for row in rows:
            group = _mapping(row.get("group"))
            key, label = _group_key(group, by), _group_label(group, by)
            for total in _dicts(row.get("totals")):
                if _text(total.get("currency")) != currency:
                    continue
                old, new, change = _dec(total.get("old")), _dec(total.get("new")), _dec(total.get("change"))
                if change is None and old is not None and new is not None:
                    change = new - old
                cells = {
                    s: c
                    for s, c in (
                        ("enterprises", _count_cell("enterprises", _count(row.get("enterprises")))),
                        ("old", _money_cell("old", old)),
                        ("new", _money_cell("new", new)),
                        ("change", _money_cell("change", change, sign=True)),
                    )
                    if c is not None
                }
                money_table.append(_TableRow(key, label, cells))
                if change is not None:
                    exact = (
                        _exact_string(total.get("change"), change)
                        if total.get("change") is not None
                        else str(change)
                    )
                    fill = LOST_FILL if change < 0 else GAINED_FILL
                    money_rows.append(
                        _Row(
                            key,
                            label,
                            [
                                _Bar(
                                    "change",
                                    change,
                                    exact,
                                    fill,
                                    f"{label}：变化 {_exact(change, sign=True)} {currency}",
                                )
                            ],
                            [(_money(change, currency, sign=True), _sign_ink(change))],
                        )
                    )
        up = sum((r.bars[0].value for r in money_rows if r.bars[0].value > 0), Decimal(0))
        down = sum((r.bars[0].value for r in money_rows if r.bars[0].value < 0), Decimal(0))
        chart = _Chart(
            f"groups-change-{currency or 'none'}",
            f"按{heading}：金额变化（{word or '未注明币种'}）",
            f"{len(money_rows)} 组的金额变化：增加合计 {_exact(up)}，减少合计 {_exact(-down)}（{word}）。",
            "diverging",
            [("减少", LOST_FILL), ("增加", GAINED_FILL)],
            f"变化（{word}）" if word else "变化",
            money_rows,
        )
        table = _table(
            chart.name,
            heading,
            [("enterprises", "企业数"), ("old", "原版本"), ("new", "新版本"), ("change", "变化")],
            money_table,
        )
        out.append(_figure(chart, ids(), table))
    return "\n".join(out)


def _ranges(data: Mapping[str, Any], sides: Sequence[str]) -> str:
    """A table of the ranges decided case by case (按投资的5%—20%): per benefit and currency total, the
    sums of the ranges' low and high ends (of each version in ``sides``; ``()`` for one version's
    summary), and how many have no upper end. No chart: a range is two sums, not one bar."""
    benefits = [b for b in _dicts(data.get("benefits")) if isinstance(b.get("range"), Mapping)]
    if not benefits:
        return ""
    columns: list[tuple[str, str]] = []
    for side in sides or ("",):
        word = {"old": "（原）", "new": "（新）"}.get(side, "")
        prefix = f"{side}-" if side else ""
        columns += [(f"{prefix}low", f"下限合计{word}"), (f"{prefix}high", f"上限合计{word}")]
        columns.append((f"{prefix}open", f"无上限（家）{word}"))

    def cells(span: Mapping[str, Any]) -> dict[str, _Cell]:
        out: dict[str, _Cell] = {}
        for side in sides or ("",):
            part = _mapping(span.get(side)) if side else span
            prefix = f"{side}-" if side else ""
            for end in ("low", "high"):
                cell = _money_cell(f"{prefix}{end}", _decimal_of(part.get(end)))
                if cell is not None:
                    out[f"{prefix}{end}"] = cell
            out[f"{prefix}open"] = _count_cell(f"{prefix}open", _count(part.get("open")))
        return out

    rows = [
        _TableRow(
            _text(b.get("benefit")), _label(b), cells(_mapping(b.get("range"))), _text(b.get("benefit"))
        )
        for b in benefits
    ]
    for total in _dicts(data.get("totals")):
        span = total.get("range")
        if isinstance(span, Mapping):
            currency = _text(total.get("currency"))
            rows.append(
                _TableRow(f"#total-{currency}", f"合计（含区间，{currency}）", cells(span), None, True)
            )
    return "<h3>区间金额（在区间内视情况确定，不取一个数）</h3>\n" + _table(
        "ranges", "政策利益", columns, rows
    )


def _decimal_of(value: object) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def diff_population_section(data: Mapping[str, Any]) -> str:
    """The charts of a diff's population layer (``PopulationDiff.to_dict()``), as an HTML fragment.

    Why results are unknown (facts with no column) comes first, then who gains and loses each
    benefit, the money old and new per benefit with each currency's total, and per group when the
    population was grouped. Fields the data lacks are left out, not guessed.
    """
    ids = _Ids("population-chart")
    benefits = _dicts(data.get("benefits"))
    parts = [
        '<div class="population-charts">',
        _missing_facts(data),
        "<h3>获得与失去</h3>",
        _winners(benefits, ids),
        "<h3>金额：原版本与新版本</h3>",
        _cost(data, benefits, ids),
        _ranges(data, ("old", "new")),
        _diff_groups(data, ids),
        "</div>",
    ]
    return "\n".join(p for p in parts if p)


# ---------------------------------------------------------------- the page of eval --population


def _eval_benefits(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    benefits = data.get("benefits")
    if isinstance(benefits, Mapping):  # the earlier shape: {benefit: {status: count}}
        return [{"benefit": k, **_mapping(v)} for k, v in benefits.items()]
    return _dicts(benefits)


def _eligible_chart(benefits: list[dict[str, Any]], ids: _Ids) -> str:
    statuses = _statuses(benefits)
    chart_rows: list[_Row] = []
    table_rows: list[_TableRow] = []
    for b in benefits:
        key, label = _text(b.get("benefit")), _label(b)
        counts = {s: _count(b.get(s)) for s in statuses}
        table_rows.append(
            _TableRow(key, label, {s: _count_cell(s, n) for s, n in counts.items()}, benefit=key)
        )
        word = "应履行" if b.get("kind") == "duty" else "符合"
        bars = [
            _Bar(s, Decimal(n), str(n), STATUS_FILLS[s], f"{label}：{_status_word(s)} {n:,}")
            for s, n in counts.items()
        ]
        chart_rows.append(
            _Row(
                key,
                label,
                bars,
                [(f"{word} {counts['eligible']:,} / {sum(counts.values()):,}", _INK)],
                benefit=key,
            )
        )
    chart = _Chart(
        "eligible",
        "各项政策利益的适用结果（企业数）",
        f"{len(chart_rows)} 项政策利益与义务，每家企业一个结果：符合、不符合、未知或未生效。"
        if chart_rows
        else "没有政策利益。",
        "stacked",
        [(_status_word(s), STATUS_FILLS[s]) for s in statuses],
        "企业数",
        chart_rows,
        integer=True,
    )
    columns = [(s, _status_word(s)) for s in statuses]
    return _figure(chart, ids(), _table("eligible", "政策利益", columns, table_rows))


def _single_money(
    name: str,
    heading: str,
    currency: str,
    entries: Sequence[tuple[str, str, str | None, object, bool]],
    ids: _Ids,
    first: str,
    extra: Sequence[tuple[str, str]] = (),
    cells_extra: Sequence[dict[str, _Cell]] = (),
) -> str:
    """One amount per row; entries: (key, label, benefit, the amount's string, is a total)."""
    chart_rows: list[_Row] = []
    table_rows: list[_TableRow] = []
    word = _CURRENCY_WORDS.get(currency, currency)
    for index, (key, label, benefit, raw, total) in enumerate(entries):
        number = _dec(raw)
        cells: dict[str, _Cell] = dict(cells_extra[index]) if index < len(cells_extra) else {}
        cell = _money_cell("total", number)
        if cell is not None:
            cells["total"] = cell
        table_rows.append(_TableRow(key, label, cells, benefit=benefit, total=total))
        if number is None:
            continue
        bar = _Bar(
            "total",
            number,
            _exact_string(raw, number),
            MONEY_FILL,
            f"{label}：{_exact(number)} {currency}".rstrip(),
        )
        chart_rows.append(
            _Row(key, label, [bar], [(_money(number, currency), _INK)], benefit=benefit, total=total)
        )
    chart = _Chart(
        name,
        heading,
        f"{sum(1 for r in chart_rows if not r.total)} 行的金额合计（{word}）。"
        if chart_rows
        else f"没有以{word}计的金额。",
        "paired",
        [("金额", MONEY_FILL)],
        f"金额（{word}）" if word else "金额",
        chart_rows,
    )
    columns = [*extra, ("total", "金额合计")]
    return _figure(chart, ids(), _table(name, first, columns, table_rows))


def _eval_money(data: Mapping[str, Any], benefits: list[dict[str, Any]], ids: _Ids) -> str:
    priced = [b for b in benefits if isinstance(b.get("amount"), Mapping)]
    totals = _dicts(data.get("totals"))
    if not priced and not totals:
        return '<p class="nothing" data-chart="amount">这份结果没有金额数据。</p>'
    out = []
    for currency in _currencies(data, priced):
        word = _CURRENCY_WORDS.get(currency, currency)
        entries: list[tuple[str, str, str | None, object, bool]] = []
        cells: list[dict[str, _Cell]] = []
        for b in priced:
            if _text(b.get("currency")) != currency:
                continue
            amount = _mapping(b.get("amount"))
            key = _text(b.get("benefit"))
            entries.append((key, _label(b), key, amount.get("total"), False))
            cells.append({"undetermined": _count_cell("undetermined", _count(amount.get("undetermined")))})
        for total in totals:
            if _text(total.get("currency")) == currency:
                entries.append(("#total", "合计", None, total.get("total"), True))
                cells.append({"undetermined": _count_cell("undetermined", _count(total.get("undetermined")))})
        out.append(
            _single_money(
                f"amount-{currency or 'none'}",
                f"各项政策利益的金额合计（{word or '未注明币种'}）",
                currency,
                entries,
                ids,
                "政策利益",
                [("undetermined", "金额无法确定（家）")],
                cells,
            )
        )
    return "\n".join(out)


def _eval_groups(data: Mapping[str, Any], ids: _Ids) -> str:
    by, rows = _group_rows(data)
    if not rows:
        return ""
    heading = "、".join(by) or "分组"
    out = ['<section id="groups">', f"<h2>按{_e(heading)}分组</h2>"]
    chart_rows: list[_Row] = []
    table_rows: list[_TableRow] = []
    for row in rows:
        group = _mapping(row.get("group"))
        key, label = _group_key(group, by), _group_label(group, by)
        enterprises = _count(row.get("enterprises"))
        eligible = sum(_count(b.get("eligible")) for b in _dicts(row.get("benefits")))
        table_rows.append(
            _TableRow(
                key,
                label,
                {
                    "enterprises": _count_cell("enterprises", enterprises),
                    "eligible": _count_cell("eligible", eligible),
                },
            )
        )
        bar = _Bar(
            "enterprises",
            Decimal(enterprises),
            str(enterprises),
            COUNT_FILL,
            f"{label}：{enterprises:,} 家企业",
        )
        chart_rows.append(_Row(key, label, [bar], [(f"{enterprises:,} 家，符合 {eligible:,} 项次", _INK)]))
    chart = _Chart(
        "groups-enterprises",
        f"按{heading}：企业数",
        f"{len(chart_rows)} 组的企业数。",
        "paired",
        [("企业数", COUNT_FILL)],
        "企业数",
        chart_rows,
        integer=True,
    )
    table = _table(chart.name, heading, [("enterprises", "企业数"), ("eligible", "符合（项次）")], table_rows)
    out.append(_figure(chart, ids(), table))
    totals = [t for row in rows for t in _dicts(row.get("totals"))]
    for currency in _currencies({"totals": totals}, []):
        word = _CURRENCY_WORDS.get(currency, currency)
        entries: list[tuple[str, str, str | None, object, bool]] = []
        cells: list[dict[str, _Cell]] = []
        for row in rows:
            group = _mapping(row.get("group"))
            for total in _dicts(row.get("totals")):
                if _text(total.get("currency")) == currency:
                    entries.append(
                        (_group_key(group, by), _group_label(group, by), None, total.get("total"), False)
                    )
                    cells.append({"enterprises": _count_cell("enterprises", _count(row.get("enterprises")))})
        out.append(
            _single_money(
                f"groups-amount-{currency or 'none'}",
                f"按{heading}：金额合计（{word or '未注明币种'}）",
                currency,
                entries,
                ids,
                heading,
                [("enterprises", "企业数")],
                cells,
            )
        )
    out.append("</section>")
    return "\n".join(out)


def _benefit_table(benefits: list[dict[str, Any]]) -> str:
    statuses = _statuses(benefits)
    head = "".join(f'<th data-series="{s}">{_status_word(s)}</th>' for s in statuses)
    out = [
        '<table class="benefits">',
        f"<thead><tr><th>政策利益</th><th>类型</th>{head}<th>金额合计</th><th>金额无法确定（家）</th></tr></thead>",
        "<tbody>",
    ]
    for b in benefits:
        key, label = _text(b.get("benefit")), _label(b)
        counts = "".join(f'<td class="num" data-series="{s}">{_count(b.get(s)):,}</td>' for s in statuses)
        amount = b.get("amount")
        if isinstance(amount, Mapping):
            total = _dec(amount.get("total"))
            currency = _text(b.get("currency"))
            money = "—" if total is None else f"{_exact(total)} {currency}".rstrip()
            undetermined = f"{_count(amount.get('undetermined')):,}"
        else:
            money = undetermined = "—"
        identity = f' <span class="id">{_e(key)}</span>' if key and key != label else ""
        out.append(
            f'<tr data-row="{_e(key)}" data-benefit="{_e(key)}"><th>{_e(label)}{identity}</th>'
            f"<td>{_e(_KIND_WORDS.get(_text(b.get('kind')), ''))}</td>{counts}"
            f'<td class="num" data-series="total">{_e(money)}</td>'
            f'<td class="num" data-series="undetermined">{_e(undetermined)}</td></tr>'
        )
    if not benefits:
        out.append(f'<tr><td colspan="{len(statuses) + 4}" class="none">没有政策利益。</td></tr>')
    out.append("</tbody></table>")
    return "\n".join(out)


def population_page(data: Mapping[str, Any], title: str) -> str:
    """A whole self-contained page for ``policy eval --population --format html``.

    The summary (the population, how many enterprises, the date, the totals per currency), why
    results are unknown, a table of every benefit's outcomes and money, and charts of the eligible
    counts and the money per benefit, and per group when the population was grouped. Deterministic:
    the same data gives the same bytes.
    """
    ids = _Ids("chart")
    benefits = _eval_benefits(data)
    totals = []
    for total in _dicts(data.get("totals")):
        currency = _text(total.get("currency"))
        number = _dec(total.get("total"))
        shown = "—" if number is None else f"{_exact(number)} {currency}".rstrip()
        totals.append(
            f'<tr data-row="{_e(currency)}">'
            f"<th>金额合计（{_e(_CURRENCY_WORDS.get(currency, currency))}）</th>"
            f'<td class="num" data-series="total">{_e(shown)}</td>'
            f'<td class="num" data-series="undetermined">{_count(total.get("undetermined")):,}'
            " 家企业的金额无法确定</td>"
            "</tr>"
        )
    summary_rows = [
        f'<tr><th>企业名单</th><td colspan="2">{_e(_text(data.get("population")) or "—")}</td></tr>',
        f'<tr><th>企业数</th><td colspan="2" class="num" data-series="enterprises">'
        f"{_count(data.get('enterprises')):,}</td></tr>",
        f'<tr><th>评估日期</th><td colspan="2"><time>{_e(_text(data.get("as_of")) or "—")}</time></td></tr>',
        *totals,
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="policy eval --population">',
        f"<title>{_e('企业名单评估：' + title)}</title>",
        f"<style>{_PAGE_CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        "<header>",
        f"<h1>{_e(title)}</h1>",
        '<p class="lede">企业名单逐家评估的结果：每项政策利益与义务的适用情况和金额。</p>',
        "</header>",
        '<section id="summary">',
        "<h2>概要</h2>",
        '<table class="totals"><tbody>',
        *summary_rows,
        "</tbody></table>",
        _missing_facts(data),
        "</section>",
        '<section id="benefits">',
        "<h2>各项政策利益</h2>",
        _benefit_table(benefits),
        "</section>",
        '<section id="charts" class="population-charts">',
        "<h2>图表</h2>",
        "<h3>适用结果</h3>",
        _eligible_chart(benefits, ids),
        "<h3>金额</h3>",
        _eval_money(data, benefits, ids),
        _ranges(data, ()),
        "</section>",
        _eval_groups(data, ids),
        "<footer>由 policy eval --population 生成。金额为精确合计；"
        "“无法确定”指结果未知或缺少计算金额所需的事实。</footer>",
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


__all__ = ["CHART_CSS", "FONT_STACK", "diff_population_section", "population_page"]
