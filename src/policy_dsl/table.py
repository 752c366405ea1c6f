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
from pathlib import Path
from typing import Any

from policy_dsl.check import CheckedPolicy
from policy_dsl.errors import Diagnostic, PolicyLoadError
from policy_dsl.sql import Dialect, compile_sql

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


def facts_view(
    con: Any, checked: CheckedPolicy, view: str, relation: str, keep: list[str], present: dict[str, str]
) -> None:
    """Create ``view``: the ``keep`` expressions, then one column per fact of ``checked`` — the
    relation's (a ``;``-separated set split into a list), or NULL where it has none."""
    d = Dialect("duckdb")
    parts = list(keep)
    for name, info in checked.facts.items():
        if name not in present:
            parts.append(f"CAST(NULL AS {d.sql_type(info.type)}) AS {d.ident(name)}")
        elif info.type.kind == "set" and present[name].upper() in {"VARCHAR", "STRING"}:
            parts.append(f"string_split({d.ident(name)}, ';') AS {d.ident(name)}")
        else:
            parts.append(d.ident(name))
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {', '.join(parts)} FROM {relation}")


def _facts_view(con: Any, checked: CheckedPolicy, relation: str) -> tuple[str, tuple[str, ...]]:
    """A view ``facts`` with every fact column (NULL where the input has none) and the rest kept."""
    d = Dialect("duckdb")
    described = con.sql(f"SELECT * FROM {relation} LIMIT 0").description
    present = {column[0]: str(column[1]) for column in described}
    keep = tuple(c for c in present if c not in checked.facts)
    facts_view(con, checked, "facts", relation, [d.ident(c) for c in keep], present)
    return "facts", keep


def _query(con: Any, checked: CheckedPolicy, relation: str, as_of: dt.date | None) -> str:
    source, keep = _facts_view(con, checked, relation)
    return compile_sql(checked, "duckdb", source=source, as_of=as_of, keep=keep)


def evaluate_table(checked: CheckedPolicy, table: Any, as_of: dt.date | None = None) -> Any:
    """Every benefit's status and amount for each row of an Arrow table or pandas DataFrame → Arrow table."""
    con = _connect()
    con.register("population_input", table)
    try:
        relation = con.sql(_query(con, checked, "population_input", as_of))
        fetch = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
        return fetch()
    except Exception as exc:  # duckdb raises its own hierarchy; give the user one error type
        raise _population_error(str(exc)) from None


def _population_error(message: str) -> PolicyLoadError:
    hint = None
    if "Could not convert" in message or "Conversion Error" in message:
        hint = "the population path reads plain values: 4800000 rather than 480万美元, 2022-06-20, true/false"
    return PolicyLoadError(
        [Diagnostic(f"the population cannot be evaluated: {message.splitlines()[0]}", hint=hint)]
    )


def evaluate_file(
    checked: CheckedPolicy,
    path: str,
    output: str | None = None,
    as_of: dt.date | None = None,
    progress: bool = False,
) -> tuple[int, dict[str, dict[str, int]]]:
    """Evaluate a population file; write the results (CSV or Parquet) if ``output`` is given.

    Returns the row count and, per benefit, the count of each status.
    """
    import duckdb

    source = Path(path)
    reader = READERS.get(source.suffix.lower())
    if reader is None:
        raise PolicyLoadError(
            [Diagnostic(f"{path}: unknown population format", hint="use .csv, .parquet or .jsonl")]
        )
    if not source.exists():
        raise PolicyLoadError([Diagnostic(f"{path}: no such file")])
    con = _connect()
    if progress:
        con.execute("SET enable_progress_bar = true")
    literal = "'" + str(source).replace("'", "''") + "'"
    try:
        con.execute(f"CREATE TEMP VIEW population_input AS SELECT * FROM {reader}({literal})")
        query = _query(con, checked, "population_input", as_of)
        if output is not None:
            target = "'" + output.replace("'", "''") + "'"
            fmt = "PARQUET" if output.endswith(".parquet") else "CSV, HEADER"
            con.execute(f"COPY ({query}) TO {target} (FORMAT {fmt})")  # streamed, never held whole
            results = f"{READERS['.parquet' if output.endswith('.parquet') else '.csv']}({target})"
        else:
            results = f"({query})"
        d = Dialect("duckdb")
        tallies = []
        for info in checked.benefits:
            column = d.ident(info.rule.name)
            tallies.append(
                f"count_if(coalesce({column}, FALSE)), count_if(coalesce(NOT {column}, FALSE)), "
                f"count_if({column} IS NULL)"
            )
        row = con.execute(f"SELECT count(*), {', '.join(tallies)} FROM {results}").fetchone()
        assert row is not None
        rows = int(row[0])
        counts: dict[str, dict[str, int]] = {}
        for index, info in enumerate(checked.benefits):
            eligible, not_eligible, unknown = row[1 + 3 * index : 4 + 3 * index]
            tally = {"eligible": int(eligible), "not_eligible": int(not_eligible), "unknown": int(unknown)}
            counts[info.rule.name] = {k: v for k, v in tally.items() if v}
    except duckdb.Error as exc:
        raise _population_error(str(exc)) from None
    return int(rows), counts
