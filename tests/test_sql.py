"""The SQL backend agrees with the Python one, is exact, and cannot be injected.

``compile_sql`` turns a checked policy into one SELECT; ``evaluate_table`` runs it in DuckDB over
an Arrow table. For the draft and for generated policies that check, every benefit's status and
amount per row must equal what the in-process Python backend and the standalone module (written
by ``module_source`` and imported from a file) give for the same facts on the same day. Rows are
boundary-heavy: each fact NULL or a value at, one minor unit below or above every constant the
policy compares it with; rate bases at half-fen rounding points and at the cap; dates around
every period edge. The helpers here are reused by ``test_sql_postgres.py``.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import struct
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlglot
import strategies as s
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlglot import exp
from test_backends_agree import import_module_text

from policy_dsl import model as m
from policy_dsl.check import CheckedPolicy, check
from policy_dsl.compile import CompiledPolicy, compile_policy, module_source
from policy_dsl.facts import validate_facts
from policy_dsl.parse import parse
from policy_dsl.sql import (
    DIALECTS,
    Dialect,
    amount_column,
    can_be_superseded,
    compile_sql,
    has_amount,
    has_range,
    high_column,
    low_column,
    status_column,
    status_word,
    superseded_column,
)
from policy_dsl.table import evaluate_file, evaluate_table
from policy_dsl.values import MINOR_UNIT_DIGITS, Money, Percent

ROOT = Path(__file__).resolve().parent.parent
DRAFT = ROOT / "policies" / "cq-foreign-trade-2022" / "draft.policy"

#: The row key column: not a name the language allows, so never a fact's or a benefit's.
KEY = "row#"

SLOW = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]

#: For generated policies: a failing example is reported as generated. Shrinking a policy (each step
#: checks, compiles and imports it again) takes minutes; the focused tests below give minimal cases.
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)

#: benefit id → (status, amount); for a range (5%—20%), the amount is (low, high or None) or None
Result = dict[str, tuple[str, Any]]

_counter = itertools.count()


# ---------------------------------------------------------------- loading and the Python backends


def check_text(text: str, directory: Path, source_text: str | None = None) -> CheckedPolicy:
    """Check policy ``text`` written to ``directory`` (with its source text, if given)."""
    if source_text is not None:
        (directory / "source.txt").write_text(source_text, encoding="utf-8")
    path = directory / f"policy_{next(_counter)}.policy"
    path.write_text(text, encoding="utf-8")
    return check(parse(text, str(path)), str(path))


@functools.cache
def draft() -> CheckedPolicy:
    return check(parse(DRAFT.read_text(encoding="utf-8"), str(DRAFT)), str(DRAFT))


class PythonBackends:
    """The in-process compiled policy and the standalone module imported from a file."""

    def __init__(self, checked: CheckedPolicy, directory: Path) -> None:
        self.checked = checked
        self.compiled: CompiledPolicy = compile_policy(checked)
        self.module = import_module_text(module_source(checked), directory)

    def results(self, rows: list[dict[str, Any]], as_of: dt.date) -> list[Result]:
        """Per row, each benefit's status and amount; the two Python backends must agree."""
        out = []
        for facts in rows:
            values = validate_facts(self.checked, facts)
            in_process = python_result(self.compiled.evaluate(dict(values), as_of, True))
            standalone = python_result(self.module.evaluate(dict(values), as_of, True))
            assert in_process == standalone, (facts, as_of)
            out.append(in_process)
        return out


_draft_dir = tempfile.TemporaryDirectory(prefix="policy-sql-")


@functools.cache
def draft_backends() -> PythonBackends:
    return PythonBackends(draft(), Path(_draft_dir.name))


def python_result(outcome: dict[str, Any]) -> Result:
    """Python's outcome as SQL states it: a BOOLEAN per benefit, so "not in force" is FALSE there."""
    result: Result = {}
    for benefit in outcome["benefits"]:
        amount = benefit["amount"]
        status = "not_eligible" if benefit["status"] == "not_in_force" else benefit["status"]
        if benefit["ranged"]:
            ends = benefit["range"]
            low, high = (None, None) if ends is None else (ends["low"], ends["high"])
            shown = None if low is None else (low["amount"], None if high is None else high["amount"])
            result[benefit["id"]] = (status, shown)
            continue
        result[benefit["id"]] = (status, None if amount is None else amount["amount"])
    return result


# ---------------------------------------------------------------- rows as Arrow tables and DuckDB runs


def arrow_type(kind: str) -> pa.DataType:
    if kind in {"bool", "list"}:  # a list of items: in the facts relation, whether it is known
        return pa.bool_()
    if kind in {"integer", "duration"}:
        return pa.int64()
    if kind in {"money", "decimal", "percent"}:
        return pa.decimal128(38, 10)  # the SQL backend's facts keep ten decimal places
    if kind == "date":
        return pa.date32()
    if kind == "set":
        return pa.list_(pa.string())
    return pa.string()


def plain(value: Any) -> Any:
    """A fact value as a database column holds it: sets become sorted lists."""
    if isinstance(value, frozenset | set):
        return sorted(value)
    return value


def item_struct(checked: CheckedPolicy, list_name: str) -> pa.DataType:
    fields = checked.items[list_name].facts
    return pa.struct([(f, arrow_type(info.type.kind)) for f, info in fields.items()])


def arrow_table(checked: CheckedPolicy, rows: list[dict[str, Any]], known: bool = False) -> pa.Table:
    """A column per fact; a list of items as a list of structs (as a population file holds it), or
    with ``known`` as the SQL's facts relation holds it: TRUE when known (see known_lists)."""
    columns: dict[str, pa.Array] = {KEY: pa.array(range(len(rows)), pa.int64())}
    for name, info in checked.facts.items():
        if info.type.kind == "list" and not known:
            struct = item_struct(checked, info.type.param or "")
            values = [
                None
                if row.get(name) is None
                else [{k: plain(v) for k, v in item.items()} for item in row[name]]
                for row in rows
            ]
            columns[name] = pa.array(values, pa.list_(struct))
            continue
        columns[name] = pa.array([plain(row.get(name)) for row in rows], arrow_type(info.type.kind))
    return pa.table(columns)


def item_rows(checked: CheckedPolicy, list_name: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items of every row as the items relation holds them: the row's key and each item fact."""
    fields = list(checked.items[list_name].facts)
    return [
        {KEY: index, **{f: plain(item.get(f)) for f in fields}}
        for index, row in enumerate(rows)
        for item in (row.get(list_name) or [])
    ]


def known_lists(checked: CheckedPolicy, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with each list replaced by whether it is known (the list's column in SQL)."""
    lists = [n for n, info in checked.facts.items() if info.type.kind == "list"]
    return [{**row, **{n: None if row.get(n) is None else True for n in lists}} for row in rows]


def sql_results(checked: CheckedPolicy, rows: list[dict[str, Any]], names: list[str]) -> list[Result]:
    """Rows of a SQL result (dicts keyed by column name) → per row, each benefit's status and amount."""
    ids = [info.rule.name for info in checked.benefits]
    # only a benefit with an amount (fixed, or a rate of a base) has an amount column
    priced = {info.rule.name for info in checked.benefits if has_amount(info.rule)}
    # a range has two columns, its low and high ends (a floor's high end NULL: no upper end)
    ranged = {info.rule.name for info in checked.benefits if has_range(info.rule)}

    def amount(row: dict[str, Any], i: str) -> Any:
        if i in ranged:
            low = row[low_column(i)]
            return None if low is None else (low, row[high_column(i)])
        return row[amount_column(i)] if i in priced else None

    out = []
    for index, row in enumerate(sorted(rows, key=lambda r: r[KEY])):
        assert row[KEY] == index
        # a status column is BOOLEAN (NULL = unknown); compare in the Python outcome's words
        out.append(
            {
                i: (status_word(row[status_column(i)], row.get(superseded_column(i))), amount(row, i))
                for i in ids
            }
        )
    expected = [KEY]
    for i in ids:
        expected.append(status_column(i))
        if i in priced:
            expected.append(amount_column(i))
        if i in ranged:
            expected += [low_column(i), high_column(i)]
        if can_be_superseded(checked, i):  # in an exclusive group that keeps one (不重复享受)
            expected.append(superseded_column(i))
    assert names == expected
    return out


def duckdb_results(checked: CheckedPolicy, rows: list[dict[str, Any]], as_of: dt.date) -> list[Result]:
    """Through ``evaluate_table`` and through ``compile_sql`` over the Arrow table itself: both the same."""
    import duckdb

    table = arrow_table(checked, rows)
    via_table = evaluate_table(checked, table, as_of, adopted=True)
    first = sql_results(checked, via_table.to_pylist(), via_table.column_names)
    con = duckdb.connect()
    if checked.items:  # lists of items: a relation of their own, the list's column TRUE when known
        table = arrow_table(checked, known_lists(checked, rows), known=True)
        for list_name in checked.items:
            items = item_rows(checked, list_name, rows)
            struct = item_struct(checked, list_name)
            fields = [struct.field(i) for i in range(struct.num_fields)]
            schema = pa.schema([(KEY, pa.int64()), *((f.name, f.type) for f in fields)])
            con.register(list_name, pa.Table.from_pylist(items, schema))
    con.register("facts", table)
    relation = con.sql(compile_sql(checked, "duckdb", source="facts", as_of=as_of, keep=(KEY,), adopted=True))
    names = list(relation.columns)
    second = sql_results(checked, [dict(zip(names, r, strict=True)) for r in relation.fetchall()], names)
    assert first == second
    return first


def assert_rows_agree(
    expected: list[Result], got: list[Result], rows: list[dict[str, Any]], as_of: dt.date, backend: str
) -> None:
    for facts, want, have in zip(rows, expected, got, strict=True):
        for benefit, pair in want.items():
            assert have[benefit] == pair, (
                f"{backend} disagrees with Python on benefit {benefit!r} as of {as_of}: "
                f"Python {pair}, {backend} {have[benefit]}; facts {facts!r}"
            )


# ---------------------------------------------------------------- boundary-heavy rows


def _operand_name(node: m.Node) -> str | None:
    return node.name if isinstance(node, m.Reference) else None


def _literal_value(node: m.Node) -> Any:
    return s.literal_values(node)[0] if isinstance(node, m.Literal) else None


def compared_constants(checked: CheckedPolicy) -> dict[str, list[Any]]:
    """Per fact, every constant the policy compares it with (through definitions too)."""
    found: dict[str, list[Any]] = {name: [] for name in checked.all_facts}

    def walk(node: m.Node | None) -> None:
        if node is None:
            return
        if isinstance(node, m.Comparison):
            pairs = [(node.left, node.right), (node.right, node.left)]
            for subject, other in pairs:
                name, value = _operand_name(subject), _literal_value(other)
                if name in found and value is not None:
                    found[name].append(value)
        elif isinstance(node, m.Between):
            name = _operand_name(node.subject)
            if name in found:
                found[name] += [
                    v for v in (_literal_value(node.low), _literal_value(node.high)) if v is not None
                ]
        elif isinstance(node, m.Not):
            walk(node.operand)
        elif isinstance(node, m.And | m.Or):
            for operand in node.operands:
                walk(operand)

    for definition in checked.definitions.values():
        walk(definition.means)
    for info in (*checked.benefits, *checked.duties):
        walk(getattr(info.rule, "when", None))
        tiers = getattr(info.rule, "tiers", None)
        if tiers is not None and tiers.fact.text in found:  # a band's ends: the fact is compared with them
            found[tiers.fact.text] += [
                v
                for tier in tiers.tiers
                for end in (tier.low, tier.high)
                if end
                for v in s.literal_values(end)
            ]
    return found


def _fits(value: Decimal) -> bool:
    """Whether an amount fits the Arrow column (ten decimals) and is not negative."""
    return value >= 0 and value == value.quantize(Decimal("1E-10"))


def rate_edges(checked: CheckedPolicy) -> dict[str, list[Decimal]]:
    """Per rate base: amounts whose rated value lands on a half minor unit, and amounts at the cap."""
    edges: dict[str, list[Decimal]] = {}
    for info in checked.benefits:
        rule = info.rule
        assert isinstance(rule, m.Benefit)
        rates = []
        if rule.rate is not None and rule.rate.base is not None:
            rates.append((rule.rate.rate, rule.rate.base))
        if rule.tiers is not None:  # each band's rate of its base (of the fact itself when marginal)
            rates += [(t.rate, t.base or rule.tiers.fact) for t in rule.tiers.tiers if t.rate is not None]
        for rate, base_name in rates:
            _rate_edges(checked, rule, rate, base_name.text, edges)
    return edges


def _rate_edges(
    checked: CheckedPolicy, rule: m.Benefit, rate: m.Literal, base: str, edges: dict[str, list[Decimal]]
) -> None:
    """Amounts of ``base`` whose rated value lands on a half minor unit, and amounts at the cap."""
    if not isinstance(rate.value, Percent):
        return
    currency = checked.facts[base].type.param or ""
    minor = Decimal(1).scaleb(-MINOR_UNIT_DIGITS.get(currency, 2))
    ratio = rate.value.value / 100
    found = edges.setdefault(base, [])
    if ratio == 0:
        return
    halves = 0
    for n in range(0, 400):
        amount = (Decimal(n) * minor + minor / 2) / ratio
        if _fits(amount):
            found.append(amount)
            halves += 1
            if halves >= 3:
                break
    if rule.cap is not None and isinstance(rule.cap.value, Money):
        at_cap = (rule.cap.value.amount / ratio).quantize(Decimal("0.0001"))
        for step in (Decimal(0), minor, -minor, Decimal("0.0001"), -Decimal("0.0001")):
            if _fits(at_cap + step):
                found.append(at_cap + step)


def fact_value(checked: CheckedPolicy, name: str) -> st.SearchStrategy[Any]:
    info = checked.all_facts[name]
    ref = m.TypeRef(info.type.kind, info.type.param)
    if ref.kind == "list":  # 0 to 3 items, each fact present or not, boundary-heavy as the others
        fields = checked.items[ref.param or ""].facts
        item = st.fixed_dictionaries({}, optional={f: fact_value(checked, f) for f in fields})
        return st.lists(item, max_size=3)
    constants = list(compared_constants(checked)[name])
    if ref.kind == "date":
        constants += [d for p in s.rule_periods(checked) for d in p]
    enums = s.enum_values_of(checked)
    strategy = s.fact_value_strategy(ref, enums, constants)
    if ref.kind in {"money", "decimal", "percent"}:
        strategy = strategy.filter(_fits)
    extra = rate_edges(checked).get(name)
    if extra:
        strategy = st.one_of(st.sampled_from(extra), strategy)
    return strategy


def rows_strategy(checked: CheckedPolicy, max_rows: int = 12) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Enterprises in runtime form; each fact NULL (absent) or a boundary-heavy value."""

    @st.composite
    def row(draw: st.DrawFn) -> dict[str, Any]:
        facts: dict[str, Any] = {}
        for name in checked.facts:
            if draw(st.booleans()):
                facts[name] = draw(fact_value(checked, name))
        return s.consistent(checked, facts)

    return st.lists(row(), min_size=1, max_size=max_rows)


def as_of_strategy(checked: CheckedPolicy) -> st.SearchStrategy[dt.date]:
    return s.as_of_dates(s.rule_periods(checked))


# ---------------------------------------------------------------- 1. differential: DuckDB = Python


@settings(max_examples=60, deadline=None, suppress_health_check=SLOW)
@given(st.data())
def test_draft_duckdb_agrees_with_python(data: st.DataObject) -> None:
    backends = draft_backends()
    rows = data.draw(rows_strategy(backends.checked), label="rows")
    as_of = data.draw(as_of_strategy(backends.checked), label="as_of")
    expected = backends.results(rows, as_of)
    assert_rows_agree(expected, duckdb_results(backends.checked, rows, as_of), rows, as_of, "DuckDB")


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW, phases=NO_SHRINK)
@given(s.checked_policies(), st.data())
def test_generated_policies_duckdb_agrees_with_python(policy: s.GeneratedPolicy, data: st.DataObject) -> None:
    assert_generated_agree(policy, data, max_rows=8)


def assert_generated_agree(policy: s.GeneratedPolicy, data: st.DataObject, max_rows: int) -> None:
    """A generated policy, twice on boundary-heavy rows and a date: DuckDB gives Python's outcomes."""
    with tempfile.TemporaryDirectory(prefix="policy-sql-") as tmp:
        directory = Path(tmp)
        checked = check_text(policy.text, directory, policy.source_text)
        backends = PythonBackends(checked, directory)
        for _ in range(2):
            rows = data.draw(rows_strategy(checked, max_rows=max_rows), label="rows")
            as_of = data.draw(as_of_strategy(checked), label="as_of")
            expected = backends.results(rows, as_of)
            assert_rows_agree(expected, duckdb_results(checked, rows, as_of), rows, as_of, "DuckDB")


SOURCE_TEXT = "生成的政策\n\n（一）生成的措施\n\n" + "\n".join(s.SENTENCES) + "\n"
CITE = s.PLAIN_SENTENCE


def small_policy(facts: str, rules: str, title: str = "测试政策") -> str:
    return f"""
policy {_q(title)} {{
    status draft
    source "source.txt"
}}
agency 某局 "某局"
{facts}
measure （一） "生成的措施" {{
    agencies 某局
    cite "{CITE}"
{rules}
}}
"""


def _q(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


def test_between_with_an_unknown_bound_agrees(tmp_path: Path) -> None:
    """``x between lo and 100`` with ``lo`` unknown follows Kleene's logic in every backend.

    ``between`` is ``lo <= x and x <= 100``: with x = 200 the second side is false, so the whole
    is false whatever ``lo`` is (SQL's BETWEEN says the same); with x = 50 it is unknown.
    """
    checked = check_text(
        small_policy(
            "fact x: decimal\nfact lo: decimal\nfact hi: decimal",
            f"""    benefit b "b" {{
        kind other
        when x between lo and 100
        cite "{CITE}"
    }}
    benefit c "c" {{
        kind other
        when x between 10 and hi
        cite "{CITE}"
    }}""",
        ),
        tmp_path,
        SOURCE_TEXT,
    )
    rows: list[dict[str, Any]] = [
        {"x": Decimal(200)},
        {"x": Decimal(50)},
        {"x": Decimal(5)},
        {"x": Decimal(50), "lo": Decimal(60), "hi": Decimal(40)},
        {"x": Decimal(100), "lo": Decimal(100), "hi": Decimal(10)},
    ]
    day = dt.date(2022, 7, 1)
    expected = PythonBackends(checked, tmp_path).results(rows, day)
    assert expected[0]["b"] == ("not_eligible", None)  # x = 200 > 100: false whatever lo is
    assert expected[1]["b"] == ("unknown", None)  # x = 50: decided by the unknown lo
    assert expected[2]["c"] == ("not_eligible", None)  # x = 5 < 10: false whatever hi is
    assert_rows_agree(expected, duckdb_results(checked, rows, day), rows, day, "DuckDB")


# ---------------------------------------------------------------- 2. exactness


def insured_exporters(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Foreign-trade enterprises insured for short-term export credit: (出口额, 保费) per row."""
    return [
        {
            "是外贸企业": True,
            "出口额": Decimal(export),
            "投保短期出口信用保险": True,
            "短期出口信用保险保费": Decimal(premium),
        }
        for export, premium in pairs
    ]


def _status(results: list[Result], benefit: str) -> list[str]:
    return [r[benefit][0] for r in results]


def test_one_cent_above_five_million_dollars_is_not_small() -> None:
    checked = draft()
    day = dt.date(2022, 7, 1)
    amounts = ["4999999.99", "5000000.00", "5000000.01", "50000000.00", "50000000.01"]
    rows: list[dict[str, Any]] = [{"是外贸企业": True, "出口额": Decimal(a)} for a in amounts]
    # A float32 engine cannot tell these apart: 5000000.01 is stored as 5000000.0, which is ≤ 500万.
    assert struct.unpack("f", struct.pack("f", 5000000.01))[0] <= 5_000_000
    got = duckdb_results(checked, rows, day)
    assert _status(got, "小微外贸企业认定标准放宽") == [
        "eligible",
        "eligible",
        "not_eligible",
        "not_eligible",
        "not_eligible",
    ]
    assert _status(got, "中型外贸企业认定标准放宽") == [
        "not_eligible",
        "not_eligible",
        "eligible",
        "eligible",
        "not_eligible",
    ]
    assert_rows_agree(draft_backends().results(rows, day), got, rows, day, "DuckDB")


def test_population_file_is_exact(tmp_path: Path) -> None:
    """The CSV path (DuckDB reads 5000000.01 as a DOUBLE) still decides on the exact amount."""
    csv = tmp_path / "population.csv"
    csv.write_text(
        "id,是外贸企业,出口额,投保短期出口信用保险,短期出口信用保险保费\n"
        "a,true,5000000.00,true,12345.675\n"
        "b,true,5000000.01,true,12345.675\n"
        "c,true,4999999.99,true,0.005\n",
        encoding="utf-8",
    )
    out = tmp_path / "results.parquet"
    count, counts = evaluate_file(draft(), str(csv), str(out), as_of=dt.date(2022, 7, 1), adopted=True)
    assert count == 3
    assert counts["小微外贸企业认定标准放宽"] == {"eligible": 2, "not_eligible": 1}
    import pyarrow.parquet as pq

    table = {row["id"]: row for row in pq.read_table(out).to_pylist()}
    assert table["a"]["小微企业信保保费补贴:amount"] == Decimal("12345.68")
    assert table["b"]["小微企业信保保费补贴"] is False  # not eligible (NULL would be unknown)
    assert table["b"]["小微企业信保保费补贴:amount"] is None
    assert table["c"]["小微企业信保保费补贴:amount"] == Decimal("0.01")


def test_a_pandas_dataframe_is_evaluated_like_the_arrow_table() -> None:
    """``evaluate_table`` on a DataFrame an application holds: Decimal objects stay exact (DuckDB
    reads them as DECIMAL), and the results equal those of the same rows as an Arrow table."""
    import pandas as pd  # a test dependency: the library itself needs no pandas

    checked = draft()
    day = dt.date(2022, 7, 1)
    rows: list[dict[str, Any]] = [
        {
            "是外贸企业": True,
            "出口额": Decimal("5000000.0000000001"),
            "投保短期出口信用保险": True,
            "短期出口信用保险保费": Decimal("1"),
        },
        {
            "是外贸企业": True,
            "出口额": Decimal("5000000"),
            "投保短期出口信用保险": True,
            "短期出口信用保险保费": Decimal("12345.675"),
        },
        {"出口额": None, "投保短期出口信用保险": False},
        {},
    ]
    frame = pd.DataFrame(
        {
            KEY: list(range(len(rows))),
            **{
                name: [row.get(name) for row in rows]
                for name in ("是外贸企业", "出口额", "投保短期出口信用保险", "短期出口信用保险保费")
            },
        }
    )
    from_frame = evaluate_table(checked, frame, day, adopted=True)
    got = sql_results(checked, from_frame.to_pylist(), from_frame.column_names)
    assert got == duckdb_results(checked, rows, day)
    assert_rows_agree(draft_backends().results(rows, day), got, rows, day, "DuckDB (pandas)")
    assert got[0]["小微企业信保保费补贴"] == ("not_eligible", None)  # above 500万美元 by 10⁻¹⁰
    assert got[1]["小微企业信保保费补贴"] == ("eligible", Decimal("12345.68"))


def test_draft_premium_subsidy_rounds_half_up() -> None:
    checked = draft()
    day = dt.date(2022, 7, 1)
    premiums = ["12345.675", "12345.674", "0.005", "0.0049", "0.015", "0.025"]
    rows = insured_exporters([("1", p) for p in premiums])
    got = duckdb_results(checked, rows, day)
    amounts = [r["小微企业信保保费补贴"][1] for r in got]
    assert amounts == [Decimal(x) for x in ("12345.68", "12345.67", "0.01", "0.00", "0.02", "0.03")]
    assert_rows_agree(draft_backends().results(rows, day), got, rows, day, "DuckDB")


RATES_POLICY = small_policy(
    "fact 保费: money CNY\nfact 日元额: money JPY\nfact 欧元额: money EUR",
    f"""    benefit 半额 "50%" {{
        kind subsidy
        rate 50% of 保费
        cite "{CITE}"
    }}
    benefit 七五 "7.5%" {{
        kind subsidy
        rate 7.5% of 保费
        cite "{CITE}"
    }}
    benefit 日元半额 "JPY 50%" {{
        kind subsidy
        rate 50% of 日元额
        cite "{CITE}"
    }}
    benefit 封顶 "100% capped at 100元" {{
        kind subsidy
        rate 100% of 保费
        cap 100元
        cite "{CITE}"
    }}
    benefit 小比例 "0.125%" {{
        kind subsidy
        rate 0.125% of 欧元额
        cap 1000欧元
        cite "{CITE}"
    }}""",
)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"保费": "0.05"}, {"半额": "0.03", "七五": "0.00", "封顶": "0.05"}),  # 0.025 → 0.03 (banker's: 0.02)
        ({"保费": "0.01"}, {"半额": "0.01", "七五": "0.00", "封顶": "0.01"}),  # 0.005 → 0.01
        ({"保费": "1234.50"}, {"半额": "617.25", "七五": "92.59", "封顶": "100"}),  # 92.5875 → 92.59
        ({"保费": "0.0667"}, {"半额": "0.03", "七五": "0.01", "封顶": "0.07"}),  # 0.0050025 → 0.01
        ({"保费": "100.004"}, {"封顶": "100.00"}),  # rounds to 100.00: at the cap
        ({"保费": "100.005"}, {"封顶": "100"}),  # rounds to 100.01: above the cap, so the cap
        ({"保费": "99.995"}, {"封顶": "100.00"}),  # rounds up to 100.00
        ({"保费": "99.9949"}, {"封顶": "99.99"}),
        ({"日元额": "5"}, {"日元半额": "3"}),  # 2.5 → 3 yen (banker's: 2)
        ({"日元额": "3"}, {"日元半额": "2"}),  # 1.5 → 2
        ({"日元额": "1.0001"}, {"日元半额": "1"}),  # 0.50005 → 1
        ({"日元额": "0.9998"}, {"日元半额": "0"}),  # 0.4999 → 0
        ({"欧元额": "4"}, {"小比例": "0.01"}),  # 0.005 → 0.01
        ({"欧元额": "3.9999"}, {"小比例": "0.00"}),  # 0.004999875 → 0.00
        ({"欧元额": "800004"}, {"小比例": "1000"}),  # 1000.005 → 1000.01 → the cap
        ({"欧元额": "12345678901.2345"}, {"小比例": "1000"}),
    ],
)
def test_rates_round_half_up_to_the_minor_unit(
    tmp_path: Path, facts: dict[str, str], expected: dict[str, str]
) -> None:
    checked = check_text(RATES_POLICY, tmp_path, SOURCE_TEXT)
    day = dt.date(2022, 7, 1)
    rows = [validate_facts(checked, facts)]
    got = duckdb_results(checked, rows, day)[0]
    for benefit, amount in expected.items():
        assert got[benefit] == ("eligible", Decimal(amount)), benefit
    assert_rows_agree(PythonBackends(checked, tmp_path).results(rows, day), [got], rows, day, "DuckDB")


CAP_POLICY = small_policy(
    "fact 日元额: money JPY\nfact 保费: money CNY",
    f"""    benefit 日元封顶 "JPY capped at 100.5日元" {{
        kind subsidy
        rate 100% of 日元额
        cap 100.5日元
        cite "{CITE}"
    }}
    benefit 元封顶 "CNY capped at 100.005元" {{
        kind subsidy
        rate 100% of 保费
        cap 100.005元
        cite "{CITE}"
    }}""",
)


def test_a_cap_finer_than_the_minor_unit_is_paid_as_written(tmp_path: Path) -> None:
    """Python pays the cap as the policy writes it (100.5 yen); SQL must not round it to the minor unit.

    (In DuckDB, ``CASE WHEN rounded > cap THEN cap ELSE rounded END`` mixes DECIMAL(38, 4) with the
    DECIMAL(38, 0) or (38, 2) of ``ROUND``; the CASE takes the smaller scale and rounds the cap.)
    """
    checked = check_text(CAP_POLICY, tmp_path, SOURCE_TEXT)
    day = dt.date(2022, 7, 1)
    rows: list[dict[str, Any]] = [
        {"日元额": Decimal(200), "保费": Decimal(200)},
        {"日元额": Decimal(50), "保费": Decimal(50)},
    ]
    expected = PythonBackends(checked, tmp_path).results(rows, day)
    assert expected[0] == {
        "日元封顶": ("eligible", Decimal("100.5")),
        "元封顶": ("eligible", Decimal("100.005")),
    }
    assert_rows_agree(expected, duckdb_results(checked, rows, day), rows, day, "DuckDB")


def test_constants_finer_than_four_decimals_compare_exactly(tmp_path: Path) -> None:
    """A constant the policy writes with five decimals is compared as written, not at DECIMAL(38, 4)."""
    checked = check_text(
        small_policy(
            "fact 费率: percent\nfact 系数: decimal",
            f"""    benefit 低费率 "r > 0.00005%" {{
        kind other
        when 费率 > 0.00005%
        cite "{CITE}"
    }}
    benefit 系数达标 "k >= 1.00005" {{
        kind other
        when 系数 >= 1.00005
        cite "{CITE}"
    }}""",
        ),
        tmp_path,
        SOURCE_TEXT,
    )
    day = dt.date(2022, 7, 1)
    rows: list[dict[str, Any]] = [
        {"费率": Decimal("0.0001"), "系数": Decimal("1.0001")},
        {"系数": Decimal(1)},
    ]
    expected = PythonBackends(checked, tmp_path).results(rows, day)
    assert expected[0] == {"低费率": ("eligible", None), "系数达标": ("eligible", None)}
    assert expected[1]["系数达标"] == ("not_eligible", None)
    assert_rows_agree(expected, duckdb_results(checked, rows, day), rows, day, "DuckDB")


# ---------------------------------------------------------------- 3. safety: names and values are data

#: Text that would end a quoted identifier or string, or a statement, in one dialect or another.
HOSTILE = (
    "a'b",
    'c"d',
    "e`f",
    "x; DROP TABLE sentinel; --",
    '"; DROP TABLE sentinel; --',
    "'); DROP TABLE sentinel; --",
    "`); DROP TABLE sentinel; --",
    "-- comment",
    "/* open",
    "back\\slash'",
)


def hostile_model() -> m.PolicyFile:
    """A policy (built as a model: the parser allows no such names) whose fact names, enum values and
    benefit ids are hostile SQL. It checks: the checker takes names as they come."""
    values = HOSTILE
    enum = m.EnumDecl("类别'\"`; DROP TABLE sentinel; --", tuple(m.EnumValue(v) for v in values))
    kinds = {
        HOSTILE[0]: m.TypeRef("bool"),
        HOSTILE[1]: m.TypeRef("enum", enum.name),
        HOSTILE[2]: m.TypeRef("set", enum.name),
        HOSTILE[3]: m.TypeRef("money", "CNY"),
        HOSTILE[4]: m.TypeRef("decimal"),
        HOSTILE[5]: m.TypeRef("date"),
        HOSTILE[6]: m.TypeRef("integer"),
    }
    facts = [m.FactDecl(name, ref) for name, ref in kinds.items()]
    ref = m.Reference
    cite = (m.Citation(m.Text(CITE)),)
    bool_f, enum_f, set_f, money_f, dec_f, date_f, int_f = (ref(n) for n in kinds)
    conditions = [
        m.Membership(enum_f, (m.Name(values[5]), m.Name(values[0])), False),
        m.Membership(enum_f, tuple(m.Name(values[i]) for i in (3, 4, 7, 8)), True),
        m.Includes(set_f, "all", (m.Name(values[6]), m.Name(values[9]))),
        m.Includes(set_f, "any", (m.Name(values[1]), m.Name(values[2]))),
        m.And((bool_f, m.Comparison(dec_f, ">=", m.Literal(Decimal("0.5"))))),
        m.Or(
            (
                m.Comparison(date_f, "<", m.Literal(dt.date(2022, 6, 20))),
                m.Comparison(int_f, ">=", m.Literal(3)),
            )
        ),
    ]
    definition = m.Definition("定义'\"`--;", None, m.Not(conditions[1]), cite)
    benefits = []
    for index, (benefit_id, condition) in enumerate(zip(HOSTILE, conditions, strict=False)):
        rate = m.Rate(m.Literal(Percent(Decimal(50))), m.Name(money_f.name)) if index == 0 else None
        when = m.And((condition, ref(definition.name))) if index == 2 else condition
        benefits.append(
            m.Benefit(
                f"b{index}{benefit_id}", None, kind=m.Name("subsidy"), when=when, rate=rate, citations=cite
            )
        )
    header = m.PolicyHeader(
        m.Text("安全'\"`; DROP TABLE sentinel; --"), status=m.Name("final"), source=m.Text("source.txt")
    )
    agency = m.Agency("某局", m.Text("某局"))
    measure = m.Unit(
        "measure",
        "（一）",
        m.Text("生成的措施"),
        agencies=(m.Name("某局"),),
        citations=cite,
        rules=(definition, *benefits),
    )
    return m.PolicyFile((header, agency, enum, *facts, measure))


def hostile_checked(directory: Path, title: str | None = None) -> CheckedPolicy:
    model = hostile_model()
    if title is not None:
        header = model.items[0]
        assert isinstance(header, m.PolicyHeader)
        model = m.PolicyFile(
            (m.PolicyHeader(m.Text(title), status=header.status, source=header.source), *model.items[1:])
        )
    (directory / "source.txt").write_text(SOURCE_TEXT, encoding="utf-8")
    return check(model, str(directory / "hostile.policy"))


def hostile_rows() -> list[dict[str, Any]]:
    names = list(hostile_model_facts())
    bool_f, enum_f, set_f, money_f, dec_f, date_f, int_f = names
    rows: list[dict[str, Any]] = []
    for index, value in enumerate(HOSTILE):
        rows.append(
            {
                bool_f: index % 2 == 0,
                enum_f: value,
                set_f: frozenset(HOSTILE[index : index + 4]),
                money_f: Decimal("100.01") * (index + 1),
                dec_f: Decimal("0.5") - Decimal("0.0001") * (index % 3),
                date_f: dt.date(2022, 6, 18 + index % 4),
                int_f: index % 5,
            }
        )
    rows.append({})
    rows.append({enum_f: HOSTILE[5], set_f: frozenset(HOSTILE)})
    return rows


def hostile_model_facts() -> list[str]:
    return [item.name for item in hostile_model().items if isinstance(item, m.FactDecl)]


def string_literals(tree: exp.Expression) -> set[str]:
    return {lit.this for lit in tree.find_all(exp.Literal) if lit.is_string}


def identifiers(tree: exp.Expression) -> set[str]:
    return {ident.this for ident in tree.find_all(exp.Identifier)}


def duckdb_with_sentinel() -> Any:
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE sentinel (a INTEGER)")
    return con


def sentinel_exists(con: Any) -> bool:
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'sentinel'").fetchone()
    return bool(found[0])


def test_hostile_names_and_values_are_data_in_duckdb(tmp_path: Path) -> None:
    checked = hostile_checked(tmp_path)
    assert checked.benefits[0].rule.name == "b0a'b"
    day = dt.date(2022, 7, 1)
    rows = hostile_rows()
    table = arrow_table(checked, rows)
    con = duckdb_with_sentinel()
    con.register("facts_input", table)
    con.execute("CREATE TABLE facts AS SELECT * FROM facts_input")
    query = compile_sql(checked, "duckdb", source="facts", as_of=day, keep=(KEY,), adopted=True)
    result = con.execute(query)
    names = [column[0] for column in result.description]
    fetched = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    assert sentinel_exists(con)
    got = sql_results(checked, fetched, names)
    expected = PythonBackends(checked, tmp_path).results(rows, day)
    assert_rows_agree(expected, got, rows, day, "DuckDB")
    # The literal values matched: the rows that carry the hostile enum values are eligible.
    statuses = {status for r in expected for status, _ in r.values()}
    assert {"eligible", "not_eligible", "unknown"} <= statuses
    assert_rows_agree(expected, duckdb_results(checked, rows, day), rows, day, "DuckDB (evaluate_table)")
    assert sentinel_exists(con)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_hostile_policy_is_one_statement_with_its_literals_intact(tmp_path: Path, dialect: str) -> None:
    checked = hostile_checked(tmp_path)
    query = compile_sql(checked, dialect, as_of=dt.date(2022, 7, 1), adopted=True)
    statements = sqlglot.parse(query, read=dialect)
    assert len(statements) == 1, f"{dialect}: {len(statements)} statements"
    tree = statements[0]
    assert tree is not None
    assert isinstance(tree, exp.Select)
    # Every hostile enum value is one string literal, as written: not split, concatenated or unescaped.
    assert set(HOSTILE) <= string_literals(tree), sorted(set(HOSTILE) - string_literals(tree))
    # Every fact and benefit name is one identifier, as written.
    wanted = set(hostile_model_facts()) | {info.rule.name for info in checked.benefits}
    assert wanted <= identifiers(tree), sorted(wanted - identifiers(tree))


@pytest.mark.parametrize(
    "title",
    [
        "标题\nDROP TABLE sentinel;\n--",
        "标题\rDROP TABLE sentinel;\r--",
        "标题\r\nDROP TABLE sentinel; --",
    ],
)
def test_hostile_title_cannot_end_the_header_comment(tmp_path: Path, title: str) -> None:
    """The title goes into the query's ``--`` header comment; a line break must not end it there."""
    checked = hostile_checked(tmp_path, title=title)
    day = dt.date(2022, 7, 1)
    con = duckdb_with_sentinel()
    con.register("facts", arrow_table(checked, hostile_rows()))
    try:
        con.execute(compile_sql(checked, "duckdb", source="facts", as_of=day, keep=(KEY,), adopted=True))
    finally:
        assert sentinel_exists(con), "the policy's title dropped the sentinel table"
    for dialect in DIALECTS:
        query = compile_sql(checked, dialect, as_of=day, adopted=True)
        assert len(sqlglot.parse(query, read=dialect)) == 1, dialect


def test_a_column_named_like_sql_is_quoted_in_every_dialect() -> None:
    for dialect in DIALECTS:
        d = Dialect(dialect)
        for name in HOSTILE:
            tree = sqlglot.parse_one(f"SELECT {d.ident(name)} FROM t", read=dialect)
            assert identifiers(tree) == {name, "t"}, (dialect, name)
            literal = sqlglot.parse_one(f"SELECT {d.string(name)}", read=dialect)
            assert string_literals(literal) == {name}, (dialect, name)


# ---------------------------------------------------------------- 4. spark: the output parses


def assert_parses(query: str, dialect: str) -> exp.Expression:
    tree = sqlglot.parse_one(query, read=dialect)
    assert isinstance(tree, exp.Select)
    return tree


def test_draft_parses_in_every_dialect() -> None:
    checked = draft()
    for dialect in DIALECTS:
        query = compile_sql(checked, dialect, as_of=dt.date(2022, 7, 1), adopted=True)
        tree = assert_parses(query, dialect)
        assert len(sqlglot.parse(query, read=dialect)) == 1
        names = {info.rule.name for info in checked.benefits}
        assert names <= identifiers(tree)
        assert {"FDA", "EMA", "CE", "PMDA", "WHO", "药品", "高端医疗器械"} <= string_literals(tree)


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW, phases=NO_SHRINK)
@given(s.checked_policies(), st.sampled_from(DIALECTS), st.dates(dt.date(2020, 1, 1), dt.date(2025, 12, 31)))
def test_generated_policies_parse(policy: s.GeneratedPolicy, dialect: str, day: dt.date) -> None:
    with tempfile.TemporaryDirectory(prefix="policy-sql-") as tmp:
        checked = check_text(policy.text, Path(tmp), policy.source_text)
    for each in {dialect, "spark"}:
        query = compile_sql(checked, each, as_of=day, adopted=True)
        statements = sqlglot.parse(query, read=each)
        assert len(statements) == 1, each
        assert isinstance(statements[0], exp.Select)
    assert_parses(compile_sql(checked, "spark", as_of=day, adopted=True), "spark")


def test_draft_spark_query_parses_with_spark_reader() -> None:
    query = compile_sql(draft(), "spark", as_of=dt.date(2022, 6, 20), adopted=True)
    tree = sqlglot.parse_one(query, read="spark")
    assert isinstance(tree, exp.Select)
    assert "`出口额`" in query


@settings(max_examples=60, deadline=None, suppress_health_check=SLOW, phases=NO_SHRINK)
@given(s.checked_policies().filter(lambda p: "tiers" in p.text), st.data())
def test_tiered_policies_duckdb_agrees_with_python(policy: s.GeneratedPolicy, data: st.DataObject) -> None:
    """Tiered schedules (whole and marginal) on rows at, one minor unit either side of, every band
    end and rate edge: DuckDB computes what Python does."""
    assert_generated_agree(policy, data, max_rows=10)


@settings(max_examples=50, deadline=None, suppress_health_check=SLOW, phases=NO_SHRINK)
@given(s.checked_policies().filter(lambda p: "exclusive" in p.text), st.data())
def test_exclusive_groups_duckdb_agrees_with_python(policy: s.GeneratedPolicy, data: st.DataObject) -> None:
    """Non-cumulation (keep highest / first / one) on boundary-heavy rows: DuckDB supersedes the
    benefits Python supersedes, and sums the same amounts."""
    assert_generated_agree(policy, data, max_rows=10)
