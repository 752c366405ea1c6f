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
from collections.abc import Collection, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from policy_dsl.diff.compare import PolicyDiff
from policy_dsl.diff.regions import PRESENTATION
from policy_dsl.errors import Diagnostic, PolicyLoadError
from policy_dsl.impact import (
    BENEFIT,
    DUTY,
    GroupBy,
    RuleSpec,
    duties_view,
    duty_names,
    enum_orders,
    group_columns,
    group_key,
    group_label,
    missing_facts,
    missing_lines,
    money_shown,
    money_text,
    parse_by,
    resolve_by,
    rule_specs,
)
from policy_dsl.policy import load
from policy_dsl.selection import select_rules
from policy_dsl.source import display_width
from policy_dsl.sql import Dialect, amount_column, compile_sql, high_column, low_column
from policy_dsl.table import (
    PLAIN_VALUES_HINT,
    ROW_KEY,
    connect,
    describe,
    facts_view,
    is_conversion_error,
    items_views,
    population_file,
    population_source,
)

#: The columns the queries add: `#` can be in no name of a policy, so no fact or benefit collides.
ROW_NAME, ID_NAME = "#row", "#id"
ROW, ID = f'"{ROW_NAME}"', f'"{ID_NAME}"'
#: In the one-pass results: the old version's result columns, and the population's own columns
#: carried past the old version's evaluation for the new one's.
OLD, RAW = "#old:", "#raw:"

GAINED = "gained"
LOST = "lost"
CHANGED = "changed"
UNKNOWN = "unknown"
ID_COLUMNS = ("id", "ID", "Id", "企业编号", "编号")
#: ``--ids all``: every id of each benefit and kind.
ALL_IDS = "all"


@attrs.frozen
class Span:
    """The sums of a range's two ends over the enterprises granted it (5%—20% of each one's base),
    and how many of them have no upper end (a floor, 不低于, with no cap)."""

    low: Decimal
    high: Decimal
    open: int


_NO_SPAN = Span(Decimal(0), Decimal(0), 0)


def _span_text(span: Span, currency: str | None) -> str:
    opened = f" (+ {span.open} open)" if span.open else ""
    return f"{_money(span.low, currency)} — {_money(span.high, currency)}{opened}"


@attrs.frozen
class Amount:
    """A benefit's money under each version: exact sums of the eligible enterprises' amounts, and how
    many enterprises (eligible, or of unknown eligibility) have an amount that cannot be computed."""

    old: Decimal
    new: Decimal
    undetermined_old: int
    undetermined_new: int

    @property
    def change(self) -> Decimal:
        return self.new - self.old


@attrs.frozen
class BenefitPopulation:
    id: str
    label: str
    eligible_old: int
    eligible_new: int
    #: ids per kind, listed only with ``--ids`` (at most that many, in row order)
    ids: dict[str, tuple[str, ...]]
    counts: dict[str, int] = attrs.field(factory=dict)
    kind: str = BENEFIT  # or DUTY: eligible means applies
    currency: str | None = None
    amount: Amount | None = None
    #: a benefit's commitment under each version (None: a duty, or absent from that version)
    commitment: tuple[str | None, str | None] = (None, None)
    #: a range in either version: the sums of its ends under each (``{"old": Span, "new": Span}``)
    ranged: dict[str, Span] | None = None

    def count(self, kind: str) -> int:
        return self.counts.get(kind, len(self.ids.get(kind, ())))

    @property
    def moved(self) -> bool:
        return any(self.count(k) for k in KINDS)


@attrs.frozen
class PopulationDiff:
    path: str
    rows: int
    as_of: dt.date
    benefits: tuple[BenefitPopulation, ...]
    #: facts a version reads that are not columns of the population (docs/diff.md, population)
    missing: tuple[dict[str, Any], ...] = ()
    #: per currency: old, new, change (decimal strings), undetermined {old, new}
    totals: tuple[dict[str, Any], ...] = ()
    #: ``{"by": [...], "rows": [...]}`` with ``--by``, else None
    groups: dict[str, Any] | None = None
    #: whether id lists were asked for (``--ids``): without, only counts are computed
    listed: bool = False
    #: the ids of the rules asked for (``--benefit``, ``--measure``); None: every rule
    selected: tuple[str, ...] | None = None

    @property
    def different(self) -> bool:
        return any(b.moved for b in self.benefits)

    def to_dict(self) -> dict[str, Any]:
        """The ``population`` object of the JSON report (schema 3.2, docs/diff.md)."""
        return {
            "path": self.path,
            "enterprises": self.rows,
            "as_of": self.as_of.isoformat(),
            "selected": None if self.selected is None else list(self.selected),
            "missing_facts": [dict(entry) for entry in self.missing],
            "benefits": [self._benefit(b) for b in self.benefits],
            "totals": [dict(total) for total in self.totals],
            "groups": self.groups,
        }

    def _benefit(self, b: BenefitPopulation) -> dict[str, Any]:
        def moved(kind: str) -> dict[str, Any]:
            entry: dict[str, Any] = {"count": b.count(kind)}
            if self.listed:
                entry["ids"] = list(b.ids.get(kind, ()))
            return entry

        amount = None
        if b.amount is not None:
            amount = {
                "old": money_text(b.amount.old, b.currency),
                "new": money_text(b.amount.new, b.currency),
                "change": money_text(b.amount.change, b.currency),
                "undetermined": {"old": b.amount.undetermined_old, "new": b.amount.undetermined_new},
            }
        return {
            "benefit": b.id,
            "label": b.label,
            "kind": b.kind,
            "commitment": {"old": b.commitment[0], "new": b.commitment[1]} if b.kind == BENEFIT else None,
            "range": {
                side: {
                    "low": money_text(span.low, b.currency),
                    "high": money_text(span.high, b.currency),
                    "open": span.open,
                }
                for side, span in b.ranged.items()
            }
            if b.ranged is not None
            else None,
            "currency": b.currency,
            "eligible": {"old": b.eligible_old, "new": b.eligible_new},
            **{kind: moved(kind) for kind in KINDS},
            "amount": amount,
        }

    def header_lines(self) -> list[str]:
        """Why results are unknown, said once at the top of a report."""
        return [f"population: {line}" for line in missing_lines(self.missing)]

    def summary_lines(self) -> list[str]:
        moved = [b for b in self.benefits if b.moved]
        totals = {k: sum(b.count(k) for b in self.benefits) for k in KINDS}
        benefits = sum(1 for b in moved if b.kind == BENEFIT)
        duties = len(moved) - benefits
        line = (
            f"  population: {self.rows} enterprises from {self.path} as of {self.as_of.isoformat()}: "
            f"{_count_of(benefits, 'benefit')} and {_count_of(duties, 'duty', 'duties')} move — "
            f"{totals[GAINED]} gains, {totals[LOST]} losses, "
            f"{totals[CHANGED]} amount changes, {totals[UNKNOWN]} become or stop being unknown"
        )
        money = "; ".join(
            f"{t['currency'] or ''} {money_shown(t['old'])} → {money_shown(t['new'])} "
            f"({money_shown(t['change'], signed=True)})".strip()
            for t in self.totals
        )
        if money:
            line += f"; amounts: {money}"
        if self.selected is not None:
            asked = _count_of(len(self.selected), "rule")
            line += f" (only the {asked} asked for: {', '.join(self.selected)})"
        return [line]

    def detail_lines(self) -> list[str]:
        lines = ["Population (winners and losers)"]
        columns = f"{'old':>8} {'new':>8} {'gained':>8} {'lost':>8} {'changed':>8} {'unknown':>8}"
        for kind, heading in ((BENEFIT, "benefit"), (DUTY, "duty (applies)")):
            rows = [b for b in self.benefits if b.kind == kind and b.moved]
            if not rows:
                continue
            lines.append(f"  {_pad(heading, 40)} {columns}")
            for b in rows:
                lines.append(
                    f"  {_pad(b.label, 40)} {b.eligible_old:>8} {b.eligible_new:>8} {b.count(GAINED):>8} "
                    f"{b.count(LOST):>8} {b.count(CHANGED):>8} {b.count(UNKNOWN):>8}"
                )
                for moved in KINDS:
                    ids = b.ids.get(moved, ())
                    if ids:
                        more = b.count(moved) - len(ids)
                        lines.append(
                            f"      {moved}: {', '.join(ids)}" + (f", … {more} more" if more else "")
                        )
        if not self.different:
            lines.append("  no enterprise moves")
        elif not self.listed:
            lines.append(
                "  (enterprise ids: --ids N lists up to N per benefit and kind, --ids all every one)"
            )
        lines += self._budget_lines()
        lines += self._group_lines()
        return lines

    def _range_lines(self) -> list[str]:
        ranged = [b for b in self.benefits if b.ranged is not None]
        if not ranged:
            return []
        lines = [
            "",
            "Ranges decided case by case (sums of each range's low and high ends; open: no upper end)",
        ]
        for b in ranged:
            assert b.ranged is not None
            old, new = (_span_text(b.ranged[side], b.currency) for side in ("old", "new"))
            lines.append(f"  {_pad(b.label, 40)} {b.currency or '':<4} {old} → {new}")
        return lines

    def _budget_lines(self) -> list[str]:
        priced = [b for b in self.benefits if b.amount is not None]
        if not priced:
            return self._range_lines()
        lines = [
            "",
            "Budget impact (sums of the amounts of the enterprises eligible; undetermined: enterprises whose "
            "amount cannot be computed)",
            f"  {_pad('benefit', 40)} {'':<4} {'old':>16} {'new':>16} {'change':>16} {'undetermined':>14}",
        ]
        for b in priced:
            a = b.amount
            assert a is not None
            lines.append(
                f"  {_pad(b.label, 40)} {b.currency or '':<4} {_money(a.old, b.currency):>16} "
                f"{_money(a.new, b.currency):>16} {_money(a.change, b.currency, True):>16} "
                f"{f'{a.undetermined_old} / {a.undetermined_new}':>14}"
            )
        for t in self.totals:
            undetermined = f"{t['undetermined']['old']} / {t['undetermined']['new']}"
            lines.append(
                f"  {_pad('total (enterprises undetermined)', 40)} {t['currency'] or '':<4} "
                f"{money_shown(t['old']):>16} {money_shown(t['new']):>16} "
                f"{money_shown(t['change'], signed=True):>16} {undetermined:>14}"
            )
        return lines + self._range_lines()

    def _group_lines(self) -> list[str]:
        if self.groups is None:
            return []
        labels = {b.id: b.label for b in self.benefits}
        lines = ["", f"By {', '.join(self.groups['by'])}"]
        for row in self.groups["rows"]:
            gained = sum(b["gained"] for b in row["benefits"])
            lost = sum(b["lost"] for b in row["benefits"])
            money = "; ".join(
                f"{t['currency'] or ''} {money_shown(t['old'])} → {money_shown(t['new'])} "
                f"({money_shown(t['change'], signed=True)})".strip()
                for t in row["totals"]
            )
            lines.append(
                f"  {group_label(self.groups['by'], row['group'])}: {row['enterprises']} enterprises, "
                f"{gained} gains, {lost} losses" + (f"; {money}" if money else "")
            )
            for b in row["benefits"]:
                if b["gained"] or b["lost"]:
                    lines.append(
                        f"      {labels.get(b['benefit'], b['benefit'])}: +{b['gained']} −{b['lost']}"
                    )
        return lines


def _money(value: Decimal, currency: str | None, signed: bool = False) -> str:
    return money_shown(money_text(value, currency), signed)


def _pad(text: str, width: int) -> str:
    """``text`` cut or padded to ``width`` terminal columns (CJK characters take two)."""
    out = ""
    for char in text:
        if display_width(out + char) > width - 1 and display_width(text) > width:
            out += "…"
            break
        out += char
    return out + " " * max(width - display_width(out), 0)


#: What can happen to an enterprise's benefit or duty between the versions, in the report's order.
KINDS = (CHANGED, UNKNOWN, GAINED, LOST)


def population_diff(
    diff: PolicyDiff,
    old_path: str,
    new_path: str,
    population_path: str,
    as_of: dt.date | None = None,
    by: Sequence[str] = (),
    ids: int | str | None = None,
    benefits: Sequence[str] = (),
    measures: Sequence[str] = (),
    ids_file: str | None = None,
) -> PolicyDiff:
    """``diff`` with its population layer: every enterprise evaluated under both versions in DuckDB;
    per benefit and duty the enterprises that move, per benefit the money, per currency the totals,
    with ``by`` the same per group, and with ``ids`` (a number, or ``"all"``) the ids that move.
    With ``benefits`` or ``measures`` (:func:`~policy_dsl.selection.select_rules`, over both
    versions), only those rules are evaluated and reported. With ``ids_file`` (``.csv`` or
    ``.parquet``), every enterprise that moves is written there, one row per benefit and kind of
    change, in no particular order, as DuckDB streams them: no id is held in memory."""
    import duckdb

    if not (diff.old.encoded and diff.new.encoded):
        raise PolicyLoadError(
            [Diagnostic("--population needs two .policy encodings: plain texts have no rules to evaluate")]
        )
    source = population_file(population_path)
    parsed = parse_by(by)
    old, new = load(old_path), load(new_path)
    only = select_rules([old.checked, new.checked], benefits, measures)
    day = as_of or diff.as_of or dt.date.today()
    con = connect(progress=sys.stdout.isatty() and sys.stderr.isatty())
    d = Dialect("duckdb")
    limit = None if ids is None else (0 if ids == ALL_IDS else int(ids))
    ids_format = None
    if ids_file is not None:
        ids_format = IDS_FORMATS.get(Path(ids_file).suffix.lower())
        if ids_format is None:
            raise PolicyLoadError(
                [Diagnostic(f"{ids_file}: unknown ids file format", hint="use .csv or .parquet")]
            )
        if not Path(ids_file).resolve().parent.is_dir():
            raise PolicyLoadError(
                [Diagnostic(f"{ids_file}: cannot be written: its directory does not exist")]
            )
    try:
        fact_kinds = {n: f.type.kind for n, f in old.checked.facts.items()}
        for name, fact in new.checked.facts.items():  # a fact whose kind changed is read as found
            same = fact_kinds.get(name, fact.type.kind) == fact.type.kind
            fact_kinds[name] = fact.type.kind if same else "changed"
        relation = population_source(con, source, fact_kinds)
        present = {column[0]: str(column[1]) for column in describe(con, relation)}
        facts = {**old.checked.facts, **new.checked.facts}
        groups = resolve_by(parsed, present, facts, population_path, enum_orders(old.checked, new.checked))
        id_column = next((c for c in ID_COLUMNS if c in present), None)
        grouped = {g.column for g in groups}
        unknown = sorted(c for c in present if c not in facts and c != id_column and c not in grouped)
        if unknown:
            raise PolicyLoadError(
                [
                    Diagnostic(
                        f"{population_path}: column `{c}` is a fact of neither version",
                        hint="a column that is not a fact can only group the enterprises: --by " + c,
                    )
                    for c in unknown
                ]
            )
        old_specs = {
            s.id: s for s in rule_specs(old.checked, day, adopted=True) if only is None or s.id in only
        }
        new_specs = {
            s.id: s for s in rule_specs(new.checked, day, adopted=True) if only is None or s.id in only
        }
        unchanged = unchanged_rules(old, new, old_specs, new_specs)
        listed = limit is not None or ids_file is not None
        # rows are numbered for the order of listed ids, and to name them when there is no id column
        numbered = limit is not None or id_column is None
        wanted = (old_specs.keys() - unchanged, new_specs.keys())
        _evaluate_both(
            con, d, old, new, relation, present, groups, id_column, (listed, numbered), day, wanted
        )
        layer = _count(con, d, old_specs, new_specs, groups, limit, unchanged, ids_file, ids_format)
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        hint = None
        if is_conversion_error(message):
            hint = PLAIN_VALUES_HINT
        raise PolicyLoadError(
            [Diagnostic(f"{population_path}: cannot be evaluated: {message}", hint=hint)]
        ) from None
    finally:
        con.close()
    rows, moved, totals, group_rows, unknown_old, unknown_new = layer
    missing = missing_facts(list(new_specs.values()), present, unknown_new)
    named = {entry["fact"] for entry in missing}
    missing += [
        entry
        for entry in missing_facts(list(old_specs.values()), present, unknown_old)
        if entry["fact"] not in named
    ]
    population = PopulationDiff(
        str(source),
        rows,
        day,
        tuple(moved),
        tuple(missing),
        tuple(totals),
        {"by": [g.column for g in groups], "rows": group_rows} if groups else None,
        limit is not None,
        None if only is None else tuple(b.id for b in moved),
    )
    return attrs.evolve(diff, population=population)


def unchanged_rules(
    old: Any, new: Any, old_specs: dict[str, RuleSpec], new_specs: dict[str, RuleSpec]
) -> set[str]:
    """The benefits and duties that decide and grant the same for every enterprise under both
    versions on the day: the same code deciding the condition (constants by value, see
    :meth:`~policy_dsl.compile.CompiledPolicy.rule_fingerprint`), the same amounts, rate, cap and
    period, in force alike, over facts of the same types. The population diff evaluates them once:
    no enterprise can move on them."""

    def rules(policy: Any) -> dict[str, tuple[str, int, dict[str, Any]]]:
        found = {}
        for kind, table in (("benefit", "BENEFITS"), ("duty", "DUTIES")):
            for index, rule in enumerate(policy.compiled.namespace[table]):
                found[rule["id"]] = (kind, index, rule)
        return found

    old_rules, new_rules = rules(old), rules(new)
    same = set()
    for name, o_spec in old_specs.items():
        n_spec = new_specs.get(name)
        if n_spec is None or attrs.evolve(o_spec, label="") != attrs.evolve(n_spec, label=""):
            continue
        if any(old.checked.facts[f].type != new.checked.facts[f].type for f in o_spec.needs):
            continue
        (o_kind, o_index, o_rule), (n_kind, n_index, n_rule) = old_rules[name], new_rules[name]
        o_data = {k: v for k, v in o_rule.items() if k not in PRESENTATION}
        n_data = {k: v for k, v in n_rule.items() if k not in PRESENTATION}
        if o_kind != n_kind or o_data != n_data:
            continue
        if old.compiled.rule_fingerprint(o_kind, o_index) == new.compiled.rule_fingerprint(n_kind, n_index):
            same.add(name)
    return same


def _evaluate_both(
    con: Any,
    d: Dialect,
    old: Any,
    new: Any,
    relation: str,
    present: dict[str, str],
    groups: Sequence[GroupBy],
    id_column: str | None,
    ids: tuple[bool, bool],
    day: dt.date,
    wanted: tuple[Collection[str], Collection[str]],
) -> None:
    """Create the view ``results``: each row of the population evaluated under the old version,
    then, in the same row, under the new one — one pass over the file, nothing copied or joined.

    The old version's results are renamed ``#old:<name>`` before the new version's are computed
    beside them; the population's columns that the new version reads pass through the old
    version's query as ``#raw:<column>`` and take their own names again after it. ``ids`` says
    whether each row carries its id, and whether it is numbered (the order of listed ids, and the
    name of a row when the population has no id column). ``wanted`` names the
    rules computed under each version (a rule the same in both: under the new one only)."""
    listed, numbered = ids
    carry = [*group_columns(groups)]
    extra = [f"{g.sql(d)} AS {d.ident(k)}" for g, k in zip(groups, carry, strict=True)]
    lists = bool(old.checked.items or new.checked.items)
    if lists:  # the key an enterprise's items are joined on: first, as compile_sql takes it
        extra.insert(0, f"row_number() OVER () AS {d.ident(ROW_KEY)}")
        carry.insert(0, ROW_KEY)
    if listed:
        id_sql = (
            f"CAST({d.ident(id_column)} AS VARCHAR)" if id_column else f"'row ' || CAST({ROW} AS VARCHAR)"
        )
        carry += [ROW_NAME, ID_NAME]
        extra += [f"row_number() OVER () AS {ROW}" if numbered else f"NULL AS {ROW}"]
        con.execute(f"CREATE TEMP VIEW population_rows AS SELECT *, {', '.join(extra)} FROM {relation}")
        con.execute(f"CREATE TEMP VIEW population_input AS SELECT *, {id_sql} AS {ID} FROM population_rows")
    else:
        con.execute(
            f"CREATE TEMP VIEW population_input AS SELECT *{''.join(', ' + e for e in extra)} FROM {relation}"
        )
    raw = [c for c in present if c in new.checked.facts]
    kept = [d.ident(c) for c in carry] + [f"{d.ident(c)} AS {d.ident(RAW + c)}" for c in raw]
    facts_view(con, old.checked, "facts_old", "population_input", kept, present)
    old_items = items_views(con, old.checked, "facts_old", present, " (old)") if lists else {}
    keep = [*carry, *(RAW + c for c in raw)]
    differ, chosen = wanted
    duties_view(con, old.checked, "duties_old", "facts_old", keep, day, adopted=True, only=differ)
    query = compile_sql(
        old.checked,
        "duckdb",
        source="duties_old",
        as_of=day,
        keep=(*keep, *duty_names(old.checked, differ)),
        adopted=True,  # two versions compared as written, drafts included
        only=differ,
        items=old_items,
    )
    con.execute(f"CREATE TEMP VIEW results_old AS {query}")
    produced = []
    for spec in rule_specs(old.checked, day, adopted=True):
        if spec.id not in differ:
            continue
        produced.append(spec.id)
        if spec.priced:
            produced.append(amount_column(spec.id))
        if spec.ranged:
            produced.extend((low_column(spec.id), high_column(spec.id)))
    renamed = [d.ident(c) for c in carry]
    renamed += [f"{d.ident(c)} AS {d.ident(OLD + c)}" for c in produced]
    renamed += [f"{d.ident(RAW + c)} AS {d.ident(c)}" for c in raw]
    con.execute(f"CREATE TEMP VIEW old_results AS SELECT {', '.join(renamed)} FROM results_old")
    carry += [OLD + c for c in produced]
    facts_view(con, new.checked, "facts_new", "old_results", [d.ident(c) for c in carry], present)
    new_items = items_views(con, new.checked, "facts_new", present, " (new)") if lists else {}
    duties_view(con, new.checked, "duties_new", "facts_new", carry, day, adopted=True, only=chosen)
    query = compile_sql(
        new.checked,
        "duckdb",
        source="duties_new",
        as_of=day,
        keep=(*carry, *duty_names(new.checked, chosen)),
        adopted=True,
        only=chosen,
        items=new_items,
    )
    con.execute(f"CREATE TEMP VIEW results AS {query}")


def _count_of(n: int, word: str, plural: str | None = None) -> str:
    """``1 benefit``, ``2 benefits``."""
    return f"{n} {word if n == 1 else plural or word + 's'}"


_Layer = tuple[
    int, list[BenefitPopulation], list[dict[str, Any]], list[dict[str, Any]], dict[str, int], dict[str, int]
]


def _count(
    con: Any,
    d: Dialect,
    old_specs: dict[str, RuleSpec],
    new_specs: dict[str, RuleSpec],
    groups: Sequence[GroupBy],
    limit: int | None,
    same: set[str] = frozenset(),  # type: ignore[assignment]
    ids_file: str | None = None,
    ids_format: str | None = None,
) -> _Layer:
    """One pass over the results counts every rule's outcomes and sums every amount (for the whole
    population and, with grouping sets, per group); ids are listed in a second pass only when asked
    for, and only for the rules and kinds that have some. A rule in ``same`` (computed once, see
    :func:`unchanged_rules`) has its old figures read from the new ones, and no moves."""
    names = list(dict.fromkeys([*new_specs, *old_specs]))
    benefits_first = sorted(names, key=lambda n: (new_specs.get(n) or old_specs[n]).kind != BENEFIT)
    selects = ["count(*)"]
    slots: dict[str, dict[str, int]] = {}

    def add(name: str, what: str, expression: str) -> None:
        slots.setdefault(name, {})[what] = len(selects)
        selects.append(expression)

    conditions: dict[str, dict[str, str]] = {}
    open_old: dict[str, list[str]] = {}
    open_new: dict[str, list[str]] = {}
    add("#", "none", "0")  # the moves of a rule that is the same in both versions
    for name in benefits_first:
        o_spec, n_spec = old_specs.get(name), new_specs.get(name)
        c = _conditions(d, name, o_spec, n_spec, name in same)
        conditions[name] = c
        add(name, "new", f"coalesce(count_if(coalesce({c['new']}, FALSE)), 0)")
        add(name, "known_new", f"count({c['new']})")
        if name in same:
            slot = slots[name]
            slot["old"], slot["known_old"] = slot["new"], slot["known_new"]
            for kind in KINDS:
                slot[kind] = slots["#"]["none"]
        else:
            add(name, "old", f"coalesce(count_if(coalesce({c['old']}, FALSE)), 0)")
            add(name, "known_old", f"count({c['old']})")
            for kind in KINDS:
                add(name, kind, f"coalesce(count_if(coalesce({c[kind]}, FALSE)), 0)")
        if "amount_old" in c:
            add(name, "sum_new", f"sum({c['amount_new']})")
            add(name, "open_new", f"coalesce(count_if({c['open_new']}), 0)")
            if name in same:
                slot = slots[name]
                slot["sum_old"], slot["open_old"] = slot["sum_new"], slot["open_new"]
            else:
                add(name, "sum_old", f"sum({c['amount_old']})")
                add(name, "open_old", f"coalesce(count_if({c['open_old']}), 0)")
            if o_spec is not None:
                open_old.setdefault(o_spec.currency or "", []).append(c["open_old"])
            if n_spec is not None:
                open_new.setdefault(n_spec.currency or "", []).append(c["open_new"])
        if "low_old" in c:  # a range in either version: both ends summed, open-above counted
            for side in ("old", "new"):
                if name in same and side == "old":
                    continue
                add(name, f"low_{side}", f"sum({c[f'low_{side}']})")
                add(name, f"high_{side}", f"sum({c[f'high_{side}']})")
                add(name, f"open_high_{side}", f"coalesce(count_if({c[f'open_high_{side}']}), 0)")
            if name in same:
                slot = slots[name]
                for what in ("low", "high", "open_high"):
                    slot[f"{what}_old"] = slot[f"{what}_new"]
    for code, opens in open_old.items():
        add("#old" + code, "open", f"coalesce(count_if({' OR '.join(opens)}), 0)")
    for code, opens in open_new.items():
        add("#new" + code, "open", f"coalesce(count_if({' OR '.join(opens)}), 0)")
    keys = [d.ident(k) for k in group_columns(groups)]
    joined = "FROM results"
    total, parts = _aggregate(con, selects, keys, joined)
    rows = int(total[0])
    listed = _list_ids(con, joined, conditions, slots, total, limit) if limit is not None else {}
    if ids_file is not None:
        _write_ids(con, joined, conditions, slots, total, ids_file, ids_format or "csv")
    benefits = []
    sums: dict[str, dict[str, Decimal]] = {"old": {}, "new": {}}
    spans: dict[str, dict[str, Span]] = {"old": {}, "new": {}}
    for name in benefits_first:
        o_spec, n_spec = old_specs.get(name), new_specs.get(name)
        spec = n_spec or o_spec
        assert spec is not None
        slot = slots[name]
        amount = None
        currency = _currency(o_spec, n_spec)
        if "sum_old" in slot:
            for side, side_spec in (("old", o_spec), ("new", n_spec)):
                if side_spec is not None:
                    key = side_spec.currency or ""
                    sums[side][key] = sums[side].get(key, Decimal(0)) + (total[slot[f"sum_{side}"]] or 0)
            if currency != "#mixed":
                amount = Amount(
                    total[slot["sum_old"]] or Decimal(0),
                    total[slot["sum_new"]] or Decimal(0),
                    int(total[slot["open_old"]]),
                    int(total[slot["open_new"]]),
                )
        ranged = None
        if "low_old" in slot and currency != "#mixed":
            ranged = {
                side: Span(
                    total[slot[f"low_{side}"]] or Decimal(0),
                    total[slot[f"high_{side}"]] or Decimal(0),
                    int(total[slot[f"open_high_{side}"]]),
                )
                for side in ("old", "new")
            }
            for side, side_spec in (("old", o_spec), ("new", n_spec)):
                if side_spec is not None and side_spec.ranged:
                    key = side_spec.currency or ""
                    span = spans[side].setdefault(key, Span(Decimal(0), Decimal(0), 0))
                    spans[side][key] = Span(
                        span.low + ranged[side].low,
                        span.high + ranged[side].high,
                        span.open + ranged[side].open,
                    )
        benefits.append(
            BenefitPopulation(
                name,
                spec.label,
                int(total[slot["old"]]),
                int(total[slot["new"]]),
                listed.get(name, {}),
                {kind: int(total[slot[kind]]) for kind in KINDS},
                spec.kind,
                None if currency == "#mixed" else currency,
                amount,
                (o_spec.commitment if o_spec else None, n_spec.commitment if n_spec else None),
                ranged,
            )
        )
    totals = []
    for code in sorted({*sums["old"], *sums["new"], *spans["old"], *spans["new"]}):
        before = sums["old"].get(code, Decimal(0))
        after = sums["new"].get(code, Decimal(0))
        old_open = slots.get("#old" + code, {}).get("open")
        new_open = slots.get("#new" + code, {}).get("open")
        totals.append(
            {
                "currency": code or None,
                "old": money_text(before, code),
                "new": money_text(after, code),
                "change": money_text(after - before, code),
                "undetermined": {
                    "old": int(total[old_open]) if old_open is not None else 0,
                    "new": int(total[new_open]) if new_open is not None else 0,
                },
                # with ranges (5%—20%…): the fixed sums plus the ranges' low ends, and their high ends
                "range": {
                    side: {
                        "low": money_text(fixed + spans[side].get(code, _NO_SPAN).low, code),
                        "high": money_text(fixed + spans[side].get(code, _NO_SPAN).high, code),
                        "open": spans[side].get(code, _NO_SPAN).open,
                    }
                    for side, fixed in (("old", before), ("new", after))
                }
                if code in spans["old"] or code in spans["new"]
                else None,
            }
        )
    group_rows = [
        _group_row(groups, values, row, benefits_first, old_specs, new_specs, slots)
        for values, row in sorted(parts, key=lambda part: group_key(groups, part[0]))
    ]
    unknown_old = {n: rows - int(total[slots[n]["known_old"]]) for n in old_specs}
    unknown_new = {n: rows - int(total[slots[n]["known_new"]]) for n in new_specs}
    return rows, benefits, totals, group_rows, unknown_old, unknown_new


def _currency(old: RuleSpec | None, new: RuleSpec | None) -> str | None:
    """A benefit's currency; ``#mixed`` when the versions pay it in different currencies."""
    currencies = {s.currency for s in (old, new) if s is not None and s.currency is not None}
    if len(currencies) > 1:
        return "#mixed"
    return next(iter(currencies), None)


def _group_row(
    groups: Sequence[GroupBy],
    values: Sequence[Any],
    row: Sequence[Any],
    names: Sequence[str],
    old_specs: dict[str, RuleSpec],
    new_specs: dict[str, RuleSpec],
    slots: dict[str, dict[str, int]],
) -> dict[str, Any]:
    benefits = []
    sums: dict[str, list[Decimal]] = {}
    for name in names:
        slot = slots[name]
        amount = None
        if "sum_old" in slot:
            currency = _currency(old_specs.get(name), new_specs.get(name))
            before, after = row[slot["sum_old"]] or Decimal(0), row[slot["sum_new"]] or Decimal(0)
            if currency != "#mixed":
                amount = {
                    "old": money_text(before, currency),
                    "new": money_text(after, currency),
                    "change": money_text(after - before, currency),
                }
                pair = sums.setdefault(currency or "", [Decimal(0), Decimal(0)])
                pair[0] += before
                pair[1] += after
        benefits.append(
            {
                "benefit": name,
                "eligible": {"old": int(row[slot["old"]]), "new": int(row[slot["new"]])},
                "gained": int(row[slot[GAINED]]),
                "lost": int(row[slot[LOST]]),
                "amount": amount,
            }
        )
    return {
        "group": {g.column: g.show(v) for g, v in zip(groups, values, strict=True)},
        "enterprises": int(row[0]),
        "benefits": benefits,
        "totals": [
            {
                "currency": c or None,
                "old": money_text(sums[c][0], c),
                "new": money_text(sums[c][1], c),
                "change": money_text(sums[c][1] - sums[c][0], c),
            }
            for c in sorted(sums)
        ],
    }


def _aggregate(
    con: Any, selects: Sequence[str], keys: Sequence[str], joined: str
) -> tuple[Sequence[Any], list[tuple[Sequence[Any], Sequence[Any]]]]:
    """The aggregates over every row, and per group of ``keys`` (when there are any)."""
    if keys:
        fetched = con.execute(
            f"SELECT grouping({keys[0]}), {', '.join(keys)}, {', '.join(selects)} {joined} "
            f"GROUP BY GROUPING SETS ((), ({', '.join(keys)}))"
        ).fetchall()
        offset = 1 + len(keys)
        total = next(row[offset:] for row in fetched if row[0])
        return total, [(row[1:offset], row[offset:]) for row in fetched if not row[0]]
    found = con.execute(f"SELECT {', '.join(selects)} {joined}").fetchone()
    assert found is not None  # an aggregate without GROUP BY gives one row
    return found, []


#: ``--ids-file``: the formats it can be written in, by suffix.
IDS_FORMATS = {".csv": "CSV, HEADER", ".parquet": "PARQUET"}


def _write_ids(
    con: Any,
    joined: str,
    conditions: dict[str, dict[str, str]],
    slots: dict[str, dict[str, int]],
    total: Sequence[Any],
    path: str,
    fmt: str,
) -> None:
    """Every enterprise that moves, as rows (id, benefit, change) in no particular order, written by
    DuckDB as it computes them (one more pass, over the rules and kinds that have some)."""
    d = Dialect("duckdb")
    wanted = [(name, kind) for name in conditions for kind in KINDS if total[slots[name][kind]]]
    moves = ", ".join(
        f"CASE WHEN coalesce({conditions[name][kind]}, FALSE) THEN {{'benefit': {d.string(name)}, "
        f"'change': {d.string(kind)}}} END"
        for name, kind in wanted
    )
    query = (
        f"SELECT id, move.benefit AS benefit, move.change AS change FROM ("
        f"SELECT {ID} AS id, unnest(list_filter([{moves}], lambda m: m IS NOT NULL)) AS move {joined})"
    )
    if not wanted:  # no enterprise moves: the file has its columns and no row
        query = "SELECT CAST(NULL AS VARCHAR) AS id, CAST(NULL AS VARCHAR) AS benefit, "
        query += "CAST(NULL AS VARCHAR) AS change WHERE FALSE"
    target = "'" + path.replace("'", "''") + "'"
    try:
        # in no particular order: keeping the file's order would make DuckDB hold the rows back
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"COPY ({query}) TO {target} (FORMAT {fmt})")
    except OSError as exc:  # pragma: no cover - DuckDB reports I/O as its own errors
        raise PolicyLoadError([Diagnostic(f"{path}: cannot be written: {exc}")]) from None


def _list_ids(
    con: Any,
    joined: str,
    conditions: dict[str, dict[str, str]],
    slots: dict[str, dict[str, int]],
    total: Sequence[Any],
    limit: int,
) -> dict[str, dict[str, tuple[str, ...]]]:
    """Up to ``limit`` ids (0: all) per rule and kind, in row order, for the kinds that have some."""
    wanted = [(name, kind) for name in conditions for kind in KINDS if total[slots[name][kind]]]
    if not wanted:
        return {}
    listed = []
    for name, kind in wanted:
        where = f"FILTER (WHERE coalesce({conditions[name][kind]}, FALSE))"
        if limit:  # the first ``limit`` by row number: a bounded heap, not a list of every id
            listed.append(f"arg_min({ID}, {ROW}, {limit}) {where}")
        else:
            listed.append(f"list({ID} ORDER BY {ROW}) {where}")
    found = con.execute(f"SELECT {', '.join(listed)} {joined}").fetchone()
    assert found is not None
    ids: dict[str, dict[str, tuple[str, ...]]] = {}
    for (name, kind), values in zip(wanted, found, strict=True):
        ids.setdefault(name, {})[kind] = tuple(values or ())
    return ids


def _conditions(
    d: Dialect, name: str, old: RuleSpec | None, new: RuleSpec | None, same: bool = False
) -> dict[str, str]:
    """For one benefit or duty over the one-pass results (the old version's columns ``#old:…``, the
    new one's by their names): granted under the old version, under the new one, the condition of
    each of :data:`KINDS`, and for a benefit with an amount in either version its amount and its
    undetermined condition under each. A rule the same in both (``same``) is read from the new
    version's columns for both."""
    if same:  # one rule in both versions: the new version's columns stand for both
        old = new
    prefix = "" if same else OLD
    o = d.ident(prefix + name) if old is not None else "FALSE"
    n = d.ident(name) if new is not None else "FALSE"
    # only priced benefits have an amount
    oa = d.ident(prefix + amount_column(name)) if old is not None and old.priced else "NULL"
    na = d.ident(amount_column(name)) if new is not None and new.priced else "NULL"
    static_changed = old is not None and new is not None and old.static != new.static
    # a range's ends (5%—20%): NULL where a version has none
    ol = d.ident(prefix + low_column(name)) if old is not None and old.ranged else "NULL"
    oh = d.ident(prefix + high_column(name)) if old is not None and old.ranged else "NULL"
    nl = d.ident(low_column(name)) if new is not None and new.ranged else "NULL"
    nh = d.ident(high_column(name)) if new is not None and new.ranged else "NULL"
    ends = f" OR {ol} IS DISTINCT FROM {nl} OR {oh} IS DISTINCT FROM {nh}" if ol != nl else ""
    found = {
        "old": o,
        "new": n,
        CHANGED: f"({o} AND {n} AND ({'TRUE' if static_changed else 'FALSE'} OR {oa} IS DISTINCT FROM {na}"
        f"{ends}))",
        UNKNOWN: f"(({o}) IS NULL) <> (({n}) IS NULL)",
        GAINED: f"(coalesce({n}, FALSE) AND {o} IS NOT NULL AND NOT {o})",
        LOST: f"(coalesce({o}, FALSE) AND {n} IS NOT NULL AND NOT {n})",
    }
    if (old is not None and old.priced) or (new is not None and new.priced):
        for side, spec, granted, value in (("old", old, o, oa), ("new", new, n, na)):
            found[f"amount_{side}"] = value
            if spec is None:
                found[f"open_{side}"] = "FALSE"
            elif spec.priced:  # eligibility unknown, or eligible with the rate's base unknown
                found[f"open_{side}"] = f"({granted} IS NULL OR ({granted} AND {value} IS NULL))"
            else:  # no amount in this version (only a cap, say): every enterprise it may grant
                found[f"open_{side}"] = f"({granted} IS NOT FALSE)"
    if (old is not None and old.ranged) or (new is not None and new.ranged):
        for side, spec, granted, low, high in (("old", old, o, ol, oh), ("new", new, n, nl, nh)):
            found[f"low_{side}"], found[f"high_{side}"] = low, high
            ranged = spec is not None and spec.ranged
            found[f"open_high_{side}"] = (
                f"({granted} AND {low} IS NOT NULL AND {high} IS NULL)" if ranged else "FALSE"
            )
    return found
