"""Periods counted from the enterprise's own dates (成立不满3年, 兼并重组完成后6个月内): `FACT within
LENGTH` holds on the day of evaluation when the event has happened and the period counted from it
(民法典 第二百零一、二百零二条: the corresponding day of the last month, or that month's last day) has
not ended — in Python, the standalone module, SQL and policy-diff."""

from __future__ import annotations

import datetime as dt
import types
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import policy_dsl
from policy_dsl.check import check
from policy_dsl.errors import PolicyError
from policy_dsl.format import fmt
from policy_dsl.parse import parse

SOURCE = (
    "时间测试\n\n一、奖励\n\n"
    "对成立不满3年的企业给予5万元奖励。企业兼并重组完成后6个月内给予补助。认定后30天内办理。\n"
)


def policy_text(first: str = "成立日期 within 3年", second: str = "重组完成日期 within 6个月") -> str:
    return (
        'policy "时间测试" {\n    status final\n    source "source.txt"\n}\n'
        'agency 某局 "某局"\n'
        "fact 成立日期: date\nfact 重组完成日期: date\nfact 认定日期: date\nfact 出口额: money CNY\n"
        'measure 一、 "奖励" {\n    agencies 某局\n'
        f"    benefit 初创奖励 {{\n        kind reward\n        when {first}\n        amount 5万元\n"
        '        cite "对成立不满3年的企业给予5万元奖励"\n'
        + (
            ""
            if "3年" in first
            else '        waive "3年" because "a period of another length, for the test"\n'
        )
        + "    }\n"
        f"    benefit 重组补助 {{\n        kind subsidy\n        when {second}\n"
        '        cite "企业兼并重组完成后6个月内给予补助"\n    }\n'
        "    duty 限期办理 {\n        when 认定日期 within 30天\n"
        '        cite "认定后30天内办理"\n    }\n'
        "}\n"
    )


def load(tmp_path: Path, text: str | None = None) -> policy_dsl.Policy:
    (tmp_path / "source.txt").write_text(SOURCE, encoding="utf-8")
    path = tmp_path / "p.policy"
    path.write_text(text or policy_text(), encoding="utf-8")
    return policy_dsl.load(str(path))


@pytest.mark.parametrize(
    ("founded", "day", "status"),
    [
        ("2021-03-01", "2024-03-01", "eligible"),  # the corresponding day: the period's last day
        ("2021-03-01", "2024-03-02", "not_eligible"),
        ("2021-03-01", "2021-03-01", "eligible"),  # founded that day
        ("2021-03-02", "2021-03-01", "not_eligible"),  # not yet founded
        ("2020-02-29", "2023-02-28", "eligible"),  # no 29 February in 2023: the month's last day
        ("2020-02-29", "2023-03-01", "not_eligible"),
    ],
)
def test_years_end_on_the_corresponding_day(tmp_path: Path, founded: str, day: str, status: str) -> None:
    outcome = load(tmp_path).evaluate({"成立日期": founded}, as_of=dt.date.fromisoformat(day))
    assert outcome.benefit("初创奖励").status == status


@pytest.mark.parametrize(
    ("done", "day", "status"),
    [
        ("2023-08-31", "2024-02-29", "eligible"),  # 31 August + 6 months: the last day of February
        ("2023-08-31", "2024-03-01", "not_eligible"),
        ("2023-08-30", "2024-02-29", "eligible"),
        ("2023-08-29", "2024-02-29", "eligible"),  # 29 February exists in 2024
        ("2023-08-28", "2024-02-29", "not_eligible"),
    ],
)
def test_months_clamp_to_the_last_day_of_the_month(tmp_path: Path, done: str, day: str, status: str) -> None:
    outcome = load(tmp_path).evaluate({"重组完成日期": done}, as_of=dt.date.fromisoformat(day))
    assert outcome.benefit("重组补助").status == status


def test_days_unknown_dates_and_decide_without_a_day(tmp_path: Path) -> None:
    loaded = load(tmp_path)
    day = dt.date(2024, 1, 31)
    duty = next(
        d for d in loaded.evaluate({"认定日期": "2024-01-01"}, as_of=day).duties if d.id == "限期办理"
    )
    assert duty.status == "applies"  # 30 days after 1 January: 31 January
    late = next(
        d for d in loaded.evaluate({"认定日期": "2023-12-31"}, as_of=day).duties if d.id == "限期办理"
    )
    assert late.status == "does_not_apply"
    unknown = loaded.evaluate({}, as_of=day).benefit("初创奖励")
    assert unknown.status == "unknown" and unknown.missing_facts == ("成立日期",)
    values = {"成立日期": dt.date(2023, 1, 1)}
    benefits, _ = loaded.compiled.decide(values)
    assert benefits[0] is None  # no day of evaluation: a period cannot be judged
    assert loaded.compiled.decide(values, day)[0][0] is True


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("出口额 within 3年", "`within` counts a period from a date; this is money CNY"),
        ("成立日期 within 3个工作日", "`within` takes a length of time in days, weeks, months or years"),
        ("成立日期 within 3", "`within` takes a length of time in days, weeks, months or years"),
    ],
)
def test_a_wrong_period_is_a_clear_error(tmp_path: Path, condition: str, message: str) -> None:
    (tmp_path / "source.txt").write_text(SOURCE, encoding="utf-8")
    path = tmp_path / "p.policy"
    text = policy_text(first=condition)
    with pytest.raises(PolicyError) as raised:
        check(parse(text, str(path)), str(path))
    messages = [d.message for d in raised.value.diagnostics if d.severity == "error"]
    assert any(message in m for m in messages), messages


def test_fmt_round_trips() -> None:
    model = parse(policy_text(), "p.policy")
    assert "        when 成立日期 within 3年\n" in fmt(model)
    assert parse(fmt(model), "p.policy") == model


@settings(max_examples=60, deadline=None)
@given(
    st.dates(dt.date(2019, 1, 1), dt.date(2025, 12, 31)),
    st.sampled_from(
        ["成立日期 within 3年", "成立日期 within 1个月", "成立日期 within 2周", "成立日期 within 45天"]
    ),
    st.integers(-3, 3),
    st.data(),
)
def test_duckdb_and_the_standalone_module_agree_at_the_ends(
    tmp_path_factory: pytest.TempPathFactory, day: dt.date, condition: str, shift: int, data: st.DataObject
) -> None:
    """Events at, and a few days either side of, the one whose period ends on the day of evaluation."""
    tmp = tmp_path_factory.mktemp("within")
    loaded = load(tmp, policy_text(first=condition))
    length = parse(policy_text(first=condition), "p").items[-1].rules[0].when.length.value  # type: ignore[attr-defined]
    months = length.amount * {"years": 12, "months": 1}.get(length.unit, 0)
    days = length.amount * {"weeks": 7, "days": 1}.get(length.unit, 0)
    index = day.year * 12 + day.month - 1 - months
    start = (
        dt.date(index // 12, index % 12 + 1, min(day.day, 28)) if months else day - dt.timedelta(days=days)
    )
    events = [start + dt.timedelta(days=shift), day + dt.timedelta(days=data.draw(st.integers(-1, 1)))]
    module = types.ModuleType("rules_within")
    exec(compile(loaded.module_source(), str(tmp / "rules.py"), "exec"), module.__dict__)
    expected: list[Any] = []
    for event in events:
        outcome = loaded.evaluate({"成立日期": event}, as_of=day)
        assert module.to_json(module.evaluate({"成立日期": event}, day)) == outcome.to_json()
        expected.append(outcome.benefit("初创奖励").status == "eligible")
    none = [None] * len(events)
    table = pa.table(
        {
            "id": pa.array(range(len(events)), pa.int64()),
            "成立日期": pa.array(events, pa.date32()),
            "重组完成日期": pa.array(none, pa.date32()),
            "认定日期": pa.array(none, pa.date32()),
            "出口额": pa.array(none, pa.decimal128(38, 10)),
        }
    )
    con = duckdb.connect()
    con.register("facts", table)
    got = con.execute(loaded.sql("duckdb", as_of=day)).fetchall()
    columns = [c[0] for c in con.description]
    assert [dict(zip(columns, row, strict=True))["初创奖励"] for row in sorted(got)] == expected


def test_a_shorter_period_is_a_loss_with_a_verified_witness(tmp_path: Path) -> None:
    from policy_dsl.diff.compare import diff_paths

    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    old = load(tmp_path / "old")
    new = load(tmp_path / "new", policy_text(first="成立日期 within 2年"))
    result = diff_paths(str(tmp_path / "old" / "p.policy"), str(tmp_path / "new" / "p.policy"))
    (regions,) = [o for m in result.measures for o in m.outcomes if o.id == "初创奖励"]
    (lost,) = [r for r in regions.regions if r.change == "lost"]
    founded = dt.date.fromisoformat(dict(lost.witness.facts)["成立日期"])
    day = lost.witness.as_of
    assert old.evaluate({"成立日期": founded}, as_of=day).benefit("初创奖励").status == "eligible"
    assert new.evaluate({"成立日期": founded}, as_of=day).benefit("初创奖励").status == "not_eligible"
    assert regions.exact and not [r for r in regions.regions if r.change == "gained"]


YEARS = "年度测试\n\n一、奖励\n\n自认定当年起，连续5年给予企业奖励。前2年按较高标准奖励。\n"


def years_policy(condition: str = "year of 认定日期 between 1 and 5") -> str:
    return (
        'policy "年度测试" {\n    status final\n    source "source.txt"\n}\n'
        'agency 某局 "某局"\nfact 认定日期: date\nfact 出口额: money CNY\n'
        'measure 一、 "奖励" {\n    agencies 某局\n'
        f"    benefit 连续奖励 {{\n        kind reward\n        when {condition}\n"
        '        cite "自认定当年起，连续5年给予企业奖励"\n    }\n'
        "    benefit 前两年奖励 {\n        kind reward\n"
        "        when year of 认定日期 <= 2 and year of 认定日期 >= 1\n"
        '        cite "前2年按较高标准奖励"\n    }\n'
        "}\n"
    )


def load_years(tmp_path: Path, text: str | None = None) -> policy_dsl.Policy:
    (tmp_path / "source.txt").write_text(YEARS, encoding="utf-8")
    path = tmp_path / "p.policy"
    path.write_text(text or years_policy(), encoding="utf-8")
    return policy_dsl.load(str(path))


@pytest.mark.parametrize(
    ("day", "five", "first_two"),
    [
        ("2021-05-04", "not_eligible", "not_eligible"),  # before 认定: year 0
        ("2021-05-05", "eligible", "eligible"),  # 认定当年: year 1
        ("2022-12-31", "eligible", "eligible"),  # year 2
        ("2023-01-01", "eligible", "not_eligible"),  # year 3
        ("2025-12-31", "eligible", "not_eligible"),  # year 5
        ("2026-01-01", "not_eligible", "not_eligible"),  # year 6
    ],
)
def test_years_are_counted_from_the_events_own_year(
    tmp_path: Path, day: str, five: str, first_two: str
) -> None:
    outcome = load_years(tmp_path).evaluate({"认定日期": "2021-05-05"}, as_of=dt.date.fromisoformat(day))
    assert (outcome.benefit("连续奖励").status, outcome.benefit("前两年奖励").status) == (five, first_two)


def test_year_of_needs_a_date(tmp_path: Path) -> None:
    (tmp_path / "source.txt").write_text(YEARS, encoding="utf-8")
    path = tmp_path / "p.policy"
    text = years_policy("year of 出口额 between 1 and 5")
    with pytest.raises(PolicyError) as raised:
        check(parse(text, str(path)), str(path))
    messages = [d.message for d in raised.value.diagnostics if d.severity == "error"]
    assert any("`year of` counts calendar years from a date; this is money CNY" in m for m in messages)


def test_year_of_in_duckdb_agrees_and_a_shorter_run_is_a_loss(tmp_path: Path) -> None:
    loaded = load_years(tmp_path)
    days = [
        dt.date(2021, 5, 4),
        dt.date(2021, 5, 5),
        dt.date(2022, 12, 31),
        dt.date(2023, 1, 1),
        dt.date(2026, 1, 1),
    ]
    events = [dt.date(2021, 5, 5), dt.date(2020, 12, 31), dt.date(2021, 1, 1), None]
    for day in days:
        expected = [
            tuple(
                b.status == "eligible"
                for b in loaded.evaluate({"认定日期": e} if e else {}, as_of=day).benefits
            )
            for e in events
        ]
        table = pa.table(
            {
                "id": pa.array(range(len(events)), pa.int64()),
                "认定日期": pa.array(events, pa.date32()),
                "出口额": pa.array([None] * len(events), pa.decimal128(38, 10)),
            }
        )
        con = duckdb.connect()
        con.register("facts", table)
        got = con.execute(loaded.sql("duckdb", as_of=day)).fetchall()
        assert [(row[1] is True, row[2] is True) for row in sorted(got)] == expected, day
    from policy_dsl.diff.compare import diff_paths

    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    old = load_years(tmp_path / "old")
    new = load_years(
        tmp_path / "new",
        years_policy("year of 认定日期 between 1 and 3").replace(
            '        cite "自认定当年起，连续5年给予企业奖励"\n',
            '        cite "自认定当年起，连续5年给予企业奖励"\n        waive "5年" because "t"\n',
        ),
    )
    result = diff_paths(str(tmp_path / "old" / "p.policy"), str(tmp_path / "new" / "p.policy"))
    (regions,) = [o for m in result.measures for o in m.outcomes if o.id == "连续奖励"]
    lost = [r for r in regions.regions if r.change == "lost"]
    assert lost and not [r for r in regions.regions if r.change == "gained"]
    for region in lost:
        event = dt.date.fromisoformat(dict(region.witness.facts)["认定日期"])
        day = region.witness.as_of
        assert old.evaluate({"认定日期": event}, as_of=day).benefit("连续奖励").status == "eligible"
        assert new.evaluate({"认定日期": event}, as_of=day).benefit("连续奖励").status == "not_eligible"
