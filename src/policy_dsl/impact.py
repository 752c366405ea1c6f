"""Budget impact of a population run: what each benefit costs, who owes which duty, per group.

Shared by ``policy eval --population`` (:func:`policy_dsl.table.population_summary`) and
``policy-diff --population`` (:mod:`policy_dsl.diff.population`). Nothing here reads a file: it
describes each benefit and duty of a checked policy as the SQL of :mod:`policy_dsl.sql` computes it
(:class:`RuleSpec`), adds a BOOLEAN column per duty to the results (:func:`duties_view`), reads the
``--by`` specifications into grouping expressions (:func:`parse_by`, :func:`resolve_by`), and says
which facts the rules read that the population does not have (:func:`missing_facts`).

Money is exact: amounts are summed as DECIMAL in DuckDB and come back as :class:`~decimal.Decimal`;
they are written as decimal strings (:func:`money_text`), never through a float.
"""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
from collections.abc import Collection, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from policy_dsl import model as m
from policy_dsl.check import (
    COMMITMENT_SHOWN,
    CheckedPolicy,
    RuleInfo,
    amount_currency,
    amount_facts,
    references,
)
from policy_dsl.errors import Diagnostic, PolicyLoadError
from policy_dsl.sql import Dialect, can_be_superseded, condition_sql, has_amount, has_range
from policy_dsl.values import (
    MINOR_UNIT_DIGITS,
    Duration,
    Money,
    Percent,
    ValueSyntaxError,
    format_decimal,
    parse_value,
)

BENEFIT, DUTY = "benefit", "duty"
#: Fact kinds a band (``--by 出口额:500万美元,5000万美元``) can cut.
BANDED_KINDS = frozenset({"money", "decimal", "integer", "percent", "duration"})
#: How a group whose value is NULL is shown in text and Markdown (JSON: null).
UNKNOWN_GROUP = "(unknown)"


@attrs.frozen
class RuleSpec:
    """One benefit or duty of one version, as its population results column holds it."""

    id: str
    label: str
    kind: str  # BENEFIT or DUTY
    currency: str | None
    priced: bool  # a ``<id>:amount`` column exists (see sql.has_amount)
    live: bool  # in force on the day (FALSE for every row otherwise)
    needs: tuple[str, ...]  # the facts its condition (and rate base) reads
    #: what, as written, makes every enterprise granted under both versions "changed" when it differs
    static: tuple[str, ...]
    #: a benefit's: what its text commits to (entitled, may_receive, …; docs/language.md §10.1)
    commitment: str | None = None
    #: a range or a floor whose ends are computed: ``<id>:low`` and ``<id>:high`` columns (sql.has_range)
    ranged: bool = False
    #: in an exclusive group that may supersede it (不重复享受): a ``<id>:superseded`` column
    superseding: bool = False


def _needs(checked: CheckedPolicy, condition: m.Node | None) -> list[str]:
    found: list[str] = []

    lists = {field: name for name, info in checked.items.items() for field in info.facts}

    def walk(node: m.Node) -> None:
        for name in references(node):
            name = lists.get(name, name)  # an item's fact is read from its list's column
            if name in checked.facts and name not in found:
                found.append(name)
            definition = checked.definitions.get(name)
            if definition is not None and definition.means is not None:
                walk(definition.means)

    if condition is not None:
        walk(condition)
    return found


def in_period(period: tuple[dt.date | None, dt.date | None] | None, day: dt.date) -> bool:
    if period is None:
        return True
    start, end = period
    return (start is None or start <= day) and (end is None or day <= end)


def _schedule(rule: m.Benefit) -> str:
    """A tiered benefit's bands by value (not notation: 5000万元 is 50000000元), for comparing versions."""
    tiers = rule.tiers
    if tiers is None:
        return ""

    def value(lit: m.Literal | None) -> object:
        return None if lit is None else lit.value

    def name(n: m.Name | None) -> str | None:
        return None if n is None else n.text

    bands = tuple(
        (
            value(t.low),
            t.low_open,
            value(t.high),
            t.high_open,
            value(t.amount),
            name(t.per),
            value(t.rate),
            name(t.base),
        )
        for t in tiers.tiers
    )
    return repr((tiers.fact.text, tiers.marginal, tiers.year_of, bands))


def _threshold(rule: m.Benefit) -> str:
    """A rate's threshold (``above 上年销售额`` / ``above 1亿元``) by value, for comparing versions."""
    above = rule.rate.above if rule.rate is not None else None
    if above is None:
        return ""
    return repr(above.value) if isinstance(above, m.Literal) else above.text


def benefit_currency(checked: CheckedPolicy, rule: m.Benefit) -> str | None:
    """The currency of a benefit's amount (check.amount_currency)."""
    return amount_currency(checked.all_facts, rule)


def _spec(checked: CheckedPolicy, info: RuleInfo, day: dt.date, adopted: bool) -> RuleSpec:
    rule = info.rule
    assert isinstance(rule, m.Benefit | m.Duty)
    live = (not checked.validity.draft or adopted) and in_period(info.period, day)
    needs = _needs(checked, rule.when)
    label = rule.label.value if rule.label else rule.name
    if isinstance(rule, m.Duty):
        levels = tuple(f"{lv.label.value} {lv.op} {lv.value.value!r}" for lv in rule.levels)
        return RuleSpec(rule.name, label, DUTY, None, False, live, tuple(needs), levels)
    lists = {field: name for name, info in checked.items.items() for field in info.facts}
    needs.extend(lists.get(name, name) for name in amount_facts(rule) if lists.get(name, name) not in needs)
    commitment = rule.commits.text if rule.commits is not None else "entitled"
    static = (
        repr(rule.cap.value) if rule.cap is not None else "",
        repr(rule.rate.rate.value) if rule.rate is not None else "",
        _threshold(rule),
        _schedule(rule),
        repr(rule.cap_facts),
        commitment,
    )
    return RuleSpec(
        rule.name,
        label,
        BENEFIT,
        benefit_currency(checked, rule),
        has_amount(rule),
        live,
        tuple(needs),
        static,
        commitment,
        has_range(rule),
        can_be_superseded(checked, rule.name),
    )


def rule_specs(checked: CheckedPolicy, day: dt.date, adopted: bool) -> list[RuleSpec]:
    """Every benefit, then every duty, of ``checked`` on ``day``."""
    return [_spec(checked, info, day, adopted) for info in (*checked.benefits, *checked.duties)]


def duties_view(
    con: Any,
    checked: CheckedPolicy,
    view: str,
    source: str,
    keep: Sequence[str],
    day: dt.date,
    adopted: bool,
    only: Collection[str] | None = None,
) -> None:
    """Create ``view``: ``source``'s ``keep`` columns and facts, typed as the SQL types them, and a
    BOOLEAN column per duty (of ``only``, if given) named by the duty — TRUE applies, FALSE does not apply
    (or not in force), NULL unknown — so that :func:`policy_dsl.sql.compile_sql` over ``view``
    passes them through."""
    d = Dialect("duckdb")
    typed = [d.ident(k) for k in keep]
    typed += [f"CAST({d.ident(n)} AS {d.sql_type(f.type)}) AS {d.ident(n)}" for n, f in checked.facts.items()]
    duties = []
    for info in checked.duties:
        rule = info.rule
        assert isinstance(rule, m.Duty)
        if only is not None and rule.name not in only:
            continue
        live = (not checked.validity.draft or adopted) and in_period(info.period, day)
        condition = condition_sql(checked, rule.when, d, day) if live else "FALSE"
        duties.append(f"{condition} AS {d.ident(rule.name)}")
    select = "*" + "".join(f", {column}" for column in duties)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {select} "
        f"FROM (SELECT {', '.join(typed)} FROM {source}) AS typed_facts"
    )


def duty_names(checked: CheckedPolicy, only: Collection[str] | None = None) -> list[str]:
    return [info.rule.name for info in checked.duties if only is None or info.rule.name in only]


# ---------------------------------------------------------------- money


def money_text(value: Decimal | None, currency: str | None) -> str:
    """An exact sum as a decimal string: to the currency's minor unit when that loses nothing."""
    amount = Decimal(0) if value is None else Decimal(value)
    digits = MINOR_UNIT_DIGITS.get(currency or "", 2)
    quantum = Decimal(1).scaleb(-digits)
    rounded = amount.quantize(quantum)
    if rounded == amount:
        return format(rounded, "f")
    return format(amount.normalize(), "f")


def money_shown(text: str, signed: bool = False) -> str:
    """A decimal string with thousands separators for people: ``1234567.00`` → ``1,234,567.00``."""
    value = Decimal(text)
    shown = format(value, ",f")
    return ("+" + shown) if signed and value > 0 else shown


# ---------------------------------------------------------------- groups


@attrs.frozen
class GroupBy:
    """One ``--by`` column: its values as they are, or cut into bands at ``bounds``."""

    column: str
    bounds: tuple[Decimal, ...] = ()
    written: tuple[str, ...] = ()  # each bound as the user wrote it (the policy's notation)
    order: tuple[str, ...] = ()  # an enum fact's values, in the order the enum declares them

    @property
    def banded(self) -> bool:
        return bool(self.bounds)

    def labels(self) -> list[str]:
        """The bands' labels: ``≤ a``, ``(a, b]``, …, ``> z`` (a boundary is in the lower band)."""
        w = self.written
        labels = [f"≤ {w[0]}"]
        labels += [f"({a}, {b}]" for a, b in itertools.pairwise(w)]
        labels.append(f"> {w[-1]}")
        return labels

    def sql(self, d: Dialect) -> str:
        """The group's key over the population's raw column: the value, or the band's index."""
        column = d.ident(self.column)
        if not self.banded:
            return column
        value = f"CAST({column} AS DECIMAL(38, 10))"
        cases = " ".join(
            f"WHEN {value} <= CAST('{format(bound, 'f')}' AS DECIMAL(38, 10)) THEN {index}"
            for index, bound in enumerate(self.bounds)
        )
        return f"(CASE WHEN {column} IS NULL THEN NULL {cases} ELSE {len(self.bounds)} END)"

    def show(self, key: Any) -> str | None:
        """The JSON value of a group's key: text, or null for NULL."""
        if key is None:
            return None
        if self.banded:
            return self.labels()[int(key)]
        return plain_text(key)


def plain_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, list | tuple):
        return ";".join(plain_text(v) for v in value)
    return str(value)


def _by_error(message: str, hint: str | None = None) -> PolicyLoadError:
    return PolicyLoadError([Diagnostic(f"--by: {message}", hint=hint)])


def parse_by(specs: Iterable[str]) -> list[tuple[str, tuple[str, ...]]]:
    """``--by`` values (repeatable, comma-separated) → (column, written bounds) pairs.

    ``所在区县,出口额:500万美元,5000万美元`` is 所在区县 and 出口额 in three bands: after a ``column:``,
    the pieces that read as a value (a number, an amount) are its bounds."""
    found: list[tuple[str, list[str]]] = []
    for spec in specs:
        banding = False
        for piece in spec.replace("，", ",").split(","):
            piece = piece.strip()
            if not piece:
                raise _by_error(f"`{spec}` has an empty column name or bound")
            if ":" in piece or "：" in piece:
                column, _, bound = piece.replace("：", ":").partition(":")
                column, bound = column.strip(), bound.strip()
                if not column or not bound:
                    raise _by_error(
                        f"`{piece}` is not a band specification", hint="e.g. --by 出口额:500万美元,5000万美元"
                    )
                found.append((column, [bound]))
                banding = True
                continue
            if banding and _is_value(piece):
                found[-1][1].append(piece)
                continue
            banding = False
            found.append((piece, []))
    seen: set[str] = set()
    for column, _ in found:
        if column in seen:
            raise _by_error(f"`{column}` is given twice")
        seen.add(column)
    return [(column, tuple(bounds)) for column, bounds in found]


def _is_value(text: str) -> bool:
    try:
        parse_value(text)
    except (ValueSyntaxError, ArithmeticError, ValueError):
        return False
    return True


def _bound(text: str, column: str, fact: Any) -> Decimal:
    """A band's bound in the column's unit: an amount in the fact's currency, a number, a percent."""
    try:
        value = parse_value(text)
    except (ValueSyntaxError, ArithmeticError, ValueError):
        raise _by_error(f"`{text}` (a bound of `{column}`) is not a value", hint=_BAND_HINT) from None
    kind = fact.type.kind if fact is not None else None
    if isinstance(value, Money):
        if kind != "money":
            raise _by_error(f"`{text}` is an amount of money, but `{column}` is not", hint=_BAND_HINT)
        if value.currency != fact.type.param:
            raise _by_error(
                f"`{text}` is in {value.currency}, but `{column}` is in {fact.type.param}", hint=_BAND_HINT
            )
        return value.amount
    if isinstance(value, Percent):
        if kind not in {"percent", None}:
            raise _by_error(f"`{text}` is a percentage, but `{column}` is not", hint=_BAND_HINT)
        return value.value
    if isinstance(value, Duration):
        unit = fact.type.param if fact is not None else None
        if kind != "duration" or value.unit != unit:
            raise _by_error(f"`{text}` is not a duration in the unit of `{column}`", hint=_BAND_HINT)
        return Decimal(value.amount)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return Decimal(value)
    raise _by_error(f"`{text}` (a bound of `{column}`) is not a number or an amount", hint=_BAND_HINT)


_BAND_HINT = "bands cut a numeric or money column at increasing bounds: --by 出口额:500万美元,5000万美元"


def resolve_by(
    parsed: Sequence[tuple[str, tuple[str, ...]]],
    present: Mapping[str, str],
    facts: Mapping[str, Any],
    population: str,
    orders: Mapping[str, tuple[str, ...]] | None = None,
) -> list[GroupBy]:
    """The ``--by`` columns checked against the population's columns (``present``: name → DuckDB
    type) and the facts (name → FactInfo) of the versions: each must be a column; a band needs a
    numeric or money column and increasing bounds in its notation."""
    groups = []
    numeric = (
        "DECIMAL",
        "INT",
        "BIGINT",
        "HUGEINT",
        "SMALLINT",
        "TINYINT",
        "DOUBLE",
        "FLOAT",
        "REAL",
        "UBIGINT",
    )
    for column, written in parsed:
        if column not in present:
            close = difflib.get_close_matches(column, list(present), n=1, cutoff=0.5)
            hint = f"did you mean `{close[0]}`?" if close else "columns: " + ", ".join(present)
            raise _by_error(f"`{column}` is not a column of {population}", hint=hint)
        if not written:
            groups.append(GroupBy(column, order=(orders or {}).get(column, ())))
            continue
        fact = facts.get(column)
        if fact is not None and fact.type.kind not in BANDED_KINDS:
            raise _by_error(f"`{column}` is a {fact.type.kind} fact: only a number or an amount has bands")
        if fact is None and not present[column].upper().startswith(numeric):
            raise _by_error(f"`{column}` is not a numeric column ({present[column]}): it has no bands")
        bounds = tuple(_bound(text, column, fact) for text in written)
        if any(b >= a for a, b in zip(bounds[1:], bounds, strict=False)):
            raise _by_error(f"the bounds of `{column}` must increase: {', '.join(written)}", hint=_BAND_HINT)
        groups.append(GroupBy(column, bounds, written))
    return groups


def enum_orders(*policies: Any) -> dict[str, tuple[str, ...]]:
    """Each enum fact of the checked ``policies``: its values in declaration order (the last
    policy's declaration wins, as it does for the facts)."""
    orders: dict[str, tuple[str, ...]] = {}
    for checked in policies:
        for name, info in checked.facts.items():
            enum = checked.enums.get(info.type.param or "") if info.type.kind == "enum" else None
            if enum is not None:
                orders[name] = tuple(v.name for v in enum.values)
    return orders


def group_columns(groups: Sequence[GroupBy]) -> list[str]:
    """The internal names of the group keys in the results (``#`` is in no name of a policy)."""
    return [f"#by{index}" for index in range(len(groups))]


def group_key(groups: Sequence[GroupBy], values: Sequence[Any]) -> tuple[tuple[bool, int, Any], ...]:
    """A sort key for a group's row: bands in order, an enum's values in its order, other values
    in theirs, NULL last."""
    key = []
    for group, value in zip(groups, values, strict=False):
        rank = group.order.index(value) if value in group.order else len(group.order)
        key.append((value is None, rank, value if value is not None else 0))
    return tuple(key)


def group_label(columns: Sequence[str], group: Mapping[str, str | None]) -> str:
    """A group as text: ``所在区县 = 渝中区, 出口额 ≤ 500万美元``; NULL is ``(unknown)``."""
    parts = []
    for column in columns:
        value = group.get(column)
        if value is None:
            parts.append(f"{column} {UNKNOWN_GROUP}")
        elif value.startswith(("≤ ", "> ")):  # a band (GroupBy.labels)
            parts.append(f"{column} {value}")
        elif value.startswith("(") and value.endswith("]"):
            parts.append(f"{column} in {value}")
        else:
            parts.append(f"{column} = {value}")
    return ", ".join(parts)


# ---------------------------------------------------------------- facts the population lacks


def missing_facts(
    specs: Sequence[RuleSpec], present: Iterable[str], unknown: Mapping[str, int]
) -> list[dict[str, Any]]:
    """Facts the rules of ``specs`` read that are not columns of the population, each with the rules
    that read it and their unknown results (``unknown``: rule id → enterprises unknown)."""
    columns = set(present)
    readers: dict[str, list[str]] = {}
    for spec in specs:
        for fact in spec.needs:
            if fact not in columns:
                readers.setdefault(fact, []).append(spec.id)
    return [
        {"fact": fact, "rules": rules, "unknown_results": sum(unknown.get(r, 0) for r in rules)}
        for fact, rules in sorted(
            readers.items(), key=lambda item: (-sum(unknown.get(r, 0) for r in item[1]), item[0])
        )
    ]


def missing_lines(missing: Sequence[Mapping[str, Any]]) -> list[str]:
    """The "why unknown" lines said once at the top of a text or Markdown report."""
    lines = []
    for entry in missing:
        rules = len(entry["rules"])
        lines.append(
            f"fact `{entry['fact']}` is not a column of the population: {entry['unknown_results']} results "
            f"of the {'rule that reads' if rules == 1 else f'{rules} rules that read'} it are unknown"
        )
    return lines


# ---------------------------------------------------------------- eval --population as text


def _tally_text(entry: Mapping[str, Any]) -> str:
    words = (
        ("eligible", "apply", "eligible"),
        ("unknown", "unknown", "unknown"),
        ("not_eligible", "do not apply", "not eligible"),
        ("not_in_force", "not in force", "not in force"),
    )
    duty = entry["kind"] == DUTY
    # a duty's count is of enterprises: "3 apply" (it applies to 3), "2 do not apply"
    parts = [f"{entry[key]} {duty_word if duty else word}" for key, duty_word, word in words[:3]]
    commitment = entry.get("commitment")
    if not duty and commitment not in (None, "entitled"):
        parts[0] += f" ({COMMITMENT_SHOWN.get(str(commitment), commitment)}: not an entitlement)"
    if entry.get("superseded"):
        parts.append(f"{entry['superseded']} superseded (not cumulated)")
    if entry["not_in_force"]:
        parts.append(f"{entry['not_in_force']} not in force")
    return ", ".join(parts)


def summary_text(data: Mapping[str, Any]) -> str:
    """``policy eval --population``'s text report of a :func:`policy_dsl.table.population_summary`."""
    lines = [f"{data['population']}: {data['enterprises']} enterprises, as of {data['as_of']}"]
    lines.extend(missing_lines(data["missing_facts"]))
    for kind, heading in (
        (BENEFIT, "benefits"),
        (DUTY, "duties (apply: the duty's condition names the enterprise)"),
    ):
        entries = [e for e in data["benefits"] if e["kind"] == kind]
        if not entries:
            continue
        lines.append(f"{heading}:")
        for entry in entries:
            line = f"  {entry['benefit']}: {_tally_text(entry)}"
            amount = entry["amount"]
            if amount is not None:
                line += f"; amount {money_shown(amount['total'])} {entry['currency'] or ''}".rstrip()
                if amount["undetermined"]:
                    line += f" (+ {amount['undetermined']} enterprises undetermined)"
            ranged = entry.get("range")
            if ranged is not None:
                code = f" {entry['currency']}" if entry["currency"] else ""
                line += (
                    f"; amount {money_shown(ranged['low'])} — {money_shown(ranged['high'])}{code}, "
                    "decided case by case"
                )
                if ranged["open"]:
                    line += f" ({ranged['open']} with no upper end)"
                if ranged["undetermined"]:
                    line += f" (+ {ranged['undetermined']} enterprises undetermined)"
            lines.append(line)
    if data["totals"]:
        lines.append("total amount:")
        weaker: dict[str, Decimal] = {}
        for entry in data["benefits"]:
            if (
                entry["kind"] == BENEFIT
                and entry.get("commitment") not in (None, "entitled")
                and entry["amount"]
            ):
                code = entry["currency"] or ""
                weaker[code] = weaker.get(code, Decimal(0)) + Decimal(entry["amount"]["total"])
        for total in data["totals"]:
            line = f"  {total['currency'] or '(no currency)'} {money_shown(total['total'])}"
            if total["undetermined"]:
                line += f" (+ {total['undetermined']} enterprises with an amount undetermined)"
            span = total.get("range")
            if span is not None:
                line += (
                    f"; with the ranges decided case by case: {money_shown(span['low'])} — "
                    f"{money_shown(span['high'])}"
                    + (f" and {span['open']} with no upper end" if span["open"] else "")
                )
            part = weaker.get(total["currency"] or "")
            if part:
                line += (
                    f"; of which {money_shown(money_text(part, total['currency']))} for benefits the "
                    "text does not promise outright (may receive, priority, case by case)"
                )
            lines.append(line)
    groups = data["groups"]
    if groups is not None:
        lines.append(f"by {', '.join(groups['by'])}:")
        for row in groups["rows"]:
            money = "; ".join(
                f"{t['currency'] or ''} {money_shown(t['total'])}".strip() for t in row["totals"]
            )
            head = f"  {group_label(groups['by'], row['group'])}: {row['enterprises']} enterprises"
            lines.append(head + (f"; amount {money}" if money else ""))
            eligible = [f"{b['benefit']} {b['eligible']}" for b in row["benefits"] if b["eligible"]]
            if eligible:
                lines.append("    eligible (benefits) or applies (duties): " + ", ".join(eligible))
    return "\n".join(lines) + "\n"
