"""Validating the facts an application supplies: names, types, units, currencies, enum values.

Entry point: :func:`validate_facts`. The reading itself is :mod:`policy_dsl.intake`, the one
facts contract that the standalone module carries too (same notations, same values, same
messages); this module gives its problems positions in a facts file and raises them together as
a :class:`~policy_dsl.errors.FactsError`. Values become the exact runtime representation (money
→ Decimal amount in the declared currency, dates → ``datetime.date``, sets → frozenset). Floats
are refused unless ``allow_float`` (then read as ``Decimal(repr(x))``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from policy_dsl import intake
from policy_dsl.check import CheckedPolicy, FactInfo
from policy_dsl.errors import Diagnostic, FactsError
from policy_dsl.source import SourceFile, SourcePosition
from policy_dsl.values import Duration, Money, Percent


def fact_table(checked: CheckedPolicy) -> dict[str, dict[str, Any]]:
    """The policy's facts as :mod:`policy_dsl.intake` reads them (``FACTS`` of a compiled module):
    per fact its type, unit (currency, unit of time or enum), enum values, label and description."""
    return _table(checked, checked.facts)


def _table(checked: CheckedPolicy, facts: Mapping[str, FactInfo]) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for name, info in facts.items():
        kind, param = info.type.kind, info.type.param
        enum = checked.enums.get(param or "") if kind in {"enum", "set"} else None
        table[name] = {
            "type": kind,
            "unit": param if kind in {"money", "duration", "enum", "set", "list"} else None,
            "values": tuple(v.name for v in enum.values) if enum else None,
            "open": bool(enum and enum.open),  # `open enum` (等): a value not listed is accepted
            "label": info.decl.label.value if info.decl.label else name,
            "description": info.decl.description.value if info.decl.description else None,
            "implies": tuple(n.text for n in info.decl.implies),
        }
        if kind == "list":  # a list of items: each item's facts, read by the same contract
            table[name]["fields"] = _table(checked, checked.items[param or ""].facts)
    return table


def validate_facts(
    checked: CheckedPolicy,
    facts: Mapping[str, Any],
    source: SourceFile | None = None,
    allow_float: bool = False,
) -> dict[str, Any]:
    """The facts in runtime form; ``source`` (a JSON file's text) lets errors point into it.

    Besides what :mod:`policy_dsl.intake` reads, the library's own exact values are accepted:
    :class:`~policy_dsl.values.Money`, :class:`~policy_dsl.values.Percent` and
    :class:`~policy_dsl.values.Duration`.
    """
    if isinstance(facts, Mapping) and any(isinstance(v, Money | Percent | Duration) for v in facts.values()):
        facts = {name: _plain(value) for name, value in facts.items()}
    try:
        return intake.read_facts(facts, fact_table(checked), allow_float)
    except intake.FactsError as error:
        shown = error.problems[:MAX_PROBLEMS_SHOWN]  # each is searched for in the text: bounded
        found = [Diagnostic(message, locate(source, name), hint=hint) for name, message, hint in shown]
        raise FactsError(found, unlisted=len(error.problems) - len(shown)) from None


def _plain(value: Any) -> Any:
    """A library value in the form the facts contract reads."""
    if isinstance(value, Money):
        return {"amount": value.amount, "currency": value.currency}
    if isinstance(value, Percent):
        return value.value
    if isinstance(value, Duration):
        return {"value": value.amount, "unit": value.unit}
    return value


#: The most problems with one set of facts reported one by one (the rest are counted).
MAX_PROBLEMS_SHOWN = 100


def _offset(text: str, line: int, column: int) -> int:
    """The index in ``text`` of a 1-based line and column."""
    index = 0
    for _ in range(line - 1):
        index = text.index("\n", index) + 1
    return index + column - 1


def locate(source: SourceFile | None, name: str | None) -> SourcePosition | None:
    if source is None:
        return None
    if name is None:
        return SourcePosition(source, 1, 1, 1, 2)
    start = 0
    listed = re.fullmatch(r"(.+)\[(\d+)\](?:\.(.+))?", name)  # 品种[2].品种出口额: an item's fact
    if listed is not None:
        found = locate(source, listed[1])
        if found is not None and found.line > 0:
            start = _offset(source.text, found.line, found.column)
            name = listed[3] or listed[1]
            if listed[3] is None:
                return found
    for needle in (json.dumps(name, ensure_ascii=False), json.dumps(name)):
        index = source.text.find(needle, start)
        if index >= 0:
            line = source.text.count("\n", 0, index) + 1
            column = index - (source.text.rfind("\n", 0, index) + 1) + 1
            return SourcePosition(source, line, column, line, column + len(needle))
    return SourcePosition(source, 0, 0, 0, 0)
