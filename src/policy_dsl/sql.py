"""Stage 3b: :class:`~policy_dsl.check.CheckedPolicy` → SQL. Entry point: :func:`compile_sql`.

The same checked model the Python compiler reads becomes one ``SELECT`` over a relation with a
column per fact: per row, each benefit's status (``eligible`` / ``not_eligible`` / ``unknown``
when a needed fact is NULL) and amount. SQL's three-valued logic is Kleene's, the same as the
Python runtime's, so conditions translate one for one; definitions are inlined.

Exact: money, percentage and decimal facts are ``DECIMAL(38, 10)``, amounts ``DECIMAL(38, 4)``;
rates are multiplied as exact ``DECIMAL`` factors (no division, which some engines do in floating
point), the product kept whole before its one rounding; dates are ``DATE``. Safe: identifiers
are quoted and strings are literals with their quotes doubled, so a policy cannot inject SQL; the
names of facts and rules come from a checked policy.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Collection, Mapping
from decimal import ROUND_HALF_UP, Decimal

import attrs

from policy_dsl import model as m
from policy_dsl.check import CheckedPolicy, StagedInfo, amount_currency, amount_facts, is_ranged
from policy_dsl.types import Type
from policy_dsl.values import (
    EXACT,
    MINOR_UNIT_DIGITS,
    Duration,
    Money,
    Percent,
    decimal_digits,
    runtime_value,
)
from policy_dsl.visitor import Visitor

DIALECTS = ("duckdb", "postgres", "spark")
MONEY_SQL = "DECIMAL(38, 4)"  # amounts computed: rounded to a minor unit (or a cap as written)
DECIMAL_SQL = "DECIMAL(38, 10)"  # facts (money too): a value finer than a minor unit is not rounded


@attrs.frozen
class Dialect:
    name: str

    def ident(self, name: str) -> str:
        if self.name == "spark":
            return "`" + name.replace("`", "``") + "`"
        return '"' + name.replace('"', '""') + '"'

    def string(self, text: str) -> str:
        if self.name == "spark":  # Spark reads 'a''b' as two literals; it escapes with backslashes
            return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + text.replace("'", "''") + "'"

    def array(self, values: tuple[str, ...]) -> str:
        items = ", ".join(self.string(v) for v in values)
        if self.name == "postgres":
            return f"ARRAY[{items}]::text[]"
        if self.name == "spark":
            return f"array({items})"
        return f"[{items}]"

    def includes(self, column: str, mode: str, values: tuple[str, ...]) -> str:
        array = self.array(values)
        if self.name == "postgres":
            return f"({column} {'@>' if mode == 'all' else '&&'} {array})"
        if self.name == "spark":
            if mode == "all":
                missing = f"size(array_except({array}, {column}))"
                return f"(CASE WHEN {column} IS NULL THEN NULL ELSE {missing} = 0 END)"
            return f"arrays_overlap({column}, {array})"
        if mode == "all":
            return f"list_has_all({column}, {array})"
        # the elements found among the values, counted: 1.6× faster than list_has_any with a
        # constant list, which was the costliest test of the draft's population run
        found = ", ".join(self.string(v) for v in values)
        return f"(len(list_filter({column}, lambda element: element IN ({found}))) > 0)"

    def within(self, column: str, values: tuple[str, ...]) -> str:
        """Whether every element of a set column is one of ``values`` (NULL for a NULL column)."""
        array = self.array(values)
        if self.name == "postgres":
            return f"({column} <@ {array})"
        if self.name == "spark":
            return f"(size(array_except({column}, {array})) = 0)"
        listed = ", ".join(self.string(v) for v in values)
        return f"(len(list_filter({column}, lambda element: element NOT IN ({listed}))) = 0)"

    def decimal(self, value: Decimal) -> str:
        """A decimal constant of a condition, exact, typed so that comparing a fact with it is exact."""
        if self.name == "spark":
            # Spark 4 compares two DECIMALs of different types in their common type, which keeps the
            # integral digits first (SPARK-45905): a DECIMAL(38, 10) fact against a DECIMAL(38, 4)
            # constant is compared at scale 4, the fact rounded (5000000.0000000001 "= 5000000").
            # The smallest type that holds the constant leaves the fact's ten decimals whole.
            digits, _, fraction = format(value, "f").lstrip("-").partition(".")
            precision = len(digits) + len(fraction)
            if precision <= 38:
                return _decimal(value, f"DECIMAL({precision}, {len(fraction)})")
        return _decimal(value)

    def sql_type(self, type_: Type) -> str:
        kind = type_.kind
        if kind == "bool":
            return "BOOLEAN"
        if kind in {"integer", "duration"}:
            return "BIGINT"
        if kind in {"money", "decimal", "percent"}:
            return DECIMAL_SQL
        if kind == "date":
            return "DATE"
        if kind == "set":
            return {"postgres": "TEXT[]", "spark": "ARRAY<STRING>"}.get(self.name, "VARCHAR[]")
        if kind == "list":  # in SQL, whether the enterprise's items (a relation of their own) are known
            return "BOOLEAN"
        return "STRING" if self.name == "spark" else "VARCHAR"


def _decimal(value: Decimal | int, sql_type: str | None = None) -> str:
    """An exact decimal constant; its SQL type keeps every digit it has."""
    text = format(Decimal(value), "f")
    if sql_type is None:
        scale = max(4, len(text.partition(".")[2]))
        sql_type = f"DECIMAL(38, {scale})"
    return f"CAST('{text}' AS {sql_type})"


def literal_sql(value: object, dialect: Dialect) -> str:
    """A constant of the policy as SQL (never text of the policy as code)."""
    value = runtime_value(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return dialect.decimal(value)
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    raise TypeError(f"no SQL for {value!r}")  # pragma: no cover


class _Condition(Visitor):
    def __init__(self, checked: CheckedPolicy, dialect: Dialect, as_of: dt.date | None = None) -> None:
        self.checked = checked
        self.dialect = dialect
        self.as_of = as_of

    def visit_Reference(self, node: m.Reference) -> str:
        definition = self.checked.definitions.get(node.name)
        if definition is not None and definition.means is not None:
            text: str = self.visit(definition.means)
            return text
        return self.dialect.ident(node.name)

    def visit_Literal(self, node: m.Literal) -> str:
        return literal_sql(node.value, self.dialect)

    def visit_Comparison(self, node: m.Comparison) -> str:
        op = {"!=": "<>", "==": "="}.get(node.op, node.op)
        return f"({self.visit(node.left)} {op} {self.visit(node.right)})"

    def visit_Between(self, node: m.Between) -> str:
        return f"({self.visit(node.subject)} BETWEEN {self.visit(node.low)} AND {self.visit(node.high)})"

    def open_listed(self, node: m.Node) -> tuple[str, ...] | None:
        """For a fact of an open enum (等), or a set of one: its listed values."""
        if not isinstance(node, m.Reference):
            return None
        info = self.checked.all_facts.get(node.name)  # an item's fact too
        enum = self.checked.enums.get(info.type.param or "") if info is not None else None
        if info is None or info.type.kind not in ("enum", "set") or enum is None or not enum.open:
            return None
        return tuple(v.name for v in enum.values)

    def visit_YearOf(self, node: m.YearOf) -> str:
        """The calendar year of the day the query is written for, counted from the date's own (1)."""
        if self.as_of is None:
            return "CAST(NULL AS INTEGER)"
        event = f"CAST({self.visit(node.subject)} AS DATE)"
        day = f"DATE '{self.as_of.isoformat()}'"
        counted = f"{self.as_of.year + 1} - CAST(EXTRACT(YEAR FROM {event}) AS INTEGER)"
        return f"(CASE WHEN {day} < {event} THEN 0 ELSE {counted} END)"

    def visit_Within(self, node: m.Within) -> str:
        """On the day the query is written for: the event has happened and its period has not ended
        (the corresponding day of the last month, or that month's last day: every engine's month
        arithmetic clamps so)."""
        length = node.length.value
        assert isinstance(length, Duration)
        if self.as_of is None:
            return "CAST(NULL AS BOOLEAN)"
        event = f"CAST({self.visit(node.subject)} AS DATE)"
        day = f"DATE '{self.as_of.isoformat()}'"
        months = length.amount * {"years": 12, "months": 1}.get(length.unit, 0)
        days = length.amount * {"weeks": 7, "days": 1}.get(length.unit, 0)
        if self.dialect.name == "spark":
            end = f"add_months({event}, {months})" if months else f"date_add({event}, {days})"
        elif self.dialect.name == "postgres":
            end = f"CAST({event} + INTERVAL '{months} months' AS DATE)" if months else f"({event} + {days})"
        else:
            end = f"CAST({event} + INTERVAL ({months}) MONTH AS DATE)" if months else f"({event} + {days})"
        return f"({event} <= {day} AND {day} <= {end})"

    def visit_Membership(self, node: m.Membership) -> str:
        values = ", ".join(self.dialect.string(v.text) for v in node.values)
        subject = self.visit(node.subject)
        listed = self.open_listed(node.subject)
        if listed is not None:  # an open enum (等): a value not listed leaves the test unknown (NULL)
            known = ", ".join(self.dialect.string(v) for v in listed)
            yes, no = ("FALSE", "TRUE") if node.negated else ("TRUE", "FALSE")
            return f"(CASE WHEN {subject} IN ({values}) THEN {yes} WHEN {subject} IN ({known}) THEN {no} END)"
        return f"({subject} {'NOT IN' if node.negated else 'IN'} ({values}))"

    def visit_Includes(self, node: m.Includes) -> str:
        values = tuple(v.text for v in node.values)
        subject = self.visit(node.subject)
        found = self.dialect.includes(subject, "all" if node.mode == "all" else "any", values)
        listed = self.open_listed(node.subject)
        if listed is None or node.mode == "all":
            return found
        # an open enum (等): none of the options, but a value not listed (which may be one): NULL
        within = self.dialect.within(subject, listed)
        return f"(CASE WHEN {subject} IS NULL THEN NULL WHEN {found} THEN TRUE WHEN {within} THEN FALSE END)"

    def visit_Not(self, node: m.Not) -> str:
        return f"(NOT {self.visit(node.operand)})"

    def visit_And(self, node: m.And) -> str:
        return "(" + " AND ".join(self.visit(op) for op in node.operands) + ")"

    def visit_Or(self, node: m.Or) -> str:
        return "(" + " OR ".join(self.visit(op) for op in node.operands) + ")"


def condition_sql(
    checked: CheckedPolicy, condition: m.Node | None, dialect: Dialect, as_of: dt.date | None = None
) -> str:
    if condition is None:
        return "TRUE"
    text: str = _Condition(checked, dialect, as_of).visit(condition)
    return text


def status_column(id_: str) -> str:
    return id_


def amount_column(id_: str) -> str:
    return f"{id_}:amount"


def has_range(rule: m.Benefit) -> bool:
    """Whether a ranged benefit's ends can be computed: columns ``<benefit>:low`` and ``:high``."""
    if not is_ranged(rule):
        return False
    if rule.amount is not None:
        return isinstance(rule.amount.value, Money)
    return rule.rate is not None and rule.rate.base is not None and isinstance(rule.rate.rate.value, Percent)


def low_column(id_: str) -> str:
    return f"{id_}:low"


def high_column(id_: str) -> str:
    return f"{id_}:high"


def has_amount(rule: m.Benefit) -> bool:
    """Whether a benefit's amount can be computed: a fixed amount, or a rate of a base fact. A cap
    alone means "up to" and gives no amount; a range gives two ends instead (:func:`has_range`)."""
    if is_ranged(rule):
        return False
    if rule.tiers is not None:
        return True
    if rule.amount is not None and isinstance(rule.amount.value, Money):
        return True
    return rule.rate is not None and rule.rate.base is not None and isinstance(rule.rate.rate.value, Percent)


def _benefits(checked: CheckedPolicy, only: Collection[str] | None = None) -> list[m.Benefit]:
    """The benefits of ``checked`` in order; with ``only``, those named in it."""
    rules = [info.rule for info in checked.benefits if only is None or info.rule.name in only]
    assert all(isinstance(rule, m.Benefit) for rule in rules)
    return rules  # type: ignore[return-value]


def superseded_column(id_: str) -> str:
    return f"{id_}:superseded"


def can_be_superseded(checked: CheckedPolicy, name: str) -> bool:
    """Whether a benefit is in an exclusive group that keeps one over the others (``highest`` or
    ``first``): its results then have a column ``<benefit>:superseded``."""
    return any(g.keep != "one" and name in g.members for g in checked.exclusives)


def _computed(checked: CheckedPolicy, only: Collection[str] | None) -> list[m.Benefit]:
    """The benefits whose conditions a query computes: those asked for, and the other members of
    their exclusive groups (whether one is superseded depends on them)."""
    if only is None:
        return _benefits(checked)
    wanted = set(only)
    for group in checked.exclusives:
        if group.keep != "one" and wanted & set(group.members):
            wanted |= set(group.members)
    return _benefits(checked, wanted)


def result_columns(checked: CheckedPolicy, only: Collection[str] | None = None) -> list[str]:
    """The columns :func:`compile_sql` adds after the kept ones: per benefit (of ``only``, if given)
    its status, its amount when it has one (or its range's two ends), and whether an exclusive
    group superseded it."""
    columns = []
    for rule in _benefits(checked, only):
        columns.append(status_column(rule.name))
        if has_amount(rule):
            columns.append(amount_column(rule.name))
        if has_range(rule):
            columns.extend((low_column(rule.name), high_column(rule.name)))
        if can_be_superseded(checked, rule.name):
            columns.append(superseded_column(rule.name))
    return columns


def status_word(value: bool | None, superseded: bool | None = False) -> str:
    """A status column's value in the words of the Python outcome: TRUE → eligible, NULL → unknown;
    FALSE with ``<benefit>:superseded`` TRUE → superseded."""
    if superseded:
        return "superseded"
    if value is None:
        return "unknown"
    return "eligible" if value else "not_eligible"


def compile_sql(
    checked: CheckedPolicy,
    dialect: str = "duckdb",
    source: str = "facts",
    as_of: dt.date | None = None,
    keep: tuple[str, ...] = ("id",),
    adopted: bool = False,
    only: Collection[str] | None = None,
    items: Mapping[str, str] | None = None,
) -> str:
    """A SELECT over ``source`` (a table or view with a column per fact, plus the ``keep`` columns)
    giving, per row, every benefit's eligibility on ``as_of`` (default: today) as a BOOLEAN column
    named by the benefit — TRUE eligible, FALSE not eligible, NULL unknown because a needed fact is
    NULL — and, for a benefit with an amount (:func:`has_amount`), the amount in a column
    ``<benefit>:amount``. A benefit not in force on that day (outside its period, or of a draft
    not evaluated as ``adopted``) is FALSE. With ``only``, just the benefits it names (the
    others' conditions are not computed, and the facts only they read are not read).

    A list of items (``items 获批品种 { … }``) is a relation of its own, named in ``items`` (by
    default the list's name): a row per item, its enterprise's key in a column named as the first
    ``keep`` column, a column per item fact. The list's column in ``source`` says whether the
    enterprise's items are known (TRUE: the relation's rows are all of them, maybe none; NULL: not
    known). A benefit ``for each`` item is decided and paid per row, then summed per enterprise."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}; one of {', '.join(DIALECTS)}")
    d = Dialect(dialect)
    day = as_of or dt.date.today()
    typed = [d.ident(k) for k in keep]
    for name, fact in checked.facts.items():
        typed.append(f"CAST({d.ident(name)} AS {d.sql_type(fact.type)}) AS {d.ident(name)}")
    for info in checked.items.values():  # unknown beside the enterprise's own facts: see _items_sql
        for name, fact in info.facts.items():
            typed.append(f"CAST(NULL AS {d.sql_type(fact.type)}) AS {d.ident(name)}")
    ctes = _items_sql(checked, d, day, keep, only, items or {}, adopted)
    decided = [d.ident(k) for k in keep]
    bases = sorted(
        {
            name
            for info in checked.benefits
            if isinstance(info.rule, m.Benefit)
            for name in amount_facts(info.rule)
        }
    )
    staged_facts = sorted(
        {
            n
            for group in checked.staged
            for st in group.rule.stages
            for n in _condition_facts(checked, st.when)
        }
        - set(bases)
    )
    decided.extend(d.ident(base) for base in [*bases, *staged_facts])
    columns = [d.ident(k) for k in keep]
    periods = {info.rule.name: info.period for info in checked.benefits}
    in_force = not checked.validity.draft or adopted
    joins = ""
    for rule in _computed(checked, only):
        live = in_force and _in_period(periods.get(rule.name), day)
        condition = condition_sql(checked, rule.when, d, day) if live else "FALSE"
        status = d.ident(status_column(rule.name))
        if rule.each is not None and live:  # decided over the enterprise's items: see _items_sql
            agg = d.ident(f"{rule.name}:items")
            joins += f"\n  LEFT JOIN {agg} ON {agg}.{d.ident(KEY)} = typed.{d.ident(keep[0])}"
            condition = (
                f"CASE WHEN {d.ident(rule.each.text)} IS NOT TRUE THEN (CASE WHEN ({condition}) = FALSE "
                f"THEN FALSE END) WHEN {agg}.{d.ident('any_true')} = 1 THEN TRUE "
                f"WHEN {agg}.{d.ident('any_unknown')} = 1 THEN NULL ELSE FALSE END"
            )
            for column in ("total", "any_unknown", "any_unpriced"):
                decided.append(f"{agg}.{d.ident(column)} AS {d.ident(f'{rule.name}:{column}')}")
        decided.append(f"{condition} AS {status}")  # each condition computed once, used twice
        columns.append(status)
        if has_amount(rule) and rule.each is not None:
            paid = _items_total_sql(checked, rule, status, d) if live else "CAST(NULL AS " + MONEY_SQL + ")"
            columns.append(f"{paid} AS {d.ident(amount_column(rule.name))}")
        elif has_amount(rule):  # a benefit the text gives no amount (or only a cap) has no amount column
            paid = _fact_capped(checked, rule, _amount_sql(checked, rule, status, d, day), d)
            group = next((g for g in checked.staged if rule.name in g.members), None)
            if group is not None:  # the part payable of it; the whole compared by non-cumulation
                if can_be_superseded(checked, rule.name):
                    columns.append(f"{paid} AS {d.ident(total_column(rule.name))}")
                paid = _staged_sql(checked, group, rule, paid, d, day)
            columns.append(f"{paid} AS {d.ident(amount_column(rule.name))}")
        if has_range(rule):  # the two ends of a range; the high end NULL when eligible means open
            low, high = _range_sql(checked, rule, status, d)
            low, high = _fact_capped(checked, rule, low, d), _fact_capped(checked, rule, high, d, low)
            columns.append(f"{low} AS {d.ident(low_column(rule.name))}")
            columns.append(f"{high} AS {d.ident(high_column(rule.name))}")
    final = "\nFROM decided"
    if any(can_be_superseded(checked, rule.name) for rule in _benefits(checked, only)):
        columns, final = _not_cumulated_sql(checked, keep, only, columns, d)
    # one line of printable text: a line break would end the comment, a NUL the whole query
    title = " ".join("".join(ch if ch.isprintable() else " " for ch in checked.title).split())
    header = (
        f"-- {title}: every benefit's eligibility (TRUE / FALSE / NULL unknown) and amount per row,\n"
        f"-- as of {day.isoformat()}. Generated by policy_dsl ({dialect}); money in the facts' currencies.\n"
    )
    return (
        header
        + "WITH typed AS (\n  SELECT\n    "
        + ",\n    ".join(typed)
        + f"\n  FROM {source}\n),\n"
        + "".join(f"{cte},\n" for cte in ctes)
        + "decided AS (\n  SELECT\n    "
        + ",\n    ".join(decided)
        + f"\n  FROM typed{joins}\n)\nSELECT\n  "
        + ",\n  ".join(columns)
        + final
    )


def total_column(id_: str) -> str:
    """A benefit paid in stages, in a group that may supersede it: its whole amount (not output)."""
    return f"{id_}:total"


def _condition_facts(checked: CheckedPolicy, condition: m.Node) -> set[str]:
    """The facts a condition reads, through definitions."""
    from policy_dsl.check import references

    found: set[str] = set()
    pending = references(condition)
    while pending:
        name = pending.pop()
        if name in checked.facts:
            found.add(name)
        definition = checked.definitions.get(name)
        if definition is not None and definition.means is not None and name not in found:
            found.add(name)
            pending.extend(references(definition.means))
    return {n for n in found if n in checked.facts}


def _staged_sql(
    checked: CheckedPolicy, group: StagedInfo, rule: m.Benefit, paid: str, d: Dialect, day: dt.date
) -> str:
    """The part of ``paid`` payable on ``day`` (分阶段兑现): the sum of the shares of the stages
    reached × the whole, rounded once to the minor unit (one arm per set of stages reached, so each
    is one exact product); NULL while a stage is undecided."""
    digits = MINOR_UNIT_DIGITS.get(amount_currency(checked.all_facts, rule) or "", 2)
    tests = [f"({condition_sql(checked, st.when, d, day)})" for st in group.rule.stages]
    arms = []
    for reached in itertools.product((True, False), repeat=len(tests)):
        share = sum((s for s, on in zip(group.shares, reached, strict=True) if on), Decimal(0))
        test = " AND ".join(
            f"{t} IS {'TRUE' if on else 'FALSE'}" for t, on in zip(tests, reached, strict=True)
        )
        ratio = share / 100
        scale = max(6, -int(ratio.normalize().as_tuple().exponent))
        precision = scale + max(1, len(str(int(ratio))))
        factor = _decimal(ratio, f"DECIMAL({precision}, {scale})")
        value = (
            f"CAST(ROUND(CAST({paid} AS DECIMAL({37 - precision}, 10)) * {factor}, {digits}) AS {MONEY_SQL})"
        )
        arms.append(f"WHEN {test} THEN {value}")
    return f"CASE WHEN {paid} IS NULL THEN NULL {' '.join(arms)} END"


#: The key column of each per-item aggregate (see :func:`_items_sql`).
KEY = "enterprise"


def _items_sql(
    checked: CheckedPolicy,
    d: Dialect,
    day: dt.date,
    keep: tuple[str, ...],
    only: Collection[str] | None,
    relations: Mapping[str, str],
    adopted: bool,
) -> list[str]:
    """The CTEs of the benefits decided per item (``for each``): per list, its items typed and
    joined to their enterprise's facts (``<list>:item``); per benefit, each item's condition and
    amount, then per enterprise whether some item is eligible (``any_true``), some undecided
    (``any_unknown``), the sum of the eligible items' amounts (``total``) and whether one of them
    has none (``any_unpriced``) — ``<benefit>:items``."""
    rules = [r for r in _computed(checked, only) if r.each is not None and r.each.text in checked.items]
    if not rules:
        return []
    in_force = not checked.validity.draft or adopted
    periods = {info.rule.name: info.period for info in checked.benefits}
    key = d.ident(keep[0])
    own = [n for n, f in checked.facts.items() if f.type.kind != "list"]
    ctes: list[str] = []
    for list_name in dict.fromkeys(r.each.text for r in rules if r.each is not None):
        fields = checked.items[list_name].facts
        relation = relations.get(list_name) or d.ident(list_name)
        columns = [f"typed.{key} AS {d.ident(KEY)}"]
        columns += [f"typed.{d.ident(n)} AS {d.ident(n)}" for n in own]
        columns += [
            f"CAST(item.{d.ident(n)} AS {d.sql_type(f.type)}) AS {d.ident(n)}" for n, f in fields.items()
        ]
        ctes.append(
            f"{d.ident(list_name + ':item')} AS (\n  SELECT\n    "
            + ",\n    ".join(columns)
            + f"\n  FROM typed JOIN {relation} AS item ON item.{key} = typed.{key}"
            + f"\n  WHERE typed.{d.ident(list_name)} IS TRUE\n)"
        )
    for rule in rules:
        assert rule.each is not None
        if not (in_force and _in_period(periods.get(rule.name), day)):
            continue
        condition = condition_sql(checked, rule.when, d, day)
        status = d.ident("eligible")
        amount = "CAST(NULL AS " + MONEY_SQL + ")"
        if has_amount(rule):
            amount = _fact_capped(checked, rule, _amount_sql(checked, rule, status, d, day), d)
        per_item = (
            f"SELECT {d.ident(KEY)}, {status}, {amount} AS {d.ident('amount')}"
            f" FROM (SELECT *, {condition} AS {status} FROM {d.ident(rule.each.text + ':item')}) AS decided"
        )
        ctes.append(
            f"{d.ident(rule.name + ':items')} AS (\n  SELECT {d.ident(KEY)},\n"
            f"    MAX(CASE WHEN {status} THEN 1 ELSE 0 END) AS {d.ident('any_true')},\n"
            f"    MAX(CASE WHEN {status} IS NULL THEN 1 ELSE 0 END) AS {d.ident('any_unknown')},\n"
            f"    SUM(CASE WHEN {status} THEN {d.ident('amount')} END) AS {d.ident('total')},\n"
            f"    MAX(CASE WHEN {status} AND {d.ident('amount')} IS NULL THEN 1 ELSE 0 END)"
            f" AS {d.ident('any_unpriced')}\n"
            f"  FROM ({per_item}) AS paid\n  GROUP BY {d.ident(KEY)}\n)"
        )
    return ctes


def _items_total_sql(checked: CheckedPolicy, rule: m.Benefit, status: str, d: Dialect) -> str:
    """A benefit ``for each`` item: the sum of its eligible items' amounts, at most ``cap total``;
    NULL when an eligible item has no amount, or when an item is undecided — unless the decided
    ones already reach ``cap total`` (the others could only add to it)."""
    total = d.ident(f"{rule.name}:total")
    unknown = d.ident(f"{rule.name}:any_unknown")
    unpriced = d.ident(f"{rule.name}:any_unpriced")
    caps = []
    if rule.cap_total is not None and isinstance(rule.cap_total.value, Money):
        caps.append(f"CAST({_decimal(rule.cap_total.value.amount)} AS {MONEY_SQL})")
    digits = MINOR_UNIT_DIGITS.get(amount_currency(checked.all_facts, rule) or "", 2)
    # a fact caps the sum rounded half up to the minor unit, as Python's _cap does
    caps += [f"CAST(ROUND({d.ident(n.text)}, {digits}) AS {MONEY_SQL})" for n in rule.cap_total_facts]
    cap = None if not caps else caps[0] if len(caps) == 1 else f"LEAST({', '.join(caps)})"
    unknown_cap = " OR ".join(f"{d.ident(n.text)} IS NULL" for n in rule.cap_total_facts)
    summed = f"CAST({total} AS {MONEY_SQL})"
    if cap is None:
        undecided = "NULL"
        capped = summed
    else:
        undecided = f"CASE WHEN {total} >= {cap} THEN {cap} END"
        capped = f"CASE WHEN {total} > {cap} THEN {cap} ELSE {summed} END"
    unknown_arm = f"WHEN {unknown_cap} THEN NULL " if unknown_cap else ""
    return (
        f"CASE WHEN {status} IS TRUE THEN CASE {unknown_arm}WHEN {unpriced} = 1 THEN NULL "
        f"WHEN {unknown} = 1 THEN {undecided} ELSE {capped} END END"
    )


def _not_cumulated_sql(
    checked: CheckedPolicy,
    keep: tuple[str, ...],
    only: Collection[str] | None,
    columns: list[str],
    d: Dialect,
) -> tuple[list[str], str]:
    """Non-cumulation (不重复享受) over the granted results: the columns of a further SELECT and its
    FROM. A superseded benefit's status is FALSE and its amount NULL, and ``<benefit>:superseded``
    says so; the rules are those of the Python runtime (``_kept``): ``first`` — an earlier member
    granted; ``highest`` — every member decided, every granted one priced in one currency, and
    another granted one priced higher (or equal and earlier)."""
    computed = {rule.name: rule for rule in _computed(checked, only)}

    def status(name: str) -> str:
        return f"({d.ident(status_column(name))} IS TRUE)"

    staged = {name for group in checked.staged for name in group.members}

    def price(name: str) -> str | None:
        """The amount compared (就高): the whole of it, for a benefit paid in stages."""
        if not has_amount(computed[name]):
            return None
        return d.ident(total_column(name) if name in staged else amount_column(name))

    losing: dict[str, list[str]] = {}
    for group in checked.exclusives:
        members = list(group.members)
        for position, name in enumerate(members):
            if group.keep == "first":
                earlier = [status(other) for other in members[:position]]
                if earlier:
                    losing.setdefault(name, []).append(f"({status(name)} AND ({' OR '.join(earlier)}))")
            elif group.keep == "highest":
                decided = " AND ".join(f"{d.ident(status_column(m))} IS NOT NULL" for m in members)
                priced = " AND ".join(
                    f"(NOT {status(m)} OR {price(m)} IS NOT NULL)" if price(m) else f"NOT {status(m)}"
                    for m in members
                )
                currencies = {m: amount_currency(checked.all_facts, computed[m]) for m in members}
                mixed = [
                    f"NOT ({status(a)} AND {status(b)})"
                    for i, a in enumerate(members)
                    for b in members[i + 1 :]
                    if currencies[a] != currencies[b]
                ]
                mine = price(name)
                beaten = [
                    f"({status(other)} AND ({price(other)} > {mine}"
                    + (f" OR {price(other)} = {mine}" if index < position else "")
                    + "))"
                    for index, other in enumerate(members)
                    if other != name and price(other) is not None and mine is not None
                ]
                if beaten:
                    tests = [status(name), f"({decided})", f"({priced})", *mixed, f"({' OR '.join(beaten)})"]
                    losing.setdefault(name, []).append("(" + " AND ".join(tests) + ")")
    projected = [d.ident(k) for k in keep]
    for rule in _benefits(checked, only):
        name = rule.name
        lost = f"COALESCE({' OR '.join(losing[name])}, FALSE)" if name in losing else "FALSE"
        own = [status_column(name)]
        if has_amount(rule):
            own.append(amount_column(name))
        if has_range(rule):
            own += [low_column(name), high_column(name)]
        for column in own:
            kept = "FALSE" if column == status_column(name) else "NULL"
            projected.append(f"CASE WHEN {lost} THEN {kept} ELSE {d.ident(column)} END AS {d.ident(column)}")
        if can_be_superseded(checked, name):
            projected.append(f"{lost} AS {d.ident(superseded_column(name))}")
    granted = ",\n  ".join(columns)
    return projected, f"\nFROM (\n  SELECT\n  {granted}\n  FROM decided\n) AS granted"


def _fact_capped(
    checked: CheckedPolicy, rule: m.Benefit, amount: str, d: Dialect, low: str | None = None
) -> str:
    """An amount also capped by facts (``cap 年度地方财政贡献``): the least of it and each fact, rounded
    half up to the minor unit; NULL when one of those facts is NULL. For a range's high end, ``low``
    (the low end's expression): a NULL high end beside a known low end (a floor, no upper end of its
    own) is the least of the caps instead."""
    if not rule.cap_facts:
        return amount
    digits = MINOR_UNIT_DIGITS.get(amount_currency(checked.all_facts, rule) or "", 2)
    # each fact rounded to the minor unit, typed as amounts are: LEAST takes the widest scale of
    # its arguments, so an amount written with more decimals (142.2651 USD) keeps them
    caps = [f"CAST(ROUND({d.ident(n.text)}, {digits}) AS {MONEY_SQL})" for n in rule.cap_facts]
    if rule.cap is not None and isinstance(rule.cap.value, Money):
        caps.append(_decimal(rule.cap.value.amount))
    unknown = " OR ".join(f"{d.ident(n.text)} IS NULL" for n in rule.cap_facts)
    least = f"LEAST({', '.join(caps)})" if len(caps) > 1 else caps[0]
    opened = f"WHEN {amount} IS NULL AND {low} IS NOT NULL THEN {least} " if low is not None else ""
    # typed for LEAST: PostgreSQL types a bare `CASE … THEN NULL END` as text
    capped = (
        f"CASE WHEN {unknown} THEN NULL {opened}WHEN {amount} IS NULL THEN NULL "
        f"ELSE LEAST(CAST({amount} AS {DECIMAL_SQL}), {least}) END"
    )
    return capped


def _in_period(period: tuple[dt.date | None, dt.date | None] | None, day: dt.date) -> bool:
    if period is None:
        return True
    start, end = period
    return (start is None or start <= day) and (end is None or day <= end)


def _per_sql(
    checked: CheckedPolicy, unit: Money, per: str, cap: Decimal | None, condition: str, d: Dialect
) -> str:
    """``amount 100元 per 面积``: the unit amount × the count, rounded once to the minor unit, capped.

    The unit amount is typed by its own digits (at most check.MAX_PER_DIGITS) and the count gets the
    rest of DECIMAL(38) (10 decimals for a decimal fact, none for an integer), so the product is
    exact in every engine before ROUND."""
    digits = MINOR_UNIT_DIGITS.get(unit.currency, 2)
    precision, scale = decimal_digits(unit.amount)
    price = _decimal(unit.amount, f"DECIMAL({precision}, {scale})")
    whole = checked.all_facts[per].type.kind == "integer"  # else a decimal fact, held to 10 decimals
    counted = f"DECIMAL({37 - precision}, {0 if whole else 10})"
    # a negative count (−3 rooms) pays nothing computable: no amount, as in the Python runtime
    return _granted_product(per, counted, price, digits, cap, f"{condition} AND {d.ident(per)} >= 0", d)


def _granted_product(
    fact: str,
    typed: str,
    factor: str,
    digits: int,
    cap: Decimal | None,
    condition: str,
    d: Dialect,
    above: m.Literal | m.Name | None = None,
) -> str:
    """``fact`` (cast to ``typed``) × ``factor``, rounded once to ``digits`` decimals and capped, for
    a granted row whose fact is known; NULL otherwise. With ``above`` (a threshold: an amount or a
    fact), the part of the fact above it, never below 0."""
    value, known = d.ident(fact), f"{d.ident(fact)} IS NOT NULL"
    if above is not None:
        if isinstance(above, m.Name):
            threshold = d.ident(above.text)
            known += f" AND {threshold} IS NOT NULL"
        else:
            threshold = _tight(runtime_value(above.value))
        value = f"(CASE WHEN {value} > {threshold} THEN {value} - {threshold} ELSE 0 END)"
    computed = f"CAST(ROUND(CAST({value} AS {typed}) * {factor}, {digits}) AS {MONEY_SQL})"
    if cap is not None:
        capped = _decimal(cap)
        computed = f"CASE WHEN {computed} > {capped} THEN {capped} ELSE {computed} END"
    return f"CASE WHEN {condition} AND {known} THEN CAST({computed} AS {MONEY_SQL}) END"


def _range_sql(checked: CheckedPolicy, rule: m.Benefit, condition: str, d: Dialect) -> tuple[str, str]:
    """The low and high ends of a ranged benefit, each computed as a single amount would be (a
    fixed amount, or the rate × its base rounded to the minor unit) and capped; a floor's high end
    is the cap, or NULL."""
    cap = rule.cap.value.amount if rule.cap is not None and isinstance(rule.cap.value, Money) else None
    capped = "NULL" if cap is None else _decimal(cap)
    if rule.amount is not None and isinstance(rule.amount.value, Money):

        def end(value: Decimal) -> str:
            return _decimal(value if cap is None else min(value, cap))

        top = rule.amount_high.value if rule.amount_high is not None else None
        high = end(top.amount) if isinstance(top, Money) else capped  # a floor: up to the cap, if any
        return (
            f"CASE WHEN {condition} THEN {end(rule.amount.value.amount)} END",
            f"CASE WHEN {condition} THEN {high} END",
        )
    assert rule.rate is not None and rule.rate.base is not None
    high_rate = rule.rate.high
    above = rule.rate.above
    low_sql = _rate_sql(checked, rule.rate.rate.value, rule.rate.base.text, cap, condition, d, above)
    if high_rate is not None and isinstance(high_rate.value, Percent):
        high_sql = _rate_sql(checked, high_rate.value, rule.rate.base.text, cap, condition, d, above)
    else:
        base = d.ident(rule.rate.base.text)
        high_sql = f"CASE WHEN {condition} AND {base} IS NOT NULL THEN {capped} END"
    return low_sql, high_sql


def _rate_sql(
    checked: CheckedPolicy,
    rate: object,
    base: str,
    cap: Decimal | None,
    condition: str,
    d: Dialect,
    above: m.Literal | m.Name | None = None,
) -> str:
    """A rate of a base fact, rounded once to the minor unit and capped, for a granted row."""
    assert isinstance(rate, Percent)
    currency = checked.all_facts[base].type.param
    digits = MINOR_UNIT_DIGITS.get(currency or "", 2)
    ratio = rate.value / 100
    scale = max(6, -int(ratio.normalize().as_tuple().exponent))
    precision = scale + max(1, len(str(int(ratio))))
    factor = _decimal(ratio, f"DECIMAL({precision}, {scale})")
    # The product's precision (p1 + p2 + 1) stays within 38, so no engine drops digits of it
    # before the one rounding to the minor unit (Spark would cut a wider product to 6 decimals).
    return _granted_product(base, f"DECIMAL({37 - precision}, 10)", factor, digits, cap, condition, d, above)


def _tight(value: Decimal) -> str:
    """A constant in the smallest DECIMAL that holds it, so a sum with it keeps within DECIMAL(38)."""
    digits, _, fraction = format(value, "f").lstrip("-").partition(".")
    return _decimal(value, f"DECIMAL({max(1, len(digits) + len(fraction))}, {len(fraction)})")


def _band_sql(tier: m.Tier, column: str, d: Dialect) -> str:
    """Whether a row's value of the tiers' fact falls in this band (NULL when it is NULL)."""
    tests = []
    if tier.low is not None:
        tests.append(f"{column} {'>' if tier.low_open else '>='} {literal_sql(tier.low.value, d)}")
    if tier.high is not None:
        tests.append(f"{column} {'<' if tier.high_open else '<='} {literal_sql(tier.high.value, d)}")
    return " AND ".join(tests)


def _tiers_sql(
    checked: CheckedPolicy,
    rule: m.Benefit,
    cap: Decimal | None,
    condition: str,
    d: Dialect,
    as_of: dt.date | None = None,
) -> str:
    """``tiers by FACT``: the band the fact falls in pays as it says (NULL in no band, or unknown);
    ``marginal tiers of FACT``: see :func:`_marginal_sql`; ``tiers by year of D``: the band of the
    year ``as_of`` falls in, counted from D's (as ``year of`` in a condition)."""
    tiers = rule.tiers
    assert tiers is not None
    if tiers.marginal:
        return _marginal_sql(checked, tiers, cap, condition, d)
    column = d.ident(tiers.fact.text)
    if tiers.year_of:
        column = _Condition(checked, d, as_of).visit(m.YearOf(m.Reference(tiers.fact.text)))
    whens = []
    for tier in tiers.tiers:
        if tier.rate is not None:
            base = tier.base.text if tier.base is not None else tiers.fact.text
            pay = _rate_sql(checked, tier.rate.value, base, cap, condition, d)
        elif tier.per is not None:
            assert tier.amount is not None and isinstance(tier.amount.value, Money)
            pay = _per_sql(checked, tier.amount.value, tier.per.text, cap, condition, d)
        else:
            assert tier.amount is not None and isinstance(tier.amount.value, Money)
            pay = f"CASE WHEN {condition} THEN CAST({_decimal(tier.amount.value.amount)} AS {MONEY_SQL}) END"
        whens.append(f"WHEN {_band_sql(tier, column, d)} THEN {pay}")
    return f"CASE {' '.join(whens)} END"


def _marginal_sql(
    checked: CheckedPolicy, tiers: m.Tiers, cap: Decimal | None, condition: str, d: Dialect
) -> str:
    """``marginal tiers of FACT``: Σ rate × (the part of FACT in each band), rounded once, capped.

    Written as the sum's closed form on each stretch of values, highest first: in band i the sum is
    the constant paid by the bands under it plus rate_i × (FACT − low_i); from its high end to the
    next band's low end, a constant. Each is one exact product and one constant, so no engine
    widens a sum of products past DECIMAL(38) (Python sums the parts: the two must agree)."""
    currency = checked.all_facts[tiers.fact.text].type.param or ""
    digits = MINOR_UNIT_DIGITS.get(currency, 2)
    column = d.ident(tiers.fact.text)
    below: list[Decimal] = []  # Σ rate × width of the bands under band i, in percent of the fact
    total = Decimal(0)
    for tier in tiers.tiers:
        below.append(total)
        if tier.high is not None and isinstance(tier.rate.value if tier.rate else None, Percent):
            low = runtime_value(tier.low.value) if tier.low is not None else Decimal(0)
            width = EXACT.subtract(runtime_value(tier.high.value), low)
            total = EXACT.fma(tier.rate.value.value, width, total)  # type: ignore[union-attr]

    def constant(sum_: Decimal) -> str:
        paid = EXACT.divide(sum_, 100).quantize(
            Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP, context=EXACT
        )
        return f"CAST({_decimal(paid)} AS {MONEY_SQL})"

    whens = []
    for index in reversed(range(len(tiers.tiers))):
        tier = tiers.tiers[index]
        assert tier.rate is not None and isinstance(tier.rate.value, Percent)
        after = below[index + 1] if index + 1 < len(below) else total
        if tier.high is not None:
            whens.append(f"WHEN {column} >= {literal_sql(tier.high.value, d)} THEN {constant(after)}")
        low = runtime_value(tier.low.value) if tier.low is not None else Decimal(0)
        ratio = tier.rate.value.value / 100
        scale = max(6, -int(ratio.normalize().as_tuple().exponent))
        precision = scale + max(1, len(str(int(ratio))))
        factor = _decimal(ratio, f"DECIMAL({precision}, {scale})")
        part = f"CAST({column} - {literal_sql(low, d)} AS DECIMAL({36 - precision}, 10))"
        offset = _tight(EXACT.divide(below[index], 100))
        computed = f"CAST(ROUND({part} * {factor} + {offset}, {digits}) AS {MONEY_SQL})"
        whens.append(f"WHEN {column} > {literal_sql(low, d)} THEN {computed}")
    paid = f"CASE {' '.join(whens)} ELSE CAST(0 AS {MONEY_SQL}) END"
    if cap is not None:
        capped = _decimal(cap)
        paid = f"CASE WHEN {paid} > {capped} THEN {capped} ELSE {paid} END"
    return f"CASE WHEN {condition} AND {column} IS NOT NULL THEN CAST({paid} AS {MONEY_SQL}) END"


def _amount_sql(
    checked: CheckedPolicy, rule: m.Benefit, condition: str, d: Dialect, as_of: dt.date | None = None
) -> str:
    """A benefit's amount for a granted row, capped by its written cap; at least its ``min`` (which
    the checker keeps at most the cap, so raising to it after capping is the same)."""
    amount = _written_amount_sql(checked, rule, condition, d, as_of)
    if rule.minimum is None or not isinstance(rule.minimum.value, Money):
        return amount
    least = f"CAST({_decimal(rule.minimum.value.amount)} AS {MONEY_SQL})"
    return f"CASE WHEN {amount} < {least} THEN {least} ELSE {amount} END"


def _written_amount_sql(
    checked: CheckedPolicy, rule: m.Benefit, condition: str, d: Dialect, as_of: dt.date | None = None
) -> str:
    cap = rule.cap.value.amount if rule.cap is not None and isinstance(rule.cap.value, Money) else None
    if rule.tiers is not None:
        return _tiers_sql(checked, rule, cap, condition, d, as_of)
    if rule.amount is not None and isinstance(rule.amount.value, Money) and rule.per is not None:
        return _per_sql(checked, rule.amount.value, rule.per.text, cap, condition, d)
    if rule.amount is not None and isinstance(rule.amount.value, Money):
        value = _decimal(rule.amount.value.amount)
        return f"CASE WHEN {condition} THEN {value} END"
    if rule.rate is not None and rule.rate.base is not None and isinstance(rule.rate.rate.value, Percent):
        return _rate_sql(
            checked, rule.rate.rate.value, rule.rate.base.text, cap, condition, d, rule.rate.above
        )
    raise ValueError(f"benefit {rule.name} has no amount")  # pragma: no cover - see has_amount
