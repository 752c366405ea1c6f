"""Evaluation: eligibility at the boundaries, amounts, caps, periods, unknown facts, fact validation."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

import policy_dsl
from policy_dsl import FactsError, Money

SOURCE = (
    "示例政策\n\n（六）进一步加大出口信用保险支持\n"
    "将中型和小微外贸企业的认定标准分别放宽至出口额5000万美元和500万美元以下。"
    "对小微外贸企业投保短期出口信用保险给予保费100%补贴，最高10万元。"
    "自2022年6月20日至2023年6月30日期间，办理一类、二类出口企业正常出口退税平均时间压缩在3个工作日内。"
    "给予最高100万元一次性奖励。"
)

POLICY = """
policy "示例" { status draft  source "source.txt" }

agency 市商务委 "重庆市商务委员会" { aliases "重庆市商务委" }
agency 重庆市税务局 "国家税务总局重庆市税务局"

enum 类别 { 一类, 二类, 三类, 四类 }
enum 机构 { FDA, EMA }

fact 出口额: money USD { label "出口额" }
fact 分类: 类别
fact 投保: bool
fact 保费: money CNY
fact 注册: set of 机构

definition 小微 {
    means 出口额 <= 500万美元
    cite "出口额5000万美元和500万美元以下"
    waive "5000万美元" because "中型外贸企业的门槛，不属于本定义。"
}

measure （六） "进一步加大出口信用保险支持" {
    agencies 市商务委
    cite "对小微外贸企业投保短期出口信用保险给予保费100%补贴"

    benefit 保费补贴 "保费补贴" {
        kind premium_subsidy
        when 小微 and 投保
        rate 100% of 保费
        cap 10万元
        recurring
        cite "对小微外贸企业投保短期出口信用保险给予保费100%补贴，最高10万元"
    }

    benefit 奖励 {
        kind reward
        when 注册 includes any {FDA, EMA}
        cap 100万元
        once
        period 2022年6月20日 to 2023年6月30日
        cite "给予最高100万元一次性奖励"
    }

    duty 退税时间 {
        when 分类 in {一类, 二类}
        level "平均办理时间" <= 3个工作日
        period 2022-06-20 to 2023-06-30
        agencies 重庆市税务局
        cite "办理一类、二类出口企业正常出口退税平均时间压缩在3个工作日内"
    }
}
"""


@pytest.fixture
def policy(tmp_path: Path) -> policy_dsl.Policy:
    (tmp_path / "source.txt").write_text(SOURCE, encoding="utf-8")
    path = tmp_path / "p.policy"
    path.write_text(POLICY, encoding="utf-8")
    return policy_dsl.load(path)


DAY = dt.date(2022, 7, 1)


@pytest.mark.parametrize(
    ("export", "status"),
    [
        ("4999999.99 USD", "eligible"),
        ("500万美元", "eligible"),  # 以下 includes the number itself
        ("5000000.01 USD", "not_eligible"),
    ],
)
def test_threshold_boundary_is_inclusive_and_exact(
    policy: policy_dsl.Policy, export: str, status: str
) -> None:
    outcome = policy.evaluate({"出口额": export, "投保": True, "保费": "1000元"}, as_of=DAY, adopted=True)
    assert outcome.benefit("保费补贴").status == status


def test_rate_amount_is_rounded_half_up_to_the_fen(policy: policy_dsl.Policy) -> None:
    outcome = policy.evaluate(
        {"出口额": "100万美元", "投保": True, "保费": "12345.675"}, as_of=DAY, adopted=True
    )
    benefit = outcome.benefit("保费补贴")
    assert benefit.amount == Money(Decimal("12345.68"), "CNY")


def test_cap_limits_the_amount(policy: policy_dsl.Policy) -> None:
    outcome = policy.evaluate(
        {"出口额": "100万美元", "投保": True, "保费": "25万元"}, as_of=DAY, adopted=True
    )
    assert outcome.benefit("保费补贴").amount == Money(Decimal(100_000), "CNY")


def test_cap_alone_means_up_to(policy: policy_dsl.Policy) -> None:
    outcome = policy.evaluate({"注册": ["FDA"]}, as_of=DAY, adopted=True)
    benefit = outcome.benefit("奖励")
    assert benefit.status == "eligible"
    assert benefit.amount is None
    assert benefit.cap == Money(Decimal(1_000_000), "CNY")
    assert benefit.frequency == "once"


def test_missing_facts_make_the_outcome_unknown_and_are_named(policy: policy_dsl.Policy) -> None:
    outcome = policy.evaluate({"投保": True}, as_of=DAY, adopted=True)
    benefit = outcome.benefit("保费补贴")
    assert benefit.status == "unknown"
    assert benefit.missing_facts == ("出口额", "保费")


def test_a_false_condition_decides_even_when_others_are_unknown(policy: policy_dsl.Policy) -> None:
    outcome = policy.evaluate({"投保": False}, as_of=DAY, adopted=True)
    benefit = outcome.benefit("保费补贴")
    assert benefit.status == "not_eligible"
    assert benefit.missing_facts == ()
    values = {c.test: c.value for c in benefit.conditions}
    assert values == {"小微": None, "出口额 <= 500万美元": None, "投保": False}


@pytest.mark.parametrize(
    ("day", "status"),
    [
        (dt.date(2022, 6, 19), "not_in_force"),
        (dt.date(2022, 6, 20), "applies"),
        (dt.date(2023, 6, 30), "applies"),
        (dt.date(2023, 7, 1), "not_in_force"),
    ],
)
def test_period_includes_both_end_days(policy: policy_dsl.Policy, day: dt.date, status: str) -> None:
    outcome = policy.evaluate({"分类": "一类"}, as_of=day, adopted=True)
    assert outcome.duties[0].status == status


def test_each_enterprise_class(policy: policy_dsl.Policy) -> None:
    statuses = [
        policy.evaluate({"分类": c}, as_of=DAY, adopted=True).duties[0].status
        for c in ("一类", "二类", "三类", "四类")
    ]
    assert statuses == ["applies", "applies", "does_not_apply", "does_not_apply"]


def test_outcome_carries_citations_and_agencies(policy: policy_dsl.Policy) -> None:
    benefit = policy.evaluate({}, as_of=DAY, adopted=True).benefit("保费补贴")
    assert benefit.citations[0].text.startswith("对小微外贸企业投保短期出口信用保险")
    assert [a.id for a in benefit.agencies] == ["市商务委"]
    assert benefit.agencies[0].name == "重庆市商务委员会"
    duty = policy.evaluate({}, as_of=DAY, adopted=True).duties[0]
    assert [a.id for a in duty.agencies] == ["重庆市税务局"]
    assert duty.levels == (("平均办理时间", "<=", "3个工作日"),)


def test_outcome_serialises_to_json(policy: policy_dsl.Policy) -> None:
    outcome = policy.evaluate(
        {"出口额": "100万美元", "投保": True, "保费": "1000.5元"}, as_of=DAY, adopted=True
    )
    data = json.loads(json.dumps(outcome.to_json(), ensure_ascii=False))
    benefit = data["benefits"][0]
    assert benefit["amount"] == {"amount": "1000.50", "currency": "CNY"}
    assert data["as_of"] == "2022-07-01"


def test_every_fact_problem_is_reported_at_once(policy: policy_dsl.Policy) -> None:
    with pytest.raises(FactsError) as caught:
        policy.evaluate(
            {"出口頟": 1, "出口额": "5 CNY", "分类": "五类", "注册": ["FDB"], "投保": "yes", "保费": 1.5}
        )
    text = str(caught.value)
    assert "unknown fact `出口頟`" in text and "did you mean `出口额`?" in text
    assert "expected an amount in USD" in text
    assert "`五类` is not a value of 类别" in text
    assert "`FDB` is not a value of 机构" in text and "did you mean `FDA`?" in text
    assert "expected true or false" in text
    assert "float" in text
    assert len(caught.value.diagnostics) == 6


def test_exact_python_values_are_accepted(policy: policy_dsl.Policy) -> None:
    facts = {"出口额": Money(Decimal("5000000"), "USD"), "投保": True, "保费": Decimal("10")}
    assert policy.evaluate(facts, as_of=DAY, adopted=True).benefit("保费补贴").status == "eligible"


def test_bool_fact_compared_with_true_and_enum_facts_compared(tmp_path: Path) -> None:
    (tmp_path / "s.txt").write_text("标题\n甲。", encoding="utf-8")
    text = """policy "标题" { source "s.txt" }
enum 类别 { 一类, 二类 }
fact 投保: bool
fact 今年: 类别
fact 去年: 类别
definition 甲 {
    means 投保 == true and 今年 == 去年
    cite "甲"
}
"""
    (tmp_path / "p.policy").write_text(text, encoding="utf-8")
    policy = policy_dsl.load(tmp_path / "p.policy")
    from policy_dsl.compile import compile_policy

    compiled = compile_policy(policy.checked)
    trace: dict[int, object] = {}
    compiled.namespace["_decide"]({"投保": True, "今年": "一类", "去年": "一类"}, trace)
    assert trace[2] is True  # the definition 甲
    trace.clear()
    compiled.namespace["_decide"]({"投保": True, "今年": "一类", "去年": "二类"}, trace)
    assert trace[2] is False


def test_duties_speak_one_vocabulary(policy: policy_dsl.Policy) -> None:
    """A duty's status reads the same in the text as in JSON and cases: applies / does not apply."""
    applies = policy.evaluate({"分类": "一类"}, as_of=DAY, adopted=True)
    assert applies.to_json()["duties"][0]["status"] == "applies"
    text = applies.to_text()
    assert "✓ applies" in text and "owed" not in text.split("duties of the agencies")[1].splitlines()[2]
    refused = policy.evaluate({"分类": "三类"}, as_of=DAY, adopted=True)
    assert refused.to_json()["duties"][0]["status"] == "does_not_apply"
    assert "✗ does not apply" in refused.to_text()
