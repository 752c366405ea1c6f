"""The canonical formatter: :class:`~policy_dsl.model.PolicyFile` → text. Entry point: :func:`fmt`.

``parse(fmt(policy)) == policy`` for every policy (positions aside), literals keep the
notation they were written in (5000万美元 stays 5000万美元), and every comment is kept:
a comment is written before the first line that came after it in the original.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from policy_dsl import model as m
from policy_dsl.values import (
    Duration,
    Money,
    Percent,
    format_amount_chinese,
    format_date,
    format_decimal,
    format_duration,
    format_money,
)
from policy_dsl.visitor import Visitor

INDENT = "    "


def fmt(policy: m.PolicyFile) -> str:
    """The canonical text of ``policy``."""
    writer = _Writer(policy.comments)
    first = True
    previous: type | None = None
    for item in policy.items:
        compact = type(item) in (m.UseRegistry, m.FactDecl, m.EnumDecl) and type(item) is previous
        if not first and not (compact and _is_one_line(item)):
            writer.blank()
        _write_item(writer, item, 0)
        first = False
        previous = type(item)
    writer.flush_all(0)
    return writer.text()


def _is_one_line(item: m.Node) -> bool:
    if isinstance(item, m.FactDecl):
        return item.label is None and item.description is None and not item.implies
    return True


# ---------------------------------------------------------------- literals and conditions


def quote(text: str) -> str:
    """A string literal of the language; only JSON escapes, so it parses back exactly."""
    return json.dumps(text, ensure_ascii=False)


def format_literal(literal: m.Literal) -> str:
    value = literal.value
    if literal.code and isinstance(value, Money):
        amount = format_amount_chinese(value.amount) if literal.chinese else format_decimal(value.amount)
        return f"{amount} {value.currency}"
    return format_value(value, literal.chinese)


def format_value(value: object, chinese: bool = True) -> str:
    """A value in the language's literal notation (Chinese units when ``chinese``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return format_amount_chinese(value) if chinese else str(value)
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, Money):
        return format_money(value, chinese)
    if isinstance(value, Percent):
        return str(value)
    if isinstance(value, Duration):
        return format_duration(value, chinese)
    if isinstance(value, dt.date):
        return format_date(value, chinese)
    raise TypeError(f"not a literal value: {value!r}")  # pragma: no cover


_PRECEDENCE = {"Or": 1, "And": 2, "Not": 3}


class _ConditionWriter(Visitor):
    def visit_Reference(self, node: m.Reference) -> str:
        return node.name

    def visit_Literal(self, node: m.Literal) -> str:
        return format_literal(node)

    def visit_Comparison(self, node: m.Comparison) -> str:
        return f"{self.visit(node.left)} {node.op} {self.visit(node.right)}"

    def visit_Membership(self, node: m.Membership) -> str:
        word = "not in" if node.negated else "in"
        return f"{self.visit(node.subject)} {word} {{{', '.join(v.text for v in node.values)}}}"

    def visit_Includes(self, node: m.Includes) -> str:
        if node.mode == "one":
            return f"{self.visit(node.subject)} includes {node.values[0].text}"
        values = ", ".join(v.text for v in node.values)
        return f"{self.visit(node.subject)} includes {node.mode} {{{values}}}"

    def visit_Between(self, node: m.Between) -> str:
        return f"{self.visit(node.subject)} between {self.visit(node.low)} and {self.visit(node.high)}"

    def visit_YearOf(self, node: m.YearOf) -> str:
        return f"year of {node.subject.name}"

    def visit_Within(self, node: m.Within) -> str:
        return f"{self.visit(node.subject)} within {self.visit(node.length)}"

    def _child(self, parent: str, child: m.Node) -> str:
        text: str = self.visit(child)
        inner = _PRECEDENCE.get(type(child).__name__)
        if inner is not None and inner <= _PRECEDENCE[parent] and not (parent == "Not" and inner == 3):
            return f"({text})"
        return text

    def visit_Not(self, node: m.Not) -> str:
        return "not " + self._child("Not", node.operand)

    def visit_And(self, node: m.And) -> str:
        return " and ".join(self._child("And", op) for op in node.operands)

    def visit_Or(self, node: m.Or) -> str:
        return " or ".join(self._child("Or", op) for op in node.operands)


def format_condition(condition: m.Node) -> str:
    """A condition in canonical notation, e.g. ``出口额 <= 5000万美元 and 小微外贸企业``."""
    text: str = _ConditionWriter().visit(condition)
    return text


# ---------------------------------------------------------------- layout


class _Writer:
    """Collects lines, placing each pending comment before the first line that followed it."""

    def __init__(self, comments: Iterable[m.Comment]) -> None:
        self.lines: list[str] = []
        self.pending = sorted(comments, key=lambda c: (c.pos.line, c.pos.column))

    def flush_before(self, line: int, depth: int) -> None:
        last = 0
        while self.pending and line > 0 and self.pending[0].pos.line < line:
            comment = self.pending.pop(0)
            if last and comment.pos.line > last + 1:
                self.blank()
            self.lines.append(INDENT * depth + comment.text.rstrip())
            last = comment.pos.line
        if last and line > last + 1 and depth == 0:
            self.blank()

    def flush_all(self, depth: int) -> None:
        while self.pending:
            self.lines.append(INDENT * depth + self.pending.pop(0).text.rstrip())

    def line(self, depth: int, text: str, anchor: m.Node | None = None) -> None:
        line = anchor.pos.line if anchor is not None else 0
        self.flush_before(line, depth)
        trailing = []
        while self.pending and line > 0 and self.pending[0].pos.line == line:
            trailing.append(self.pending.pop(0).text.rstrip())
        self.lines.append(INDENT * depth + text + "".join("  " + c for c in trailing))

    def close(self, depth: int, node: m.Node) -> None:
        self.flush_before(node.pos.end_line, depth + 1)
        self.line(depth, "}")

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def text(self) -> str:
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n"


def _label(label: m.Text | None) -> str:
    return f" {quote(label.value)}" if label is not None else ""


def _write_item(w: _Writer, item: m.Node, depth: int) -> None:
    writer: Callable[[_Writer, Any, int], None] = _ITEM_WRITERS[type(item).__name__]
    writer(w, item, depth)


def _write_header(w: _Writer, h: m.PolicyHeader, depth: int) -> None:
    w.line(depth, f"policy {quote(h.title.value)} {{", h)
    keys = ("issuer", "jurisdiction", "version", "status", "date", "implements", "source", "effective")
    for key in (*keys, "valid", "until", "repeals", "precedence", "level", "keep"):
        value = getattr(h, key)
        if key == "repeals":
            if value:
                w.line(depth + 1, "repeals " + ", ".join(quote(t.value) for t in value), value[0])
            continue
        if value is None:
            continue
        if isinstance(value, m.Text):
            w.line(depth + 1, f"{key} {quote(value.value)}", value)
        elif isinstance(value, m.Name):
            w.line(depth + 1, f"{key} {value.text}", value)
        else:
            w.line(depth + 1, f"{key} {format_literal(value)}", value)
    _write_citations(w, h.citations, depth + 1)
    w.close(depth, h)


def _write_use(w: _Writer, u: m.UseRegistry, depth: int) -> None:
    w.line(depth, f"use {quote(u.path.value)}", u)


def _write_library(w: _Writer, lib: m.Library, depth: int) -> None:
    w.line(depth, f"library {quote(lib.title.value)} {{", lib)
    for note in lib.notes:
        w.line(depth + 1, f"note {quote(note.value)}", note)
    for use in lib.uses:
        w.line(depth + 1, f"use {quote(use.value)}", use)
    for areas in lib.areas:
        w.line(depth + 1, f"areas {areas.fact.text} {{", areas)
        for area in areas.areas:
            _write_area(w, area, depth + 2)
        w.close(depth + 1, areas)
    for entry in lib.policies:
        replaces = ", ".join(quote(t.value) for t in entry.replaces)
        w.line(
            depth + 1,
            f"policy {quote(entry.path.value)}" + (f" replaces {replaces}" if replaces else ""),
            entry,
        )
    for same in lib.same:
        w.line(depth + 1, f"same {same.name}{_label(same.label)} {{", same)
        for member in same.members:
            w.line(depth + 2, f"{quote(member.path.value)} {member.benefit.text}", member)
        w.close(depth + 1, same)
    w.close(depth, lib)


def _write_area(w: _Writer, area: m.Area, depth: int) -> None:
    if not area.inside:
        w.line(depth, area.name, area)
        return
    w.line(depth, f"{area.name} {{", area)
    for inner in area.inside:
        _write_area(w, inner, depth + 1)
    w.close(depth, area)


def _write_agency(w: _Writer, a: m.Agency, depth: int) -> None:
    head = f"agency {a.id} {quote(a.name.value)}"
    if not a.aliases and not a.notes:
        w.line(depth, head, a)
        return
    w.line(depth, head + " {", a)
    if a.aliases:
        w.line(depth + 1, "aliases " + ", ".join(quote(x.value) for x in a.aliases), a.aliases[0])
    for note in a.notes:
        w.line(depth + 1, f"note {quote(note.value)}", note)
    w.close(depth, a)


def _write_enum(w: _Writer, e: m.EnumDecl, depth: int) -> None:
    values = [f"{v.name}{_label(v.label)}" for v in e.values]
    head = f"{'open ' if e.open else ''}enum {e.name}"
    one_line = f"{head} {{ {', '.join(values)} }}"
    if len(one_line) <= 80:
        w.line(depth, one_line, e)
        return
    w.line(depth, f"{head} {{", e)
    for v, text in zip(e.values, values, strict=True):
        w.line(depth + 1, text + ",", v)
    w.close(depth, e)


def _type_text(ref: m.TypeRef) -> str:
    if ref.kind == "set":
        return f"set of {ref.param}"
    if ref.kind == "enum":
        return ref.param or ""
    if ref.param:
        return f"{ref.kind} {ref.param}"
    return ref.kind


def _write_fact(w: _Writer, f: m.FactDecl, depth: int) -> None:
    head = f"fact {f.name}: {_type_text(f.type)}"
    if f.label is None and f.description is None and not f.implies:
        w.line(depth, head, f)
        return
    w.line(depth, head + " {", f)
    if f.label is not None:
        w.line(depth + 1, f"label {quote(f.label.value)}", f.label)
    if f.description is not None:
        w.line(depth + 1, f"description {quote(f.description.value)}", f.description)
    if f.implies:
        w.line(depth + 1, "implies " + ", ".join(n.text for n in f.implies), f.implies[0])
    w.close(depth, f)


def _write_items(w: _Writer, d: m.ItemsDecl, depth: int) -> None:
    w.line(depth, f"items {d.name}{_label(d.label)} {{", d)
    for fact in d.facts:
        _write_fact(w, fact, depth + 1)
    w.close(depth, d)


def _write_citations(w: _Writer, citations: Iterable[m.Citation], depth: int) -> None:
    for c in citations:
        note = f" note {quote(c.note.value)}" if c.note is not None else ""
        w.line(depth, f"cite {quote(c.text.value)}{note}", c)


def _write_waivers(w: _Writer, waivers: Iterable[m.Waiver], depth: int) -> None:
    for waiver in waivers:
        w.line(depth, f"waive {quote(waiver.quantity.value)} because {quote(waiver.reason.value)}", waiver)


def _write_agencies(w: _Writer, agencies: tuple[m.Name, ...], depth: int) -> None:
    if agencies:
        names = ", ".join(a.text if _is_name(a.text) else quote(a.text) for a in agencies)
        w.line(depth, f"agencies {names}", agencies[0])


def _is_name(text: str) -> bool:
    from policy_dsl.parse import KEYWORDS

    return text.isidentifier() and text not in KEYWORDS and text.replace("_", "a").isalnum()


def _write_period(w: _Writer, p: m.Period | None, depth: int) -> None:
    if p is not None:
        w.line(depth, f"period {format_literal(p.start)} to {format_literal(p.end)}", p)


def _write_definition(w: _Writer, d: m.Definition, depth: int) -> None:
    w.line(depth, f"definition {d.name}{_label(d.label)} {{", d)
    if d.means is not None:
        w.line(depth + 1, f"means {format_condition(d.means)}", d.means)
    _write_citations(w, d.citations, depth + 1)
    _write_waivers(w, d.waivers, depth + 1)
    w.close(depth, d)


def amount_text(b: m.Benefit) -> str:
    """A benefit's amount as written: ``10万元``, ``10万元 to 100万元`` or ``>= 10万元``."""
    assert b.amount is not None
    if b.amount_floor:
        return f">= {format_literal(b.amount)}"
    if b.amount_high is not None:
        return f"{format_literal(b.amount)} to {format_literal(b.amount_high)}"
    return format_literal(b.amount)


def cap_text(b: m.Benefit) -> str:
    """A benefit's caps as written: ``100万元``, ``年度地方财政贡献``, ``100万元, 年度地方财政贡献``."""
    parts = ([format_literal(b.cap)] if b.cap is not None else []) + [n.text for n in b.cap_facts]
    return ", ".join(parts)


def rate_text(rate: m.Rate) -> str:
    """A rate as written: ``100% of 保费``, ``5% to 20% of 投资`` or ``>= 10% of 成本``."""
    base = f" of {rate.base.text}" if rate.base is not None else ""
    if rate.above is not None:
        shown = format_literal(rate.above) if isinstance(rate.above, m.Literal) else rate.above.text
        base += f" above {shown}"
    if rate.floor:
        return f">= {format_literal(rate.rate)}{base}"
    if rate.high is not None:
        return f"{format_literal(rate.rate)} to {format_literal(rate.high)}{base}"
    return f"{format_literal(rate.rate)}{base}"


def band_text(tier: m.Tier, year: bool = False) -> str:
    """A band's ends as written: ``from 1000万元 to 5000万元``, ``above 1亿元``, ``below 500亩``;
    in an installment schedule (``year``) a band of one year is ``year 2``."""
    one = tier.low is not None and tier.high is not None and not (tier.low_open or tier.high_open)
    if year and one and tier.low is not None and tier.high is not None and tier.low.value == tier.high.value:
        return f"year {format_literal(tier.low)}"
    ends = []
    if tier.low is not None:
        ends.append(f"{'above' if tier.low_open else 'from'} {format_literal(tier.low)}")
    if tier.high is not None:
        ends.append(f"{'below' if tier.high_open else 'to'} {format_literal(tier.high)}")
    return " ".join(ends)


def tier_pay_text(tier: m.Tier) -> str:
    """What a band pays as written: ``rate 70% of 贡献``, ``amount 100元 per 面积``, ``amount 5万元``."""
    if tier.rate is not None:
        return f"rate {format_literal(tier.rate)}" + (f" of {tier.base.text}" if tier.base else "")
    assert tier.amount is not None
    return f"amount {format_literal(tier.amount)}" + (f" per {tier.per.text}" if tier.per else "")


def tier_text(tier: m.Tier, year: bool = False) -> str:
    return f"{band_text(tier, year)}: {tier_pay_text(tier)}"


def tiers_head(tiers: m.Tiers) -> str:
    if tiers.year_of:
        return f"tiers by year of {tiers.fact.text}"
    return f"marginal tiers of {tiers.fact.text}" if tiers.marginal else f"tiers by {tiers.fact.text}"


def _write_tiers(w: _Writer, tiers: m.Tiers, depth: int) -> None:
    w.line(depth, tiers_head(tiers) + " {", tiers)
    for tier in tiers.tiers:
        w.line(depth + 1, tier_text(tier, tiers.year_of), tier)
    w.close(depth, tiers)


def _write_benefit(w: _Writer, b: m.Benefit, depth: int) -> None:
    w.line(depth, f"benefit {b.name}{_label(b.label)} {{", b)
    inner = depth + 1
    if b.kind is not None:
        w.line(inner, f"kind {b.kind.text}", b.kind)
    if b.commits is not None:
        w.line(inner, f"commits {b.commits.text}", b.commits)
    if b.follows is not None:
        w.line(inner, f"follows {b.follows.text}", b.follows)
    if b.each is not None:
        w.line(inner, f"for each {b.each.text}", b.each)
    if b.when is not None:
        w.line(inner, f"when {format_condition(b.when)}", b.when)
    if b.amount is not None:
        per = f" per {b.per.text}" if b.per is not None else ""
        w.line(inner, f"amount {amount_text(b)}{per}", b.amount)
    elif b.per is not None:
        w.line(inner, f"per {b.per.text}", b.per)
    if b.rate is not None:
        w.line(inner, f"rate {rate_text(b.rate)}", b.rate)
    if b.tiers is not None:
        _write_tiers(w, b.tiers, inner)
    if b.minimum is not None:
        w.line(inner, f"min {format_literal(b.minimum)}", b.minimum)
    if b.cap is not None or b.cap_facts:
        w.line(inner, f"cap {cap_text(b)}", b.cap or b.cap_facts[0])
    if b.cap_total is not None or b.cap_total_facts:
        bounds = ([format_literal(b.cap_total)] if b.cap_total is not None else []) + [
            n.text for n in b.cap_total_facts
        ]
        w.line(inner, "cap total " + ", ".join(bounds), b.cap_total or b.cap_total_facts[0])
    if b.frequency is not None:
        w.line(inner, b.frequency.text, b.frequency)
    _write_period(w, b.period, inner)
    _write_agencies(w, b.agencies, inner)
    _write_citations(w, b.citations, inner)
    _write_waivers(w, b.waivers, inner)
    w.close(depth, b)


def _write_metric(w: _Writer, word: str, metric: m.Metric, depth: int) -> None:
    w.line(depth, f"{word} {quote(metric.label.value)} {metric.op} {format_literal(metric.value)}", metric)


def _write_duty(w: _Writer, d: m.Duty, depth: int) -> None:
    w.line(depth, f"{'obligation' if d.enterprise else 'duty'} {d.name}{_label(d.label)} {{", d)
    if d.follows is not None:
        w.line(depth + 1, f"follows {d.follows.text}", d.follows)
    if d.when is not None:
        w.line(depth + 1, f"when {format_condition(d.when)}", d.when)
    for level in d.levels:
        _write_metric(w, "level", level, depth + 1)
    for sanction in d.sanctions:
        w.line(depth + 1, f"sanction {quote(sanction.value)}", sanction)
    _write_period(w, d.period, depth + 1)
    _write_agencies(w, d.agencies, depth + 1)
    _write_citations(w, d.citations, depth + 1)
    _write_waivers(w, d.waivers, depth + 1)
    w.close(depth, d)


def _write_target(w: _Writer, tg: m.Target, depth: int) -> None:
    w.line(depth, f"target {tg.name}{_label(tg.label)} {{", tg)
    for goal in tg.goals:
        _write_metric(w, "goal", goal, depth + 1)
    _write_period(w, tg.period, depth + 1)
    _write_agencies(w, tg.agencies, depth + 1)
    _write_citations(w, tg.citations, depth + 1)
    _write_waivers(w, tg.waivers, depth + 1)
    w.close(depth, tg)


def _write_members(w: _Writer, members: tuple[m.Name, ...], depth: int) -> None:
    """``benefits A, B`` of a group (exclusive, stages)."""
    if members:
        w.line(depth, "benefits " + ", ".join(n.text for n in members), members[0])


def _write_exclusive(w: _Writer, ex: m.Exclusive, depth: int) -> None:
    w.line(depth, f"exclusive {ex.name}{_label(ex.label)} {{", ex)
    _write_members(w, ex.members, depth + 1)
    if ex.keep is not None:
        w.line(depth + 1, f"keep {ex.keep.text}", ex.keep)
    _write_citations(w, ex.citations, depth + 1)
    _write_waivers(w, ex.waivers, depth + 1)
    w.close(depth, ex)


def _write_staged(w: _Writer, st: m.Staged, depth: int) -> None:
    w.line(depth, f"stages {st.name}{_label(st.label)} {{", st)
    _write_members(w, st.members, depth + 1)
    for stage in st.stages:
        w.line(depth + 1, f"stage {format_literal(stage.share)} when {format_condition(stage.when)}", stage)
    _write_citations(w, st.citations, depth + 1)
    _write_waivers(w, st.waivers, depth + 1)
    w.close(depth, st)


def _write_unit(w: _Writer, unit: m.Unit, depth: int) -> None:
    w.line(depth, f"{unit.kind} {unit.number}{_label(unit.title)} {{", unit)
    _write_agencies(w, unit.agencies, depth + 1)
    _write_citations(w, unit.citations, depth + 1)
    children: list[m.Node] = [*unit.rules, *unit.units]
    children.sort(key=lambda node: (node.pos.line, node.pos.column))
    for index, child in enumerate(children):
        if index or unit.agencies or unit.citations:
            w.blank()
        _write_item(w, child, depth + 1)
    w.close(depth, unit)


_ITEM_WRITERS: dict[str, Callable[[_Writer, Any, int], None]] = {
    "PolicyHeader": _write_header,
    "Exclusive": _write_exclusive,
    "Staged": _write_staged,
    "UseRegistry": _write_use,
    "Library": _write_library,
    "Agency": _write_agency,
    "EnumDecl": _write_enum,
    "FactDecl": _write_fact,
    "ItemsDecl": _write_items,
    "Definition": _write_definition,
    "Benefit": _write_benefit,
    "Duty": _write_duty,
    "Target": _write_target,
    "Unit": _write_unit,
}
