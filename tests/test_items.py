"""Per-item benefits (单品种, 按项目, 按人): ``items 品种 { fact … }`` declares a list and the facts of
each item; a benefit ``for each 品种`` is decided and paid per item, ``cap`` per item and ``cap total``
for the enterprise. Python, the standalone module, DuckDB and PostgreSQL agree on hypothesis-made
enterprises with boundary-heavy items, empty lists and lists not known; the facts contract reads
the lists and names a bad item's fact; the checker scopes an item's facts to its benefits."""

from __future__ import annotations

import datetime as dt
import shutil
import types
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sql_postgres import pg  # noqa: F401 - the session's PostgreSQL server

import policy_dsl
from policy_dsl.check import check
from policy_dsl.errors import FactsError, PolicyError
from policy_dsl.format import fmt
from policy_dsl.parse import parse
from policy_dsl.sql import Dialect, amount_column, status_column

GOOD = Path(__file__).parent / "examples" / "good"
ORIGINAL = (GOOD / "per_item.policy").read_text(encoding="utf-8")
DAY = dt.date(2026, 1, 1)
BENEFITS = ("国际注册奖励", "境外销售奖励", "检验检测补助")


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> policy_dsl.Policy:
    return load(tmp_path_factory.mktemp("items"))


def load(tmp_path: Path, text: str | None = None) -> policy_dsl.Policy:
    shutil.copy(GOOD / "per_item.txt", tmp_path / "per_item.txt")
    path = tmp_path / "per_item.policy"
    path.write_text(text or ORIGINAL, encoding="utf-8")
    return policy_dsl.load(str(path))


def yuan(value: str) -> Decimal:
    return Decimal(value)


def amount(outcome: Any, ident: str) -> Decimal | None:
    benefit = outcome.benefit(ident)
    return None if benefit.amount is None else benefit.amount.amount


# ---------------------------------------------------------------- what an enterprise gets


def test_each_item_is_decided_and_the_sum_is_capped(policy: policy_dsl.Policy) -> None:
    facts = {
        "是生物医药企业": True,
        "年度地方财政贡献": "5000元",
        "品种": [
            {"品种注册机构": ["FDA"], "品种境外销售额": "1000万元", "检验批次": 1},
            {"品种注册机构": [], "品种境外销售额": "9999999.99元", "检验批次": 2},
            {"品种注册机构": ["EMA", "WHO"], "品种境外销售额": "3000万元", "检验批次": 0},
            {"品种注册机构": ["PMDA"], "品种境外销售额": "1200万元"},
        ],
    }
    outcome = policy.evaluate(facts, as_of=DAY)
    # 3 registered items × 100万元 = 300万元: at the total's cap exactly
    assert amount(outcome, "国际注册奖励") == yuan("3000000")
    # 50万元 (1000万元 × 5%) + 50万元 (capped: 150万元) + 60万元 → 160万元, capped at 120万元 in all
    assert amount(outcome, "境外销售奖励") == yuan("1200000")
    # item 4's batches are unknown, but items 1 and 2 (2000 + 4000元) already reach the 5000元 of
    # 年度地方财政贡献 that caps them all: whatever item 4 adds, the enterprise gets 5000元
    sub = outcome.benefit("检验检测补助")
    assert sub.status == "eligible" and amount(outcome, "检验检测补助") == yuan("5000.00")
    under = policy.evaluate({**facts, "年度地方财政贡献": "6000.01元"}, as_of=DAY)
    assert amount(under, "检验检测补助") is None  # 6000元 so far, item 4 may add: not known
    given = {**facts, "年度地方财政贡献": "6000.01元", "品种": [*facts["品种"][:3], {"检验批次": 0}]}
    assert amount(policy.evaluate(given, as_of=DAY), "检验检测补助") == yuan("6000.00")
    unknown_cap = {k: v for k, v in facts.items() if k != "年度地方财政贡献"}
    assert amount(policy.evaluate(unknown_cap, as_of=DAY), "检验检测补助") is None
    items = sub.items
    assert items is not None
    assert [i.status for i in items] == ["eligible", "eligible", "not_eligible", "unknown"]
    assert [i.amount.amount if i.amount else None for i in items] == [
        yuan("2000.00"),
        yuan("4000.00"),
        None,
        None,
    ]
    text = outcome.to_text()
    assert "for each 品种: 3 of 4 items eligible" in text
    assert "item 2: ✗ not eligible" in text
    sales = "amount: 1200000元 (per item: 5% of 品种境外销售额, at most 50万元, at most 1200000元 in all)"
    assert sales + "; recurring" in text
    assert "amount: 5000.00元 (per item: 2000元 per 检验批次, at most 年度地方财政贡献 in all)" in text


def test_an_empty_list_a_list_not_known_and_the_cap_reached_early(policy: policy_dsl.Policy) -> None:
    none = policy.evaluate({"是生物医药企业": True, "品种": []}, as_of=DAY)
    assert [none.benefit(b).status for b in BENEFITS] == ["not_eligible"] * 3
    unknown = policy.evaluate({"是生物医药企业": True}, as_of=DAY)
    assert [unknown.benefit(b).status for b in BENEFITS] == ["unknown"] * 3
    assert "品种" in unknown.benefit("国际注册奖励").missing_facts
    assert "for each 品种: the items are not known" in unknown.to_text()
    ruled_out = policy.evaluate({"是生物医药企业": False}, as_of=DAY)  # whatever the items
    assert ruled_out.benefit("国际注册奖励").status == "not_eligible"
    # three registered items reach the 300万元 cap: a fourth, undecided, cannot change it
    four = [{"品种注册机构": ["FDA"]}] * 3 + [{}]
    reached = policy.evaluate({"是生物医药企业": True, "品种": four}, as_of=DAY)
    assert amount(reached, "国际注册奖励") == yuan("3000000")
    short = policy.evaluate({"是生物医药企业": True, "品种": four[1:]}, as_of=DAY)
    assert short.benefit("国际注册奖励").status == "eligible" and amount(short, "国际注册奖励") is None


def test_the_facts_contract_reads_lists_and_names_a_bad_item(policy: policy_dsl.Policy) -> None:
    with pytest.raises(FactsError) as raised:
        policy.evaluate({"品种": [{"品种境外销售额": "-1元"}, 3, {"品种名": "x"}]}, as_of=DAY)
    messages = [d.message for d in raised.value.diagnostics]
    assert any("item 1 of `品种`: fact `品种境外销售额`: amounts cannot be negative" in m for m in messages)
    assert any("item 2 of `品种`: facts must be an object" in m for m in messages)
    assert any("item 3 of `品种`: unknown fact `品种名`" in m for m in messages)
    with pytest.raises(FactsError) as raised:
        policy.evaluate({"品种": "FDA"}, as_of=DAY)
    assert "expected a list of items" in str(raised.value.diagnostics[0].message)
    with pytest.raises(FactsError):  # an item's fact is not the enterprise's
        policy.evaluate({"品种境外销售额": "1元"}, as_of=DAY)


# ---------------------------------------------------------------- the checker


def check_errors(tmp_path: Path, text: str) -> list[str]:
    shutil.copy(GOOD / "per_item.txt", tmp_path / "per_item.txt")
    path = tmp_path / "bad.policy"
    with pytest.raises(PolicyError) as raised:
        check(parse(text, str(path)), str(path))
    return [d.message + " | " + (d.hint or "") for d in raised.value.diagnostics if d.severity == "error"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (  # an item's fact outside a benefit for each item
            "            for each 品种\n            when 检验批次 > 0",
            "            when 检验批次 > 0",
            "unknown name `检验批次` | `检验批次` is a fact of each item of `品种`: decide the benefit "
            "`for each 品种`",
        ),
        (
            "for each 品种\n            when 品种境外销售额",
            "for each 品种s\n            when 品种境外销售额",
            "unknown list of items `品种s`",
        ),
        (
            "for each 品种\n            when 检验批次",
            "for each 年度地方财政贡献\n            when 检验批次",
            "`年度地方财政贡献` is not a list of items",
        ),
        ("cap total 120万元", "cap total 120万美元", "currenc"),
        (
            "    fact 检验批次: integer\n",
            "    fact 检验批次: integer\n    fact 是生物医药企业: bool\n",
            "`是生物医药企业` is declared twice",
        ),
    ],
)
def test_wrong_items_are_clear_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in ORIGINAL
    messages = check_errors(tmp_path, ORIGINAL.replace(old, new, 1))
    assert any(message in m for m in messages), messages


def test_cap_total_needs_a_benefit_for_each_item(tmp_path: Path) -> None:
    assert "cap total 年度地方财政贡献" in ORIGINAL  # item 3, decided for each 品种
    text = ORIGINAL.replace(
        "            for each 品种\n            when 检验批次 > 0", "            when 是生物医药企业"
    )
    text = text.replace("amount 2000元 per 检验批次", "amount 2000元")
    assert any("`cap total` limits the sum over the items" in m for m in check_errors(tmp_path, text))


def test_fmt_round_trips() -> None:
    assert fmt(parse(ORIGINAL, "per_item.policy")) == ORIGINAL


# ---------------------------------------------------------------- every backend agrees

MONEY_EDGES = [
    Decimal(v)
    for v in ("0", "0.01", "9999999.99", "10000000", "10000000.01", "24000000", "23999999.99", "24000000.01")
]


def items_strategy() -> st.SearchStrategy[Any]:
    item = st.fixed_dictionaries(
        {},
        optional={
            "品种注册机构": st.frozensets(st.sampled_from(["FDA", "EMA", "PMDA", "WHO", "NMPA"]), max_size=2),
            "品种境外销售额": st.one_of(st.sampled_from(MONEY_EDGES), st.decimals(0, 10**8, places=2)),
            "检验批次": st.one_of(st.sampled_from([0, 1, 2, 249, 250, 251]), st.integers(0, 10**4)),
        },
    )
    return st.one_of(st.none(), st.lists(item, max_size=4))


def enterprise_strategy() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"品种": items_strategy()},
        optional={
            "是生物医药企业": st.booleans(),
            "年度地方财政贡献": st.one_of(
                st.sampled_from([Decimal(0), Decimal("4000.00"), Decimal("3999.99"), Decimal("500000")]),
                st.decimals(0, 10**6, places=2),
            ),
        },
    )


def python_results(policy: policy_dsl.Policy, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        outcome = policy.evaluate(row, as_of=DAY)
        out.append({b: (outcome.benefit(b).status, amount(outcome, b)) for b in BENEFITS})
    return out


def standalone(policy: policy_dsl.Policy, tmp: Path) -> Any:
    module = types.ModuleType("rules_items")
    exec(compile(policy.module_source(), str(tmp / "rules.py"), "exec"), module.__dict__)
    return module


def sql_rows(names: list[str], rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    words = {True: "eligible", False: "not_eligible", None: "unknown"}
    out = []
    for row in sorted(rows, key=lambda r: r[0]):
        record = dict(zip(names, row, strict=True))
        out.append(
            {
                b: (
                    words[record[status_column(b)]],
                    None
                    if record[amount_column(b)] is None
                    else Decimal(record[amount_column(b)]).normalize(),
                )
                for b in BENEFITS
            }
        )
    return out


def normalized(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{b: (s, None if a is None else a.normalize()) for b, (s, a) in r.items()} for r in results]


def arrow_tables(rows: list[dict[str, Any]]) -> tuple[pa.Table, pa.Table]:
    money = pa.decimal128(38, 10)
    facts = pa.table(
        {
            "id": pa.array(range(len(rows)), pa.int64()),
            "是生物医药企业": pa.array([r.get("是生物医药企业") for r in rows], pa.bool_()),
            "年度地方财政贡献": pa.array([r.get("年度地方财政贡献") for r in rows], money),
            "品种": pa.array([None if r["品种"] is None else True for r in rows], pa.bool_()),
        }
    )
    items = [(i, item) for i, r in enumerate(rows) for item in (r["品种"] or [])]
    registered = [sorted(it["品种注册机构"]) if "品种注册机构" in it else None for _, it in items]
    table = pa.table(
        {
            "id": pa.array([i for i, _ in items], pa.int64()),
            "品种注册机构": pa.array(registered, pa.list_(pa.string())),
            "品种境外销售额": pa.array([it.get("品种境外销售额") for _, it in items], money),
            "检验批次": pa.array([it.get("检验批次") for _, it in items], pa.int64()),
        }
    )
    return facts, table


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(enterprise_strategy(), min_size=1, max_size=6))
def test_python_standalone_and_duckdb_agree(
    policy: policy_dsl.Policy, tmp_path: Path, rows: list[dict[str, Any]]
) -> None:
    expected = normalized(python_results(policy, rows))
    module = standalone(policy, tmp_path)
    for row in rows:
        assert module.to_json(module.evaluate(row, DAY)) == policy.evaluate(row, as_of=DAY).to_json()
        decided = policy.compiled.decide(module.read_facts(row), DAY)[0]
        assert [{True: "eligible", False: "not_eligible", None: "unknown"}[v] for v in decided] == [
            policy.evaluate(row, as_of=DAY).benefit(b).status for b in BENEFITS
        ]
    facts, items = arrow_tables(rows)
    con = duckdb.connect()
    con.register("facts", facts)
    con.register("品种", items)
    cursor = con.execute(policy.sql("duckdb", as_of=DAY))
    names = [c[0] for c in cursor.description]
    assert sql_rows(names, cursor.fetchall()) == expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(enterprise_strategy(), min_size=1, max_size=6))
def test_postgres_agrees(policy: policy_dsl.Policy, pg: Any, rows: list[dict[str, Any]]) -> None:  # noqa: F811
    expected = normalized(python_results(policy, rows))
    d = Dialect("postgres")
    pg.execute('DROP TABLE IF EXISTS facts; DROP TABLE IF EXISTS "品种"')
    pg.execute(
        'CREATE TABLE facts (id BIGINT, "是生物医药企业" BOOLEAN, "年度地方财政贡献" NUMERIC, "品种" BOOLEAN)'
    )
    pg.execute(
        'CREATE TABLE "品种" (id BIGINT, "品种注册机构" TEXT[], "品种境外销售额" NUMERIC, "检验批次" BIGINT)'
    )
    with pg.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO facts VALUES (%s, %s::BOOLEAN, %s::NUMERIC, %s::BOOLEAN)",
            [
                (i, r.get("是生物医药企业"), r.get("年度地方财政贡献"), None if r["品种"] is None else True)
                for i, r in enumerate(rows)
            ],
        )
        cursor.executemany(
            'INSERT INTO "品种" VALUES (%s, %s::TEXT[], %s::NUMERIC, %s::BIGINT)',
            [
                (
                    i,
                    sorted(it["品种注册机构"]) if "品种注册机构" in it else None,
                    it.get("品种境外销售额"),
                    it.get("检验批次"),
                )
                for i, r in enumerate(rows)
                for it in (r["品种"] or [])
            ],
        )
    cursor = pg.execute(policy.sql("postgres", as_of=DAY))
    names = [c.name for c in cursor.description]
    assert d.name == "postgres"
    assert sql_rows(names, cursor.fetchall()) == expected


def test_a_synthetic_population_agrees_with_each_enterprise(
    policy: policy_dsl.Policy, tmp_path: Path
) -> None:
    """``policy synth`` draws 0–3 items per enterprise (a list of structs in Parquet); the population
    run (DuckDB over the unnested items) gives each enterprise what Python gives it."""
    import pyarrow.parquet as pq

    from policy_dsl.synth import synthesize
    from policy_dsl.table import evaluate_table

    path = tmp_path / "population.parquet"
    synthesize(policy.checked, 400, str(path), seed=7)
    table = pq.read_table(path)
    results = evaluate_table(policy.checked, table, DAY).to_pylist()
    rows = table.to_pylist()
    assert any(row["品种"] for row in rows) and any(row["品种"] == [] for row in rows)
    assert any(row["品种"] is None for row in rows)
    for row, result in zip(rows, results, strict=True):
        facts = {k: v for k, v in row.items() if k != "id"}
        outcome = policy.evaluate(facts, as_of=DAY)
        for b in BENEFITS:
            status = {True: "eligible", False: "not_eligible", None: "unknown"}[result[b]]
            paid = result[f"{b}:amount"]
            assert (status, None if paid is None else Decimal(paid).normalize()) == (
                outcome.benefit(b).status,
                None if amount(outcome, b) is None else amount(outcome, b).normalize(),  # type: ignore[union-attr]
            ), (b, facts)
