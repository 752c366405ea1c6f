"""Reverse matching (政策找企业): every enterprise of a population file against a library, in DuckDB.

Entry point: :func:`match_population`. Each policy in force is compiled to SQL and run over the
file as ``policy eval --population`` runs it (exact decimals, the same reader); each row's results
then go through the same settling as one enterprise's match (:meth:`Library.settle_standing` and
:func:`policy_dsl.library.settle`), so a row and :meth:`Library.match` on its facts agree.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

import attrs

from policy_dsl import model as m
from policy_dsl.check import amount_currency, is_ranged
from policy_dsl.evaluate import ELIGIBLE, NOT_IN_FORCE, SUPERSEDED, UNKNOWN
from policy_dsl.library import Entry, Library, fixed_amount, settle
from policy_dsl.sql import amount_column, status_column, status_word, superseded_column
from policy_dsl.table import connect, evaluate_table, population_file, population_source
from policy_dsl.values import Money

#: A row's key in the results: its ``id`` column when the file has one, else its number from 1.
ID = "id"


def _in_period(period: tuple[dt.date | None, dt.date | None] | None, day: dt.date) -> bool:
    if period is None:
        return True
    start, end = period
    return (start is None or start <= day) and (end is None or day <= end)


def read_population(library: Library, path: str) -> Any:
    """The population file as an Arrow table, read as ``eval --population`` reads it."""
    source = population_file(path)
    kinds = {
        name: info.type.kind
        for policy in library.policies.values()
        for name, info in policy.checked.facts.items()
    }
    con = connect()
    try:
        relation = con.sql(f"SELECT * FROM {population_source(con, source, kinds)}")
        fetch = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
        return fetch()
    finally:
        con.close()


@attrs.define
class Column:
    """One benefit over a population: per row its settled status and amount, and for a benefit of a
    ``same`` group what superseded it and how the group settled it."""

    policy: str
    benefit: str
    commitment: str
    ranged: bool
    status: list[str]
    amount: list[Money | None]
    superseded_by: dict[int, tuple[str, str]] = attrs.field(factory=dict)
    settled: dict[int, str] = attrs.field(factory=dict)


def population_results(
    library: Library, table: Any, as_of: dt.date, adopted: bool
) -> dict[tuple[str, str], Column]:
    """Every benefit of the library over the rows of ``table`` (an Arrow table), settled as
    :meth:`Library.match` settles one enterprise: each policy in force computed in DuckDB, its
    document's standing applied per row (:meth:`Library.stand`, by the row's area), then the
    ``same`` groups (:func:`policy_dsl.library.settle`) on the rows where two members are eligible."""
    rows = table.num_rows
    areas: list[Any] = (
        table.column(library.area_fact).to_pylist()
        if library.area_fact in table.column_names
        else [None] * rows
    )
    areas = [None if a is None else str(a) for a in areas]
    columns: dict[tuple[str, str], Column] = {}
    for policy_id, policy in library.policies.items():
        checked = policy.checked
        by_area = {area: library.standing(policy_id, as_of, adopted, area) for area in set(areas)}
        computed = None
        if (
            library.in_force(policy_id, as_of, adopted)
            and library.replaced_by(policy_id, as_of, adopted) is None
        ):
            computed = evaluate_table(checked, table, as_of, adopted=adopted)
        for info in checked.benefits:
            rule = info.rule
            assert isinstance(rule, m.Benefit)
            fixed = fixed_amount(info)
            statuses: list[str]
            amounts: list[Money | None] = [fixed] * rows
            if computed is None:  # the document gives nothing to anyone: one status for every row
                statuses = [
                    library.stand(NOT_IN_FORCE, (), library.standing(policy_id, as_of, adopted, None))[0]
                ] * rows
            elif not _in_period(info.period, as_of):
                statuses = [NOT_IN_FORCE] * rows
            else:
                values = computed.column(status_column(rule.name)).to_pylist()
                superseded = (
                    computed.column(superseded_column(rule.name)).to_pylist()
                    if superseded_column(rule.name) in computed.column_names
                    else [False] * rows
                )
                statuses = [status_word(v, x) for v, x in zip(values, superseded, strict=True)]
                if amount_column(rule.name) in computed.column_names:
                    currency = amount_currency(checked.facts, rule)
                    paid = computed.column(amount_column(rule.name)).to_pylist()
                    amounts = [
                        _money(a, currency) if s == ELIGIBLE else fixed
                        for a, s in zip(paid, statuses, strict=True)
                    ]
            # what each area's standing makes of each status (Library.stand), looked up per row
            shown = set(statuses)
            turn = (
                {}
                if computed is None
                else {
                    area: {status: library.stand(status, (), standing)[0] for status in shown}
                    for area, standing in by_area.items()
                    if not (standing.status == "in_force" and standing.area_known)
                }
            )
            if turn:
                statuses = [
                    turn[area][status] if area in turn else status
                    for area, status in zip(areas, statuses, strict=True)
                ]
            commitment = rule.commits.text if rule.commits is not None else "entitled"
            column = Column(policy_id, rule.name, commitment, is_ranged(rule), statuses, amounts)
            columns[(policy_id, rule.name)] = column
    for group in library.same:
        members = [columns[key] for key in group.members if key in columns]
        for row in range(rows):
            if sum(1 for c in members if c.status[row] == ELIGIBLE) < 2:
                continue
            entries = {
                (c.policy, c.benefit): Entry(
                    c.policy, c.benefit, ELIGIBLE, c.amount[row], c.ranged, c.commitment
                )
                for c in members
                if c.status[row] == ELIGIBLE
            }
            settle(library, entries)
            for c in members:
                entry = entries.get((c.policy, c.benefit))
                if entry is not None:
                    c.status[row] = entry.status
                    if entry.superseded_by is not None:
                        c.superseded_by[row] = entry.superseded_by
                    if entry.settled is not None:
                        c.settled[row] = entry.settled
    return columns


def row_keys(table: Any) -> list[Any]:
    """Each row's key: its ``id`` column when the file has one, else its number from 1."""
    if ID in table.column_names:
        keys: list[Any] = table.column(ID).to_pylist()
        return keys
    return list(range(1, table.num_rows + 1))


def _money(value: Any, currency: str | None) -> Money | None:
    if value is None or currency is None:
        return None
    return Money(value if isinstance(value, Decimal) else Decimal(str(value)), currency)


def match_population(
    library: Library,
    path: str,
    as_of: dt.date,
    adopted: bool = False,
    policy_id: str | None = None,
    output: str | None = None,
) -> dict[str, Any]:
    """Every enterprise of the file at ``path`` matched against ``library``: per benefit how many
    enterprises get it; per enterprise (written to ``output``) its benefits; with ``policy_id``, the
    enterprises that policy reaches and those it newly reaches (eligible for nothing else)."""
    from policy_dsl.errors import Diagnostic, PolicyLoadError

    if policy_id is not None and policy_id not in library.policies:
        from policy_dsl.errors import did_you_mean

        raise PolicyLoadError(
            [
                Diagnostic(
                    f"`{policy_id}` is not a policy of the library",
                    hint=did_you_mean(policy_id, library.policies) or "see `policy check LIBRARY`",
                )
            ]
        )
    table = read_population(library, path)
    columns = population_results(library, table, as_of, adopted)
    keys = row_keys(table)
    per_benefit: dict[tuple[str, str], dict[str, int]] = {}
    rows: list[dict[str, Any]] = []
    eligible_rows: set[int] = set()
    own_rows: set[int] = set()
    other_rows: set[int] = set()
    listed = (ELIGIBLE, UNKNOWN, SUPERSEDED)
    for (pid, bid), column in columns.items():
        per_benefit[(pid, bid)] = dict(Counter(column.status))
        if not any(status in per_benefit[(pid, bid)] for status in listed):
            continue
        for row, status in enumerate(column.status):
            if status not in listed:
                continue
            amount = column.amount[row] if status == ELIGIBLE else None
            rows.append(
                {
                    "#row": row,
                    "id": str(keys[row]),
                    "policy": pid,
                    "benefit": bid,
                    "status": status,
                    "commitment": column.commitment,
                    "amount": amount.amount if amount is not None else None,
                    "currency": amount.currency if amount is not None else None,
                }
            )
            if status == ELIGIBLE:
                eligible_rows.add(row)
                (own_rows if pid == policy_id else other_rows).add(row)
    rows.sort(key=lambda r: r.pop("#row"))  # per enterprise, its benefits in the library's order
    reached = sorted(own_rows)
    newly = [keys[row] for row in reached if row not in other_rows]
    eligible_enterprises = len(eligible_rows)
    if output is not None:
        _write(rows, output)
    result: dict[str, Any] = {
        "library": library.title,
        "as_of": as_of.isoformat(),
        "adopted": adopted,
        "enterprises": table.num_rows,
        "eligible_for_something": eligible_enterprises,
        "benefits": [
            {"policy": pid, "benefit": bid, **counts}
            for (pid, bid), counts in per_benefit.items()
            if any(s in counts for s in (ELIGIBLE, UNKNOWN, "superseded"))
        ],
    }
    if policy_id is not None:
        result["policy"] = {
            "policy": policy_id,
            "reaches": len(reached),
            "newly_reaches": len(newly),
            "newly_reached": newly[:100],
            "newly_reached_listed": min(len(newly), 100),
        }
    if output is not None:
        result["output"] = output
    return result


def _write(rows: list[dict[str, Any]], output: str) -> None:
    """Per enterprise and benefit (eligible, unknown or superseded), as Parquet, CSV or JSON lines."""
    import pyarrow as pa

    from policy_dsl.errors import Diagnostic, PolicyLoadError

    table = (
        pa.Table.from_pylist(
            rows,
            schema=pa.schema(
                [
                    ("id", pa.string()),
                    ("policy", pa.string()),
                    ("benefit", pa.string()),
                    ("status", pa.string()),
                    ("commitment", pa.string()),
                    ("amount", pa.decimal128(38, 4)),
                    ("currency", pa.string()),
                ]
            ),
        )
        if rows
        else None
    )
    suffix = output.rsplit(".", 1)[-1].lower()
    con = connect()
    try:
        if table is None:
            con.sql(
                "CREATE TABLE r (id VARCHAR, policy VARCHAR, benefit VARCHAR, status VARCHAR, "
                "commitment VARCHAR, amount DECIMAL(38, 4), currency VARCHAR)"
            )
        else:
            con.register("r", table)
        literal = "'" + output.replace("'", "''") + "'"
        formats = {"parquet": "PARQUET", "csv": "CSV, HEADER", "jsonl": "JSON"}
        if suffix not in formats:
            raise PolicyLoadError(
                [Diagnostic(f"{output}: unknown output format", hint="use .parquet, .csv or .jsonl")]
            )
        con.sql(f"COPY r TO {literal} (FORMAT {formats[suffix]})")
    finally:
        con.close()


def population_text(result: dict[str, Any]) -> str:
    lines = [
        f"{result['library']} — as of {result['as_of']}: {result['enterprises']} enterprises, "
        f"{result['eligible_for_something']} eligible for at least one benefit"
    ]
    undecided = 0
    for item in result["benefits"]:
        if ELIGIBLE not in item and SUPERSEDED not in item:
            undecided += 1  # unknown for some: listed in the JSON
            continue
        counts = ", ".join(
            f"{item[s]} {s.replace('_', ' ')}" for s in (ELIGIBLE, UNKNOWN, SUPERSEDED) if s in item
        )
        lines.append(f"  {item['policy']} {item['benefit']}: {counts}")
    if undecided:
        lines.append(
            f"  and {undecided} benefits no enterprise is known to get, unknown for some (--format json)"
        )
    if "policy" in result:
        reach = result["policy"]
        lines.append(
            f"{reach['policy']} reaches {reach['reaches']} enterprises; newly (eligible for nothing else): "
            f"{reach['newly_reaches']}"
        )
        if reach["newly_reached"]:
            shown = ", ".join(str(k) for k in reach["newly_reached"][:20])
            lines.append(f"  newly reached: {shown}" + (" …" if reach["newly_reaches"] > 20 else ""))
    if "output" in result:
        lines.append(f"per enterprise: {result['output']}")
    return "\n".join(lines) + "\n"
