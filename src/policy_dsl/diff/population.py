"""The population layer of a diff: how many real enterprises gain, lose or change each benefit.

Entry point: :func:`population_diff`. A population is a CSV, Parquet or JSON-lines file, one
enterprise a row, read and evaluated under both versions in DuckDB (the SQL of ``sql.py``), so a
registry of millions is counted in seconds. An ``id`` column names each enterprise (else its row
number); every other column is a fact of either version, in plain values (``4800000``,
``2022-06-20``, ``true``; a set as a list or ``FDA;EMA``); an empty cell is unknown. A column that
is a fact of neither version is an error: nothing a user gave is silently ignored.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import attrs

from policy_dsl import model as m
from policy_dsl.check import CheckedPolicy
from policy_dsl.diff.compare import PolicyDiff
from policy_dsl.errors import Diagnostic, PolicyLoadError
from policy_dsl.policy import load
from policy_dsl.source import display_width
from policy_dsl.sql import Dialect, compile_sql, has_amount
from policy_dsl.table import (
    PLAIN_VALUES_HINT,
    describe,
    facts_view,
    is_conversion_error,
    population_file,
    population_source,
)

#: The columns the queries add: `#` can be in no name of a policy, so no fact or benefit collides.
ROW_NAME, ID_NAME = "#row", "#id"
ROW, ID = f'"{ROW_NAME}"', f'"{ID_NAME}"'

GAINED = "gained"
LOST = "lost"
CHANGED = "changed"
UNKNOWN = "unknown"
KINDS = (GAINED, LOST, CHANGED, UNKNOWN)
ID_COLUMNS = ("id", "ID", "Id", "企业编号", "编号")
#: How many enterprise ids the text report lists per benefit and kind (JSON lists all).
SHOWN_IDS = 10


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
        columns = f"{'old':>8} {'new':>8} {'gained':>8} {'lost':>8} {'changed':>8} {'unknown':>8}"
        header = f"  {_pad('benefit', 40)} {columns}"
        lines.append(header)
        for b in self.benefits:
            if not any(b.count(k) for k in KINDS):
                continue
            lines.append(
                f"  {_pad(b.label, 40)} {b.eligible_old:>8} {b.eligible_new:>8} {b.count(GAINED):>8} "
                f"{b.count(LOST):>8} {b.count(CHANGED):>8} {b.count(UNKNOWN):>8}"
            )
            for kind in KINDS:
                ids = b.ids.get(kind, ())
                if ids:
                    shown = ", ".join(ids[:SHOWN_IDS]) + (
                        f", … {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else ""
                    )
                    lines.append(f"      {kind}: {shown}")
        return lines


def _pad(text: str, width: int) -> str:
    """``text`` cut or padded to ``width`` terminal columns (CJK characters take two)."""
    out = ""
    for char in text:
        if display_width(out + char) > width - 1 and display_width(text) > width:
            out += "…"
            break
        out += char
    return out + " " * max(width - display_width(out), 0)


def _static_value(checked: CheckedPolicy | None, benefit: str) -> tuple[str, str]:
    """A benefit's cap and rate as written: when they change, every enterprise eligible in both changes."""
    if checked is None:
        return ("", "")
    for info in checked.benefits:
        rule = info.rule
        if rule.name == benefit and isinstance(rule, m.Benefit):
            cap = repr(rule.cap.value) if rule.cap is not None else ""
            rate = repr(rule.rate.rate.value) if rule.rate is not None else ""
            return (cap, rate)
    return ("", "")


def _priced(checked: CheckedPolicy, benefit: str) -> bool:
    """Whether the benefit has an amount column in ``checked``'s results (see :func:`has_amount`)."""
    return any(
        info.rule.name == benefit and isinstance(info.rule, m.Benefit) and has_amount(info.rule)
        for info in checked.benefits
    )


def population_diff(
    diff: PolicyDiff, old_path: str, new_path: str, population_path: str, as_of: dt.date | None = None
) -> PolicyDiff:
    """``diff`` with its population layer: every enterprise evaluated under both versions in DuckDB."""
    import duckdb

    if not (diff.old.encoded and diff.new.encoded):
        raise PolicyLoadError(
            [Diagnostic("--population needs two .policy encodings: plain texts have no rules to evaluate")]
        )
    source = population_file(population_path)
    old, new = load(old_path), load(new_path)
    day = as_of or diff.as_of or dt.date.today()
    con = duckdb.connect()
    if sys.stderr.isatty():
        con.execute("SET enable_progress_bar = true")
    d = Dialect("duckdb")
    try:
        fact_kinds = {n: f.type.kind for n, f in old.checked.facts.items()}
        for name, fact in new.checked.facts.items():  # a fact whose kind changed is read as found
            same = fact_kinds.get(name, fact.type.kind) == fact.type.kind
            fact_kinds[name] = fact.type.kind if same else "changed"
        relation = population_source(con, source, fact_kinds)
        # numbered once and kept, so that both versions read the very same rows in the same order
        con.execute(
            f"CREATE TEMP TABLE population_input AS SELECT *, row_number() OVER () AS {ROW} FROM {relation}"
        )
        described = describe(con, "population_input")
        present = {column[0]: str(column[1]) for column in described if column[0] != ROW_NAME}
        id_column = next((c for c in ID_COLUMNS if c in present), None)
        known = set(old.checked.facts) | set(new.checked.facts)
        unknown = sorted(c for c in present if c not in known and c != id_column)
        if unknown:
            raise PolicyLoadError(
                [Diagnostic(f"{population_path}: column `{c}` is a fact of neither version") for c in unknown]
            )
        id_sql = (
            f"CAST({d.ident(id_column)} AS VARCHAR)" if id_column else f"'row ' || CAST({ROW} AS VARCHAR)"
        )
        for tag, policy in (("old", old), ("new", new)):
            keep = [f"{id_sql} AS {ID}", ROW]
            facts_view(con, policy.checked, f"facts_{tag}", "population_input", keep, present)
            query = compile_sql(
                policy.checked,
                "duckdb",
                source=f"facts_{tag}",
                as_of=day,
                keep=(ID_NAME, ROW_NAME),
                adopted=True,  # two versions compared as written, drafts included
            )
            con.execute(f"CREATE TEMP TABLE results_{tag} AS {query}")
        rows = int(con.execute("SELECT count(*) FROM results_new").fetchone()[0])  # type: ignore[index]
        labels: dict[str, str] = {}
        for info in (*new.checked.benefits, *old.checked.benefits):
            labels.setdefault(info.rule.name, info.rule.label.value if info.rule.label else info.rule.name)
        old_ids = {info.rule.name for info in old.checked.benefits}
        new_ids = {info.rule.name for info in new.checked.benefits}
        # One pass counts every benefit's outcomes; ids are then listed (in row order) only for
        # the benefits and kinds that have some: a join and a scan per benefit cost ~60 ms on a
        # million rows, and most benefits do not move.
        conditions = {
            name: _benefit_conditions(d, name, name in old_ids, name in new_ids, old.checked, new.checked)
            for name in labels
        }
        joined = f"FROM results_old AS o JOIN results_new AS n ON o.{ROW} = n.{ROW}"
        counted = [
            f"count_if(coalesce({condition}, FALSE))"
            for per_kind in conditions.values()
            for condition in per_kind.values()
        ]
        counts = con.execute(f"SELECT {', '.join(counted)} {joined}").fetchone()
        assert counts is not None  # an aggregate without GROUP BY gives one row
        benefits = []
        width = 2 + len(KINDS)
        for index, (name, label) in enumerate(labels.items()):
            old_count, new_count, *moved = counts[index * width : (index + 1) * width]
            kinds = [kind for kind, count in zip(KINDS, moved, strict=True) if count]
            ids: dict[str, tuple[str, ...]] = {}
            if kinds:
                listed = [
                    f"list(o.{ID} ORDER BY o.{ROW}) FILTER (WHERE coalesce({conditions[name][k]}, FALSE))"
                    for k in kinds
                ]
                found = con.execute(f"SELECT {', '.join(listed)} {joined}").fetchone()
                assert found is not None
                ids = {kind: tuple(values or ()) for kind, values in zip(kinds, found, strict=True)}
            benefits.append(BenefitPopulation(name, label, int(old_count), int(new_count), ids))
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        hint = None
        if is_conversion_error(message):
            hint = PLAIN_VALUES_HINT
        raise PolicyLoadError(
            [Diagnostic(f"{population_path}: cannot be evaluated: {message}", hint=hint)]
        ) from None
    return attrs.evolve(diff, population=PopulationDiff(str(source), rows, day, tuple(benefits)))


#: What can happen to an enterprise's benefit between the versions, in the report's order.
KINDS = (CHANGED, UNKNOWN, GAINED, LOST)


def _benefit_conditions(
    d: Dialect, name: str, in_old: bool, in_new: bool, old: CheckedPolicy, new: CheckedPolicy
) -> dict[str, str]:
    """For one benefit over the joined results ``o`` and ``n``: eligible under the old version,
    under the new one, then the condition of each of :data:`KINDS`."""
    status, amount = d.ident(name), d.ident(f"{name}:amount")
    o = f"o.{status}" if in_old else "FALSE"
    n = f"n.{status}" if in_new else "FALSE"
    oa = f"o.{amount}" if in_old and _priced(old, name) else "NULL"  # only priced benefits have one
    na = f"n.{amount}" if in_new and _priced(new, name) else "NULL"
    static_changed = in_old and in_new and _static_value(old, name) != _static_value(new, name)
    return {
        "old": o,
        "new": n,
        CHANGED: f"({o} AND {n} AND ({'TRUE' if static_changed else 'FALSE'} OR {oa} IS DISTINCT FROM {na}))",
        UNKNOWN: f"(({o}) IS NULL) <> (({n}) IS NULL)",
        GAINED: f"(coalesce({n}, FALSE) AND {o} IS NOT NULL AND NOT {o})",
        LOST: f"(coalesce({o}, FALSE) AND {n} IS NOT NULL AND NOT {n})",
    }
