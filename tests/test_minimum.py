"""``min`` (最低): a computed amount is at least the minimum and at most its caps — in Python, the
standalone module and DuckDB, at and a fen either side of where the minimum and the cap start to
bind; the checker refuses a minimum of a fixed amount and one above the cap."""

from __future__ import annotations

import datetime as dt
import types
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

import policy_dsl
from policy_dsl.check import check
from policy_dsl.errors import PolicyError
from policy_dsl.format import fmt
from policy_dsl.parse import parse

SENTENCE = "按设备投资的5%给予补助，最低10万元，最高100万元，且不超过企业年度地方财政贡献。"
SOURCE = f"最低测试\n\n一、奖励\n\n{SENTENCE}\n"
POLICY = """policy "最低测试" {
    status final
    source "source.txt"
}

fact 设备投资: money CNY
fact 年度地方财政贡献: money CNY

measure 一、 "奖励" {
    benefit 设备补助 {
        kind subsidy
        rate 5% of 设备投资
        min 10万元
        cap 100万元, 年度地方财政贡献
        cite "按设备投资的5%给予补助，最低10万元，最高100万元，且不超过企业年度地方财政贡献"
    }
}
"""
DAY = dt.date(2025, 1, 1)


def load(tmp_path: Path, text: str = POLICY) -> policy_dsl.Policy:
    (tmp_path / "source.txt").write_text(SOURCE, encoding="utf-8")
    path = tmp_path / "p.policy"
    path.write_text(text, encoding="utf-8")
    return policy_dsl.load(str(path))


@pytest.mark.parametrize(
    ("investment", "contribution", "paid"),
    [
        ("1999999.80", None, "100000"),  # 99999.99 → the minimum
        ("2000000", None, "100000.00"),  # exactly the minimum
        ("2000000.20", None, "100000.01"),  # a fen above it
        ("0", None, "100000"),  # eligible with nothing invested: still the minimum
        ("19999999.80", None, "999999.99"),
        ("20000000.20", None, "1000000"),  # the cap
        ("30000000", "50000", "50000.00"),  # 年度地方财政贡献 caps below the minimum: the cap wins
        ("30000000", None, "1000000"),
    ],
)
def test_the_minimum_and_the_caps(
    tmp_path: Path, investment: str, contribution: str | None, paid: str
) -> None:
    facts = {"设备投资": investment + "元"}
    if contribution is not None:
        facts["年度地方财政贡献"] = contribution + "元"
    policy = load(
        tmp_path,
        POLICY if contribution is not None else POLICY.replace("100万元, 年度地方财政贡献", "100万元"),
    )
    outcome = policy.evaluate(facts, as_of=DAY).benefit("设备补助")
    assert outcome.amount is not None and outcome.amount.amount == Decimal(paid)


def test_python_standalone_and_duckdb_agree_at_the_edges(tmp_path: Path) -> None:
    policy = load(tmp_path)
    module = types.ModuleType("rules_min")
    exec(compile(policy.module_source(), str(tmp_path / "rules.py"), "exec"), module.__dict__)
    fen = Decimal("0.01")
    investments = [
        v + d for v in (Decimal(2_000_000), Decimal(20_000_000)) for d in (-fen * 20, -fen, 0, fen, fen * 20)
    ]
    contributions = [None, Decimal("100000"), Decimal("99999.99"), Decimal("100000.01"), Decimal("0.004")]
    rows = [(i, c) for i in [*investments, None] for c in contributions]
    expected = []
    for investment, contribution in rows:
        facts = {
            k: v
            for k, v in {"设备投资": investment, "年度地方财政贡献": contribution}.items()
            if v is not None
        }
        outcome = policy.evaluate(facts, as_of=DAY)
        assert module.to_json(module.evaluate(facts, DAY)) == outcome.to_json()
        amount = outcome.benefit("设备补助").amount
        expected.append(None if amount is None else amount.amount)
    table = pa.table(
        {
            "id": pa.array(range(len(rows)), pa.int64()),
            "设备投资": pa.array([r[0] for r in rows], pa.decimal128(38, 10)),
            "年度地方财政贡献": pa.array([r[1] for r in rows], pa.decimal128(38, 10)),
        }
    )
    con = duckdb.connect()
    con.register("facts", table)
    got = con.execute(policy.sql("duckdb", as_of=DAY)).fetchall()
    assert [row[2] for row in sorted(got)] == expected


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("rate 5% of 设备投资", "amount 20万元", "`min` is the least of an amount computed from facts"),
        ("min 10万元", "min 200万元", "the `min` is above the `cap`"),
        ("min 10万元", "min 10万美元", "currenc"),
    ],
)
def test_a_wrong_minimum_is_a_clear_error(tmp_path: Path, old: str, new: str, message: str) -> None:
    (tmp_path / "source.txt").write_text(SOURCE, encoding="utf-8")
    path = tmp_path / "p.policy"
    with pytest.raises(PolicyError) as raised:
        check(parse(POLICY.replace(old, new), str(path)), str(path))
    messages = [d.message for d in raised.value.diagnostics if d.severity == "error"]
    assert any(message in m for m in messages), messages


def test_fmt_round_trips() -> None:
    assert fmt(parse(POLICY, "p.policy")) == POLICY
