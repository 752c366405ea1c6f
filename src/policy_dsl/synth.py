"""Synthetic populations for benchmarks and tests. Entry point: :func:`synthesize`.

Writes ``n`` enterprises (an ``id`` column, then a column per fact) to a Parquet or CSV file,
drawn from the facts' types with realistic spreads, and with many rows exactly at, one minor
unit below and one above every constant the policy compares a fact with, so the edges of every
rule (≤ against <, 500万美元 against 500万美元 + 0.01) are exercised.

Everything is generated in one DuckDB query over ``range(n)``; no Python runs per row. Each
random draw is DuckDB's 64-bit ``hash`` of one integer made of the row number, a column salt and
the seed, so a seed always gives the same rows whatever the number of threads (``random()``
under ``setseed`` is not reproducible across DuckDB's parallel pipelines). One integer, not
``hash(row, seed, salt)``: DuckDB combines the hashes of several arguments so weakly that the
bits drawn for different columns of a row come out correlated. The draws depend on DuckDB's
``hash``: a given DuckDB version always gives the same population for a seed.

Column types are those the SQL backend computes with: money, decimals and percentages
``DECIMAL(38, 4)`` (exact), integers and durations ``BIGINT``, dates ``DATE``, enums text,
sets lists of text (``;``-separated text in CSV, the empty set written as a quoted empty field
``""``). About 5% of each fact's values are NULL (unknown).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from decimal import Decimal
from pathlib import Path

from policy_dsl import model as m
from policy_dsl.check import CheckedPolicy, FactInfo, amount_edges
from policy_dsl.sql import MONEY_SQL, Dialect
from policy_dsl.types import Type
from policy_dsl.values import EXACT, MINOR_UNIT_DIGITS, runtime_value
from policy_dsl.visitor import Visitor

#: Kinds of fact that are ordered and get values at and around the policy's constants.
ORDERED_KINDS = ("money", "integer", "decimal", "percent", "duration", "date")
#: Per mille of each fact's values that are NULL.
NULL_PER_MILLE = 50
#: Per cent of the known values of a fact with thresholds that sit at or next to one.
BOUNDARY_PERCENT = 30
#: Typical value of a duration, by unit, when the policy names no limit for it.
DURATION_MEDIANS = {"working_days": 5, "days": 30, "weeks": 4, "months": 6, "years": 5}

_TWO_POW_32 = 4294967296.0

Threshold = Decimal | int | dt.date


# ---------------------------------------------------------------- the policy's constants


class _Thresholds(Visitor):
    """Collects, per fact, the constants conditions compare it with."""

    def __init__(self, checked: CheckedPolicy) -> None:
        self.checked = checked
        self.found: dict[str, set[Threshold]] = {}

    def add(self, reference: m.Node, literal: m.Node) -> None:
        if not isinstance(reference, m.Reference) or not isinstance(literal, m.Literal):
            return
        if reference.name not in self.checked.all_facts:
            return  # a definition: its own condition is walked on its own
        value = runtime_value(literal.value)
        if isinstance(value, bool) or not isinstance(value, Decimal | int | dt.date):
            return
        self.found.setdefault(reference.name, set()).add(value)

    def visit_Comparison(self, node: m.Comparison) -> None:
        self.add(node.left, node.right)
        self.add(node.right, node.left)

    def visit_Between(self, node: m.Between) -> None:
        self.add(node.subject, node.low)
        self.add(node.subject, node.high)


def thresholds(checked: CheckedPolicy) -> dict[str, list[Threshold]]:
    """Per ordered fact, the sorted constants the policy compares it with.

    Walks every definition's ``means`` and every benefit's and duty's ``when``; a benefit paid
    as a rate of a fact with a cap adds the value of that fact at which the cap starts to bite.
    """
    walker = _Thresholds(checked)
    for definition in checked.definitions.values():
        if definition.means is not None:
            walker.visit(definition.means)
    for info in (*checked.benefits, *checked.duties):
        rule = info.rule
        if isinstance(rule, m.Benefit | m.Duty) and rule.when is not None:
            walker.visit(rule.when)
        if isinstance(rule, m.Benefit):
            _cap_threshold(checked, rule, walker.found)
    return {
        name: sorted(values)
        for name, values in walker.found.items()
        if checked.all_facts[name].type.kind in ORDERED_KINDS
    }


def _cap_threshold(checked: CheckedPolicy, rule: m.Benefit, found: dict[str, set[Threshold]]) -> None:
    """Where the benefit's amount changes how it is computed (check.amount_edges): its tiers' band
    ends, and the value of a fact at which the amount reaches the cap (rounded to the fact's unit)."""
    for fact, value, computed in amount_edges(rule):
        if fact not in checked.all_facts:
            continue
        unit = _unit(checked.all_facts[fact].type)
        if computed:
            value = int(value) if isinstance(unit, int) else value.quantize(Decimal(unit), context=EXACT)
        found.setdefault(fact, set()).add(value)


def _unit(type_: Type) -> Decimal | int:
    """One minor unit of a fact's values: a cent (or yen), 0.01, one day, one."""
    if type_.kind == "money":
        return Decimal(1).scaleb(-MINOR_UNIT_DIGITS.get(type_.param or "", 2))
    if type_.kind in {"decimal", "percent"}:
        return Decimal("0.01")
    return 1


def boundary_points(type_: Type, values: list[Threshold]) -> list[Threshold]:
    """Each constant, one minor unit below and one above it (no negative money or durations)."""
    points: set[Threshold] = set()
    for value in values:
        if isinstance(value, dt.date):
            points.update(value + dt.timedelta(days=k) for k in (-1, 0, 1))
            continue
        unit = _unit(type_)
        for k in (-1, 0, 1):
            point = value + k * unit
            if point < 0 and type_.kind in {"money", "duration"}:
                continue
            points.add(point)
    return sorted(points)


# ---------------------------------------------------------------- SQL for one column


def _point_sql(type_: Type, point: Threshold) -> str:
    if isinstance(point, dt.date):
        return f"DATE '{point.isoformat()}'"
    if type_.kind in {"integer", "duration"}:
        return f"CAST({int(point)} AS BIGINT)"
    return f"CAST('{format(Decimal(point), 'f')}' AS {MONEY_SQL})"


def _normal(g: str) -> str:
    """A standard normal draw (Box-Muller) from the two 32-bit halves of the hash ``g``."""
    u1 = f"((({g} >> 32) + 1) / {_TWO_POW_32 + 1})"
    u2 = f"(({g} & 4294967295) / {_TWO_POW_32})"
    return f"(sqrt(-2 * ln({u1})) * cos(2 * pi() * {u2}))"


def _uniform(g: str) -> str:
    return f"(({g} >> 11) / 9007199254740992.0)"


def _geometric_centre(values: list[Threshold], default: float) -> tuple[float, float]:
    """ln of the geometric mean of the positive constants and the spread (ln of max / min)."""
    positive = [float(v) for v in values if not isinstance(v, dt.date) and v > 0]
    if not positive:
        return math.log(default), 0.0
    low, high = min(positive), max(positive)
    return (math.log(low) + math.log(high)) / 2, math.log(high / low)


def _spread_sql(type_: Type, values: list[Threshold], g: str) -> str:
    """The value of a row not placed at a boundary: log-normal amounts, uniform ratios and dates."""
    kind = type_.kind
    if kind == "money":
        centre, width = _geometric_centre(values, 100_000)
        sigma = min(1.5 + width / 4, 3.0)
        digits = MINOR_UNIT_DIGITS.get(type_.param or "", 2)
        return f"CAST(round(exp({centre!r} + {sigma!r} * {_normal(g)}), {digits}) AS {MONEY_SQL})"
    if kind in {"integer", "duration"}:
        default = DURATION_MEDIANS.get(type_.param or "", 10) if kind == "duration" else 50
        centre, width = _geometric_centre(values, default)
        sigma = min(1.0 + width / 4, 2.5)
        return f"CAST(round(exp({centre!r} + {sigma!r} * {_normal(g)})) AS BIGINT)"
    if kind in {"decimal", "percent"}:
        numbers = [float(v) for v in values if not isinstance(v, dt.date)]
        top = 100.0 if kind == "percent" else 1.0
        high = max([top, *(2 * v for v in numbers)])
        low = min([0.0, *(2 * v for v in numbers)])
        digits = 2 if kind == "percent" else 4
        return f"CAST(round({low!r} + {high - low!r} * {_uniform(g)}, {digits}) AS {MONEY_SQL})"
    assert kind == "date"
    days = [v for v in values if isinstance(v, dt.date)]
    start = min(days) - dt.timedelta(days=3652) if days else dt.date(2000, 1, 1)
    end = max(days) + dt.timedelta(days=731) if days else dt.date(2022, 12, 31)
    span = (end - start).days + 1
    return f"(DATE '{start.isoformat()}' + CAST(floor({span} * {_uniform(g)}) AS INTEGER))"


def _value_sql(checked: CheckedPolicy, type_: Type, found: list[Threshold], h: str, g: str) -> str:
    """A fact's value (not yet NULLed) from the row's two hashes ``h`` and ``g``."""
    d = Dialect("duckdb")
    kind = type_.kind
    if kind == "bool":
        return f"(({h} >> 32) % 2 = 1)"
    if kind in {"enum", "set"}:
        enum = checked.enums[type_.param or ""]
        names = [v.name for v in enum.values]
        if enum.open:  # 等: some enterprises hold a value the text does not list
            names.append(next(n for n in ("其他", "其他值", "其他未列出值") if n not in names))
        if kind == "enum":
            arms = " ".join(f"WHEN {i} THEN {d.string(name)}" for i, name in enumerate(names))
            return f"CASE ({h} >> 32) % {len(names)} {arms} END"
        # each value in about 3 sets out of 8, drawn from disjoint bits of the second hash
        picks = ", ".join(
            f"CASE WHEN ({g} >> {3 * i}) % 8 < 3 THEN {d.string(name)} END" for i, name in enumerate(names)
        )
        return f"list_filter([{picks}]::VARCHAR[], lambda x: x IS NOT NULL)"
    spread = _spread_sql(type_, found, g)
    points = boundary_points(type_, found)
    if not points:
        return spread
    arms = " ".join(f"WHEN {i} THEN {_point_sql(type_, p)}" for i, p in enumerate(points))
    return (
        f"CASE WHEN ({h} >> 10) % 100 < {BOUNDARY_PERCENT} "
        f"THEN CASE ({h} >> 20) % {len(points)} {arms} END ELSE {spread} END"
    )


def _seed_offset(seed: int) -> int:
    """Where a seed's stream of integers starts: apart for different seeds, far below BIGINT overflow."""
    digest = hashlib.blake2b(str(int(seed)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % (1 << 60)


def synthesis_sql(checked: CheckedPolicy, n: int, seed: int = 0, text_sets: bool = False) -> str:
    """The query giving the synthetic population (see :func:`synthesize`)."""
    d = Dialect("duckdb")
    found = thresholds(checked)
    salts = 2 * len(checked.facts) + 2
    offset = _seed_offset(seed)
    hashes = ["i"]
    columns = ["CAST(i + 1 AS BIGINT) AS id"]
    for index, (name, info) in enumerate(checked.facts.items()):
        h, g = f"h{index}", f"g{index}"
        hashes.append(f"hash(i * {salts} + {offset + 2 * index}) AS {h}")
        if info.type.kind not in {"bool", "enum"}:
            hashes.append(f"hash(i * {salts} + {offset + 2 * index + 1}) AS {g}")
        if info.type.kind == "list":  # 0 to 3 items, each fact drawn as the enterprise's are
            if text_sets:
                continue  # CSV cannot hold a list: left out, the list is unknown
            value = _items_sql(checked, info, found, h, index)
            unknown = f"{h} % 1000 < {NULL_PER_MILLE}"  # the list not known, as often as a fact
            columns.append(f"CASE WHEN {unknown} THEN NULL ELSE {value} END AS {d.ident(name)}")
            continue
        value = _value_sql(checked, info.type, found.get(name, []), h, g)
        if text_sets and info.type.kind == "set":
            value = f"coalesce(array_to_string({value}, ';'), '')"  # some DuckDB versions give NULL for []
        columns.append(
            f"CASE WHEN {h} % 1000 < {NULL_PER_MILLE} THEN NULL ELSE {value} END AS {d.ident(name)}"
        )
    query = (
        f"WITH draws AS (SELECT {', '.join(hashes)} FROM range({int(n)}) AS r(i))\n"
        f"SELECT {', '.join(columns)} FROM draws"
    )
    # the population agrees with the policy's `implies`: a yes/no fact another fact's counting
    # value implies is not false (the readers refuse such contradictions)
    implied: dict[str, list[str]] = {}
    for name, info in checked.facts.items():
        for target in info.decl.implies:
            if target.text in checked.facts:
                implied.setdefault(target.text, []).append(_counts_sql(info.type, d.ident(name), text_sets))
    if not implied:
        return query
    replaced = ", ".join(
        f"CASE WHEN {d.ident(target)} IS FALSE AND ({' OR '.join(tests)}) THEN TRUE "
        f"ELSE {d.ident(target)} END AS {d.ident(target)}"
        for target, tests in implied.items()
    )
    return f"SELECT * REPLACE ({replaced}) FROM ({query})"


def _items_sql(
    checked: CheckedPolicy, info: FactInfo, found: dict[str, list[Threshold]], h: str, index: int
) -> str:
    """A list of 0 to 3 items (Parquet: a list of structs; CSV cannot hold one and leaves it NULL),
    each item's facts drawn from hashes of the row, the item and the fact, NULL about as often."""
    d = Dialect("duckdb")
    fields = checked.items[info.type.param or ""].facts
    parts = []
    for position, (field, fact) in enumerate(fields.items()):
        item_h = f"hash(i * 4096 + {index * 64 + position * 2} + j * 1024)"
        item_g = f"hash(i * 4096 + {index * 64 + position * 2 + 1} + j * 1024)"
        value = _value_sql(checked, fact.type, found.get(field, []), item_h, item_g)
        parts.append(
            f"{d.ident(field)} := CASE WHEN {item_h} % 1000 < {NULL_PER_MILLE} THEN NULL ELSE {value} END"
        )
    return (
        f"list_transform(range(CAST(({h} >> 40) % 4 AS BIGINT)), lambda j: struct_pack({', '.join(parts)}))"
    )


def _counts_sql(type_: Type, column: str, text_sets: bool) -> str:
    """SQL for :func:`policy_dsl.intake.counts`: the value makes the facts it implies true."""
    if type_.kind == "bool":
        return f"{column} IS TRUE"
    if type_.kind in {"integer", "decimal", "money", "percent", "duration"}:
        return f"{column} > 0"
    if type_.kind == "set":
        return f"{column} <> ''" if text_sets else f"len({column}) > 0"
    return f"{column} IS NOT NULL"


def synthesize(checked: CheckedPolicy, n: int, output: str, seed: int = 0) -> int:
    """Write a synthetic population of ``n`` enterprises to ``output`` (.parquet or .csv); → rows written.

    Deterministic for a seed (and a DuckDB version). See the module's docstring for what is drawn.
    """
    import duckdb

    if n < 0:
        raise ValueError(f"n must be at least 0, got {n}")
    suffix = Path(output).suffix.lower()
    if suffix not in {".parquet", ".csv"}:
        raise ValueError(f"{output}: the population is written as .parquet or .csv")
    query = synthesis_sql(checked, n, seed, text_sets=suffix == ".csv")
    target = "'" + output.replace("'", "''") + "'"
    fmt = "FORMAT PARQUET" if suffix == ".parquet" else "FORMAT CSV, HEADER"
    con = duckdb.connect()
    try:
        con.execute(f"COPY ({query}) TO {target} ({fmt})")
    finally:
        con.close()
    return n
