"""A :class:`~policy_dsl.diff.compare.PolicyDiff` as one self-contained HTML page for a browser.

Entry point: :func:`render_html`. The page has inline CSS only (no scripts, no fonts, no images, no
links out), so it can be mailed or archived as a single file. It follows the other reports: the two
versions, the summary per layer, the definitions, then every measure in document order. A changed
measure shows a side-by-side redline — the old text on the left with deletions in ``<del>``, the
new text on the right with insertions in ``<ins>`` — cut into rows at sentence ends that both
versions share, then its responsible units, its rules and the outcome regions with witnesses.
Unchanged measures fold into one ``<details>`` line.

Every piece of text from a policy is escaped with :func:`html.escape`. The output is deterministic
(no timestamps): the same diff gives the same bytes. Stable hooks for tests and stylesheets:
``id="summary"``, ``id="definitions"``, ``id="measures"``, ``<section class="measure" id="measure-N">``
(N counts from 1 in document order, ``data-kind`` holds the change kind), redline cells
``<td class="redline old">`` and ``<td class="redline new">``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from policy_dsl.charts import CHART_CSS, diff_population_section
from policy_dsl.diff.align import DELETED, INSERTED, MeasureChange
from policy_dsl.diff.compare import MeasureDiff, PolicyDiff, UnitsChange, VersionInfo
from policy_dsl.diff.population import CHANGED as POP_CHANGED
from policy_dsl.diff.population import GAINED as POP_GAINED
from policy_dsl.diff.population import LOST as POP_LOST
from policy_dsl.diff.population import UNKNOWN as POP_UNKNOWN
from policy_dsl.diff.population import PopulationDiff
from policy_dsl.diff.redline import DELETE, INSERT, Segment, changed, redline
from policy_dsl.diff.regions import BenefitRegions, Region, VersionResult
from policy_dsl.diff.rulediff import RuleChange

# ---------------------------------------------------------------- words

_KINDS = {
    "unchanged": "未变",
    "reworded": "措辞调整（规则未变）",
    "modified": "修改",
    "inserted": "新增",
    "deleted": "删除",
    "merged": "合并",
    "split": "拆分",
}

_RULE_KINDS = {
    "benefit": "政策利益",
    "duty": "工作职责",
    "obligation": "企业义务",
    "target": "目标",
    "definition": "定义",
}
_RULE_STATUS = {"added": "新增", "removed": "删除", "changed": "修改"}

_FIELDS = {
    "threshold": "阈值",
    "when": "适用条件",
    "means": "含义",
    "kind": "类型",
    "commits": "承诺强度",
    "amount": "金额",
    "rate": "比例",
    "cap": "上限",
    "frequency": "频次",
    "period": "期限",
    "agencies": "责任单位",
}
_NUMBERED_FIELD = re.compile(r"^(service level|goal) (\d+)$")
_NUMBERED_WORDS = {"service level": "服务标准", "goal": "目标"}

_REGION_CHANGES = {"gained": "获得", "lost": "失去", "changed": "变化"}
_RESULTS = {
    "eligible": "符合",
    "not_eligible": "不符合",
    "unknown": "未知（缺少事实）",
    "absent": "无此条款",
    "applies": "应履行（对该企业）",
    "does_not_apply": "不适用",
}

_LAYERS = {
    "structure": "结构",
    "text": "文字",
    "units": "责任单位",
    "rules": "规则",
    "outcomes": "结果",
}
_COUNTS = {
    "structure": {**_KINDS, "reworded": "措辞调整", "renumbered": "重新编号", "moved": "位置移动"},
    "text": {"measures redlined": "项措施文字有改动"},
    "units": {
        "measures": "项措施涉及",
        "added": "新增",
        "removed": "删除",
        "renamed": "更名",
        "lead changed": "牵头单位变化",
        "reordered": "顺序调整",
    },
    "rules": _RULE_STATUS,
    "outcomes": {"benefits": "项政策利益有变化", "duties": "项部门义务有变化", **_REGION_CHANGES},
}

#: Where a row of the side-by-side redline may end: after a sentence, around a （责任单位：…） list.
_SENTENCE_ENDS = "。；！？"
_UNITS_TEXT = re.compile(r"[（(]责任单位[：:][^（）()]*[）)]")

_CSS = """
:root {
  --ink: #1f2328; --muted: #656d76; --rule: #d0d7de; --paper: #ffffff; --panel: #f6f8fa;
  --del-bg: #ffd7d5; --del-ink: #82071e; --ins-bg: #ccf0d5; --ins-ink: #055d20;
  --chg-bg: #fff1c2; --chg-ink: #6b4a00; --accent: #0b57d0;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; padding: 24px 32px 64px; color: var(--ink); background: var(--paper);
  font-family: "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC",
    "Source Han Sans SC", "WenQuanYi Micro Hei", system-ui, sans-serif;
  font-size: 15px; line-height: 1.75; word-break: normal; overflow-wrap: anywhere;
}
main { max-width: 1280px; margin: 0 auto; }
h1 { font-size: 24px; line-height: 1.4; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 2px solid var(--ink); }
h3 { font-size: 16px; margin: 0 0 10px; line-height: 1.5; }
h4 { font-size: 14px; margin: 16px 0 6px; color: var(--muted); font-weight: 600; }
code, .id { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Noto Sans Mono CJK SC", monospace;
  font-size: 0.86em; color: var(--muted); }
p.lede { color: var(--muted); margin: 0 0 16px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 14px; }
th, td { border: 1px solid var(--rule); padding: 6px 10px; vertical-align: top; text-align: left; }
thead th { background: var(--panel); font-weight: 600; white-space: nowrap; }
tbody th { background: var(--panel); font-weight: 600; width: 9em; }
caption { caption-side: top; text-align: left; padding: 4px 0; font-weight: 600; }
del { background: var(--del-bg); color: var(--del-ink); text-decoration: line-through;
  text-decoration-thickness: 1px; border-radius: 2px; padding: 0 1px; }
ins { background: var(--ins-bg); color: var(--ins-ink); text-decoration: underline;
  text-decoration-thickness: 1px; text-underline-offset: 3px; border-radius: 2px; padding: 0 1px; }
.none { color: var(--muted); }
.badge { display: inline-block; font-size: 12px; font-weight: 600; line-height: 1.6; padding: 0 8px;
  margin-left: 6px; border-radius: 10px; vertical-align: 2px; white-space: nowrap;
  background: var(--panel); color: var(--muted); border: 1px solid var(--rule); }
.badge.kind-modified, .badge.kind-merged, .badge.kind-split, .badge.status-changed, .badge.change-changed {
  background: var(--chg-bg); color: var(--chg-ink); border-color: #e5c56a; }
.badge.kind-inserted, .badge.status-added, .badge.change-gained {
  background: var(--ins-bg); color: var(--ins-ink); border-color: #8fd19e; }
.badge.kind-deleted, .badge.status-removed, .badge.change-lost {
  background: var(--del-bg); color: var(--del-ink); border-color: #f1a7a3; }
.badge.kind-reworded { background: #e6efff; color: #1a3f8f; border-color: #a9c1f5; }
.badge.flag { background: #fff; }
header.versions table th:first-child { width: 7em; }
header.versions td.differs { background: #fffbea; }
#summary .verdict { font-weight: 600; margin: 0 0 8px; }
#summary td .count { display: inline-block; margin: 0 14px 0 0; white-space: nowrap; }
#summary td .count b { font-variant-numeric: tabular-nums; }
#summary td .count.zero { color: var(--muted); }
#summary td .count.zero b { font-weight: 400; }
#summary .note { color: var(--muted); }
nav.toc ol { list-style: none; padding: 0; margin: 8px 0 0; columns: 2 26em; column-gap: 32px; }
nav.toc li { break-inside: avoid; line-height: 1.9; }
nav.toc a { color: var(--accent); text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
nav.toc li.quiet a { color: var(--muted); }
section.measure { margin: 14px 0; padding: 14px 18px; border: 1px solid var(--rule); border-radius: 8px;
  border-left: 5px solid var(--rule); }
section.measure[data-kind="modified"], section.measure[data-kind="merged"],
section.measure[data-kind="split"] { border-left-color: #e5b32b; }
section.measure[data-kind="inserted"] { border-left-color: #2da44e; }
section.measure[data-kind="deleted"] { border-left-color: #cf222e; }
section.measure[data-kind="reworded"] { border-left-color: #6f93e0; }
section.measure[data-different="false"] { padding: 6px 18px; border-left-color: var(--rule); }
section.measure[data-different="false"] summary { color: var(--muted); }
section.measure .num { font-weight: 700; }
section.measure .arrow { color: var(--muted); padding: 0 4px; font-weight: 400; }
details > summary { cursor: pointer; }
details .text { margin: 8px 0 2px; color: #3d444d; font-size: 14px; }
table.redline { table-layout: fixed; font-size: 15px; line-height: 1.85; }
table.redline thead th { width: 50%; }
table.redline td { padding: 6px 12px; }
table.redline tr.same td { color: #57606a; }
table.redline tr.title td { font-weight: 700; background: #fafbfc; }
table.redline td:empty { background: repeating-linear-gradient(135deg, #f6f8fa 0 6px, #eef1f4 6px 12px); }
table.redline td.units, table.redline tr.same td.units { font-size: 13.5px; }
div.units ul { margin: 4px 0; padding-left: 1.4em; }
div.units .list { margin: 2px 0; }
div.units .list .label { color: var(--muted); display: inline-block; width: 4.5em; }
table.rule td.old, table.rule td.new { width: 40%; }
table.rule tr.citations td { font-size: 13.5px; color: #3d444d; }
table.rule tr.citations td p { margin: 0 0 4px; }
table.outcomes { font-size: 13.5px; }
table.outcomes td ul { margin: 0; padding-left: 1.1em; }
table.outcomes td p { margin: 0; color: var(--muted); }
table.outcomes td ul + p { margin-top: 6px; }
table.outcomes td.result { white-space: nowrap; }
p.note { color: var(--muted); font-size: 13px; margin: 2px 0 8px; }
p.nothing { color: var(--muted); }
footer { margin-top: 40px; color: var(--muted); font-size: 12.5px; }
@media print {
  body { padding: 0; font-size: 11pt; }
  section.measure { break-inside: avoid-page; }
  nav.toc { display: none; }
}
"""


_NONE = '<span class="none">—</span>'


def _e(text: object) -> str:
    """Escape anything shown on the page: policy text is untrusted."""
    return html.escape(str(text), quote=True)


# ---------------------------------------------------------------- page


def render_html(diff: PolicyDiff) -> str:
    """The whole page, deterministic: the same diff gives the same bytes."""
    title = diff.new.title if diff.old.title == diff.new.title else f"{diff.old.title} → {diff.new.title}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="policy-diff">',
        f"<title>{_e('政策比较：' + title)}</title>",
        f"<style>{_CSS}{CHART_CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        _header(diff, title),
        _summary(diff),
    ]
    if diff.population is not None and isinstance(diff.population, PopulationDiff):
        parts.append(_population(diff.population))
    parts.append(_chapters(diff))
    parts.append(_facts(diff))
    parts.append(_definitions(diff))
    parts.append(_measures(diff))
    parts.append(
        "<footer>由 policy-diff 生成。删除的文字标为<del>删除线</del>，新增的文字标为<ins>下划线</ins>；"
        "规则与结果两层只在比较两个 .policy 编码文件时给出。</footer>"
    )
    parts += ["</main>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _header(diff: PolicyDiff, title: str) -> str:
    old, new = diff.old, diff.new

    def row(label: str, a: str | None, b: str | None) -> str:
        cls = ' class="differs"' if a != b else ""
        return f"<tr><th>{_e(label)}</th><td{cls}>{_value(a)}</td><td{cls}>{_value(b)}</td></tr>"

    def encoded(info: VersionInfo) -> str:
        return "有（.policy，含规则与结果层）" if info.encoded else "无（纯文本）"

    rows = [
        row("文件", old.path, new.path),
        row("标题", old.title, new.title),
        row("状态", old.status, new.status),
        row("有效期", old.validity, new.validity),
        row("废止", "、".join(old.repeals) or None, "、".join(new.repeals) or None),
        row("效力优先", old.precedence, new.precedence),
        row("编码", old.encoding, new.encoding),
        row("措施数", str(old.measures), str(new.measures)),
        row("规则编码", encoded(old), encoded(new)),
    ]
    out = [
        '<header class="versions">',
        f"<h1>{_e(title)}</h1>",
        '<p class="lede">两个版本的逐项比较：结构、文字、责任单位、规则与适用结果。</p>',
        '<table class="versions"><thead><tr><th></th><th>原版本</th><th>新版本</th></tr></thead>',
        "<tbody>",
        *rows,
        "</tbody></table>",
    ]
    if diff.as_of is not None:
        out.append(
            '<p class="note">结果层：对规则中各常量切分出的每个取值区间组合逐一评估；'
            "评估日期取各期限起止日前后，"
            f"无期限的政策利益按 <time>{_e(diff.as_of.isoformat())}</time> 评估。</p>"
        )
    out.append("</header>")
    return "\n".join(out)


def _value(text: str | None) -> str:
    return _NONE if text is None or text == "" else _e(text)


# ---------------------------------------------------------------- summary


def _summary(diff: PolicyDiff) -> str:
    summary = diff.summary()
    encoded = diff.old.encoded and diff.new.encoded
    verdict = "两个版本有差异。" if diff.different else "两个版本没有差异。"
    out = [
        '<section id="summary">',
        "<h2>概要</h2>",
        f'<p class="verdict">{_e(verdict)}</p>',
        '<table class="summary"><tbody>',
    ]
    for layer, counts in summary.items():
        name = _LAYERS.get(layer, layer)
        if layer in {"rules", "outcomes"} and not encoded:
            cell = '<span class="note">未比较：纯文本没有规则编码（比较两个 .policy 文件可得到这一层）</span>'
        else:
            words = _COUNTS.get(layer, {})
            shown = []
            for key, number in counts.items():
                zero = " zero" if number == 0 else ""
                shown.append(
                    f'<span class="count{zero}" data-key="{_e(key)}"><b>{number}</b> '
                    f"{_e(words.get(key, key))}</span>"
                )
            cell = "".join(shown) or '<span class="note">无</span>'
        out.append(f'<tr data-layer="{_e(layer)}"><th>{_e(name)}</th><td>{cell}</td></tr>')
    out.append("</tbody></table>")
    out.append(_toc(diff))
    out.append("</section>")
    return "\n".join(out)


def _toc(diff: PolicyDiff) -> str:
    items = []
    for index, measure in enumerate(diff.measures, start=1):
        quiet = "" if measure.different else ' class="quiet"'
        items.append(
            f'<li{quiet}><a href="#measure-{index}">{_numbers(measure.change)} '
            f"{_e(_title(measure.change))}</a>{_badges(measure)}</li>"
        )
    return '<nav class="toc"><h4>措施一览</h4><ol>' + "".join(items) + "</ol></nav>"


def _population(population: PopulationDiff) -> str:
    kinds = (POP_GAINED, POP_LOST, POP_CHANGED, POP_UNKNOWN)
    words = {POP_GAINED: "获得", POP_LOST: "失去", POP_CHANGED: "金额变化", POP_UNKNOWN: "变为/不再未知"}
    rows = []
    for benefit in population.benefits:
        if not any(benefit.count(k) for k in kinds):
            continue
        counts = "".join(f"<td>{benefit.count(k)}</td>" for k in kinds)
        ids = []
        for kind in kinds:
            listed = benefit.ids.get(kind, ())
            if listed:
                ids.append(f"<p>{_e(words[kind])}：{_e('、'.join(listed))}</p>")
        rows.append(
            f'<tr><th>{_e(benefit.label)} <span class="id">{_e(benefit.id)}</span></th>'
            f"<td>{benefit.eligible_old}</td><td>{benefit.eligible_new}</td>{counts}"
            f"<td>{''.join(ids)}</td></tr>"
        )
    head = "".join(f"<th>{_e(words[k])}</th>" for k in kinds)
    body = "\n".join(rows) or '<tr><td colspan="8" class="none">没有企业的结果发生变化</td></tr>'
    return "\n".join(
        [
            '<section id="population">',
            "<h2>企业样本</h2>",
            f'<p class="note">{population.rows} 家企业（{_e(population.path)}），评估日期 '
            f"<time>{_e(population.as_of.isoformat())}</time>。</p>",
            # the charts read the JSON report's dict, so they show whatever fields it has
            diff_population_section(population.to_dict()),
            "<h3>企业名单</h3>",
            '<table class="population"><thead><tr><th>政策利益</th><th>原版本符合</th><th>新版本符合</th>'
            f"{head}<th>企业</th></tr></thead><tbody>",
            body,
            "</tbody></table>",
            "</section>",
        ]
    )


# ---------------------------------------------------------------- definitions and rules


_FACT_STATUS = {"renamed": "改名", "added": "新增", "removed": "删除", "retyped": "类型改变"}


_CHAPTER_KIND = {"retitled": "标题修改", "renumbered": "重新编号", "inserted": "新增", "deleted": "删除"}


def _change_table(
    name: str, heading: str, columns: Sequence[str], rows: Sequence[tuple[str, str, Sequence[str]]]
) -> str:
    """A section with one table of changes; each row: its data attribute, that attribute's value,
    and its cells."""
    if not rows:
        return ""
    out = [f'<section id="{name}">', f"<h2>{_e(heading)}</h2>", f'<table class="{name}">']
    out.append("<thead><tr>" + "".join(f"<th>{_e(c)}</th>" for c in columns) + "</tr></thead><tbody>")
    for attribute, value, cells in rows:
        tds = "".join(f"<td>{_e(cell)}</td>" for cell in cells)
        out.append(f'<tr data-{attribute}="{_e(value)}">{tds}</tr>')
    out += ["</tbody></table>", "</section>"]
    return "\n".join(out)


def _chapters(diff: PolicyDiff) -> str:
    rows = [
        (
            "kind",
            c.kind,
            (
                _CHAPTER_KIND.get(c.kind, c.kind),
                f"{c.old.number}{c.old.title}" if c.old else "—",
                f"{c.new.number}{c.new.title}" if c.new else "—",
            ),
        )
        for c in diff.chapter_changes
    ]
    return _change_table("chapters", "章", ("变化", "原版本", "新版本"), rows)


def _facts(diff: PolicyDiff) -> str:
    rows = [
        (
            "status",
            f.status,
            (
                _FACT_STATUS.get(f.status, f.status),
                f"{f.old}（{f.old_type}）" if f.old else "—",
                f"{f.new}（{f.new_type}）" if f.new else "—",
                f.reason or "",
            ),
        )
        for f in diff.facts
    ]
    return _change_table("facts", "事实（企业须提供的信息）", ("变化", "原版本", "新版本", "依据"), rows)


def _definitions(diff: PolicyDiff) -> str:
    if not (diff.old.encoded and diff.new.encoded) and not diff.definitions:
        return ""
    out = ['<section id="definitions">', "<h2>定义</h2>"]
    if diff.definitions:
        out.extend(_rule_table(rule) for rule in diff.definitions)
    else:
        out.append('<p class="nothing">定义没有变化。</p>')
    out.append("</section>")
    return "\n".join(out)


def _field_name(field: str) -> str:
    numbered = _NUMBERED_FIELD.match(field)
    if numbered:
        word = f"{_NUMBERED_WORDS[numbered.group(1)]} {numbered.group(2)}"
    else:
        word = _FIELDS.get(field, field)
    return f'{_e(word)} <span class="id">{_e(field)}</span>'


def _rule_table(rule: RuleChange) -> str:
    status = _RULE_STATUS.get(rule.status, rule.status)
    kind = _RULE_KINDS.get(rule.kind, rule.kind)
    rows = []
    for field in rule.fields:
        if field.old is not None and field.new is not None:
            old, new = _sides(redline(field.old, field.new))
        else:
            old, new = _value(field.old), _value(field.new)
        rows.append(
            f"<tr><th>{_field_name(field.field)}</th>"
            f'<td class="old">{old}</td><td class="new">{new}</td></tr>'
        )
    if rule.citations_old or rule.citations_new:
        rows.append(
            '<tr class="citations"><th>原文依据</th>'
            f'<td class="old">{_citations(rule.citations_old)}</td>'
            f'<td class="new">{_citations(rule.citations_new)}</td></tr>'
        )
    where = ""
    if rule.measure_old or rule.measure_new:
        old_number = rule.measure_old if rule.measure_old else "—"
        new_number = rule.measure_new if rule.measure_new else "—"
        where = f' <span class="id">措施 {_e(old_number)} → {_e(new_number)}</span>'
    return "\n".join(
        [
            f'<table class="rule" data-rule="{_e(rule.id)}" data-status="{_e(rule.status)}">',
            f'<caption>{_e(kind)} {_e(rule.label)} <span class="id">{_e(rule.id)}</span>'
            f'<span class="badge status-{_e(rule.status)}" title="{_e(rule.status)}">{_e(status)}</span>'
            f"{where}</caption>",
            "<thead><tr><th>字段</th><th>原版本</th><th>新版本</th></tr></thead>",
            "<tbody>",
            *rows,
            "</tbody></table>",
        ]
    )


def _citations(citations: Sequence[str]) -> str:
    if not citations:
        return '<span class="none">—</span>'
    return "".join(f"<p>「{_e(c)}」</p>" for c in citations)


# ---------------------------------------------------------------- measures


def _measures(diff: PolicyDiff) -> str:
    out = ['<section id="measures">', "<h2>措施</h2>"]
    for index, measure in enumerate(diff.measures, start=1):
        out.append(_measure(index, measure))
    if not diff.measures:
        out.append('<p class="nothing">没有措施。</p>')
    out.append("</section>")
    return "\n".join(out)


def _numbers(change: MeasureChange) -> str:
    olds = " ".join(m.number for m in change.old)
    news = " ".join(m.number for m in change.new)
    if change.kind == INSERTED or not olds:
        return f'<span class="num">{_e(news)}</span>'
    if change.kind == DELETED or not news:
        return f'<span class="num">{_e(olds)}</span>'
    if olds == news:
        return f'<span class="num">{_e(news)}</span>'
    return f'<span class="num">{_e(olds)}<span class="arrow">→</span>{_e(news)}</span>'


def _title(change: MeasureChange) -> str:
    return (change.new or change.old)[0].title if (change.new or change.old) else ""


def _badges(measure: MeasureDiff) -> str:
    change = measure.change
    kind = change.kind
    out = [f'<span class="badge kind-{_e(kind)}" title="{_e(kind)}">{_e(_KINDS.get(kind, kind))}</span>']
    if change.renumbered and kind not in {INSERTED, DELETED}:
        out.append('<span class="badge flag renumbered" title="renumbered">重新编号</span>')
    if change.moved:
        out.append('<span class="badge flag moved" title="moved">位置移动</span>')
    if any(units.changed for _, units in measure.all_units):
        out.append('<span class="badge flag units" title="responsible units changed">责任单位变化</span>')
    if measure.rules:
        out.append(f'<span class="badge flag rules" title="rules changed">规则 {len(measure.rules)}</span>')
    regions = sum(len(o.regions) for o in measure.outcomes)
    if regions:
        out.append(f'<span class="badge flag outcomes" title="outcome regions">结果 {regions}</span>')
    return "".join(out)


def _heading(measure: MeasureDiff) -> str:
    return f"{_numbers(measure.change)} {_e(_title(measure.change))}{_badges(measure)}"


def _plain(segments: Iterable[Segment]) -> str:
    """The old text of a redline (all of it, for an unchanged measure)."""
    return "".join(text for op, text in segments if op != INSERT)


def _measure(index: int, measure: MeasureDiff) -> str:
    change = measure.change
    different = "true" if measure.different else "false"
    opening = (
        f'<section class="measure" id="measure-{index}" data-kind="{_e(change.kind)}" '
        f'data-different="{different}">'
    )
    if not measure.different:
        return "\n".join(
            [
                opening,
                f"<details><summary>{_heading(measure)}</summary>",
                f'<div class="text">{_e(_plain(measure.redline))}</div>',
                "</details>",
                "</section>",
            ]
        )
    out = [opening, f"<h3>{_heading(measure)}</h3>"]
    text_changed = changed(measure.redline) or changed(measure.title_redline)
    if text_changed or change.kind in {INSERTED, DELETED}:
        out.append(_redline_table(measure))
    else:
        out.append(
            f'<details class="text"><summary>正文未改动</summary>'
            f'<div class="text">{_e(_plain(measure.redline))}</div></details>'
        )
    if measure.boundaries:
        parts = []
        for old, new, first, last in measure.boundaries:
            side = new if change.kind == "merged" else old
            where = f"第{first}句" if first == last else f"第{first}–{last}句"
            parts.append(f"<li>{_e(old)} → {_e(new)}（{_e(side)} {where}）</li>")
        out.append('<ul class="parts">' + "".join(parts) + "</ul>")
    for label, units in measure.all_units:
        if units.changed:
            out.append(_units(units, label))
    if measure.rules:
        out.append("<h4>规则</h4>")
        out.extend(_rule_table(rule) for rule in measure.rules)
    outcomes = [o for o in measure.outcomes if o.regions or o.note]
    if outcomes:
        out.append("<h4>适用结果</h4>")
        out.extend(_outcome_table(o) for o in outcomes)
    out.append("</section>")
    return "\n".join(out)


# ---------------------------------------------------------------- side-by-side redline


def _boundaries(text: str) -> set[int]:
    """Offsets where a row of the side-by-side view may end in ``text``."""
    cuts = {0, len(text)}
    cuts.update(i + 1 for i, char in enumerate(text) if char in _SENTENCE_ENDS)
    for match in _UNITS_TEXT.finditer(text):
        cuts.update((match.start(), match.end()))
    return cuts


Row = tuple[list[Segment], list[Segment]]


def redline_rows(segments: Sequence[Segment]) -> list[Row]:
    """Cut a redline into rows of (old segments, new segments) for a side-by-side view.

    A row ends where both texts are at a sentence end (or around a （责任单位：…） list) at the
    same point of the edit script, so the rows line up: a replaced sentence sits on one row,
    a sentence only one version has sits on its own row with the other side empty. A deletion
    directly followed by an insertion (a replacement) is never cut apart.
    """
    old_text = "".join(text for op, text in segments if op != INSERT)
    new_text = "".join(text for op, text in segments if op != DELETE)
    old_cuts, new_cuts = _boundaries(old_text), _boundaries(new_text)
    rows: list[Row] = []
    old_row: list[Segment] = []
    new_row: list[Segment] = []
    i = j = 0  # positions in the old and the new text

    def close() -> None:
        nonlocal old_row, new_row
        if old_row or new_row:
            rows.append((old_row, new_row))
        old_row, new_row = [], []

    for position, (op, text) in enumerate(segments):
        following = segments[position + 1][0] if position + 1 < len(segments) else None
        replacement = {op, following} == {DELETE, INSERT}
        start = 0
        for k in range(1, len(text) + 1):
            at_old = i + (k if op != INSERT else 0)
            at_new = j + (k if op != DELETE else 0)
            if at_old not in old_cuts or at_new not in new_cuts:
                continue
            if k == len(text) and replacement:
                continue
            piece = text[start:k]
            if op != INSERT:
                old_row.append((op, piece))
            if op != DELETE:
                new_row.append((op, piece))
            start = k
            close()
        if start < len(text):
            piece = text[start:]
            if op != INSERT:
                old_row.append((op, piece))
            if op != DELETE:
                new_row.append((op, piece))
        if op != INSERT:
            i += len(text)
        if op != DELETE:
            j += len(text)
    close()
    return rows


def _mark(segments: Iterable[Segment]) -> str:
    out = []
    for op, text in segments:
        if op == DELETE:
            out.append(f"<del>{_e(text)}</del>")
        elif op == INSERT:
            out.append(f"<ins>{_e(text)}</ins>")
        else:
            out.append(_e(text))
    return "".join(out)


def _sides(segments: Sequence[Segment]) -> tuple[str, str]:
    """One redline as (old side, new side) HTML."""
    old = [(op, text) for op, text in segments if op != INSERT]
    new = [(op, text) for op, text in segments if op != DELETE]
    return _mark(old), _mark(new)


def _redline_table(measure: MeasureDiff) -> str:
    change = measure.change
    old_numbers = " ".join(m.number for m in change.old)
    new_numbers = " ".join(m.number for m in change.new)
    head_old = f"原版本 {old_numbers}" if change.old else "原版本（无此措施）"
    head_new = f"新版本 {new_numbers}" if change.new else "新版本（已删除）"
    rows = []
    if changed(measure.title_redline) and change.old and change.new:
        old, new = _sides(measure.title_redline)
        rows.append(
            f'<tr class="title"><td class="redline old">{old}</td><td class="redline new">{new}</td></tr>'
        )
    for old_row, new_row in redline_rows(measure.redline):
        state = "changed" if changed([*old_row, *new_row]) else "same"
        rows.append(
            f'<tr class="{state}"><td class="redline old">{_mark(old_row)}</td>'
            f'<td class="redline new">{_mark(new_row)}</td></tr>'
        )
    return "\n".join(
        [
            '<table class="redline">',
            f"<thead><tr><th>{_e(head_old)}</th><th>{_e(head_new)}</th></tr></thead>",
            "<tbody>",
            *rows,
            "</tbody></table>",
        ]
    )


# ---------------------------------------------------------------- responsible units


def _units(units: UnitsChange, label: str | None = None) -> str:
    added, removed = set(units.added), set(units.removed)
    renamed_old = {a for a, _ in units.renamed}
    renamed_new = {b for _, b in units.renamed}

    def listing(names: Sequence[str], gone: set[str], tag: str) -> str:
        shown = [f"<{tag}>{_e(n)}</{tag}>" if n in gone else _e(n) for n in names]
        return "、".join(shown) if shown else '<span class="none">—</span>'

    notes = []
    if units.added:
        notes.append(f"新增：{_e('、'.join(units.added))}")
    if units.removed:
        notes.append(f"删除：{_e('、'.join(units.removed))}")
    for old, new in units.renamed:
        notes.append(f"更名：{_e(old)} → {_e(new)}")
    if units.lead:
        notes.append(f"牵头单位：{_e(units.lead[0])} → {_e(units.lead[1])}")
    elif units.reordered:
        notes.append("排列顺序调整")
    before = listing(units.old, removed | renamed_old, "del")
    after = listing(units.new, added | renamed_new, "ins")
    return "\n".join(
        [
            '<div class="units">',
            f"<h4>责任单位{_e(label) if label else ''}</h4>",
            f'<p class="list"><span class="label">原版本</span>{before}</p>',
            f'<p class="list"><span class="label">新版本</span>{after}</p>',
            "<ul>" + "".join(f"<li>{n}</li>" for n in notes) + "</ul>",
            "</div>",
        ]
    )


# ---------------------------------------------------------------- outcomes


#: What an eligible benefit's text commits to, in the page's language (docs/language.md §10.1).
_COMMITMENTS = {
    "may_receive": "可获支持（由部门决定）",
    "priority": "优先",
    "case_by_case": "一事一议",
    "intention": "仅表明意向",
}


def _result(result: VersionResult) -> str:
    status = _RESULTS.get(result.status, result.status)
    if result.status == "eligible" and result.commitment in _COMMITMENTS:
        status += f"：{_COMMITMENTS[result.commitment]}"
    text = f'<span class="status-{_e(result.status)}">{_e(status)}</span>'
    if result.amount:
        text += f"<br>{_e(result.amount)}"
    return text


def _failing(result: VersionResult) -> list[str]:
    return list(dict.fromkeys(result.failing))


def _region_row(region: Region) -> str:
    w = region.witness
    where = (
        "<ul>" + "".join(f"<li>{_e(text)}</li>" for _, text in region.constraints) + "</ul>"
        if region.constraints
        else _e(region.condition)
    )
    facts = "<ul>" + "".join(f"<li>{_e(k)} = {_e(v)}</li>" for k, v in w.facts) + "</ul>" if w.facts else ""
    date = f"<time>{_e(w.as_of.isoformat())}</time>" if w.dated else '<span class="none">与日期无关</span>'
    deciding = []
    for side, result in (("原版本未满足", w.old), ("新版本未满足", w.new)):
        failing = _failing(result) if result.status not in ("eligible", "applies") else []
        if failing:
            deciding.append(f"<p>{side}：</p><ul>" + "".join(f"<li>{_e(t)}</li>" for t in failing) + "</ul>")
    change = _REGION_CHANGES.get(region.change, region.change)
    return (
        f'<tr class="region {_e(region.change)}">'
        f'<td><span class="badge change-{_e(region.change)}" title="{_e(region.change)}">'
        f"{_e(change)}</span></td>"
        f"<td>{where}</td><td>{facts or _NONE}</td><td>{date}</td>"
        f'<td class="result">{_result(w.old)}</td><td class="result">{_result(w.new)}</td>'
        f"<td>{''.join(deciding) or _NONE}</td></tr>"
    )


def _outcome_table(benefit: BenefitRegions) -> str:
    how = "穷举" if benefit.exact else "抽样"
    kind = "义务" if benefit.kind == "duty" else "利益"
    out = [
        f'<table class="outcomes" data-benefit="{_e(benefit.id)}">',
        f'<caption>{kind}：{_e(benefit.label)} <span class="id">{_e(benefit.id)}；'
        f"{benefit.combinations} 种组合，{how}</span></caption>",
    ]
    if benefit.regions:
        out += [
            "<thead><tr><th>变化</th><th>适用范围</th><th>示例企业</th><th>评估日期</th>"
            "<th>原版本结果</th><th>新版本结果</th><th>决定性条件</th></tr></thead>",
            "<tbody>",
            *(_region_row(r) for r in benefit.regions),
            "</tbody>",
        ]
    out.append("</table>")
    if benefit.note:
        out.append(f'<p class="note">{_e(benefit.note)}</p>')
    return "\n".join(out)


__all__ = ["redline_rows", "render_html"]
