"""The outcomes layer of a diff: where in the space of enterprises a benefit is gained, lost or changed.

Entry point: :func:`outcome_regions`. Rules compare facts with constants, so the constants of
both versions cut each fact's domain into cells (below, at and between the boundaries; every
value of an enum; the subsets that matter for a set; the days around each period's ends for the
date of evaluation) and every point of a cell behaves alike. Enumerating the combinations of the
cells of the facts a benefit reads, and evaluating both compiled versions on one representative
of each, is exact. Cells that differ the same way are merged into boxes, each stated as a
readable condition (出口额 in (500万, 1000万] 美元 and 首次投保 = true) with a concrete witness
enterprise, re-evaluated under both versions before it is reported. When the space is larger
than :data:`MAX_COMBINATIONS` it is sampled (deterministically), and the result says so.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import math
import random
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import attrs

from policy_dsl import model as m
from policy_dsl.check import CheckedPolicy, amount_edges
from policy_dsl.compile import CompiledPolicy
from policy_dsl.format import format_value
from policy_dsl.types import Type
from policy_dsl.values import (
    EXACT,
    MINOR_UNIT_DIGITS,
    Duration,
    Money,
    Percent,
    format_decimal,
    runtime_value,
)
from policy_dsl.visitor import Visitor

GAINED = "gained"
LOST = "lost"
CHANGED = "changed"

#: Beyond this many combinations of cells a benefit's space is sampled instead of enumerated.
MAX_COMBINATIONS = 20_000
#: A set-valued fact of up to this many values is tried on every subset (exact); beyond, on the
#: empty set, each single value and all values, and its regions are not marked exact.
MAX_SET_VALUES = 6
SAMPLE_SEED = 20221

_AS_OF = "评估日期"


@attrs.frozen
class Cell:
    """One piece of a fact's domain and the value that stands for it."""

    value: Any
    lo: Any = None
    lo_closed: bool = False
    hi: Any = None
    hi_closed: bool = False
    text: str = ""


@attrs.frozen
class VersionResult:
    status: str
    amount: str | None
    conditions: tuple[tuple[str, bool | None], ...]
    #: the tests that make the condition fail: false ones, and true ones under a `not`
    failing: tuple[str, ...] = ()
    #: a benefit's: what its text commits to (entitled, may_receive, …); None for a duty
    commitment: str | None = None


@attrs.frozen
class Witness:
    facts: tuple[tuple[str, str], ...]
    as_of: dt.date
    old: VersionResult
    new: VersionResult
    #: whether the date of evaluation matters (the benefit has a period in either version)
    dated: bool = True


@attrs.frozen
class Region:
    change: str
    condition: str
    constraints: tuple[tuple[str, str], ...]
    witness: Witness


@attrs.frozen
class BenefitRegions:
    """The regions of one rule: a benefit (eligible or not) or a duty (applies to the enterprise or not)."""

    id: str
    label: str
    regions: tuple[Region, ...]
    combinations: int
    evaluated: int
    exact: bool
    note: str | None = None
    kind: str = "benefit"


# ---------------------------------------------------------------- boundaries


def _constants(policy: CheckedPolicy | None, fact: str) -> list[Any]:
    """Every constant the policy compares ``fact`` with, as runtime values."""
    if policy is None:
        return []
    found: list[Any] = []

    def literal_of(node: m.Node) -> None:
        if isinstance(node, m.Literal):
            found.append(runtime_value(node.value))

    def walk(node: m.Node) -> None:
        if isinstance(node, m.Comparison):
            if isinstance(node.left, m.Reference) and node.left.name == fact:
                literal_of(node.right)
            if isinstance(node.right, m.Reference) and node.right.name == fact:
                literal_of(node.left)
        elif (
            isinstance(node, m.Between)
            and isinstance(node.subject, m.Reference)
            and node.subject.name == fact
        ):
            literal_of(node.low)
            literal_of(node.high)
        elif isinstance(node, m.And | m.Or):
            for operand in node.operands:
                walk(operand)
        elif isinstance(node, m.Not):
            walk(node.operand)

    for condition in _conditions(policy):
        walk(condition)
    return found


def _conditions(policy: CheckedPolicy) -> Iterator[m.Node]:
    """Every condition of a policy: each definition's ``means``, each benefit's and duty's ``when``."""
    for definition in policy.definitions.values():
        if definition.means is not None:
            yield definition.means
    for info in (*policy.benefits, *policy.duties):
        when = getattr(info.rule, "when", None)
        if when is not None:
            yield when
    for group in policy.staged:  # what a staged benefit pays depends on its stages' conditions
        for stage in group.rule.stages:
            yield stage.when


def _cap_boundaries(policy: CheckedPolicy | None, benefit: str, fact: str) -> list[Any]:
    """Where the benefit's amount changes how it is computed as ``fact`` varies (check.amount_edges):
    its tiers' band ends, and where a count × price, a rate or a marginal sum reaches the cap."""
    if policy is None or fact not in policy.all_facts:
        return []
    integer = policy.all_facts[fact].type.kind == "integer"
    found: list[Any] = []
    rules = {info.rule.name: info.rule for info in policy.benefits if isinstance(info.rule, m.Benefit)}
    compared: list[m.Benefit] = [rules[benefit]] if benefit in rules else []
    for group in policy.exclusives:  # 就高: where a member's amount reaches another's fixed amount
        if group.keep != "highest" or benefit not in group.members:
            continue
        for name in group.members:
            for other in group.members:
                fixed = rules[other].amount
                if other == name or rules[other].per is not None or rules[other].amount_high is not None:
                    continue
                if fixed is not None and isinstance(fixed.value, Money) and not rules[other].amount_floor:
                    compared.append(attrs.evolve(rules[name], cap=fixed))
    for rule in compared:
        for name, value, computed in amount_edges(rule):
            if name != fact:
                continue
            if computed and integer:  # the cap binds between two counts: try both
                found.extend((int(value), int(value) + 1))
                continue
            if computed:
                value = value.quantize(Decimal("0.01"), context=EXACT)
            found.append(value)
    return found


def _show(value: Any, type_: Type) -> str:
    if type_.kind == "money":
        return format_value(Money(Decimal(value), type_.param or ""), True)
    if type_.kind == "percent":
        return str(Percent(Decimal(value)))
    if type_.kind == "duration":
        return format_value(Duration(int(value), type_.param or "days"), True)
    if type_.kind == "set":
        return "{" + ", ".join(sorted(value)) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format_decimal(value)
    return str(value)


def _midpoint(a: Any, b: Any, type_: Type) -> Any | None:
    """A readable value strictly between ``a`` and ``b``, or None when there is none."""
    if isinstance(a, dt.date):
        days = (b - a).days
        return a + dt.timedelta(days=days // 2) if days > 1 else None
    if type_.kind in {"integer", "duration"}:
        return (int(a) + int(b)) // 2 if int(b) - int(a) > 1 else None
    exact = (Decimal(a) + Decimal(b)) / 2
    middle = exact.quantize(Decimal("0.01"))  # a readable value where there is room for one
    if not Decimal(a) < middle < Decimal(b):
        middle = exact  # constants closer than a cent: the exact middle still separates them
    if Decimal(a) < middle < Decimal(b):
        return int(middle) if type_.kind == "integer" else middle
    return None


def _below(a: Any, type_: Type) -> Any | None:
    if isinstance(a, dt.date):
        return a - dt.timedelta(days=1) if a > dt.date.min else None  # no day before 0001-01-01
    if type_.kind in {"money", "percent", "duration", "integer", "decimal"}:
        if a <= 0:
            return None if type_.kind in {"money", "percent", "duration"} else a - 1
        if type_.kind in {"integer", "duration"}:
            return int(a) // 2 if int(a) > 1 else int(a) - 1
        return (Decimal(a) / 2).quantize(Decimal("0.01"))
    return None


def _above(a: Any, type_: Type) -> Any | None:
    if isinstance(a, dt.date):
        return a + dt.timedelta(days=1) if a < dt.date.max else None  # no day after 9999-12-31
    if type_.kind in {"integer", "duration"}:
        return int(a) * 2 if int(a) > 0 else int(a) + 1
    return Decimal(a) * 2 if a > 0 else Decimal(a) + 1


def ordered_cells(boundaries: Iterable[Any], type_: Type, default: Any) -> list[Cell]:
    """Cells below, at, between and above the sorted boundaries."""
    points = sorted(set(boundaries))
    if not points:
        return [Cell(default, text="any")]
    cells: list[Cell] = []
    below = _below(points[0], type_)
    if below is not None:
        cells.append(Cell(below, None, False, points[0], False))
    for index, point in enumerate(points):
        cells.append(Cell(point, point, True, point, True))
        if index + 1 < len(points):
            middle = _midpoint(point, points[index + 1], type_)
            if middle is not None:
                cells.append(Cell(middle, point, False, points[index + 1], False))
    above = _above(points[-1], type_)
    if above is not None:
        cells.append(Cell(above, points[-1], False, None, False))
    return cells


def _interval_text(name: str, first: Cell, last: Cell, type_: Type) -> str:
    lo, hi = first.lo, last.hi
    if lo is not None and hi is not None and lo == hi and first.lo_closed and last.hi_closed:
        return f"{name} = {_show(lo, type_)}"
    if lo is None and hi is None:
        return ""
    if lo is None:
        return f"{name} {'<=' if last.hi_closed else '<'} {_show(hi, type_)}"
    if hi is None:
        return f"{name} {'>=' if first.lo_closed else '>'} {_show(lo, type_)}"
    left = "[" if first.lo_closed else "("
    right = "]" if last.hi_closed else ")"
    return f"{name} in {left}{_show(lo, type_)}, {_show(hi, type_)}{right}"


# ---------------------------------------------------------------- domains


@attrs.frozen
class _Domain:
    name: str
    type: Type
    cells: tuple[Cell, ...]
    ordered: bool
    #: whether every value of the fact behaves like one of the cells (a set-valued fact with many
    #: values is tried on representatives only: its regions are then not exact)
    exact: bool = True

    def set_summary(self, indices: Sequence[int]) -> str | None:
        return _set_summary(self.cells, indices, self.type)

    def describe(self, indices: Sequence[int]) -> str:
        """The condition that the chosen cells of this fact satisfy, merged into intervals."""
        if len(indices) == len(self.cells):
            return ""
        label = "评估日期" if self.name == _AS_OF else self.name
        if not self.ordered:
            shown = [_show(self.cells[i].value, self.type) for i in indices]
            if self.type.kind == "bool":
                return label if shown == ["true"] else f"not {label}"
            if self.type.kind == "set":
                nonempty = [i for i, c in enumerate(self.cells) if c.value]
                if sorted(indices) == nonempty:
                    return f"{label} is not empty"
                summary = self.set_summary(indices)
                if summary is not None:
                    return f"{label} {summary}"
                if len(shown) == 1:
                    return f"{label} = {shown[0]}"
                return f"{label} is one of " + " / ".join(shown)
            return f"{label} = {shown[0]}" if len(shown) == 1 else f"{label} in {{{', '.join(shown)}}}"
        runs: list[list[int]] = []
        for index in sorted(indices):
            if runs and runs[-1][-1] == index - 1:
                runs[-1].append(index)
            else:
                runs.append([index])
        parts = [_interval_text(label, self.cells[r[0]], self.cells[r[-1]], self.type) for r in runs]
        parts = [p for p in parts if p]
        return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"


def _set_summary(cells: Sequence[Cell], indices: Sequence[int], type_: Type) -> str | None:
    """Subsets of a set fact (every subset enumerated) described by what they hold: ``includes any
    {…}``, ``includes all {…}`` or ``includes none of {…}`` when that is exactly the selection."""
    subsets = [frozenset(c.value) for c in cells]
    values = frozenset().union(*subsets)
    if len(subsets) != 2 ** len(values):
        return None  # not every subset was tried: say nothing a subset was not checked for
    chosen = {subsets[i] for i in indices}

    def shown(items: frozenset[str]) -> str:
        return _show(items, type_)

    any_of = frozenset(v for v in values if frozenset([v]) in chosen)
    if any_of and chosen == {s for s in subsets if s & any_of}:
        return f"includes any {shown(any_of)}"
    if chosen:
        all_of = frozenset.intersection(*chosen)
        if all_of and chosen == {s for s in subsets if all_of <= s}:
            return f"includes all {shown(all_of)}"
    none_of = values - frozenset().union(*chosen) if chosen else values
    if none_of and chosen == {s for s in subsets if not s & none_of}:
        return f"includes none of {shown(none_of)}"
    return None


def _fact_type(old: CheckedPolicy | None, new: CheckedPolicy | None, name: str) -> Type | None:
    for policy in (new, old):
        if policy is not None and name in policy.all_facts:
            return policy.all_facts[name].type
    return None


#: The value that stands for every value an open enum (等) does not list, in regions and witnesses.
UNLISTED = "（未列出）"


def _enum_values(old: CheckedPolicy | None, new: CheckedPolicy | None, enum: str) -> list[str]:
    """The enum's values in either version; for an open enum (等) also one value it does not list."""
    values: list[str] = []
    is_open = False
    for policy in (old, new):
        if policy is not None and enum in policy.enums:
            values.extend(v.name for v in policy.enums[enum].values if v.name not in values)
            is_open = is_open or policy.enums[enum].open
    if is_open:
        values.append(next(v for v in (UNLISTED, UNLISTED + "2", UNLISTED + "3") if v not in values))
    return values


def _domain(
    old: CheckedPolicy | None,
    new: CheckedPolicy | None,
    benefit: str,
    name: str,
    old_name: str | None = None,
    days: Sequence[dt.date] = (),
) -> _Domain:
    """The cells of fact ``name`` (called ``old_name`` in the old version, if it was renamed);
    ``days``: the dates of evaluation tried, around which a date counted from (``within``) is cut."""
    old_name = old_name or name
    type_ = _fact_type(old, new, name) or _fact_type(old, None, old_name)
    assert type_ is not None
    if type_.kind == "bool":
        return _Domain(name, type_, (Cell(True), Cell(False)), False)
    if type_.kind == "enum":
        values = _enum_values(old, new, type_.param or "")
        return _Domain(name, type_, tuple(Cell(v) for v in values), False)
    if type_.kind == "set":
        values = _enum_values(old, new, type_.param or "")
        if len(values) <= MAX_SET_VALUES:  # every subset: a set condition depends on nothing else
            every = [
                frozenset(combo)
                for size in range(len(values) + 1)
                for combo in itertools.combinations(values, size)
            ]
            return _Domain(name, type_, tuple(Cell(s) for s in every), False)
        subsets: list[frozenset[str]] = [frozenset(), *(frozenset([v]) for v in values), frozenset(values)]
        unique = list(dict.fromkeys(subsets))
        return _Domain(name, type_, tuple(Cell(s) for s in unique), False, exact=False)
    boundaries = [*_constants(old, old_name), *_constants(new, name)]
    boundaries += [*_cap_boundaries(old, benefit, old_name), *_cap_boundaries(new, benefit, name)]
    if type_.kind == "date":  # 成立日期 within 3年: the event on the day, and the period ending on it
        for length in {*_within_lengths(old, old_name), *_within_lengths(new, name)}:
            for day in days:
                boundaries += [day, *_period_starts(day, length)]
        # year of 认定日期 <= 2: the first and last day of the year counted k from the day's
        for k in {*_year_counts(old, old_name), *_year_counts(new, name)}:
            for day in days:
                year = day.year - k + 1
                if 1 <= year <= 9999:
                    boundaries += [day, dt.date(year, 1, 1), dt.date(year, 12, 31)]
    default: Any
    if type_.kind == "date":
        default = dt.date(2022, 1, 1)
    elif type_.kind in {"integer", "duration"}:
        default = 1
    else:
        default = Decimal(10_000) if type_.kind == "money" else Decimal(1)
    return _Domain(name, type_, tuple(ordered_cells(boundaries, type_, default)), True)


def _within_lengths(policy: CheckedPolicy | None, fact: str) -> list[Duration]:
    """The lengths of the periods the policy counts from date ``fact`` (``fact within 3年``)."""
    if policy is None:
        return []
    found: list[Duration] = []

    class _Find(Visitor):
        def visit_Within(self, node: m.Within) -> None:
            subject, length = node.subject, node.length.value
            if isinstance(subject, m.Reference) and subject.name == fact and isinstance(length, Duration):
                found.append(length)

    finder = _Find()
    for condition in _conditions(policy):
        finder.visit(condition)
    return found


def _year_counts(policy: CheckedPolicy | None, fact: str) -> list[int]:
    """The counts the policy compares ``year of fact`` with (``year of 认定日期 between 1 and 5``)."""
    if policy is None:
        return []
    found: list[int] = []

    def counted(subject: m.Node, other: m.Node) -> None:
        value = other.value if isinstance(other, m.Literal) else None
        if isinstance(subject, m.YearOf) and subject.subject.name == fact and type(value) is int:
            found.extend((value, value + 1))

    class _Find(Visitor):
        def visit_Comparison(self, node: m.Comparison) -> None:
            counted(node.left, node.right)
            counted(node.right, node.left)

        def visit_Between(self, node: m.Between) -> None:
            counted(node.subject, node.low)
            counted(node.subject, node.high)

    finder = _Find()
    for condition in _conditions(policy):
        finder.visit(condition)
    for info in policy.benefits:  # an installment schedule's years: each band's first and last
        tiers = getattr(info.rule, "tiers", None)
        if isinstance(tiers, m.Tiers) and tiers.year_of and tiers.fact.text == fact:
            for tier in tiers.tiers:
                for end in (tier.low, tier.high):
                    if end is not None and type(end.value) is int:
                        found.extend((end.value, end.value + 1))
    return found


def _period_starts(day: dt.date, length: Duration) -> list[dt.date]:
    """Events whose period of ``length`` ends on ``day`` or around it: the last that still covers it."""
    if length.unit in ("days", "weeks"):
        back = length.amount * (7 if length.unit == "weeks" else 1)
        try:
            return [day - dt.timedelta(days=back)]
        except OverflowError:
            return []
    months = length.amount * (12 if length.unit == "years" else 1)
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    if year < 1:
        return []
    last = calendar.monthrange(year, month + 1)[1]
    return [dt.date(year, month + 1, min(day.day, last))]


def _as_of_domain(periods: Iterable[tuple[dt.date | None, dt.date | None]], fallback: dt.date) -> _Domain:
    points: list[dt.date] = []
    for start, end in periods:
        points.extend(day for day in (start, end) if day is not None)
    cells = ordered_cells(points, Type("date"), fallback)
    # a period includes its last day: the day after it is the first day outside
    return _Domain(_AS_OF, Type("date"), tuple(cells), True)


# ---------------------------------------------------------------- evaluation


#: Rule data that says how a rule is shown, not what it decides or grants.
PRESENTATION = frozenset(
    {"id", "label", "measure", "own_period", "condition", "atoms", "negated", "citations", "agencies", "at"}
)


class _Version:
    """One compiled version, evaluating one benefit (or duty) quickly."""

    def __init__(self, compiled: CompiledPolicy | None, rule_id: str, kind: str = "benefit") -> None:
        self.compiled = compiled
        self.kind = kind
        self.index: int | None = None
        self.rule: dict[str, Any] | None = None
        self.decide: Any = None
        if compiled is not None:
            table = "BENEFITS" if kind == "benefit" else "DUTIES"
            for index, rule in enumerate(compiled.namespace[table]):
                if rule["id"] == rule_id:
                    # the two versions' rules compared as written: a period only where the rule states
                    # its own (a change of the document's validity is reported once, for the document)
                    self.index, self.rule = index, rule if rule["own_period"] else {**rule, "period": None}
            if self.index is not None:
                self.decide = compiled.rule_decider(kind, self.index)
        #: the exclusive groups (不重复享受) that may supersede this benefit, each with its members'
        #: indexes, rule data and deciders: its outcome depends on theirs
        self.groups: list[tuple[dict[str, Any], list[tuple[int, dict[str, Any], Any]]]] = []
        if compiled is not None and self.index is not None and kind == "benefit":
            benefits = compiled.namespace["BENEFITS"]
            for group in compiled.namespace["EXCLUSIVES"]:
                if group["keep"] == "one" or self.index not in group["members"]:
                    continue
                members = []
                for j in group["members"]:
                    data = benefits[j] if benefits[j]["own_period"] else {**benefits[j], "period": None}
                    members.append((j, data, compiled.rule_decider("benefit", j)))
                self.groups.append((group, members))

    @property
    def present(self) -> bool:
        return self.rule is not None

    @property
    def needs(self) -> list[str]:
        """The facts the outcome depends on: the rule's, and those of its exclusive groups' members."""
        if self.rule is None:
            return []
        found = list(self.rule["needs"])
        for _, members in self.groups:
            for _, data, _ in members:
                found.extend(n for n in data["needs"] if n not in found)
        return found

    def superseded(self, facts: dict[str, Any], as_of: dt.date) -> bool:
        """Whether an exclusive group keeps another member over this (eligible) benefit."""
        assert self.compiled is not None
        namespace = self.compiled.namespace
        for group, members in self.groups:
            outcomes = []
            for _index, data, decide in members:
                condition = decide(facts, as_of) if namespace["_in_period"](data["period"], as_of) else False
                status = {True: "eligible", False: "not_eligible", None: "unknown"}[condition]
                amount = None
                if status == "eligible" and not data["ranged"]:
                    value = namespace["_benefit_amount"](data, facts, as_of)
                    amount = None if value is None else {"amount": value, "currency": data["currency"]}
                outcomes.append({"status": status, "amount": amount})
            kept = namespace["_kept"](group, outcomes)
            if kept is not None and group["members"][kept] != self.index:
                return True
        return False

    def fingerprint(self) -> tuple[str, tuple[tuple[str, Any], ...]] | None:
        """Everything :meth:`key` depends on, comparable across versions: the code deciding the
        rule's condition (constants by value) and the rule's data other than its wording."""
        if self.compiled is None or self.rule is None or self.index is None:
            return None
        data = tuple((k, v) for k, v in self.rule.items() if k not in PRESENTATION)
        groups = tuple(
            (
                group["keep"],
                tuple(
                    (
                        self.compiled.rule_fingerprint("benefit", j),
                        tuple((k, v) for k, v in member.items() if k not in PRESENTATION),
                    )
                    for j, member, _ in members
                ),
            )
            for group, members in self.groups
        )
        staged = self.rule.get("staged")
        if staged is not None:  # its stages, as written (a notation change only costs an enumeration)
            group = self.compiled.namespace["STAGED"][staged]
            data = (*data, ("stages", tuple((s["share"], s["condition"]) for s in group["stages"])))
        return self.compiled.rule_fingerprint(self.kind, self.index) + repr(groups), data

    def nested(self, facts: dict[str, Any]) -> dict[str, Any]:
        """A benefit ``for each`` item is tried on an enterprise with one item: the item's facts
        (flat among the enterprise's in a region) moved into a one-item list."""
        each = self.rule.get("each") if self.rule is not None else None
        if each is None or self.compiled is None:
            return facts
        fields = self.compiled.namespace["FACTS"][each]["fields"]
        own = {k: v for k, v in facts.items() if k not in fields}
        own[each] = ({k: v for k, v in facts.items() if k in fields and v is not None},)
        return own

    def full_outcome(self, facts: dict[str, Any], as_of: dt.date) -> dict[str, Any] | None:
        """The rule's outcome with its explanation, by the runtime's own functions (a draft as if
        adopted: the versions are compared as written)."""
        if self.compiled is None or self.rule is None or self.index is None:
            return None
        namespace = self.compiled.namespace
        trace: dict[int, Any] = {}
        facts = self.nested(facts)
        benefit_conditions, duty_conditions = namespace["_decide"](facts, trace, as_of)
        if self.kind == "benefit" and self.rule.get("each") is not None:
            condition = benefit_conditions[self.index]
            per_item = namespace["_per_item_outcome"]
            result: dict[str, Any] = per_item(self.rule, self.index, facts, as_of, condition, trace, True)
            if result["status"] == "eligible" and self.superseded(facts, as_of):
                result.update(status="superseded", amount=None, range=None)
        elif self.kind == "benefit":
            condition = benefit_conditions[self.index]
            result = namespace["_benefit_outcome"](self.rule, facts, as_of, condition, trace)
            if result["status"] == "eligible" and self.superseded(facts, as_of):
                result.update(status="superseded", amount=None, range=None)
            staged = self.rule.get("staged")
            if staged is not None:  # paid in stages: the part payable on the day
                namespace["_stage_outcome"](namespace["STAGED"][staged], result, facts, as_of)
        else:
            result = namespace["_duty_outcome"](self.rule, facts, as_of, duty_conditions[self.index], trace)
        return result

    def key(self, facts: dict[str, Any], as_of: dt.date) -> tuple[bool, Any]:
        """What the enterprise gets, compared between versions: granted or not, and how much.

        The fast path: the generated ``decide`` without a trace, and no explanation built."""
        if self.compiled is None or self.rule is None or self.index is None:
            return (False, None)
        namespace = self.compiled.namespace
        rule = self.rule
        if not namespace["_in_period"](rule["period"], as_of):
            return (False, None)
        if rule.get("each") is not None:
            return _key(self.full_outcome(facts, as_of))  # decided and summed per item
        if self.decide(facts, as_of) is not True:
            return (False, None)
        if self.groups and self.superseded(facts, as_of):
            return (False, None)  # not cumulated: its exclusive group keeps another benefit
        if self.kind == "benefit":
            ends = namespace["_benefit_range"](rule, facts) if rule["ranged"] else None
            amount = namespace["_benefit_amount"](rule, facts, as_of)
            if rule.get("staged") is not None:  # paid in stages: the part payable, by the runtime's own rule
                outcome = {"status": "eligible", "amount": namespace["_money"](amount, rule["currency"])}
                namespace["_stage_outcome"](namespace["STAGED"][rule["staged"]], outcome, facts, as_of)
                amount = outcome["amount"] and outcome["amount"]["amount"]
            return (True, (amount, rule["cap"], rule["rate"], rule["commits"], ends))
        return (True, tuple(rule["levels"]))


def _key(outcome: dict[str, Any] | None) -> tuple[bool, Any]:
    if outcome is None or outcome["status"] not in {"eligible", "applies"}:
        return (False, None)
    if "levels" in outcome:  # a duty: what is owed is its service levels
        return (True, tuple((lv["label"], lv["op"], lv["value"]) for lv in outcome["levels"]))
    amount = outcome["amount"]
    return (
        True,
        (
            amount and amount["amount"],
            outcome["cap"] and outcome["cap"]["amount"],
            outcome["rate"],
            outcome["commitment"],
            _ends(outcome),
        ),
    )


def _ends(outcome: dict[str, Any]) -> Any:
    """A ranged benefit's (low, high), as ``runtime._benefit_range`` gives them; None otherwise."""
    ranged = outcome.get("range")
    if not outcome.get("ranged") or ranged is None:
        return None
    return (ranged["low"]["amount"], ranged["high"]["amount"] if ranged["high"] else None)


def _change(old: tuple[bool, Any], new: tuple[bool, Any]) -> str | None:
    if old[0] and not new[0]:
        return LOST
    if new[0] and not old[0]:
        return GAINED
    if old[0] and new[0] and old[1] != new[1]:
        return CHANGED
    return None


def period_text(period: dict[str, Any]) -> str:
    """``in force 2023-02-08 to 2026-02-08``; an open end reads ``—`` or ``no end date``."""
    start = period["start"].isoformat() if period["start"] else "—"
    end = period["end"].isoformat() if period["end"] else "no end date"
    return f"in force {start} to {end}"


def _failing(outcome: dict[str, Any]) -> tuple[str, ...]:
    """The tests that decide against the enterprise: a false test, or a true one under `not`."""
    failing = tuple(
        f"not {c['test']}" if c.get("negated") else c["test"]
        for c in outcome["conditions"]
        if (c["value"] is False and not c.get("negated")) or (c["value"] is True and c.get("negated"))
    )
    if outcome["period"] is not None and not outcome["in_period"]:
        failing += (period_text(outcome["period"]),)
    return failing


def _result(outcome: dict[str, Any] | None) -> VersionResult:
    if outcome is None:
        return VersionResult("absent", None, ())
    if "levels" in outcome:
        levels = "; ".join(f"{lv['label']} {lv['op']} {lv['value']}" for lv in outcome["levels"])
        duty_conditions = tuple((c["test"], c["value"]) for c in outcome["conditions"])
        if outcome["period"] is not None:
            duty_conditions += ((period_text(outcome["period"]), outcome["in_period"]),)
        return VersionResult(outcome["status"], levels or None, duty_conditions, _failing(outcome))
    amount = outcome["amount"]
    shown = None
    ranged = outcome.get("range")
    if outcome.get("ranged") and ranged is not None:
        low, high = ranged["low"], ranged["high"]
        top = f"{format(high['amount'], 'f')}" if high else "no upper end"
        shown = f"{format(low['amount'], 'f')} — {top} {low['currency']} (decided case by case)"
    elif amount is not None:
        shown = f"{format(amount['amount'], 'f')} {amount['currency']}"
    elif outcome["cap"] is not None and outcome["status"] == "eligible":
        cap = outcome["cap"]
        digits = MINOR_UNIT_DIGITS.get(cap["currency"], 2)
        shown = f"up to {format(cap['amount'].quantize(Decimal(1).scaleb(-digits)), 'f')} {cap['currency']}"
    conditions = tuple((c["test"], c["value"]) for c in outcome["conditions"])
    if outcome["period"] is not None:
        conditions += ((period_text(outcome["period"]), outcome["in_period"]),)
    return VersionResult(outcome["status"], shown, conditions, _failing(outcome), outcome["commitment"])


# ---------------------------------------------------------------- regions


def _boxes(cells: set[tuple[int, ...]], sizes: Sequence[int]) -> list[dict[int, frozenset[int]]]:
    """Merge a set of cell combinations into boxes (a set of values per dimension), exactly."""
    dims = list(range(len(sizes)))
    relevant = list(dims)
    changed = True
    points = set(cells)
    while changed:
        changed = False
        for d in list(relevant):
            projected: dict[tuple[int, ...], int] = {}
            for point in points:
                rest = point[:d] + point[d + 1 :]
                projected[rest] = projected.get(rest, 0) + 1
            if all(count == sizes[d] for count in projected.values()):
                relevant.remove(d)
                points = {(*p[:d], 0, *p[d + 1 :]) for p in points}
                changed = True
    boxes: list[dict[int, frozenset[int]]] = [
        {d: frozenset([p[d]]) for d in relevant} for p in sorted(points)
    ]
    merged = True
    while merged:
        merged = False
        for d in relevant:
            groups: dict[tuple[tuple[int, frozenset[int]], ...], set[int]] = {}
            order: list[tuple[tuple[int, frozenset[int]], ...]] = []
            for box in boxes:
                key = tuple((k, v) for k, v in sorted(box.items()) if k != d)
                if key not in groups:
                    groups[key] = set()
                    order.append(key)
                groups[key] |= box[d]
            if len(order) < len(boxes):
                merged = True
                boxes = [{**dict(key), d: frozenset(groups[key])} for key in order]
    return boxes


def _combinations(sizes: Sequence[int]) -> tuple[Iterator[tuple[int, ...]], int, bool]:
    total = 1
    for size in sizes:
        total *= size
    if total <= MAX_COMBINATIONS:
        return itertools.product(*(range(s) for s in sizes)), total, True
    chooser = random.Random(SAMPLE_SEED)
    sample: set[tuple[int, ...]] = set()
    # every cell of every fact at least once, then uniform draws
    for d, size in enumerate(sizes):
        for value in range(size):
            sample.add(tuple(value if k == d else chooser.randrange(sizes[k]) for k in range(len(sizes))))
    # then distinct combinations drawn uniformly (without replacement, so a space barely larger
    # than the sample costs no more than a large one), each index read as a mixed-radix number
    indices = chooser.sample(range(total), MAX_COMBINATIONS)
    strides = [math.prod(sizes[d + 1 :]) for d in range(len(sizes))]
    columns = [[i // stride % size for i in indices] for stride, size in zip(strides, sizes, strict=True)]
    for combo in zip(*columns, strict=True):
        if len(sample) >= MAX_COMBINATIONS:
            break
        sample.add(combo)
    return iter(sorted(sample)), total, False


def outcome_regions(
    old: CompiledPolicy | None,
    new: CompiledPolicy | None,
    benefit: str,
    fallback_as_of: dt.date,
    kind: str = "benefit",
    renamed: dict[str, str] | None = None,
) -> BenefitRegions:
    """Where ``benefit`` (or the duty of that id, with ``kind="duty"``) is gained, lost or changed.

    ``renamed`` maps old fact names to new ones: a renamed fact is one dimension, both names
    given the same value."""
    renamed = renamed or {}
    old_names = {new_name: old_name for old_name, new_name in renamed.items()}
    before, after = _Version(old, benefit, kind), _Version(new, benefit, kind)
    old_checked = old.checked if old is not None else None
    new_checked = new.checked if new is not None else None
    names: list[str] = []
    periods: list[tuple[dt.date | None, dt.date | None]] = []
    label = benefit
    for version, mapping in ((before, renamed), (after, {})):
        if version.rule is not None:
            needs = [mapping.get(n, n) for n in version.needs]
            names.extend(n for n in needs if n not in names)
            if version.rule["period"] is not None:
                periods.append(version.rule["period"])
            label = version.rule["label"]
    day_domain = _as_of_domain(periods, fallback_as_of)
    days = [cell.value for cell in day_domain.cells]
    domains = [_domain(old_checked, new_checked, benefit, n, old_names.get(n), days) for n in names]
    aliases = [(index, old_names[n]) for index, n in enumerate(names) if n in old_names]
    domains.append(day_domain)
    sizes = [len(d.cells) for d in domains]
    if before.present and before.fingerprint() == after.fingerprint():
        # the same code on the same data: no enterprise's outcome can differ, none is evaluated
        total = math.prod(sizes)
        return BenefitRegions(benefit, label, (), total, 0, True, None, kind)
    combos, total, exact = _combinations(sizes)
    representatives = [d.name for d in domains if not d.exact]
    exact = exact and not representatives
    groups: dict[str, set[tuple[int, ...]]] = {}
    evaluated = 0
    names = [d.name for d in domains[:-1]]
    values = [[cell.value for cell in d.cells] for d in domains]
    dates = values.pop()
    for combo in combos:
        evaluated += 1
        facts = dict(zip(names, [column[i] for column, i in zip(values, combo, strict=False)], strict=True))
        for index, old_name in aliases:
            facts[old_name] = values[index][combo[index]]
        as_of = dates[combo[-1]]
        change = _change(before.key(facts, as_of), after.key(facts, as_of))
        if change is not None:
            groups.setdefault(change, set()).add(combo)
    regions: list[Region] = []
    unconfirmed = 0
    for change in (GAINED, LOST, CHANGED):
        cells = groups.get(change)
        if not cells:
            continue
        boxes = _boxes(cells, sizes)
        # the witness of a box is its smallest cell: the smallest cell of each point of the box
        dims = sorted(boxes[0]) if boxes else []
        first: dict[tuple[int, ...], tuple[int, ...]] = {}
        for cell in sorted(cells):
            first.setdefault(tuple(cell[d] for d in dims), cell)
        for box in boxes:
            constraints = []
            for d, indices in sorted(box.items()):
                text = domains[d].describe(sorted(indices))
                if text:
                    constraints.append((domains[d].name, text))
            points = itertools.product(*(box[d] for d in dims))
            witness_combo = min(first[point] for point in points if point in first)
            witness, confirmed = _witness(domains, witness_combo, before, after, aliases)
            if confirmed != change:
                unconfirmed += 1
                continue  # re-evaluation disagrees: never report a witness that does not differ
            condition = " and ".join(text for _, text in constraints) or "every enterprise"
            regions.append(Region(change, condition, tuple(constraints), witness))
    notes = []
    if representatives:
        notes.append(
            "set-valued " + "、".join(representatives) + ": tried on the empty set, each single value and "
            "all values, not every combination"
        )
    if evaluated < total:
        notes.append(f"{total} combinations: {evaluated} sampled (seed {SAMPLE_SEED}), not enumerated")
    if unconfirmed:
        notes.append(f"{unconfirmed} regions dropped: their witness did not differ when re-evaluated")
    rules = [v.rule for v in (before, after) if v.rule is not None and v.rule.get("each")]
    lists = {rule["each"] for rule in rules}
    if lists:  # the regions hold for one item; several are each decided alike, their amounts summed
        exact = False
        capped = any(rule["cap_total"] is not None or rule["cap_total_facts"] for rule in rules)
        notes.append(
            "decided per item of " + "、".join(sorted(lists)) + ": tried on an enterprise with one item "
            "(its facts shown beside the enterprise's); with several, each is decided alike and the "
            "amounts add up" + (", at most `cap total`" if capped else "")
        )
    note = "; ".join(notes) or None
    return BenefitRegions(benefit, label, tuple(regions), total, evaluated, exact, note, kind)


def _witness(
    domains: Sequence[_Domain],
    combo: tuple[int, ...],
    before: _Version,
    after: _Version,
    aliases: Sequence[tuple[int, str]] = (),
) -> tuple[Witness, str | None]:
    """The witness enterprise of a region, re-evaluated in full under both versions."""
    facts = {d.name: d.cells[i].value for d, i in zip(domains[:-1], combo, strict=False)}
    shown_facts = dict(facts)
    for index, old_name in aliases:
        facts[old_name] = domains[index].cells[combo[index]].value
    as_of = domains[-1].cells[combo[-1]].value
    shown = tuple((d.name, _show(shown_facts[d.name], d.type)) for d in domains[:-1])
    old, new = before.full_outcome(facts, as_of), after.full_outcome(facts, as_of)
    witness = Witness(shown, as_of, _result(old), _result(new), len(domains[-1].cells) > 1)
    return witness, _change(_key(old), _key(new))
