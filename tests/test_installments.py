"""Installment schedules (分期): ``tiers by year of D`` pays, on the day of evaluation, what the band
of the year counted from D's own year (1) says — 第一年50万元、第二年30万元、第三年20万元, or
前2年80%、后3年50% of a fact — in Python, the standalone module, SQL and policy-diff; the checker
refuses a schedule longer than the period its condition allows and a band holding year 0."""

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

import policy_dsl
from policy_dsl.check import check
from policy_dsl.errors import PolicyError
from policy_dsl.format import fmt
from policy_dsl.parse import parse

GOOD = Path(__file__).parent / "examples" / "good"
RECOGNISED = dt.date(2023, 5, 1)
FACTS = {"是总部企业": True, "总部企业认定日期": RECOGNISED.isoformat(), "地方财政贡献": "1000000.01元"}


def load(tmp_path: Path, text: str | None = None) -> policy_dsl.Policy:
    shutil.copy(GOOD / "installments.txt", tmp_path / "installments.txt")
    path = tmp_path / "installments.policy"
    path.write_text(text or (GOOD / "installments.policy").read_text(encoding="utf-8"), encoding="utf-8")
    return policy_dsl.load(str(path))


def amount(outcome: Any, ident: str) -> Decimal | None:
    benefit = outcome.benefit(ident)
    return None if benefit.amount is None else benefit.amount.amount


@pytest.mark.parametrize(
    ("day", "yearly", "share"),
    [
        ("2023-04-30", None, None),  # the day before 认定: year 0, nothing
        ("2023-05-01", "500000", "800000.01"),  # 认定当年: year 1, 80% (rounded half up to the fen)
        ("2023-12-31", "500000", "800000.01"),  # the last day of year 1
        ("2024-01-01", "300000", "800000.01"),  # year 2: the second installment, still 前2年
        ("2025-01-01", "200000", "500000.01"),  # year 3: the last installment; 后3年 at 50%
        ("2025-12-31", "200000", "500000.01"),
        ("2026-01-01", None, "500000.01"),  # year 4: the schedule has ended; 后3年 goes on
        ("2027-12-31", None, "500000.01"),  # year 5
        ("2028-01-01", None, None),  # year 6: both have ended
    ],
)
def test_the_installment_of_the_year(tmp_path: Path, day: str, yearly: str | None, share: str | None) -> None:
    outcome = load(tmp_path).evaluate(FACTS, as_of=dt.date.fromisoformat(day))
    assert amount(outcome, "总部经营奖励") == (Decimal(yearly) if yearly else None)
    assert amount(outcome, "总部贡献奖励") == (Decimal(share) if share else None)
    expected = {"总部经营奖励": yearly, "总部贡献奖励": share}
    for ident, paid in expected.items():
        assert outcome.benefit(ident).status == ("eligible" if paid else "not_eligible")


def test_the_explanation_names_the_installment(tmp_path: Path) -> None:
    policy = load(tmp_path)
    text = policy.evaluate(FACTS, as_of=dt.date(2024, 3, 1)).to_text()
    assert "amount: 300000元 (installment year 2: amount 30万元)" in text
    assert "(installment from 1 to 2: rate 80% of 地方财政贡献)" in text
    unknown = policy.evaluate({"是总部企业": True}, as_of=dt.date(2024, 3, 1))
    assert unknown.benefit("总部经营奖励").status == "unknown"
    assert "tiers by year of 总部企业认定日期: year 1: amount 50万元" in unknown.to_text()
    schedule = policy.evaluate(FACTS, as_of=dt.date(2024, 3, 1)).to_json()["benefits"][0]["tiers"]
    assert schedule["year_of"] is True and schedule["fact"] == "总部企业认定日期"


def test_python_the_standalone_module_and_duckdb_agree_at_every_year_end(tmp_path: Path) -> None:
    policy = load(tmp_path)
    module = types.ModuleType("rules_installments")
    exec(compile(policy.module_source(), str(tmp_path / "rules.py"), "exec"), module.__dict__)
    days = [dt.date(y, m, d) for y in range(2022, 2030) for m, d in ((1, 1), (12, 31))]
    days += [RECOGNISED - dt.timedelta(days=1), RECOGNISED, RECOGNISED + dt.timedelta(days=1)]
    events = [RECOGNISED, dt.date(2022, 12, 31), dt.date(2023, 1, 1), dt.date(2024, 2, 29), None]
    contributions = [Decimal("1000000.01"), Decimal("0.01"), None, Decimal(0), Decimal("12345.67")]
    for day in days:
        rows = [
            {
                k: v
                for k, v in {"是总部企业": True, "总部企业认定日期": e, "地方财政贡献": c}.items()
                if v is not None
            }
            for e, c in zip(events, contributions, strict=True)
        ]
        expected = []
        for row in rows:
            outcome = policy.evaluate(row, as_of=day)
            assert module.to_json(module.evaluate(row, day)) == outcome.to_json()
            expected.append(tuple(amount(outcome, b) for b in ("总部经营奖励", "总部贡献奖励")))
        table = pa.table(
            {
                "id": pa.array(range(len(rows)), pa.int64()),
                "是总部企业": pa.array([True] * len(rows)),
                "总部企业认定日期": pa.array(events, pa.date32()),
                "地方财政贡献": pa.array(contributions, pa.decimal128(38, 10)),
            }
        )
        con = duckdb.connect()
        con.register("facts", table)
        cursor = con.execute(policy.sql("duckdb", as_of=day))
        columns = [c[0] for c in cursor.description]
        got = [dict(zip(columns, row, strict=True)) for row in sorted(cursor.fetchall())]
        assert [(r["总部经营奖励:amount"], r["总部贡献奖励:amount"]) for r in got] == expected, day


def check_errors(tmp_path: Path, text: str) -> list[str]:
    shutil.copy(GOOD / "installments.txt", tmp_path / "installments.txt")
    path = tmp_path / "bad.policy"
    with pytest.raises(PolicyError) as raised:
        check(parse(text, str(path)), str(path))
    return [d.message for d in raised.value.diagnostics if d.severity == "error"]


ORIGINAL = (GOOD / "installments.policy").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "year 3: amount 20万元",
            "year 3: amount 20万元\n                year 4: amount 10万元",
            "this installment schedule is longer than its period: it runs to year 4, but the benefit's "
            "condition `year of 总部企业认定日期 between 1 and 3` ends in year 3",
        ),
        (
            "year 3: amount 20万元",
            "from 3: amount 20万元",
            "it runs on without end, but the benefit's condition",
        ),
        (
            "from 1 to 2: rate 80%",
            "to 2: rate 80%",
            "this installment band includes year 0 of `总部企业认定日期`",
        ),
        (
            "rate 50% of 地方财政贡献",
            "rate 50%",
            "a rate in an installment schedule needs the amount it is a rate of",
        ),
        (
            "tiers by year of 总部企业认定日期 {\n                year 1",
            "tiers by year of 地方财政贡献 {\n                year 1",
            "an installment schedule counts years from a date; `地方财政贡献` is money CNY",
        ),
        (  # no period: eligible for nothing before the date and after the last installment
            "when 是总部企业 and year of 总部企业认定日期 between 1 and 3",
            "when 是总部企业",
            "it never says the period begins",
        ),
        (
            "when 是总部企业 and year of 总部企业认定日期 between 1 and 3",
            "when 是总部企业 and year of 总部企业认定日期 >= 1",
            "it never says the period ends",
        ),
        (
            "year 2: amount 30万元",
            "year 2.5: amount 30万元",
            "a band of `year of 总部企业认定日期` (integer)",
        ),
    ],
)
def test_a_wrong_schedule_is_a_clear_error(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in ORIGINAL
    messages = check_errors(tmp_path, ORIGINAL.replace(old, new, 1))
    assert any(message in m for m in messages), messages


def test_a_schedule_within_a_shorter_condition_is_accepted(tmp_path: Path) -> None:
    """`year of D <= 3` and `4 > year of D` end the years as `between 1 and 3` does (with a start:
    `>= 1`, `0 < year of D`)."""
    for condition in (
        "year of 总部企业认定日期 >= 1 and year of 总部企业认定日期 <= 3",
        "0 < year of 总部企业认定日期 and 4 > year of 总部企业认定日期",
    ):
        text = ORIGINAL.replace("year of 总部企业认定日期 between 1 and 3", condition, 1)
        load(tmp_path, text)
        longer = text.replace("year 3: amount 20万元", "year 3: amount 20万元\n year 4: amount 1万元")
        assert any("longer than its period" in m for m in check_errors(tmp_path, longer))


def test_fmt_writes_a_single_year_as_year_n() -> None:
    model = parse(ORIGINAL, "installments.policy")
    assert fmt(model) == ORIGINAL
    spelled = ORIGINAL.replace("year 2: amount 30万元", "from 2 to 2: amount 30万元")
    assert fmt(parse(spelled, "installments.policy")) == ORIGINAL


def test_a_changed_installment_is_a_region_with_a_verified_witness(tmp_path: Path) -> None:
    from policy_dsl.diff.compare import diff_paths

    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    old = load(tmp_path / "old")
    changed = ORIGINAL.replace("year 2: amount 30万元", "year 2: amount 25万元").replace(
        "第二年奖励30万元", "第二年奖励25万元"
    )
    text = (GOOD / "installments.txt").read_text(encoding="utf-8")
    (tmp_path / "new" / "installments.txt").write_text(
        text.replace("第二年奖励30万元", "第二年奖励25万元"), encoding="utf-8"
    )
    path = tmp_path / "new" / "installments.policy"
    path.write_text(changed, encoding="utf-8")
    new = policy_dsl.load(str(path))
    result = diff_paths(str(tmp_path / "old" / "installments.policy"), str(path))
    (outcomes,) = [o for mm in result.measures for o in mm.outcomes if o.id == "总部经营奖励"]
    changes = [r for r in outcomes.regions if r.change == "changed"]
    assert changes and outcomes.exact
    for region in changes:
        facts = dict(region.witness.facts)
        given = {"是总部企业": facts["是总部企业"] == "true", "总部企业认定日期": facts["总部企业认定日期"]}
        day = region.witness.as_of
        before = old.evaluate(given, as_of=day).benefit("总部经营奖励")
        after = new.evaluate(given, as_of=day).benefit("总部经营奖励")
        assert before.amount is not None and after.amount is not None
        assert (before.amount.amount, after.amount.amount) == (Decimal(300000), Decimal(250000))
    assert not [r for r in outcomes.regions if r.change in {"gained", "lost"}]
