"""A library match rendered: JSON (for apps), text (for a terminal) and a self-contained HTML page.

Entry points: :func:`match_json`, :func:`match_text`, :func:`match_html`; each reads a
:class:`policy_dsl.library.Match` and nothing else.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from policy_dsl.evaluate import (
    ELIGIBLE,
    NOT_ELIGIBLE,
    NOT_IN_FORCE,
    SUPERSEDED,
    UNKNOWN,
    BenefitOutcome,
    base_text,
    money_text,
    range_text,
)
from policy_dsl.values import Money

if TYPE_CHECKING:
    from policy_dsl.library import Entry, Match

#: How each commitment's section is headed.
SECTION = {
    "entitled": "Entitled (给予: the text grants it)",
    "may_receive": "May receive (支持/鼓励: the agency decides)",
    "priority": "Priority (优先: preferred where there is a selection)",
    "case_by_case": "Case by case (一事一议: negotiated)",
    "intention": "Announced (研究/推动: nothing owed yet)",
}
STANDING_SHOWN = {
    "in_force": "in force",
    "not_in_force": "not in force",
    "repealed": "replaced",
    "outside_area": "outside the enterprise's area",
}
SETTLED_SHOWN = {
    "keep highest": "就高不重复: the highest of the same reward across documents",
    "precedence higher": "上级文件优先: the higher-level document's reward",
    "stacks": "the same reward in another document too; no text forbids receiving both",
    "one of": "就高不重复: one of these, the highest — the amounts cannot be compared here",
}


def _money(money: Money | None) -> dict[str, str] | None:
    return None if money is None else {"amount": format(money.amount, "f"), "currency": money.currency}


def value_text(benefit: BenefitOutcome, fixed: Money | None = None) -> str:
    """What a benefit gives, as shown: 50万元, 10万元 — 100万元, 5% of 投资额, or nothing; ``fixed``:
    the amount it pays whatever the facts, shown for a benefit not (yet) eligible."""
    if benefit.ranged:
        if benefit.range is not None and benefit.rate is not None:  # the enterprise's own ends
            low, high = benefit.range
            ends = (
                f"{money_text(low)} — {money_text(high)}"
                if high is not None
                else f"at least {money_text(low)}"
            )
            return f"{ends} ({range_text(benefit)})"
        return range_text(benefit)
    if benefit.amount is not None:
        return money_text(benefit.amount)
    if fixed is not None:
        return money_text(fixed)
    if benefit.rate is not None:
        return f"{benefit.rate}{base_text(benefit)}"
    return ""


def _benefit_json(match: Match, entry: Entry) -> dict[str, Any]:
    benefit = match.benefit(entry.policy, entry.benefit)
    checked = match.library.policies[entry.policy].checked
    return {
        "policy": entry.policy,
        "document": checked.title,
        "benefit": entry.benefit,
        "label": benefit.label,
        "kind": benefit.kind,
        "commitment": entry.commitment,
        "status": entry.status,
        "amount": _money(benefit.amount),
        "range": [_money(benefit.range[0]), _money(benefit.range[1])] if benefit.range else None,
        "value": value_text(benefit, entry.amount),
        "measure": benefit.measure,
        "measure_title": benefit.measure_title,
        "citations": [{"text": c.text, "note": c.note} for c in benefit.citations],
        "agencies": [{"id": a.id, "name": a.name} for a in benefit.agencies],
        "missing_facts": list(dict.fromkeys(entry.missing)),
        "replaced_by": entry.by if entry.status == "repealed" else None,
        "superseded_by": (
            {"policy": entry.superseded_by[0], "benefit": entry.superseded_by[1]}
            if entry.superseded_by
            else None
        ),
        "same": entry.group,
        "settled": entry.settled,
        "basis": {"policy": entry.basis[0], "text": entry.basis[1]} if entry.basis else None,
    }


def _order(match: Match, entries: list[Entry]) -> list[Entry]:
    order = {pid: i for i, pid in enumerate(match.library.policies)}
    rank = {
        (pid, info.rule.name): i
        for pid, policy in match.library.policies.items()
        for i, info in enumerate(policy.checked.benefits)
    }
    return sorted(entries, key=lambda e: (order[e.policy], rank.get((e.policy, e.benefit), 0)))


def match_json(match: Match) -> dict[str, Any]:
    library = match.library
    documents = []
    for pid, policy in library.policies.items():
        checked = policy.checked
        standing = match.standings[pid]
        documents.append(
            {
                "policy": pid,
                "title": checked.title,
                "version": checked.header.version.value if checked.header.version else None,
                "status": "draft" if checked.validity.draft else "final",
                "level": checked.validity.level,
                "jurisdiction": library.jurisdiction(pid),
                "validity": {
                    "start": checked.validity.start.isoformat() if checked.validity.start else None,
                    "end": checked.validity.end.isoformat() if checked.validity.end else None,
                },
                "standing": standing.status,
                "replaced_by": standing.by,
                "area_known": standing.area_known,
            }
        )
    counts: dict[str, int] = {}
    for entry in match.entries.values():
        counts[entry.status] = counts.get(entry.status, 0) + 1
    return {
        "library": library.title,
        "as_of": match.as_of.isoformat(),
        "adopted": match.adopted,
        "area": match.area,
        "documents": documents,
        "benefits": {
            commitment: [_benefit_json(match, e) for e in _order(match, match.eligible(commitment))]
            for commitment in SECTION
        },
        "unknown": [_benefit_json(match, e) for e in _order(match, match.by_status(UNKNOWN))],
        "superseded": [_benefit_json(match, e) for e in _order(match, match.by_status(SUPERSEDED))],
        "totals": [_money(m) for m in match.totals().values()],
        "ask_next": [
            {
                "fact": ask.fact,
                "label": ask.label,
                "decides": [
                    {
                        "policy": pid,
                        "benefit": bid,
                        "label": match.benefit(pid, bid).label,
                        "commitment": match.entries[(pid, bid)].commitment,
                        "value": value_text(match.benefit(pid, bid), match.entries[(pid, bid)].amount),
                    }
                    for pid, bid in ask.decides
                ],
                "amounts": [_money(a) for a in ask.amounts],
                "also_needed_for": ask.also,
            }
            for ask in match.ask_next()
        ],
        "counts": counts,
    }


def _entry_line(match: Match, entry: Entry) -> list[str]:
    benefit = match.benefit(entry.policy, entry.benefit)
    value = value_text(benefit, entry.amount)
    where = f"{entry.policy} {benefit.measure}".strip()
    lines = [f"  {benefit.label}" + (f" — {value}" if value else "") + f"  [{where}]"]
    if entry.status != UNKNOWN:  # the unknown ones: what is missing, not yet the text
        if benefit.agencies:
            lines.append("      agencies: " + "、".join(a.name for a in benefit.agencies))
        for citation in benefit.citations[:2]:
            lines.append(f"      「{citation.text}」")
    if entry.settled and entry.status == ELIGIBLE:
        lines.append(
            f"      same as other documents' rewards ({entry.group}): {SETTLED_SHOWN[entry.settled]}"
        )
    if entry.status == SUPERSEDED and entry.superseded_by:
        pid, bid = entry.superseded_by
        kept = match.benefit(pid, bid)
        why = SETTLED_SHOWN.get(entry.settled or "", "不重复享受")
        lines.append(f"      superseded by {kept.label} [{pid}] — {why}")
        if entry.basis:
            lines.append(f"      as {entry.basis[0]} says: 「{entry.basis[1]}」")
    if entry.status == UNKNOWN and entry.missing:
        lines.append("      missing: " + ", ".join(dict.fromkeys(entry.missing)))
    return lines


def match_text(match: Match) -> str:
    library = match.library
    area = f", enterprise in {match.area}" if match.area else ""
    lines = [f"{library.title} — as of {match.as_of.isoformat()}{area}"]
    if match.adopted:
        lines.append("drafts read as if adopted as written")
    lines += ["", "Documents:"]
    for pid, standing in match.standings.items():
        checked = library.policies[pid].checked
        shown = STANDING_SHOWN[standing.status]
        if standing.by:
            shown += f" by {standing.by}"
        if standing.status == "in_force" and not standing.area_known:
            shown += f" (if the enterprise is in {library.jurisdiction(pid)})"
        lines.append(f"  {pid}: {checked.title} — {shown}")
    for commitment, heading in SECTION.items():
        eligible = _order(match, match.eligible(commitment))
        if eligible:
            lines += ["", f"{heading} ({len(eligible)}):"]
            for entry in eligible:
                lines += _entry_line(match, entry)
    totals = match.totals()
    if totals:
        lines += [
            "",
            "Fixed amounts entitled to, in all: " + " + ".join(money_text(m) for m in totals.values()),
        ]
    superseded = _order(match, match.by_status(SUPERSEDED))
    if superseded:
        lines += ["", f"Superseded ({len(superseded)}):"]
        for entry in superseded:
            lines += _entry_line(match, entry)
    unknown = _order(match, match.by_status(UNKNOWN))
    if unknown:
        lines += ["", f"Could be eligible — unknown ({len(unknown)}):"]
        for entry in unknown:
            lines += _entry_line(match, entry)
    asks = match.ask_next()
    if asks:
        lines += ["", "Ask next (the facts that could decide the most):"]
        for number, ask in enumerate(asks[:10], start=1):
            amounts = ("up to " + " + ".join(money_text(a) for a in ask.amounts)) if ask.amounts else ""
            decided = f"decides {len(ask.decides)} benefit{'s' if len(ask.decides) != 1 else ''} alone"
            lines.append(
                f"  {number}. {ask.fact}"
                + (f" ({ask.label})" if ask.label != ask.fact else "")
                + f" — {decided}"
                + (f" ({amounts})" if amounts else "")
                + (f"; needed with others for {ask.also} more" if ask.also else "")
            )
        if len(asks) > 10:
            lines.append(f"  … and {len(asks) - 10} more facts (see --format json)")
    counts = [
        (ELIGIBLE, "eligible"),
        (UNKNOWN, "unknown"),
        (NOT_ELIGIBLE, "not eligible"),
        (SUPERSEDED, "superseded"),
        (NOT_IN_FORCE, "not in force"),
        ("repealed", "replaced"),
        ("outside_area", "outside the area"),
    ]
    found = {status: sum(1 for e in match.entries.values() if e.status == status) for status, _ in counts}
    lines += ["", "Benefits: " + ", ".join(f"{found[s]} {word}" for s, word in counts if found[s])]
    return "\n".join(lines) + "\n"


_CSS = """
body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:2rem auto;max-width:60rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .5rem;vertical-align:top}
tr:nth-child(even){background:#f6f6f6}.cite{color:#555;font-size:.9em}.value{white-space:nowrap;font-weight:600}
.muted{color:#777}
"""


def match_html(match: Match) -> str:
    """A self-contained page (no scripts, no outside resources)."""
    e = html.escape
    data = match_json(match)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh"><head><meta charset="utf-8">',
        f"<title>{e(data['library'])} — {e(data['as_of'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(data['library'])}</h1>",
        f"<p>As of {e(data['as_of'])}"
        + (f"; enterprise in {e(data['area'])}" if data["area"] else "")
        + "</p>",
        "<h2>Documents</h2><table><tr><th>Policy</th><th>Title</th><th>Standing</th></tr>",
    ]
    for doc in data["documents"]:
        standing = STANDING_SHOWN[doc["standing"]] + (
            f" by {doc['replaced_by']}" if doc["replaced_by"] else ""
        )
        parts.append(f"<tr><td>{e(doc['policy'])}</td><td>{e(doc['title'])}</td><td>{e(standing)}</td></tr>")
    parts.append("</table>")

    def rows(items: list[dict[str, Any]], extra: str) -> None:
        parts.append("<table><tr><th>Benefit</th><th>Value</th><th>Where</th><th>" + extra + "</th></tr>")
        for item in items:
            cites = "<br>".join(f"「{e(c['text'])}」" for c in item["citations"][:2])
            agencies = "、".join(e(a["name"]) for a in item["agencies"])
            if extra == "Missing":
                note = e(", ".join(item["missing_facts"]))
            elif item["superseded_by"]:
                note = e(
                    f"superseded by {item['superseded_by']['benefit']} ({item['superseded_by']['policy']})"
                )
            else:
                note = agencies
            parts.append(
                f"<tr><td>{e(item['label'])}<div class=cite>{cites}</div></td>"
                f"<td class=value>{e(item['value'])}</td>"
                f"<td>{e(item['policy'])}<div class=muted>{e(item['measure'])}</div></td><td>{note}</td></tr>"
            )
        parts.append("</table>")

    for commitment, heading in SECTION.items():
        items = data["benefits"][commitment]
        if items:
            parts.append(f"<h2>{e(heading)} ({len(items)})</h2>")
            rows(items, "Agencies")
    if data["totals"]:
        shown = " + ".join(f"{t['amount']} {t['currency']}" for t in data["totals"])
        parts.append(f"<p>Fixed amounts entitled to, in all: <b>{e(shown)}</b></p>")
    if data["superseded"]:
        parts.append(f"<h2>Superseded ({len(data['superseded'])})</h2>")
        rows(data["superseded"], "Why")
    if data["unknown"]:
        parts.append(f"<h2>Could be eligible — unknown ({len(data['unknown'])})</h2>")
        rows(data["unknown"], "Missing")
    if data["ask_next"]:
        parts.append("<h2>Ask next</h2><ol>")
        for ask in data["ask_next"][:10]:
            decided = "、".join(e(d["label"]) for d in ask["decides"])
            parts.append(
                f"<li><b>{e(ask['fact'])}</b> — decides {len(ask['decides'])} alone"
                + (f": {decided}" if decided else "")
                + (
                    f"; needed with others for {ask['also_needed_for']} more"
                    if ask["also_needed_for"]
                    else ""
                )
                + "</li>"
            )
        parts.append("</ol>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
