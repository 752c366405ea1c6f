"""The population layer of a diff: how many real enterprises gain, lose or change each benefit.

Entry point: :func:`population_diff`. A population is a CSV file (a header row; one enterprise a
row) or JSON lines (one object a line). An ``id`` column names each enterprise (else its row
number); every other column is a fact, in the same notation as ``policy eval`` (``480万美元``,
``2022-06-20``, ``true``; a set as ``FDA;EMA``); an empty cell is unknown. A column that is a fact
of neither version is an error: nothing a user gave is silently ignored.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from policy_dsl.diff import PolicyDiff
from policy_dsl.errors import Diagnostic, PolicyError, PolicyLoadError
from policy_dsl.facts import validate_facts
from policy_dsl.policy import Policy, load, read_source
from policy_dsl.source import display_width

GAINED = "gained"
LOST = "lost"
CHANGED = "changed"
UNKNOWN = "unknown"
KINDS = (GAINED, LOST, CHANGED, UNKNOWN)
ID_COLUMNS = ("id", "ID", "Id", "企业编号", "编号")
#: How many enterprise ids the text report lists per benefit and kind (JSON lists all).
SHOWN_IDS = 10

_TRUE = {"true", "1", "yes", "y", "是", "t"}
_FALSE = {"false", "0", "no", "n", "否", "f"}


@attrs.frozen
class BenefitPopulation:
    id: str
    label: str
    eligible_old: int
    eligible_new: int
    ids: dict[str, tuple[str, ...]]

    def count(self, kind: str) -> int:
        return len(self.ids.get(kind, ()))


@attrs.frozen
class PopulationDiff:
    path: str
    rows: int
    as_of: dt.date
    benefits: tuple[BenefitPopulation, ...]

    @property
    def different(self) -> bool:
        return any(b.ids.get(k) for b in self.benefits for k in KINDS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "enterprises": self.rows,
            "as_of": self.as_of.isoformat(),
            "benefits": [
                {
                    "benefit": b.id,
                    "label": b.label,
                    "eligible": {"old": b.eligible_old, "new": b.eligible_new},
                    **{kind: {"count": b.count(kind), "ids": list(b.ids.get(kind, ()))} for kind in KINDS},
                }
                for b in self.benefits
            ],
        }

    def summary_lines(self) -> list[str]:
        moved = [b for b in self.benefits if any(b.count(k) for k in KINDS)]
        totals = {k: sum(b.count(k) for b in self.benefits) for k in KINDS}
        return [
            f"  population: {self.rows} enterprises from {self.path} as of {self.as_of.isoformat()}: "
            f"{len(moved)} benefits move — {totals[GAINED]} gains, {totals[LOST]} losses, "
            f"{totals[CHANGED]} amount changes, {totals[UNKNOWN]} become or stop being unknown"
        ]

    def detail_lines(self) -> list[str]:
        lines = ["Population (winners and losers)"]
        columns = f"{'old':>6} {'new':>6} {'gained':>7} {'lost':>6} {'changed':>8} {'unknown':>8}"
        header = f"  {_pad('benefit', 40)} {columns}"
        lines.append(header)
        for b in self.benefits:
            if not any(b.count(k) for k in KINDS):
                continue
            lines.append(
                f"  {_pad(b.label, 40)} {b.eligible_old:>6} {b.eligible_new:>6} {b.count(GAINED):>7} "
                f"{b.count(LOST):>6} {b.count(CHANGED):>8} {b.count(UNKNOWN):>8}"
            )
            for kind in KINDS:
                ids = b.ids.get(kind, ())
                if ids:
                    shown = ", ".join(ids[:SHOWN_IDS]) + (
                        f", … {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else ""
                    )
                    lines.append(f"      {kind}: {shown}")
        return lines


def _value(outcome: dict[str, Any] | None) -> tuple[Any, ...]:
    """What an eligible enterprise gets: the amount, and the cap and rate it is bounded by."""
    if outcome is None:
        return (None, None, None)
    amount, cap = outcome["amount"], outcome["cap"]
    return (amount and amount["amount"], cap and cap["amount"], outcome["rate"])


def _pad(text: str, width: int) -> str:
    """``text`` cut or padded to ``width`` terminal columns (CJK characters take two)."""
    out = ""
    for char in text:
        if display_width(out + char) > width - 1 and display_width(text) > width:
            out += "…"
            break
        out += char
    return out + " " * max(width - display_width(out), 0)


def read_population(path: str) -> list[tuple[str, dict[str, Any], int]]:
    """Rows as (id, raw facts, line number); CSV or JSON lines by the file's content."""
    source = read_source(path)
    text = source.text
    rows: list[tuple[str, dict[str, Any], int]] = []
    stripped = text.lstrip()
    if stripped.startswith("{"):
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line, parse_float=Decimal)
            except json.JSONDecodeError as exc:
                raise PolicyLoadError(
                    [Diagnostic(f"{path}:{number}: not a JSON object: {exc.msg}")]
                ) from None
            if not isinstance(data, dict):
                raise PolicyLoadError([Diagnostic(f"{path}:{number}: each line must be a JSON object")])
            ident = _take_id(data, number)
            rows.append((ident, data, number))
        return rows
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames:
        raise PolicyLoadError([Diagnostic(f"{path}: empty population file")])
    for number, record in enumerate(reader, start=2):
        data = {k: v for k, v in record.items() if k is not None and v is not None and v.strip() != ""}
        ident = _take_id(data, number)
        rows.append((ident, data, number))
    return rows


def _take_id(data: dict[str, Any], number: int) -> str:
    for column in ID_COLUMNS:
        if column in data:
            return str(data.pop(column))
    return f"row {number}"


def _csv_value(value: Any, kind: str) -> Any:
    """Strings from CSV cells made into what fact validation expects for the fact's type."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if kind == "bool":
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    if kind == "set":
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.replace("|", ";").replace("、", ";").split(";") if part.strip()]
    return text


def _facts_for(policy: Policy, raw: dict[str, Any]) -> dict[str, Any]:
    facts = {}
    for name, value in raw.items():
        info = policy.checked.facts.get(name)
        if info is not None:
            facts[name] = _csv_value(value, info.type.kind)
    return facts


def population_diff(
    diff: PolicyDiff, old_path: str, new_path: str, population_path: str, as_of: dt.date | None = None
) -> PolicyDiff:
    """``diff`` with its population layer: every enterprise evaluated under both versions."""
    if not (diff.old.encoded and diff.new.encoded):
        raise PolicyLoadError(
            [Diagnostic("--population needs two .policy encodings: plain texts have no rules to evaluate")]
        )
    old, new = load(old_path), load(new_path)
    day = as_of or diff.as_of or dt.date.today()
    rows = read_population(population_path)
    known = set(old.checked.facts) | set(new.checked.facts)
    problems: list[Diagnostic] = []
    columns = sorted({name for _, raw, _ in rows for name in raw} - known)
    for column in columns:
        problems.append(Diagnostic(f"{population_path}: column `{column}` is a fact of neither version"))
    outcomes: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for ident, raw, number in rows:
        try:
            old_facts = validate_facts(old.checked, _facts_for(old, raw))
            new_facts = validate_facts(new.checked, _facts_for(new, raw))
        except PolicyError as error:
            for diagnostic in error.diagnostics:
                problems.append(
                    Diagnostic(
                        f"{population_path}:{number} ({ident}): {diagnostic.message}", hint=diagnostic.hint
                    )
                )
            continue
        before = {b["id"]: b for b in old.compiled.evaluate(old_facts, day)["benefits"]}
        after = {b["id"]: b for b in new.compiled.evaluate(new_facts, day)["benefits"]}
        outcomes.append((ident, before, after))
    if problems:
        raise PolicyLoadError(problems)
    labels: dict[str, str] = {}
    for info in (*new.checked.benefits, *old.checked.benefits):
        labels.setdefault(info.rule.name, info.rule.label.value if info.rule.label else info.rule.name)
    benefits: list[BenefitPopulation] = []
    for benefit, label in labels.items():
        ids: dict[str, list[str]] = {k: [] for k in KINDS}
        eligible_old = eligible_new = 0
        for ident, before, after in outcomes:
            o, n = before.get(benefit), after.get(benefit)
            o_status = o["status"] if o else "not_eligible"
            n_status = n["status"] if n else "not_eligible"
            eligible_old += o_status == "eligible"
            eligible_new += n_status == "eligible"
            if o_status == n_status == "eligible":
                if _value(o) != _value(n):
                    ids[CHANGED].append(ident)
            elif "unknown" in (o_status, n_status) and o_status != n_status:
                ids[UNKNOWN].append(ident)
            elif n_status == "eligible":
                ids[GAINED].append(ident)
            elif o_status == "eligible":
                ids[LOST].append(ident)
        benefits.append(
            BenefitPopulation(
                benefit, label, eligible_old, eligible_new, {k: tuple(v) for k, v in ids.items() if v}
            )
        )
    return attrs.evolve(
        diff, population=PopulationDiff(str(Path(population_path)), len(outcomes), day, tuple(benefits))
    )
