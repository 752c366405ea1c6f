"""Reverse matching (政策找企业): every enterprise of a population file against a library, in DuckDB.

Entry point: :func:`match_population`. Each policy in force is compiled to SQL and run over the
file as ``policy eval --population`` runs it (exact decimals, the same reader); each row's results
then go through the same settling as one enterprise's match (:meth:`Library.settle_standing` and
:func:`policy_dsl.library.settle`), so a row and :meth:`Library.match` on its facts agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from policy_dsl import model as m
from policy_dsl.check import amount_currency, is_ranged
from policy_dsl.evaluate import ELIGIBLE, NOT_IN_FORCE, UNKNOWN
from policy_dsl.library import BenefitResult, Entry, Library, fixed_amount, settle
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


def population_entries(
    library: Library, table: Any, as_of: dt.date, adopted: bool
) -> Iterator[tuple[Any, dict[tuple[str, str], Entry]]]:
    """Per row of ``table`` (an Arrow table): its key and its settled entries."""
    results: dict[str, list[dict[str, Any]]] = {}
    for policy_id, policy in library.policies.items():
        if library.in_force(policy_id, as_of, adopted):
            results[policy_id] = evaluate_table(policy.checked, table, as_of, adopted=adopted).to_pylist()
    areas = table.column(library.area_fact).to_pylist() if library.area_fact in table.column_names else None
    ids = table.column(ID).to_pylist() if ID in table.column_names else None
    for index in range(table.num_rows):
        area = areas[index] if areas is not None else None
        area = None if area is None else str(area)
        entries: dict[tuple[str, str], Entry] = {}
        for policy_id, policy in library.policies.items():
            checked = policy.checked
            standing = library.standing(policy_id, as_of, adopted, area)
            row = results[policy_id][index] if policy_id in results else None
            own: list[BenefitResult] = []
            for info in checked.benefits:
                rule = info.rule
                assert isinstance(rule, m.Benefit)
                commitment = rule.commits.text if rule.commits is not None else "entitled"
                ranged = is_ranged(rule)
                if row is None or not _in_period(info.period, as_of):
                    own.append(BenefitResult(rule.name, NOT_IN_FORCE, fixed_amount(info), ranged, commitment))
                    continue
                status = status_word(row.get(status_column(rule.name)), row.get(superseded_column(rule.name)))
                amount = fixed_amount(info)
                if status == ELIGIBLE:
                    amount = _money(row.get(amount_column(rule.name)), amount_currency(checked.facts, rule))
                own.append(BenefitResult(rule.name, status, amount, ranged, commitment))
            entries.update(library.settle_standing(policy_id, own, standing))
        settle(library, entries)
        yield (ids[index] if ids is not None else index + 1), entries


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
    per_benefit: dict[tuple[str, str], dict[str, int]] = {}
    rows: list[dict[str, Any]] = []
    reached: list[Any] = []
    newly: list[Any] = []
    eligible_enterprises = 0
    for key, entries in population_entries(library, table, as_of, adopted):
        any_eligible = False
        for (pid, bid), entry in entries.items():
            tally = per_benefit.setdefault((pid, bid), {})
            tally[entry.status] = tally.get(entry.status, 0) + 1
            if entry.status in (ELIGIBLE, UNKNOWN, "superseded"):
                rows.append(
                    {
                        "id": key,
                        "policy": pid,
                        "benefit": bid,
                        "status": entry.status,
                        "commitment": entry.commitment,
                        "amount": entry.amount.amount if entry.amount and entry.status == ELIGIBLE else None,
                        "currency": entry.amount.currency
                        if entry.amount and entry.status == ELIGIBLE
                        else None,
                    }
                )
            any_eligible = any_eligible or entry.status == ELIGIBLE
        eligible_enterprises += any_eligible
        if policy_id is not None:
            own = any(e.status == ELIGIBLE for (pid, _), e in entries.items() if pid == policy_id)
            others = any(e.status == ELIGIBLE for (pid, _), e in entries.items() if pid != policy_id)
            if own:
                reached.append(key)
                if not others:
                    newly.append(key)
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
    for item in result["benefits"]:
        counts = ", ".join(
            f"{item[s]} {s.replace('_', ' ')}" for s in (ELIGIBLE, UNKNOWN, "superseded") if s in item
        )
        lines.append(f"  {item['policy']} {item['benefit']}: {counts}")
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
