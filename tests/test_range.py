"""Ranges and floors (按投资的5%—20%, 10万元—100万元, 不低于10%): the outcome is a range decided case
by case, never one invented number — in eval, explain, SQL, populations and policy-diff."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import policy_dsl
from policy_dsl.check import check
from policy_dsl.cli import policy, policy_diff
from policy_dsl.diff.compare import diff_paths
from policy_dsl.errors import PolicyError
from policy_dsl.parse import parse

SOURCE = (
    "关于促进投资的若干措施\n\n"
    "一、投资奖励\n\n"
    "按固定资产投资的5%—20%给予企业奖励，最高不超过300万元。"
    "给予企业10万元—100万元资金奖励。"
    "给予企业不低于引进成本10%的资金补助。\n"
)
DAY = dt.date(2024, 1, 1)


def policy_text(invest: str = "5% to 20%", grant: str = "10万元 to 100万元", floor: str = ">= 10%") -> str:
    return (
        'policy "关于促进投资的若干措施" {\n    status final\n    source "source.txt"\n}\n'
        'agency 某局 "某局"\n'
        "fact 固定资产投资: money CNY\nfact 引进成本: money CNY\nfact 是新项目: bool\n"
        'measure 一、 "投资奖励" {\n    agencies 某局\n'
        "    benefit 投资奖励 {\n        kind reward\n        when 是新项目\n"
        f"        rate {invest} of 固定资产投资\n        cap 300万元\n"
        '        cite "按固定资产投资的5%—20%给予企业奖励，最高不超过300万元"\n    }\n'
        "    benefit 资金奖励 {\n        kind reward\n        when 是新项目\n"
        f"        amount {grant}\n"
        '        cite "给予企业10万元—100万元资金奖励"\n    }\n'
        "    benefit 引进补助 {\n        kind subsidy\n"
        f"        rate {floor} of 引进成本\n"
        '        cite "给予企业不低于引进成本10%的资金补助"\n    }\n'
        "}\n"
    )


def write(directory: Path, name: str, text: str, source: str = SOURCE) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "source.txt").write_text(source, encoding="utf-8")
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def money(text: str) -> Decimal:
    return Decimal(text)


def test_an_enterprise_gets_a_range_not_a_number(tmp_path: Path) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, "p.policy", policy_text())))
    outcome = loaded.evaluate({"是新项目": True, "固定资产投资": "2000万元", "引进成本": "50万元"}, as_of=DAY)
    invest = outcome.benefit("投资奖励")
    assert invest.status == "eligible" and invest.amount is None
    assert invest.range is not None
    assert (invest.range[0].amount, invest.range[1] and invest.range[1].amount) == (
        Decimal("1000000.00"),
        Decimal("3000000"),  # 20% of 2000万元 is 400万元: the cap, 300万元
    )
    grant = outcome.benefit("资金奖励")
    assert grant.range is not None and grant.range[1] is not None
    assert (grant.range[0].amount, grant.range[1].amount) == (Decimal(100000), Decimal(1000000))
    floor = outcome.benefit("引进补助")
    assert floor.range is not None and floor.range[0].amount == Decimal("50000.00") and floor.range[1] is None
    text = outcome.to_text()
    assert (
        "amount: 1000000.00元 — 3000000元, decided case by case (5% — 20% of 固定资产投资, at most 300万元)"
        in text
    )
    assert "amount: 100000元 — 1000000元, decided case by case (10万元 — 100万元)" in text
    assert "amount: at least 50000.00元, decided case by case (at least 10% of 引进成本)" in text
    data = outcome.to_json()
    entry = next(b for b in data["benefits"] if b["id"] == "引进补助")
    assert entry["amount"] is None and entry["ranged"] is True
    assert entry["range"] == {"low": {"amount": "50000.00", "currency": "CNY"}, "high": None}


def test_an_unknown_base_leaves_the_range_unstated(tmp_path: Path) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, "p.policy", policy_text())))
    outcome = loaded.evaluate({"是新项目": True}, as_of=DAY)
    invest = outcome.benefit("投资奖励")
    assert invest.status == "eligible" and invest.range is None and invest.amount is None
    assert invest.missing_facts == ("固定资产投资",)
    assert "amount: 5% — 20% of 固定资产投资, at most 300万元, decided case by case" in outcome.to_text()


def test_explain_says_it_is_decided_case_by_case(tmp_path: Path) -> None:
    path = write(tmp_path, "p.policy", policy_text())
    facts = tmp_path / "f.json"
    facts.write_text(json.dumps({"是新项目": True, "固定资产投资": "1000万元"}, ensure_ascii=False), "utf-8")
    result = CliRunner().invoke(
        policy, ["explain", str(path), "--facts", str(facts), "--as-of", "2024-01-01"]
    )
    assert result.exit_code == 0, result.stderr
    assert "for 500000.00元 to 2000000.00元, decided case by case (5% — 20% of 固定资产投资" in result.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (policy_text(invest="20% to 5%"), "this rate's range starts above its end: 20% to 5%"),
        (
            policy_text(grant="100万元 to 10万元"),
            "this amount's range starts above its end: 100万元 to 10万元",
        ),
        (policy_text(floor="<= 10%"), "`rate <= …`: a floor (不低于) is written `rate >= …`"),
        (policy_text(grant="10万元 to 100美元"), "this benefit mixes currencies: CNY and USD"),
    ],
)
def test_a_wrong_range_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "p.policy", text)
    with pytest.raises(PolicyError) as raised:
        check(parse(path.read_text(encoding="utf-8"), str(path)), str(path))
    messages = [d.message for d in raised.value.diagnostics if d.severity == "error"]
    assert any(message in m for m in messages), messages


POPULATION = (
    "id,是新项目,固定资产投资,引进成本\n"
    "a,true,10000000,500000\n"  # 50万—200万; 5万 and up
    "b,true,40000000,\n"  # 200万—300万 (capped); cost unknown
    "c,false,20000000,1000000\n"  # not a new project; 10万 and up
    "d,,30000000,0\n"  # unknown; 0 and up
)


def test_eval_population_sums_both_ends(tmp_path: Path) -> None:
    path = write(tmp_path, "p.policy", policy_text())
    population = tmp_path / "pop.csv"
    population.write_text(POPULATION, encoding="utf-8")
    args = ["eval", str(path), "--population", str(population), "--as-of", "2024-01-01"]
    result = CliRunner().invoke(policy, [*args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    entries = {e["benefit"]: e for e in data["benefits"]}
    assert entries["投资奖励"]["amount"] is None
    assert entries["投资奖励"]["range"] == {
        "low": "2500000.00",  # 50万 + 200万
        "high": "5000000.00",  # 200万 + 300万
        "open": 0,
        "undetermined": 1,  # d: eligibility unknown
    }
    assert entries["资金奖励"]["range"] == {
        "low": "200000.00",
        "high": "2000000.00",
        "open": 0,
        "undetermined": 1,
    }
    assert entries["引进补助"]["range"] == {"low": "150000.00", "high": "0.00", "open": 3, "undetermined": 1}
    (total,) = data["totals"]
    assert total["total"] == "0.00"
    assert total["range"] == {"low": "2850000.00", "high": "7000000.00", "open": 3}
    text = CliRunner().invoke(policy, args)
    assert (
        "投资奖励: 2 eligible, 1 unknown, 1 not eligible; amount 2,500,000.00 — 5,000,000.00 CNY"
        in text.stdout
    )


def narrowed_pair(directory: Path) -> tuple[Path, Path]:
    """The policy, and a revision whose text and rule narrow 5%—20% to 5%—10%."""
    old = write(directory / "old", "p.policy", policy_text())
    new = write(
        directory / "new",
        "p.policy",
        policy_text(invest="5% to 10%").replace("5%—20%", "5%—10%"),
        SOURCE.replace("5%—20%", "5%—10%"),
    )
    return old, new


def test_a_narrowed_range_is_a_change_with_a_witness(tmp_path: Path) -> None:
    old, new = narrowed_pair(tmp_path)
    result = diff_paths(str(old), str(new))
    (rule,) = [r for m in result.measures for r in m.rules if r.id == "投资奖励"]
    assert [(f.field, f.old, f.new) for f in rule.fields] == [
        ("rate", "5% to 20% of 固定资产投资", "5% to 10% of 固定资产投资")
    ]
    (regions,) = [o for m in result.measures for o in m.outcomes if o.id == "投资奖励"]
    changed = [r for r in regions.regions if r.change == "changed"]
    assert changed
    for region in changed:
        base = money(str(dict(region.witness.facts)["固定资产投资"]).replace("万元", "")) * 10000
        assert region.witness.old.amount == (
            f"{base * Decimal('0.05'):.2f} — {min(base * Decimal('0.2'), Decimal(3000000)):.2f} CNY "
            "(decided case by case)"
        ).replace(f"{Decimal(3000000):.2f}", "3000000")
        assert region.witness.old.amount != region.witness.new.amount
    population = tmp_path / "pop.csv"
    population.write_text(POPULATION, encoding="utf-8")
    report = CliRunner().invoke(
        policy_diff, [str(old), str(new), "--population", str(population), "--format", "json"]
    )
    assert report.exit_code == 1, report.stderr
    entries = {b["benefit"]: b for b in json.loads(report.stdout)["population"]["benefits"]}
    moved = entries["投资奖励"]
    assert moved["changed"]["count"] == 1  # a: 50万—200万 → 50万—100万; b stays 200万—300万 (capped)
    assert moved["range"] == {
        "old": {"low": "2500000.00", "high": "5000000.00", "open": 0},
        "new": {"low": "2500000.00", "high": "4000000.00", "open": 0},  # 100万 + 300万
    }
    assert entries["资金奖励"]["changed"]["count"] == 0


def test_the_markdown_and_html_reports_carry_the_ranges(tmp_path: Path) -> None:
    old, new = narrowed_pair(tmp_path)
    population = tmp_path / "pop.csv"
    population.write_text(POPULATION, encoding="utf-8")
    args = [str(old), str(new), "--population", str(population)]
    markdown = CliRunner().invoke(policy_diff, [*args, "--format", "markdown"])
    assert markdown.exit_code == 1, markdown.stderr
    assert "| 投资奖励 | CNY | 2,500,000.00 — 5,000,000.00 | 2,500,000.00 — 4,000,000.00 |" in markdown.stdout
    page = CliRunner().invoke(policy_diff, [*args, "--format", "html"])
    assert page.exit_code == 1, page.stderr
    assert 'data-chart="ranges"' in page.stdout and "上限合计（新）" in page.stdout
    assert "4,000,000.00" in page.stdout
    one = CliRunner().invoke(
        policy,
        ["eval", str(old), "--population", str(population), "--as-of", "2024-01-01", "--format", "html"],
    )
    assert one.exit_code == 0, one.stderr
    assert 'data-chart="ranges"' in one.stdout and "5,000,000.00" in one.stdout
