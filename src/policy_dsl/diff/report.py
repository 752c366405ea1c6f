"""Reports of a :class:`~policy_dsl.diff.compare.PolicyDiff`: text, JSON, Markdown and HTML.

Entry point: :func:`render`. Every renderer is deterministic: the same diff gives the same
bytes. The JSON form is the documented, versioned schema of ``docs/diff.md``; the others are
views of it. A summary comes first, then the measures in document order.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from policy_dsl.check import COMMITMENT_SHOWN
from policy_dsl.diff.align import MeasureChange
from policy_dsl.diff.compare import SCHEMA_VERSION, MeasureDiff, PolicyDiff, UnitsChange
from policy_dsl.diff.facts import FactChange
from policy_dsl.diff.redline import DELETE, EQUAL, INSERT, Segment
from policy_dsl.diff.regions import BenefitRegions, Region, VersionResult
from policy_dsl.diff.rulediff import RuleChange
from policy_dsl.document import DocumentMeasure

FORMATS = ("text", "json", "markdown", "html")


#: How many regions of each kind (gained, lost, changed) the text report shows per benefit; the
#: JSON and HTML reports, and ``--all-regions``, show every one.
TEXT_REGIONS = 2


def render(
    diff: PolicyDiff, output: str = "text", color: bool = False, regions: int | None = TEXT_REGIONS
) -> str:
    if output == "json":
        return json.dumps(to_dict(diff), ensure_ascii=False, indent=2) + "\n"
    if output == "markdown":
        return render_markdown(diff)
    if output == "html":
        from policy_dsl.diff.html_report import render_html

        page: str = render_html(diff)
        return page
    return render_text(diff, color, regions)


# ---------------------------------------------------------------- JSON


def _measure_ref(measure: DocumentMeasure) -> dict[str, Any]:
    return {
        "number": measure.number,
        "title": measure.title,
        "chapter": measure.chapter,
        "line": measure.line,
    }


def _segments(segments: Iterable[Segment]) -> list[dict[str, str]]:
    names = {EQUAL: "equal", INSERT: "insert", DELETE: "delete"}
    return [{"op": names[op], "text": text} for op, text in segments]


def _units(units: UnitsChange | None) -> dict[str, Any] | None:
    if units is None:
        return None
    return {
        "old": list(units.old),
        "new": list(units.new),
        "added": list(units.added),
        "removed": list(units.removed),
        "renamed": [{"old": a, "new": b} for a, b in units.renamed],
        "lead": {"old": units.lead[0], "new": units.lead[1]} if units.lead else None,
        "reordered": units.reordered,
    }


def _rule(rule: RuleChange) -> dict[str, Any]:
    return {
        "kind": rule.kind,
        "id": rule.id,
        "status": rule.status,
        "label": rule.label,
        "measure": {"old": rule.measure_old, "new": rule.measure_new},
        "fields": [{"field": f.field, "old": f.old, "new": f.new} for f in rule.fields],
        "citations": {"old": list(rule.citations_old), "new": list(rule.citations_new)},
    }


def _version_result(result: VersionResult) -> dict[str, Any]:
    return {
        "status": result.status,
        "amount": result.amount,
        "commitment": result.commitment,
        "conditions": [{"test": t, "value": v} for t, v in result.conditions],
        "failing": list(result.failing),
    }


def _regions(benefit: BenefitRegions) -> dict[str, Any]:
    return {
        "kind": benefit.kind,
        "benefit": benefit.id,
        "label": benefit.label,
        "exact": benefit.exact,
        "combinations": benefit.combinations,
        "evaluated": benefit.evaluated,
        "note": benefit.note,
        "regions": [
            {
                "change": r.change,
                "condition": r.condition,
                "constraints": [{"fact": f, "condition": c} for f, c in r.constraints],
                "witness": {
                    "facts": dict(r.witness.facts),
                    "as_of": r.witness.as_of.isoformat(),
                    "dated": r.witness.dated,
                    "old": _version_result(r.witness.old),
                    "new": _version_result(r.witness.new),
                },
            }
            for r in benefit.regions
        ],
    }


def _change(change: MeasureChange) -> dict[str, Any]:
    return {
        "kind": change.kind,
        "old": [_measure_ref(m) for m in change.old],
        "new": [_measure_ref(m) for m in change.new],
        "renumbered": change.renumbered,
        "moved": change.moved,
        "similarity": round(change.similarity, 3),
    }


def to_dict(diff: PolicyDiff) -> dict[str, Any]:
    """The diff as plain data, in the versioned schema of docs/diff.md."""

    def version(info: Any) -> dict[str, Any]:
        return {
            "path": info.path,
            "title": info.title,
            "status": info.status,
            "encoding": info.encoding,
            "measures": info.measures,
            "encoded": info.encoded,
            "validity": info.validity,
            "repeals": list(info.repeals),
            "precedence": info.precedence,
        }

    population = diff.population
    return {
        "schema": "policy-diff",
        "schema_version": SCHEMA_VERSION,
        "old": version(diff.old),
        "new": version(diff.new),
        "different": diff.different,
        "as_of": diff.as_of.isoformat() if isinstance(diff.as_of, dt.date) else None,
        "summary": diff.summary(),
        "chapters": [
            {
                "kind": c.kind,
                "old": {"number": c.old.number, "title": c.old.title, "line": c.old.line} if c.old else None,
                "new": {"number": c.new.number, "title": c.new.title, "line": c.new.line} if c.new else None,
            }
            for c in diff.chapters
        ],
        "facts": [attrs.asdict(f) for f in diff.facts],
        "shared": [
            {"change": change, "condition": condition, "rules": labels}
            for (change, condition), labels in shared_regions(diff).items()
        ],
        "definitions": [_rule(r) for r in diff.definitions],
        "measures": [
            {
                **_change(m.change),
                "different": m.different,
                "title_redline": _segments(m.title_redline),
                "redline": _segments(m.redline),
                "units": _units(m.units),
                "units_parts": [{"measures": label, **(_units(u) or {})} for label, u in m.units_parts],
                "parts": [
                    {"old": old, "new": new, "sentences": [first, last]}
                    for old, new, first, last in m.boundaries
                ],
                "rules": [_rule(r) for r in m.rules],
                "outcomes": [_regions(o) for o in m.outcomes if o.regions or o.note],
            }
            for m in diff.measures
        ],
        "population": population.to_dict() if population is not None else None,  # type: ignore[attr-defined]
    }


# ---------------------------------------------------------------- text

_KIND_WORDS = {
    "unchanged": "unchanged",
    "reworded": "reworded (no change of rule)",
    "modified": "modified",
    "inserted": "inserted",
    "deleted": "deleted",
    "merged": "merged",
    "split": "split",
}


class _Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def _wrap(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def deleted(self, text: str) -> str:
        return self._wrap(f"[-{text}-]", "31")

    def inserted(self, text: str) -> str:
        return self._wrap(f"{{+{text}+}}", "32")

    def bold(self, text: str) -> str:
        return self._wrap(text, "1")

    def dim(self, text: str) -> str:
        return self._wrap(text, "2")


def heading(change: MeasureChange) -> str:
    olds = " ".join(m.number for m in change.old)
    news = " ".join(m.number for m in change.new)
    title = (change.new or change.old)[0].title
    if change.kind == "inserted":
        numbers = news
    elif change.kind == "deleted":
        numbers = olds
    elif olds == news:
        numbers = news
    else:
        numbers = f"{olds} → {news}"
    flags = [_KIND_WORDS[change.kind]]
    if change.renumbered and change.kind not in {"inserted", "deleted"}:
        flags.append("renumbered")
    if change.moved:
        flags.append("moved")
    return f"{numbers} {title} — {', '.join(flags)}".replace("  —", " —")


def changed_sentences(segments: Iterable[Segment], mark: Callable[[int, str], str]) -> list[str]:
    """The sentences of a redline that contain a change, each with its changes marked.

    ``mark(op, text)`` renders every piece, unchanged ones (``EQUAL``) included, so a renderer
    can escape them.
    """
    sentences: list[tuple[list[str], bool]] = [([], False)]
    for op, text in segments:
        if op == EQUAL:
            start = 0
            for index, char in enumerate(text):
                if char in "。；！？":
                    sentences[-1][0].append(mark(EQUAL, text[start : index + 1]))
                    sentences.append(([], False))
                    start = index + 1
            if start < len(text):
                sentences[-1][0].append(mark(EQUAL, text[start:]))
        else:
            parts, _ = sentences[-1]
            parts.append(mark(op, text))
            sentences[-1] = (parts, True)
    return ["".join(parts) for parts, has_change in sentences if has_change]


def _summary_lines(diff: PolicyDiff) -> list[str]:
    summary = diff.summary()
    s = summary["structure"]
    kinds = [
        f"{n} {k}"
        for k, n in s.items()
        if k not in {"renumbered", "moved"} and not k.startswith("chapters") and n
    ]
    chapters = [f"{n} {k.removeprefix('chapters ')}" for k, n in s.items() if k.startswith("chapters") and n]
    lines = [
        f"  structure: {', '.join(kinds) or 'no measures'}; {s['renumbered']} renumbered, {s['moved']} moved"
        + (f"; chapters: {', '.join(chapters)}" if chapters else "")
    ]
    lines.append(f"  text: {summary['text']['measures redlined']} measures with textual changes")
    u = summary["units"]
    units = ", ".join(f"{n} {k}" for k, n in u.items() if k != "measures" and n)
    lines.append(f"  responsible units: {u['measures']} measures changed" + (f" ({units})" if units else ""))
    if diff.old.encoded:
        f = summary["facts"]
        facts = ", ".join(f"{n} {k}" for k, n in f.items()) or "no change"
        lines.append(f"  facts: {facts}")
        r = summary["rules"]
        added, removed, changed_count = r.get("added", 0), r.get("removed", 0), r.get("changed", 0)
        lines.append(f"  rules: {added} added, {removed} removed, {changed_count} changed")
        o = summary["outcomes"]
        lines.append(
            f"  outcomes: {o['benefits']} benefit{'' if o['benefits'] == 1 else 's'} and "
            f"{o['duties']} dut{'y' if o['duties'] == 1 else 'ies'} differ — "
            f"{o['gained']} regions gained, {o['lost']} lost, "
            f"{o['changed']} changed"
        )
    else:
        lines.append("  rules, outcomes: not compared (plain texts; give two .policy files for these layers)")
    return lines


def _units_lines(units: UnitsChange, style: _Style) -> list[str]:
    lines = [f"    responsible units: {'、'.join(units.old)} → {'、'.join(units.new)}"]
    if units.added:
        lines.append(f"      added: {'、'.join(units.added)}")
    if units.removed:
        lines.append(f"      removed: {'、'.join(units.removed)}")
    for old, new in units.renamed:
        lines.append(f"      renamed: {old} → {new}")
    if units.lead:
        lines.append(f"      lead changed: {units.lead[0]} → {units.lead[1]}")
    elif units.reordered:
        lines.append("      reordered")
    return lines


def _fact_lines(facts: Iterable[FactChange]) -> list[str]:
    """Renames first (each with its evidence), then retyped facts, then those added and removed."""
    lines: list[str] = []
    groups: dict[str, list[FactChange]] = {}
    for fact in facts:
        groups.setdefault(fact.status, []).append(fact)
    for fact in groups.get("renamed", []):
        lines.append(f"  renamed: {fact.old} → {fact.new} ({fact.new_type}; {fact.reason})")
    for fact in groups.get("retyped", []):
        lines.append(f"  retyped: {fact.old}: {fact.old_type} → {fact.new_type}")
    for status in ("added", "removed"):
        names = [f"{x.new or x.old} ({x.new_type or x.old_type})" for x in groups.get(status, [])]
        if names:
            lines.append(f"  {status}: " + ", ".join(names))
    return lines


def _rule_lines(rule: RuleChange, indent: str) -> list[str]:
    lines = [f"{indent}{rule.kind} {rule.id} — {rule.status}"]
    if rule.status in ("added", "removed"):  # one side only: its terms on one line
        side = [(f.field, f.new if rule.status == "added" else f.old) for f in rule.fields]
        terms = "; ".join(f"{name} {value}" for name, value in side if value is not None)
        if terms:
            lines.append(f"{indent}  {terms}")
        cites = rule.citations_new if rule.status == "added" else rule.citations_old
        lines.extend(f"{indent}  cites: 「{cite}」" for cite in cites)
        return lines
    for field in rule.fields:
        old = field.old if field.old is not None else "—"
        new = field.new if field.new is not None else "—"
        lines.append(f"{indent}  {field.field}: {old} → {new}")
    for cite in rule.citations_old:
        lines.append(f"{indent}  old cites: 「{cite}」")
    for cite in rule.citations_new:
        lines.append(f"{indent}  new cites: 「{cite}」")
    return lines


def _result_text(result: VersionResult) -> str:
    text = result.status.replace("_", " ")
    if result.status == "eligible" and result.commitment not in (None, "entitled"):
        text += f" ({COMMITMENT_SHOWN.get(result.commitment, result.commitment.replace('_', ' '))})"
    if result.amount:
        text += f", {result.amount}"
    return text


def _region_lines(benefit: BenefitRegions, region: Region, indent: str) -> list[str]:
    w = region.witness
    facts = ", ".join(f"{k} = {v}" for k, v in w.facts)
    dated = f"; as of {w.as_of.isoformat()}" if w.dated else ""
    witness = f"{facts}{dated}".removeprefix("; ") or "any enterprise"
    lines = [
        f"{indent}{region.change}: {region.condition}",
        f"{indent}  witness: {witness} — old: {_result_text(w.old)}; new: {_result_text(w.new)}",
    ]
    granted = ("eligible", "applies")
    decided_old = list(dict.fromkeys(w.old.failing)) if w.old.status not in granted else []
    decided_new = list(dict.fromkeys(w.new.failing)) if w.new.status not in granted else []
    if decided_old:
        lines.append(f"{indent}  old fails: {'; '.join(decided_old)}")
    if decided_new:
        lines.append(f"{indent}  new fails: {'; '.join(decided_new)}")
    return lines


def _part_text(measure: MeasureDiff, boundary: tuple[str, str, int, int]) -> str:
    old, new, first, last = boundary
    sentences = f"sentence {first}" if first == last else f"sentences {first}–{last}"
    side = new if measure.kind == "merged" else old
    return f"{old} → {new} ({sentences} of {side})"


#: A region of outcomes this many benefits or duties share is reported once, with their list.
SHARED_REGIONS = 3


def exactness(benefit: BenefitRegions) -> str:
    """How far a benefit's regions are to be trusted: ``exact`` (every combination, every value),
    ``sampled`` (not every combination evaluated), or ``not exact`` (all evaluated, but some cells
    stand for more than one case: a set's subsets, a list's items — the note says which)."""
    if benefit.exact:
        return "exact"
    return "sampled" if benefit.evaluated < benefit.combinations else "not exact"


def shared_regions(diff: PolicyDiff) -> dict[tuple[str, str], list[str]]:
    """The regions (change, condition) that several benefits or duties share: one change of the
    text (a threshold of a definition, a benefit removed) that moves them all the same way."""
    users: dict[tuple[str, str], list[str]] = {}
    for measure in diff.measures:
        for benefit in measure.outcomes:
            for region in benefit.regions:
                labels = users.setdefault((region.change, region.condition), [])
                if benefit.label not in labels:
                    labels.append(benefit.label)
    return {key: labels for key, labels in users.items() if len(labels) >= SHARED_REGIONS}


def _shared_lines(shared: dict[tuple[str, str], list[str]]) -> list[str]:
    lines: list[str] = []
    for (change, condition), labels in shared.items():
        lines.append(f"  {change}: {condition} — {len(labels)} benefits and duties:")
        lines.append("    " + "；".join(labels))
    return lines


def _measure_lines(
    measure: MeasureDiff,
    style: _Style,
    shown: int | None = TEXT_REGIONS,
    shared: dict[tuple[str, str], list[str]] | None = None,
) -> list[str]:
    lines = [style.bold(heading(measure.change))]
    if not measure.different:
        return lines

    def mark(op: int, text: str) -> str:
        if op == EQUAL:
            return text
        return style.inserted(text) if op == INSERT else style.deleted(text)

    title_changes = changed_sentences(measure.title_redline, mark)
    if title_changes and measure.change.kind not in {"inserted", "deleted"}:
        lines.append(f"    title: {title_changes[0]}")
    if measure.change.kind in {"inserted", "deleted"}:
        source = measure.change.new or measure.change.old
        for m in source:
            for sentence in m.sentences:
                lines.append(f"    {mark(INSERT if measure.change.new else DELETE, sentence.text)}")
            if m.units_text:
                lines.append(f"    {mark(INSERT if measure.change.new else DELETE, m.units_text)}")
    else:
        lines.extend(f"    {marked}" for marked in changed_sentences(measure.redline, mark))
    if measure.boundaries:
        lines.append("    parts: " + "; ".join(_part_text(measure, b) for b in measure.boundaries))
    for label, units in measure.all_units:
        if units.changed:
            block = _units_lines(units, style)
            if label:
                block[0] = block[0].replace("responsible units:", f"responsible units {label}:", 1)
            lines.extend(block)
    if measure.rules:
        lines.append("    rules:")
        for rule in measure.rules:
            lines.extend(_rule_lines(rule, "      "))
    outcomes = [o for o in measure.outcomes if o.regions or o.note]
    if outcomes:
        lines.append("    outcomes:")
        for benefit in outcomes:
            exact = exactness(benefit)
            lines.append(
                f"      {benefit.kind} {benefit.label} "
                f"({benefit.id}; {benefit.combinations} combinations, {exact})"
            )
            if benefit.note:
                lines.append(f"        note: {benefit.note}")
            hidden: dict[str, int] = {}
            for region in benefit.regions:
                count = hidden.get(region.change, 0)
                hidden[region.change] = count + 1
                if shared and (region.change, region.condition) in shared:
                    lines.append(f"        {region.change}: {region.condition} (shared: see Shared changes)")
                elif shown is None or count < shown:
                    lines.extend(_region_lines(benefit, region, "        "))
            more = [
                f"{n - shown} {change}" for change, n in hidden.items() if shown is not None and n > shown
            ]
            if more:
                lines.append(
                    f"        … and {', '.join(more)} regions more (--all-regions, or --format json / html)"
                )
    return lines


def render_text(diff: PolicyDiff, color: bool = False, regions: int | None = TEXT_REGIONS) -> str:
    style = _Style(color)
    lines = [
        f"policy-diff {diff.old.path} ({diff.old.encoding}) → {diff.new.path} ({diff.new.encoding})",
    ]
    title = diff.new.title if diff.old.title == diff.new.title else f"{diff.old.title} → {diff.new.title}"
    status = (
        diff.new.status if diff.old.status == diff.new.status else f"{diff.old.status} → {diff.new.status}"
    )
    lines.append(f"{title}（{status}）" if status else title)
    for key, before, after in diff.standing_changes():
        if key != "status":
            lines.append(f"{key}: {before} → {after}")
    if diff.as_of is not None:
        lines.append(
            "outcomes: every combination of the cells the rules' constants cut; dates of evaluation "
            f"on and around every period's ends (benefits without a period: as of {diff.as_of.isoformat()})"
        )
    if diff.population is not None:
        lines.extend(diff.population.header_lines())  # type: ignore[attr-defined]
    lines.append("")
    lines.append(style.bold("Summary"))
    lines.extend(_summary_lines(diff))
    if diff.population is not None:
        lines.extend(diff.population.summary_lines())  # type: ignore[attr-defined]
    shared = shared_regions(diff)
    if shared:
        lines.append("")
        lines.append(style.bold("Shared changes"))
        lines.extend(_shared_lines(shared))
    if diff.chapter_changes:
        lines.append("")
        lines.append(style.bold("Chapters"))
        lines.extend(f"  {c.label} — {c.kind}" for c in diff.chapter_changes)
    if diff.facts:
        lines.append("")
        lines.append(style.bold("Facts"))
        lines.extend(_fact_lines(diff.facts))
    if diff.definitions:
        lines.append("")
        lines.append(style.bold("Definitions"))
        for rule in diff.definitions:
            lines.extend(_rule_lines(rule, "  "))
    lines.append("")
    lines.append(style.bold("Measures"))
    for measure in diff.measures:
        lines.extend(_measure_lines(measure, style, regions, shared))
    if diff.population is not None:
        lines.append("")
        lines.extend(diff.population.detail_lines())  # type: ignore[attr-defined]
    if not diff.different:
        lines.append("")
        lines.append("no differences")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- Markdown


def _md_escape(text: str) -> str:
    """Policy text made inert in Markdown: HTML escaped, table pipes escaped, one line."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def render_markdown(diff: PolicyDiff) -> str:
    def mark(op: int, text: str) -> str:
        if op == EQUAL:
            return _md_escape(text)
        tag = "ins" if op == INSERT else "del"
        return f"<{tag}>{_md_escape(text)}</{tag}>"

    out = [f"# policy-diff: {_md_escape(diff.old.title)}", ""]
    old_path, new_path = _md_escape(diff.old.path), _md_escape(diff.new.path)
    out.append(f"{old_path} ({diff.old.encoding}) → {new_path} ({diff.new.encoding})")
    out.append("")
    if diff.old.status or diff.new.status:
        status = (
            diff.new.status
            if diff.old.status == diff.new.status
            else f"{diff.old.status} → {diff.new.status}"
        )
        out.append(f"Status: {_md_escape(status or '—')}")
        out.append("")
    changes = [c for c in diff.standing_changes() if c[0] != "status"]
    if changes:
        out += ["| | old | new |", "| --- | --- | --- |"]
        out.extend(f"| {key} | {_md_escape(a)} | {_md_escape(b)} |" for key, a, b in changes)
        out.append("")
    if diff.population is not None:
        header_lines = diff.population.header_lines()  # type: ignore[attr-defined]
        out.extend(f"- {_md_escape(line)}" for line in header_lines)
        if header_lines:
            out.append("")
    out.append("## Summary")
    out.append("")
    out.extend(f"- {_md_escape(line.strip())}" for line in _summary_lines(diff))
    if diff.population is not None:
        summary_lines = diff.population.summary_lines()  # type: ignore[attr-defined]
        out.extend(f"- {_md_escape(line.strip())}" for line in summary_lines)
    shared = shared_regions(diff)
    if shared:
        out += ["", "## Shared changes", ""]
        out.extend(f"- {_md_escape(line.strip())}" for line in _shared_lines(shared))
    if diff.chapter_changes:
        out += ["", "## Chapters", ""]
        out.extend(f"- {_md_escape(c.label)} — {c.kind}" for c in diff.chapter_changes)
    if diff.facts:
        out += ["", "## Facts", ""]
        out.extend(f"- {_md_escape(line.strip())}" for line in _fact_lines(diff.facts))
    if diff.definitions:
        out += ["", "## Definitions", ""]
        out.extend(_md_rules(diff.definitions))
    out += ["", "## Measures", ""]
    for measure in diff.measures:
        out.append(f"### {_md_escape(heading(measure.change))}")
        out.append("")
        if not measure.different:
            continue
        title_changes = changed_sentences(measure.title_redline, mark)
        if title_changes and measure.change.kind not in {"inserted", "deleted"}:
            out.append(f"Title: {title_changes[0]}")
            out.append("")
        if measure.change.kind in {"inserted", "deleted"}:
            for m in measure.change.new or measure.change.old:
                op = INSERT if measure.change.new else DELETE
                out.extend(f"> {mark(op, s.text)}" for s in m.sentences)
                if m.units_text:
                    out.append(f"> {mark(op, m.units_text)}")
        else:
            out.extend(f"> {line}" for line in changed_sentences(measure.redline, mark))
        out.append("")
        if measure.boundaries:
            out.append("Parts: " + "; ".join(_md_escape(_part_text(measure, b)) for b in measure.boundaries))
            out.append("")
        for label, units in measure.all_units:
            if units.changed:
                block = _units_lines(units, _Style(False))
                if label:
                    block[0] = block[0].replace("responsible units:", f"responsible units {label}:", 1)
                out.extend(f"- {_md_escape(line.strip())}" for line in block)
                out.append("")
        if measure.rules:
            out.extend(_md_rules(measure.rules))
            out.append("")
        for benefit in measure.outcomes:
            if not benefit.regions and not benefit.note:
                continue
            exact = exactness(benefit)
            out.append(f"**Outcomes — {benefit.kind} {_md_escape(benefit.label)}** ({exact})")
            out.append("")
            if benefit.note:
                out.append(f"Note: {_md_escape(benefit.note)}")
                out.append("")
            if not benefit.regions:
                continue
            out.append("| change | where | witness | old | new |")
            out.append("|---|---|---|---|---|")
            for region in benefit.regions:
                w = region.witness
                facts = "; ".join(f"{k} = {v}" for k, v in w.facts)
                if w.dated:
                    facts += f"; as of {w.as_of.isoformat()}"
                facts = facts.removeprefix("; ") or "any enterprise"  # a witness of a date alone
                out.append(
                    f"| {region.change} | {_md_escape(region.condition)} | {_md_escape(facts)} | "
                    f"{_md_escape(_result_text(w.old))} | {_md_escape(_result_text(w.new))} |"
                )
            out.append("")
    if diff.population is not None:
        out += _md_population(diff.population.to_dict())  # type: ignore[attr-defined]
    if not diff.different:
        out.append("No differences.")
    return "\n".join(out).rstrip() + "\n"


def _md_population(data: dict[str, Any]) -> list[str]:
    """The population layer as Markdown tables: winners and losers, budget impact, groups."""
    from policy_dsl.impact import group_label, money_shown

    out = ["## Population", ""]
    out.append(
        f"{data['enterprises']} enterprises from `{_md_escape(str(data['path']))}`, as of {data['as_of']}."
    )
    out.append("")
    labels = {b["benefit"]: b["label"] for b in data["benefits"]}
    moved = [
        b for b in data["benefits"] if any(b[k]["count"] for k in ("gained", "lost", "changed", "unknown"))
    ]
    if moved:
        out += [
            "| rule | kind | eligible or applies, old | new | gained | lost | changed | unknown |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for b in moved:
            counts = " | ".join(str(b[k]["count"]) for k in ("gained", "lost", "changed", "unknown"))
            out.append(
                f"| {_md_escape(b['label'])} | {b['kind']} | {b['eligible']['old']} | "
                f"{b['eligible']['new']} | {counts} |"
            )
        out.append("")
        for b in moved:
            for kind in ("gained", "lost", "changed", "unknown"):
                ids = b[kind].get("ids")
                if ids:
                    more = b[kind]["count"] - len(ids)
                    shown = ", ".join(_md_escape(str(i)) for i in ids) + (f", … {more} more" if more else "")
                    out.append(f"- {_md_escape(b['label'])}, {kind}: {shown}")
        if any(b[k].get("ids") for b in moved for k in ("gained", "lost", "changed", "unknown")):
            out.append("")
    else:
        out += ["No enterprise moves.", ""]
    priced = [b for b in data["benefits"] if b.get("amount")]
    if priced:
        out += [
            "### Budget impact",
            "",
            "| benefit | currency | old | new | change | undetermined (old / new) |",
            "| --- | --- | ---: | ---: | ---: | ---: |",
        ]
        for b in priced:
            a = b["amount"]
            out.append(
                f"| {_md_escape(b['label'])} | {b['currency'] or ''} | {money_shown(a['old'])} | "
                f"{money_shown(a['new'])} | {money_shown(a['change'], signed=True)} | "
                f"{a['undetermined']['old']} / {a['undetermined']['new']} |"
            )
        for t in data["totals"]:
            out.append(
                f"| **total** | {t['currency'] or ''} | {money_shown(t['old'])} | {money_shown(t['new'])} | "
                f"{money_shown(t['change'], signed=True)} | "
                f"{t['undetermined']['old']} / {t['undetermined']['new']} |"
            )
        out.append("")
    ranged = [b for b in data["benefits"] if b.get("range")]
    if ranged:
        out += [
            "### Ranges decided case by case",
            "",
            "Sums of each range's low and high ends over the enterprises granted it; open: no upper end.",
            "",
            "| benefit | currency | old low — high | new low — high |",
            "| --- | --- | --- | --- |",
        ]

        def span(side: dict[str, Any]) -> str:
            opened = f" (+ {side['open']} open)" if side["open"] else ""
            return f"{money_shown(side['low'])} — {money_shown(side['high'])}{opened}"

        for b in ranged:
            r = b["range"]
            out.append(
                f"| {_md_escape(b['label'])} | {b['currency'] or ''} | {span(r['old'])} | {span(r['new'])} |"
            )
        for t in data["totals"]:
            if t.get("range"):
                out.append(
                    f"| **total, with the ranges** | {t['currency'] or ''} | {span(t['range']['old'])} | "
                    f"{span(t['range']['new'])} |"
                )
        out.append("")
    groups = data.get("groups")
    if groups:
        out += [f"### By {_md_escape(', '.join(groups['by']))}", ""]
        out += [
            "| group | enterprises | gains | losses | money, old → new (change) |",
            "| --- | ---: | ---: | ---: | --- |",
        ]
        for row in groups["rows"]:
            gained = sum(b["gained"] for b in row["benefits"])
            lost = sum(b["lost"] for b in row["benefits"])
            money = "; ".join(
                f"{t['currency'] or ''} {money_shown(t['old'])} → {money_shown(t['new'])} "
                f"({money_shown(t['change'], signed=True)})".strip()
                for t in row["totals"]
            )
            label = _md_escape(group_label(groups["by"], row["group"]))
            out.append(f"| {label} | {row['enterprises']} | {gained} | {lost} | {money} |")
        out.append("")
        for row in groups["rows"]:
            label = group_label(groups["by"], row["group"])
            for b in row["benefits"]:
                if b["gained"] or b["lost"]:
                    name = labels.get(b["benefit"], b["benefit"])
                    out.append(f"- {_md_escape(label)}: {_md_escape(name)} +{b['gained']} −{b['lost']}")
        out.append("")
    return out


def _md_rules(rules: Iterable[RuleChange]) -> list[str]:
    out = ["| rule | field | old | new |", "|---|---|---|---|"]
    for rule in rules:
        for field in rule.fields:
            out.append(
                f"| {rule.kind} {_md_escape(rule.id)} ({rule.status}) | {field.field} | "
                f"{_md_escape(field.old or '—')} | {_md_escape(field.new or '—')} |"
            )
        old_cites = "；".join(f"「{c}」" for c in rule.citations_old) or "—"
        new_cites = "；".join(f"「{c}」" for c in rule.citations_new) or "—"
        if rule.citations_old or rule.citations_new:
            out.append(
                f"| {rule.kind} {_md_escape(rule.id)} ({rule.status}) | cites | "
                f"{_md_escape(old_cites)} | {_md_escape(new_cites)} |"
            )
    return out
