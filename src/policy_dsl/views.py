"""Views a user asks of a checked policy: who is responsible for what, the facts schema, the reasoning.

Entry points: :func:`agency_table`, :func:`facts_schema`, :func:`explain`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from typing import Any

import attrs

from policy_dsl import intake
from policy_dsl.check import CheckedPolicy, CheckedVocabulary
from policy_dsl.evaluate import (
    KEEP_SHOWN,
    BenefitOutcome,
    DutyOutcome,
    Outcome,
    cap_text,
    exact_money_text,
    money_text,
    range_text,
    render_text,
    shown_test,
    tiers_text,
)
from policy_dsl.values import format_decimal

#: Words of a validity clause (本政策自发布之日起施行，暂定三年有效期): the header citation that
#: explains a rule's period when the rule has none of its own.
VALIDITY_WORDS = re.compile(r"施行|执行|有效期|暂定|废止|失效")

# ---------------------------------------------------------------- agencies


def agency_rows(checked: CheckedPolicy) -> list[dict[str, Any]]:
    """One row per agency named anywhere: the measures it leads, co-leads, and the rules naming it."""
    rows: dict[str, dict[str, Any]] = {}

    def row(ident: str) -> dict[str, Any]:
        if ident not in rows:
            agency = checked.agencies.agencies[ident]
            rows[ident] = {
                "id": ident,
                "name": agency.name.value,
                "aliases": [a.value for a in agency.aliases],
                "leads": [],
                "co_leads": [],
                "rules": [],
            }
        return rows[ident]

    for info in checked.measures:
        label = info.unit.label + (info.unit.title.value if info.unit.title else "")
        for position, ident in enumerate(info.agencies):
            row(ident)["leads" if position == 0 else "co_leads"].append(label)
    for rule_info in (*checked.benefits, *checked.duties, *checked.targets):
        if rule_info.rule.agencies:
            for ident in rule_info.agencies:
                row(ident)["rules"].append(f"{rule_info.unit.label}{rule_info.rule.name}")
    return sorted(rows.values(), key=lambda r: (-len(r["leads"]), -len(r["co_leads"]), r["id"]))


def agency_table(checked: CheckedPolicy, output: str = "text") -> str:
    rows = agency_rows(checked)
    if output == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["agency", "full name", "leads", "co-leads", "rules"])
        for r in rows:
            writer.writerow(
                [r["id"], r["name"], "; ".join(r["leads"]), "; ".join(r["co_leads"]), "; ".join(r["rules"])]
            )
        return buffer.getvalue()
    lines: list[str] = []
    for r in rows:
        lines.append(f"{r['id']}  {r['name']}")
        lines.append(f"  leads ({len(r['leads'])}): " + ("、".join(r["leads"]) or "—"))
        lines.append(f"  co-leads ({len(r['co_leads'])}): " + ("、".join(r["co_leads"]) or "—"))
        if r["rules"]:
            lines.append(f"  named on rules: {'、'.join(r['rules'])}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- facts schema

# Every pattern is made by policy_dsl.intake from the tables its reader uses: the schema accepts
# exactly the text `policy eval` and the standalone module read (tests/test_contract.py).


def _amount_schema(pattern: str) -> dict[str, Any]:
    """An amount that cannot be negative: a JSON number ≥ 0 or text in ``pattern``."""
    return {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": pattern}]}


def fact_schema(checked: CheckedPolicy | CheckedVocabulary, name: str) -> dict[str, Any]:
    """The JSON Schema of one fact of a policy or a vocabulary."""
    return _fact_schema(checked, name)


def _fact_schema(checked: CheckedPolicy | CheckedVocabulary, name: str) -> dict[str, Any]:
    info = checked.all_facts[name]
    kind, param = info.type.kind, info.type.param
    schema: dict[str, Any]
    if kind == "list":  # a list of items, each an object of the item's facts ([] for none)
        fields = checked.items[param or ""].facts
        schema = {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {field: _fact_schema(checked, field) for field in fields},
                "additionalProperties": False,
            },
        }
    elif kind == "bool":
        schema = {"type": "boolean"}
    elif kind == "integer":
        schema = {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": intake.integer_pattern(True)}]}
    elif kind == "decimal":
        schema = {"anyOf": [{"type": "number"}, {"type": "string", "pattern": intake.amount_pattern(True)}]}
    elif kind == "money":
        currency = param or ""
        schema = {
            "anyOf": [
                {
                    "type": "string",
                    "pattern": intake.money_pattern(currency),
                    "description": f"an amount in {currency}, e.g. 500万 or 500万 {currency}",
                },
                {"type": "number", "minimum": 0},
                {
                    "type": "object",
                    "properties": {
                        "amount": _amount_schema(intake.amount_pattern(False)),
                        "currency": {"enum": intake.currency_words(currency)},
                    },
                    "required": ["amount", "currency"],
                    "additionalProperties": False,
                },
            ],
            "x-currency": currency,
        }
    elif kind == "percent":
        schema = {"anyOf": [{"type": "number"}, {"type": "string", "pattern": intake.percent_pattern()}]}
    elif kind == "date":
        schema = {"type": "string", "pattern": intake.date_pattern()}
    elif kind == "duration":
        unit = param or ""
        schema = {
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": intake.integer_pattern(False)},
                {"type": "string", "pattern": intake.duration_pattern(unit)},
                {
                    "type": "object",
                    "properties": {
                        "value": {
                            "anyOf": [
                                {"type": "integer", "minimum": 0},
                                {"type": "string", "pattern": intake.natural_pattern()},
                            ]
                        },
                        "unit": {"enum": intake.duration_words(unit)},
                    },
                    "required": ["value", "unit"],
                    "additionalProperties": False,
                },
            ],
            "x-unit": unit,
        }
    else:
        enum = checked.enums[param or ""]
        values = [v.name for v in enum.values]
        # an open enum (等): any non-empty text; the listed values are examples
        item: dict[str, Any] = (
            {"type": "string", "minLength": 1, "examples": values, "x-open": True}
            if enum.open
            else {"enum": values}
        )
        schema = item if kind == "enum" else {"type": "array", "items": item, "uniqueItems": True}
    _bounded(schema)
    _nullable(schema)  # null, like a fact left out, is unknown
    decl = info.decl
    if decl.label is not None:
        schema["title"] = decl.label.value
    if decl.description is not None:
        schema["description"] = decl.description.value
    schema["x-policy-type"] = str(info.type)
    return schema


def _bounded(schema: dict[str, Any]) -> None:
    """Every number in ``schema`` less than 10^38 in magnitude, as the reader requires (intake.LIMIT)."""
    if schema.get("type") in ("integer", "number"):
        schema["exclusiveMaximum"] = intake.LIMIT
        if "minimum" not in schema:
            schema["exclusiveMinimum"] = -intake.LIMIT
    for value in schema.values():
        if isinstance(value, dict):
            _bounded(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    _bounded(item)


def _nullable(schema: dict[str, Any]) -> None:
    """Let ``schema`` take null too, keeping its shape (an enum lists null; a type becomes a list)."""
    if "anyOf" in schema:
        schema["anyOf"].append({"type": "null"})
    elif "enum" in schema:
        schema["enum"].append(None)
    else:
        schema["type"] = [schema["type"], "null"]


def facts_schema(checked: CheckedPolicy) -> dict[str, Any]:
    """A JSON Schema (2020-12) of the facts object an application must supply; every fact is optional.

    Its patterns are matched whole. A date's pattern admits 2022-02-30, which the reader refuses
    ("no such date"), as no pattern checks the calendar. null is unknown, like a fact left out.
    The facts' ``implies`` (one fact's value makes another true) are not in the schema: the readers
    check them.
    """
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Facts for {checked.title}",
        "description": "Facts about one enterprise. A fact left out is unknown; "
        "outcomes that need it say so.",
        "type": "object",
        "properties": {name: _fact_schema(checked, name) for name in checked.facts},
        "additionalProperties": False,
    }


# ---------------------------------------------------------------- explanation


def explain(checked: CheckedPolicy, outcome: Outcome) -> str:
    """The outcome with its full reasoning: each step quotes the citation it rests on."""
    definitions = checked.definitions
    head = render_text(outcome, verbose=False).splitlines()
    lines = [head[0], *(line for line in head[1:2] if line.startswith("a draft")), ""]
    mark = {True: "✓", False: "✗", None: "?"}

    def quote(cites: Iterable[str]) -> str:
        return "；".join(f"「{c}」" for c in cites)

    def steps(rule: BenefitOutcome | DutyOutcome, own: tuple[str, ...]) -> None:
        if rule.condition is not None:
            lines.append(f"  when {rule.condition}")
        step = 0
        for result in rule.conditions:
            step += 1
            test, holds = shown_test(result)
            value = {True: "true", False: "false", None: "unknown"}[holds]
            lines.append(f"  {step}. {mark[holds]} {test} is {value}  ({result.at})")
            if result.definition is not None and result.definition in definitions:
                cites: tuple[str, ...] = tuple(c.text.value for c in definitions[result.definition].citations)
            else:
                cites = own
            lines.append(f"       per {quote(cites)}")
        if rule.period is not None:
            step += 1
            start = rule.period[0].isoformat() if rule.period[0] else "—"
            end = rule.period[1].isoformat() if rule.period[1] else "no end date"
            state = "in force" if rule.in_period else "not in force"
            day = outcome.as_of.isoformat()
            lines.append(f"  {step}. {mark[rule.in_period]} {day} is {state} ({start} to {end})")
            info = checked.rule(rule.id)
            inherited = info is not None and info.written is not None and info.written.period is None
            validity = tuple(
                c.text.value for c in checked.header.citations if VALIDITY_WORDS.search(c.text.value)
            ) or tuple(c.text.value for c in checked.header.citations)
            if inherited:  # the document's validity: quote the sentence that states it
                lines.append(
                    f"       per {quote(validity)}" if validity else "       per the document's validity"
                )
            else:
                lines.append(f"       per {quote(own)}")
        if rule.missing_facts:
            lines.append("  missing facts: " + ", ".join(rule.missing_facts))

    for benefit in outcome.benefits:
        lines.append(f"{benefit.label} — {benefit.status.replace('_', ' ')}")
        lines.extend(_reference(checked, benefit.id))
        own = tuple(c.text for c in benefit.citations)
        if benefit.items:  # decided per item: each item's own steps
            if benefit.condition is not None:
                lines.append(f"  when {benefit.condition}")
            for item in benefit.items:
                paid = f", {exact_money_text(item.amount)}" if item.amount is not None else ""
                lines.append(f"  item {item.item} of {benefit.each} — {item.status.replace('_', ' ')}{paid}")
                start = len(lines)
                steps(
                    attrs.evolve(
                        benefit,
                        condition=None,
                        conditions=item.conditions,
                        period=None,
                        missing_facts=item.missing_facts if item.status != "not_eligible" else (),
                    ),
                    own,
                )
                lines[start:] = ["  " + line for line in lines[start:]]
        else:
            steps(benefit, own)
            if benefit.each is not None:
                lines.append(
                    f"  for each {benefit.each}: "
                    + ("the items are not known" if benefit.items is None else "no items")
                )
        conclusion = {
            "eligible": {
                "entitled": "so the enterprise is eligible",
                "may_receive": "so the enterprise may receive it: the text supports it, the agency decides",
                "priority": "so the enterprise is among those given priority (优先), not entitled",
                "case_by_case": "so the enterprise qualifies to negotiate it case by case (一事一议)",
                "intention": "so the enterprise is within what the text announces: nothing is owed yet",
            }.get(benefit.commitment, "so the enterprise is eligible"),
            "not_eligible": "so the enterprise is not eligible",
            "unknown": "so eligibility cannot be decided without the missing facts",
            "not_in_force": "so the rule is not in force on this day",
            "superseded": f"so the enterprise qualifies, but does not receive it: {benefit.superseded_by} is "
            "received instead (not cumulated)",
        }[benefit.status]
        if benefit.status == "unknown" and benefit.unlisted and not benefit.missing_facts:
            conclusion = "so eligibility cannot be decided: a value is not among the listed ones (等)"
        if benefit.status == "eligible" and benefit.ranged:
            if benefit.range is not None:
                low, high = benefit.range
                ends = (
                    f"{exact_money_text(low)} to {exact_money_text(high)}"
                    if high is not None
                    else f"at least {exact_money_text(low)}"
                )
                conclusion += f", for {ends}, decided case by case ({range_text(benefit)})"
            else:
                conclusion += f", for {range_text(benefit)}, decided case by case"
        elif benefit.status == "eligible" and benefit.each is not None:
            bounds = [exact_money_text(benefit.cap_total)] if benefit.cap_total else []
            bounds += list(benefit.cap_total_facts)
            total = f", at most {' and '.join(bounds)}" if bounds else ""
            if benefit.amount is not None:
                summed = f"its eligible items' amounts summed{total}"
                conclusion += f", for {exact_money_text(benefit.amount)} ({summed})"
            else:
                conclusion += ", for an amount not computed: an item is undecided or has no amount"
        elif benefit.status == "eligible" and benefit.tiers is not None:
            shown = tiers_text(benefit).removeprefix("amount: ")
            if benefit.tier is None:  # the fact the bands are of is unknown: the schedule, not an amount
                shown = f"an amount by its tiers ({shown}); not computed"
            conclusion += ", for " + shown
        elif benefit.amount is not None and benefit.per is not None and benefit.unit_amount is not None:
            count = format_decimal(benefit.per_count) if benefit.per_count is not None else "?"
            conclusion += (
                f", for {exact_money_text(benefit.amount)}"
                f" ({money_text(benefit.unit_amount)} per {benefit.per} × {count})"
            )
        elif benefit.amount is not None:
            conclusion += f", for {exact_money_text(benefit.amount)}"
        elif benefit.status == "eligible" and benefit.per is not None and benefit.unit_amount is not None:
            conclusion += f", for {money_text(benefit.unit_amount)} per {benefit.per} (not given: no amount)"
        elif benefit.status == "eligible" and cap_text(benefit) is not None:
            conclusion += f", for up to {cap_text(benefit)}"
        lines.append(f"  ⇒ {conclusion}: {quote(own)}")
        if benefit.stages is not None:  # paid in stages: which are reached, per the staging sentence
            staging = next(g for g in checked.staged if g.rule.name == benefit.stages[0].group)
            cited = quote(tuple(c.text.value for c in staging.rule.citations))
            if benefit.total is not None and benefit.amount is not None:
                shown = f"{exact_money_text(benefit.amount)} of {exact_money_text(benefit.total)} is payable"
            elif benefit.total is not None:
                shown = f"of {exact_money_text(benefit.total)}, the part payable is unknown"
            else:
                shown = "the whole amount is not known"
            lines.append(f"  paid in stages ({staging.rule.name}): {shown}: {cited}")
            for stage in benefit.stages:
                state = {True: "reached", False: "not reached", None: "unknown"}[stage.reached]
                mark_ = mark[stage.reached]
                lines.append(f"    {mark_} {stage.share} when {stage.condition} — {state}")
        for group in benefit.exclusive:
            cited = quote(tuple(c.text for c in group.citations))
            lines.append(f"  exclusive with {'、'.join(group.others)} ({KEEP_SHOWN[group.keep]}): {cited}")
        if benefit.agencies:
            lines.append("  responsible: " + "、".join(a.name for a in benefit.agencies))
        lines.append("")
    if outcome.duties:
        lines.append("Duties of the agencies and obligations of the enterprise")
        lines.append("")
    for duty in outcome.duties:
        general = duty.condition is None
        lines.append(
            f"{duty.label} — "
            + (
                "applies to all (a general duty in force)"
                if general and duty.status == "applies"
                else duty.status.replace("_", " ")
            )
        )
        lines.extend(_reference(checked, duty.id))
        own = tuple(c.text for c in duty.citations)
        steps(duty, own)
        levels = "; ".join(f"{label} {op} {value}" for label, op, value in duty.levels)
        who = "the enterprise must do or bear it" if duty.obligation else "the agencies owe it"
        conclusion = {
            "applies": f"so it applies to this enterprise: {who}"
            if not general
            else f"so it applies to all: {who}",
            "does_not_apply": "so it does not apply to this enterprise"
            if not general
            else "so it is not in force",
            "unknown": "so whether it applies cannot be decided without the missing facts",
            "not_in_force": "so it is not in force on this day",
        }[duty.status]
        if levels and duty.status == "applies":
            conclusion += f", with the service level {levels}"
        if duty.sanctions and duty.status == "applies":
            conclusion += f", and faces {'；'.join(duty.sanctions)}"
        lines.append(f"  ⇒ {conclusion}: {quote(own)}")
        if duty.agencies:
            lines.append("  responsible: " + "、".join(a.name for a in duty.agencies))
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _reference(checked: CheckedPolicy, rule_id: str) -> list[str]:
    """For a cross-reference: which rule it follows, where, and what it states of its own."""
    info = checked.rule(rule_id)
    if info is None or info.follows is None:
        return []
    target = checked.rule(info.follows)
    where = f" ({target.unit.label})" if target is not None and target.unit.kind != "document" else ""
    written = info.written
    own = []
    if written is not None:
        own = [
            name
            for name in (
                "kind",
                "commits",
                "when",
                "amount",
                "per",
                "rate",
                "tiers",
                "cap",
                "frequency",
                "period",
                "agencies",
                "levels",
            )
            if getattr(written, name, None) not in (None, ())
        ]
    stated = f"; it states its own {', '.join(own)}" if own else "; it states nothing of its own"
    return [f"  follows {info.follows}{where}: the terms of that rule apply here{stated}"]
