"""Staged payment (分阶段兑现): ``stages`` pays its benefits' amounts in parts as milestones are
reached — on a day, the shares of the stages reached, rounded once — in Python, the standalone
module and SQL; policy-diff shows a changed stage as a rule change and a region with a verified
witness; the checker refuses shares that do not add up to 100% and benefits with no one amount."""

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
ORIGINAL = (GOOD / "staged.policy").read_text(encoding="utf-8")
PROJECT = {"是新建项目": True, "固定资产投资": "123456789.47元", "购置生产设备": True}


def load(tmp_path: Path, text: str | None = None) -> policy_dsl.Policy:
    shutil.copy(GOOD / "staged.txt", tmp_path / "staged.txt")
    path = tmp_path / "staged.policy"
    path.write_text(text or ORIGINAL, encoding="utf-8")
    return policy_dsl.load(str(path))


def paid(outcome: Any, ident: str) -> tuple[Decimal | None, Decimal | None]:
    benefit = outcome.benefit(ident)
    return (
        None if benefit.amount is None else benefit.amount.amount,
        None if benefit.total is None else benefit.total.amount,
    )


@pytest.mark.parametrize(
    ("milestones", "day", "reward", "subsidy"),
    [
        # 2% of 123456789.47元 = 2469135.7894 → 2469135.79元 in all; each stage pays its share once
        # its condition holds. 6 months from 2025-06-30 end on 2025-12-30 (民法典 第二百零二条):
        # 满6个月 holds from the 31st.
        ({"主体封闭": False, "竣工验收": False}, "2025-12-30", "0.00", "0.00"),  # none
        ({"主体封闭": True, "竣工验收": False}, "2025-12-30", "740740.74", "150000.00"),  # 30%
        ({"主体封闭": True, "竣工验收": True}, "2025-12-30", "1481481.47", "300000.00"),  # 60%
        ({"主体封闭": False, "竣工验收": False}, "2025-12-31", "987654.32", "200000.00"),  # 40%
        ({"主体封闭": True, "竣工验收": False}, "2025-12-31", "1728395.05", "350000.00"),  # 70%
        ({"主体封闭": True, "竣工验收": True}, "2025-12-31", "2469135.79", "500000.00"),  # 100%
    ],
)
def test_the_part_payable_on_the_day(
    tmp_path: Path, milestones: dict[str, bool], day: str, reward: str, subsidy: str
) -> None:
    facts = {**PROJECT, **milestones, "正常运营日期": "2025-06-30"}
    outcome = load(tmp_path).evaluate(facts, as_of=dt.date.fromisoformat(day))
    assert paid(outcome, "投资奖励") == (Decimal(reward), Decimal("2469135.79"))
    assert paid(outcome, "设备补助") == (Decimal(subsidy), Decimal("500000"))


def test_an_undecided_stage_leaves_the_part_unknown_and_the_text_says_which(tmp_path: Path) -> None:
    policy = load(tmp_path)
    outcome = policy.evaluate({**PROJECT, "主体封闭": True}, as_of=dt.date(2025, 12, 31))
    assert paid(outcome, "投资奖励") == (None, Decimal("2469135.79"))
    benefit = outcome.benefit("投资奖励")
    assert benefit.status == "eligible"
    assert benefit.stages is not None
    assert [s.reached for s in benefit.stages] == [True, None, None]
    assert {"竣工验收", "正常运营日期"} <= set(benefit.missing_facts)
    text = outcome.to_text()
    assert "paid in stages: of 2469135.79元, the part payable is unknown" in text
    assert "? 30% when 竣工验收" in text
    from policy_dsl.views import explain

    explained = explain(policy.checked, outcome)
    assert "paid in stages (分阶段兑现): of 2469135.79元, the part payable is unknown" in explained
    not_granted = policy.evaluate({"是新建项目": False, "主体封闭": True}, as_of=dt.date(2025, 12, 31))
    assert paid(not_granted, "投资奖励") == (None, None)


def test_python_the_standalone_module_and_duckdb_agree(tmp_path: Path) -> None:
    policy = load(tmp_path)
    module = types.ModuleType("rules_staged")
    exec(compile(policy.module_source(), str(tmp_path / "rules.py"), "exec"), module.__dict__)
    rows = []
    for closed in (True, False, None):
        for accepted in (True, False, None):
            for started in (dt.date(2025, 6, 29), dt.date(2025, 6, 30), dt.date(2025, 7, 1), None):
                for investment in (
                    Decimal("100000000"),
                    Decimal("99999999.99"),
                    Decimal("250000000.01"),
                    None,
                ):
                    rows.append(
                        {
                            "是新建项目": True,
                            "固定资产投资": investment,
                            "购置生产设备": closed is not False,
                            "主体封闭": closed,
                            "竣工验收": accepted,
                            "正常运营日期": started,
                        }
                    )
    day = dt.date(2025, 12, 31)
    expected = []
    for row in rows:
        facts = {k: v for k, v in row.items() if v is not None}
        outcome = policy.evaluate(facts, as_of=day)
        assert module.to_json(module.evaluate(facts, day)) == outcome.to_json()
        expected.append(tuple(paid(outcome, b)[0] for b in ("投资奖励", "设备补助")))
    columns = {k: [r[k] for r in rows] for k in rows[0]}
    table = pa.table(
        {
            "id": pa.array(range(len(rows)), pa.int64()),
            **{
                k: pa.array(v, pa.decimal128(38, 10)) if k == "固定资产投资" else pa.array(v)
                for k, v in columns.items()
            },
        }
    )
    con = duckdb.connect()
    con.register("facts", table)
    cursor = con.execute(policy.sql("duckdb", as_of=day))
    names = [c[0] for c in cursor.description]
    got = [dict(zip(names, r, strict=True)) for r in sorted(cursor.fetchall())]
    assert [(r["投资奖励:amount"], r["设备补助:amount"]) for r in got] == expected


def check_errors(tmp_path: Path, text: str) -> list[str]:
    shutil.copy(GOOD / "staged.txt", tmp_path / "staged.txt")
    path = tmp_path / "bad.policy"
    with pytest.raises(PolicyError) as raised:
        check(parse(text, str(path)), str(path))
    return [d.message for d in raised.value.diagnostics if d.severity == "error"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("stage 40% when", "stage 30% when", "the stages' shares add up to 90%, not 100%"),
        ("benefits 投资奖励, 设备补助", "benefits 投资奖励, 设备补贴", "unknown benefit `设备补贴`"),
        ("benefits 投资奖励, 设备补助", "benefits 投资奖励, 投资奖励", "`投资奖励` is listed twice"),
        ("stage 30% when 主体封闭", "stage 30万元 when 主体封闭", "a stage's share is a percentage"),
        (
            "        amount 50万元\n",
            "        cap 50万元\n",
            "benefit `设备补助` has no single amount to pay in stages",
        ),
        (
            "rate 2% of 固定资产投资",
            "rate 2% to 3% of 固定资产投资",
            "benefit `投资奖励` has no single amount",
        ),
    ],
)
def test_a_wrong_staging_is_a_clear_error(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in ORIGINAL
    messages = check_errors(tmp_path, ORIGINAL.replace(old, new, 1))
    assert any(message in m for m in messages), messages


def test_a_benefit_is_staged_once(tmp_path: Path) -> None:
    cited = (
        "政策奖励按项目实现建筑物主体封闭、建筑工程通过正式竣工验收和正常运营满6个月后3个阶段，"
        "分别按应奖励额的30%、30%和40%对企业进行奖励"
    )
    second = (
        f"{ORIGINAL}\nstages 再次分阶段 {{\n    benefits 设备补助\n    stage 100% when 竣工验收\n"
        f'    cite "{cited}"\n'
        + "".join(f'    waive "{q}" because "t"\n' for q in ("30%", "40%", "6个月", "3个"))
        + "}\n"
    )
    messages = check_errors(tmp_path, second)
    # the document's own rules are checked first: the group in 第3条 is the second to stage it
    assert any("`设备补助` is already paid in stages by `再次分阶段`" in m for m in messages), messages


def test_fmt_round_trips() -> None:
    assert fmt(parse(ORIGINAL, "staged.policy")) == ORIGINAL


def test_a_changed_stage_is_a_rule_change_and_a_region_with_a_verified_witness(tmp_path: Path) -> None:
    from policy_dsl.diff.compare import diff_paths

    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    old = load(tmp_path / "old")
    new = load(
        tmp_path / "new", ORIGINAL.replace("stage 30% when 竣工验收", "stage 30% when 竣工验收 and 主体封闭")
    )
    result = diff_paths(str(tmp_path / "old" / "staged.policy"), str(tmp_path / "new" / "staged.policy"))
    changes = [r for mm in result.measures for r in mm.rules if r.id == "设备补助"]
    assert [(f.field, f.old, f.new) for c in changes for f in c.fields] == [
        ("stage 2", "30% when 竣工验收", "30% when 竣工验收 and 主体封闭")
    ]
    (outcomes,) = [o for mm in result.measures for o in mm.outcomes if o.id == "设备补助"]
    regions = [r for r in outcomes.regions if r.change == "changed"]
    assert regions and outcomes.exact
    for region in regions:
        shown = dict(region.witness.facts)
        facts = {k: v == "true" for k, v in shown.items() if v in ("true", "false")}
        facts |= {k: v for k, v in shown.items() if k == "正常运营日期"}
        before = old.evaluate(facts, as_of=region.witness.as_of).benefit("设备补助")
        after = new.evaluate(facts, as_of=region.witness.as_of).benefit("设备补助")
        assert before.amount != after.amount
