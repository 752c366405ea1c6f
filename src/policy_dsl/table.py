"""Stage 4b: evaluate a whole population in DuckDB.

Entry points: :func:`evaluate_table`, :func:`evaluate_file`.

DuckDB (embedded, nothing to start) runs the SQL that :mod:`policy_dsl.sql` compiles from the
checked model over an Arrow table, a pandas DataFrame, or a CSV / Parquet / JSON-lines file,
without converting rows to Python objects. A column per fact (named as the fact); columns the
policy does not know are kept (an ``id`` column, say) and passed through; a fact with no column
is unknown (NULL) for every row. Sets may be lists or ``;``-separated text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from policy_dsl.check import CheckedPolicy
from policy_dsl.errors import Diagnostic, PolicyLoadError
from policy_dsl.sql import DECIMAL_SQL, Dialect, compile_sql, result_columns

READERS = {
    ".csv": "read_csv_auto",
    ".tsv": "read_csv_auto",
    ".parquet": "read_parquet",
    ".jsonl": "read_json_auto",
    ".ndjson": "read_json_auto",
    ".json": "read_json_auto",
}


def _connect() -> Any:
    import duckdb

    return duckdb.connect()


def describe(con: Any, relation: str) -> list[Any]:
    """The columns of ``relation`` (name, type, …), as DuckDB describes them."""
    try:
        described: list[Any] = con.sql(f"SELECT * FROM {relation} LIMIT 0").description
    except RuntimeError:  # DuckDB's Python binding, on a column name that is not text
        raise _population_error("a column name is not UTF-8 text") from None
    return described


def facts_view(
    con: Any, checked: CheckedPolicy, view: str, relation: str, keep: list[str], present: dict[str, str]
) -> None:
    """Create ``view``: the ``keep`` expressions, then one column per fact of ``checked`` — the
    relation's (a ``;``-separated set split into a list), or NULL where it has none."""
    d = Dialect("duckdb")
    parts = list(keep)
    for name, info in checked.facts.items():
        column = d.ident(name)
        if name not in present:
            parts.append(f"CAST(NULL AS {d.sql_type(info.type)}) AS {column}")
            continue
        value = column
        if info.type.kind == "set" and present[name].upper() in {"VARCHAR", "STRING"}:
            # "" is the empty set (a quoted empty field in CSV), NULL unknown
            value = f"CASE WHEN {column} = '' THEN CAST([] AS VARCHAR[]) ELSE string_split({column}, ';') END"
        parts.append(f"{_guarded(checked, name, value, d)} AS {column}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {', '.join(parts)} FROM {relation}")


def _guarded(checked: CheckedPolicy, name: str, value: str, d: Dialect) -> str:
    """``value`` checked as the facts contract reads one enterprise's facts (policy_dsl.intake): an
    amount of money or a duration is not negative, an enum holds one of its values, a set only its
    values. A row that breaks it stops the query with DuckDB's ``error()``, naming the fact."""
    info = checked.facts[name]
    kind = info.type.kind
    label = d.string(f"fact `{name}`: ")
    if kind in {"money", "duration"}:
        what = "amounts" if kind == "money" else "durations"
        number = f"CAST({value} AS {d.sql_type(info.type)})"
        problem = f"{label} || '{what} cannot be negative, got ' || CAST({value} AS VARCHAR)"
        return f"CASE WHEN {number} < 0 THEN error({problem}) ELSE {value} END"
    if kind in {"enum", "set"}:
        enum = checked.enums.get(info.type.param or "")
        if enum is None:
            return value
        values = [v.name for v in enum.values]
        listed = "[" + ", ".join(d.string(v) for v in values) + "]"
        one_of = d.string("; one of " + ", ".join(values))
        if kind == "enum":
            test = f"NOT list_contains({listed}, CAST({value} AS VARCHAR))"
            shown = f"CAST({value} AS VARCHAR)"
        else:
            test = f"NOT list_has_all({listed}, {value})"
            shown = f"array_to_string(list_filter({value}, lambda v: NOT list_contains({listed}, v)), ', ')"
        problem = f"{label} || 'unknown value ' || {shown} || {one_of}"
        return f"CASE WHEN {test} THEN error({problem}) ELSE {value} END"
    return value


def population_file(path: str) -> Path:
    """``path`` as a population file: one of the formats in :data:`READERS`, and there."""
    source = Path(path)
    if source.suffix.lower() not in READERS:
        raise PolicyLoadError(
            [Diagnostic(f"{path}: unknown population format", hint="use .csv, .parquet or .jsonl")]
        )
    if not source.is_file():
        raise PolicyLoadError([Diagnostic(f"{path}: no such file")])
    return source


#: Fact kinds DuckDB would read from CSV or JSON as a double, exact only to ~15 digits.
DECIMAL_KINDS = frozenset({"money", "decimal", "percent"})


def population_source(con: Any, source: Path, facts: Mapping[str, str]) -> str:
    """The table function that reads a population file whose fact columns are ``facts`` (name →
    kind of type). Text formats are read so that no number passes through a double on the way:

    - CSV: fact columns are read as text and cast by the query to their exact types (DuckDB's guess
      reads 12345678901234567.89 as a double), and a quoted empty field stays "" (the empty set);
    - JSON lines: money, decimal and percent columns are declared DECIMAL, which DuckDB parses from
      the number as written.
    """
    reader = READERS[source.suffix.lower()]
    literal = "'" + str(source).replace("'", "''") + "'"
    if reader == "read_parquet":
        return f"{reader}({literal})"
    described = describe(con, f"{reader}({literal})")
    d = Dialect("duckdb")
    if reader == "read_csv_auto":
        text = [column[0] for column in described if column[0] in facts]
        if not text:
            return f"read_csv({literal})"
        types = ", ".join(f"{d.string(name)}: 'VARCHAR'" for name in text)
        return f"read_csv({literal}, types = {{{types}}}, allow_quoted_nulls = false)"
    columns = []
    for name, sniffed, *_ in described:
        exact = facts.get(name) in DECIMAL_KINDS
        columns.append(f"{d.string(name)}: {d.string(DECIMAL_SQL if exact else str(sniffed))}")
    return f"read_json({literal}, columns = {{{', '.join(columns)}}})"


def _facts_view(con: Any, checked: CheckedPolicy, relation: str) -> tuple[str, tuple[str, ...]]:
    """A view ``facts`` with every fact column (NULL where the input has none) and the rest kept."""
    d = Dialect("duckdb")
    described = describe(con, relation)
    present = {column[0]: str(column[1]) for column in described}
    keep = tuple(c for c in present if c not in checked.facts)
    # the result columns, by the case-blind name DuckDB matches them on
    results = {name.casefold(): name for name in result_columns(checked)}
    clashes = [c for c in keep if c.casefold() in results]
    if clashes:
        raise PolicyLoadError(
            [
                Diagnostic(
                    f"the population's column `{c}` has the name of the result column "
                    f"`{results[c.casefold()]}`",
                    hint="rename or drop the column: columns that are not facts are passed through",
                )
                for c in clashes
            ]
        )
    facts_view(con, checked, "facts", relation, [d.ident(c) for c in keep], present)
    return "facts", keep


def _query(
    con: Any, checked: CheckedPolicy, relation: str, as_of: dt.date | None, adopted: bool = False
) -> str:
    source, keep = _facts_view(con, checked, relation)
    return compile_sql(checked, "duckdb", source=source, as_of=as_of, keep=keep, adopted=adopted)


def evaluate_table(
    checked: CheckedPolicy, table: Any, as_of: dt.date | None = None, adopted: bool = False
) -> Any:
    """Every benefit's status and amount for each row of an Arrow table or pandas DataFrame → Arrow table."""
    con = _connect()
    con.register("population_input", table)
    try:
        relation = con.sql(_query(con, checked, "population_input", as_of, adopted))
        fetch = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
        return fetch()
    except Exception as exc:  # duckdb raises its own hierarchy; give the user one error type
        raise _population_error(str(exc)) from None


PLAIN_VALUES_HINT = (
    "populations are read as plain values: 4800000 rather than 480万美元, 2022-06-20, true/false"
)


def is_conversion_error(message: str) -> bool:
    """Whether DuckDB could not read a value as its column's type (480万美元 for money, say)."""
    return any(words in message for words in ("Could not convert", "Conversion Error", "Failed to cast"))


def _population_error(message: str) -> PolicyLoadError:
    hint = None
    if is_conversion_error(message):
        hint = PLAIN_VALUES_HINT
    return PolicyLoadError(
        [Diagnostic(f"the population cannot be evaluated: {message.splitlines()[0]}", hint=hint)]
    )


OUTPUTS = {".parquet": "parquet", ".csv": "csv", ".arrow": "arrow", ".feather": "arrow"}


def evaluate_file(
    checked: CheckedPolicy,
    path: str,
    output: str | None = None,
    as_of: dt.date | None = None,
    progress: bool = False,
    adopted: bool = False,
) -> tuple[int, dict[str, dict[str, int]]]:
    """Evaluate a population file; write the results if ``output`` is given: Parquet or CSV
    (written by DuckDB), or an Arrow IPC file (``.arrow`` / ``.feather``, streamed through
    pyarrow; the fastest to write and to read back).

    Returns the row count and, per benefit, the count of each status.
    """
    import duckdb

    source = population_file(path)
    kind = None if output is None else OUTPUTS.get(Path(output).suffix.lower())
    if output is not None and kind is None:
        raise PolicyLoadError(
            [Diagnostic(f"{output}: unknown results format", hint="use .parquet, .csv, .arrow or .feather")]
        )
    if output is not None and not Path(output).resolve().parent.is_dir():
        raise PolicyLoadError([Diagnostic(f"{output}: cannot be written: its directory does not exist")])
    con = _connect()
    if progress:
        con.execute("SET enable_progress_bar = true")
    statuses = [info.rule.name for info in checked.benefits]
    try:
        relation = population_source(con, source, {n: f.type.kind for n, f in checked.facts.items()})
        con.execute(f"CREATE TEMP VIEW population_input AS SELECT * FROM {relation}")
        query = _query(con, checked, "population_input", as_of, adopted)
        if output is not None and kind == "arrow":
            rows, tallies = _write_arrow(con, query, output, statuses)
        else:
            if output is not None:
                target = "'" + output.replace("'", "''") + "'"
                fmt = "PARQUET" if kind == "parquet" else "CSV, HEADER"
                con.execute(f"COPY ({query}) TO {target} (FORMAT {fmt})")  # streamed, never held whole
                results = f"{READERS['.' + (kind or 'csv')]}({target})"  # counted from what was written
            else:
                results = f"({query})"
            rows, tallies = _count(con, results, statuses)
    except duckdb.Error as exc:
        raise _population_error(str(exc)) from None
    except UnicodeDecodeError as exc:  # DuckDB's message about a cell that is not UTF-8
        raise _population_error(f"a value is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    counts: dict[str, dict[str, int]] = {}
    for name in statuses:
        eligible, known = tallies[name]
        tally = {"eligible": eligible, "not_eligible": known - eligible, "unknown": rows - known}
        counts[name] = {k: v for k, v in tally.items() if v}
    return rows, counts


def _count(con: Any, results: str, statuses: list[str]) -> tuple[int, dict[str, tuple[int, int]]]:
    """Row count and, per status column, (TRUE count, non-NULL count): two cheap aggregates each."""
    d = Dialect("duckdb")
    selects = ["count(*)"]
    for name in statuses:
        # read back from a CSV, an all-NULL column is text: the cast makes it BOOLEAN again
        status = f"CAST({d.ident(name)} AS BOOLEAN)"
        selects += [f"coalesce(count_if({status}), 0)", f"count({status})"]  # count_if: NULL on no TRUE
    row = con.execute(f"SELECT {', '.join(selects)} FROM {results}").fetchone()
    assert row is not None
    return int(row[0]), {n: (int(row[1 + 2 * i]), int(row[2 + 2 * i])) for i, n in enumerate(statuses)}


def _write_arrow(
    con: Any, query: str, output: str, statuses: list[str]
) -> tuple[int, dict[str, tuple[int, int]]]:
    """Stream the results into an Arrow IPC file batch by batch, counting each status on the way."""
    try:
        import pyarrow.compute as pc
        import pyarrow.ipc as ipc
    except ImportError:
        raise PolicyLoadError(
            [
                Diagnostic(
                    f"{output}: writing Arrow files needs pyarrow",
                    hint="pip install 'policy_dsl[arrow]', or write .parquet or .csv",
                )
            ]
        ) from None
    rows = 0
    tallies = dict.fromkeys(statuses, (0, 0))
    relation = con.sql(query)
    stream = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader  # DuckDB < 1.4
    batches = stream(1 << 16)
    try:
        with ipc.new_file(output, batches.schema) as writer:
            for batch in batches:
                writer.write_batch(batch)
                rows += batch.num_rows
                for name in statuses:
                    column = batch.column(name)
                    true, known = tallies[name]
                    tallies[name] = (
                        true + (pc.sum(column).as_py() or 0),
                        known + len(column) - column.null_count,
                    )
    except OSError as exc:
        raise PolicyLoadError([Diagnostic(f"{output}: cannot be written: {exc}")]) from None
    return rows, tallies
