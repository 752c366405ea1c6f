"""Caps from facts (不超过其年度地方财政贡献) and rates on the part above a threshold (超出部分, 同比超出
部分): checked, formatted, computed exactly by Python, the standalone module and SQL, and explained."""

from __future__ import annotations

import datetime as dt
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

SOURCE = (
    "关于支持企业发展的若干措施\n\n"
    "一、奖励\n\n"
    "按其年度销售额同比超出部分的20%给予奖励，最高不超过100万元且不超过其年度地方财政贡献。"
    "对年出口额超出1亿元的部分按0.5%给予奖励。"
    "给予企业不低于10万元的补助，不超过其年度地方财政贡献。\n"
)
DAY = dt.date(2024, 1, 1)


def policy_text(
    growth: str = "rate 20% of 销售额 above 上年销售额", cap: str = "cap 100万元, 地方财政贡献"
) -> str:
    return (
        'policy "关于支持企业发展的若干措施" {\n    status final\n    source "source.txt"\n}\n'
        'agency 某局 "某局"\n'
        "fact 销售额: money CNY\nfact 上年销售额: money CNY\nfact 地方财政贡献: money CNY\n"
        "fact 出口额: money CNY\n"
        'measure 一、 "奖励" {\n    agencies 某局\n'
        f"    benefit 增长奖励 {{\n        kind reward\n        {growth}\n        {cap}\n"
        '        cite "按其年度销售额同比超出部分的20%给予奖励，'
        '最高不超过100万元且不超过其年度地方财政贡献"\n    }\n'
        "    benefit 出口奖励 {\n        kind reward\n        rate 0.5% of 出口额 above 1亿元\n"
        '        cite "对年出口额超出1亿元的部分按0.5%给予奖励"\n    }\n'
        "    benefit 保底补助 {\n        kind subsidy\n        amount >= 10万元\n        cap 地方财政贡献\n"
        '        cite "给予企业不低于10万元的补助，不超过其年度地方财政贡献"\n    }\n'
        "}\n"
    )


def write(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "source.txt").write_text(SOURCE, encoding="utf-8")
    path = directory / "p.policy"
    path.write_text(text, encoding="utf-8")
    return path


def amount(outcome: policy_dsl.Outcome, benefit: str) -> Decimal | None:
    found = outcome.benefit(benefit).amount
    return None if found is None else found.amount


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        # 20% of (500万 − 400万) = 20万, under 100万 and under the contribution
        ({"销售额": "500万元", "上年销售额": "400万元", "地方财政贡献": "50万元"}, Decimal("200000.00")),
        # capped by the contribution: 15万
        ({"销售额": "500万元", "上年销售额": "400万元", "地方财政贡献": "15万元"}, Decimal("150000.00")),
        # capped by 100万
        ({"销售额": "1亿元", "上年销售额": "0", "地方财政贡献": "1亿元"}, Decimal(1000000)),
        # no growth: 0, not negative
        ({"销售额": "300万元", "上年销售额": "400万元", "地方财政贡献": "50万元"}, Decimal("0")),
        # the contribution rounded half up to the fen before it caps
        ({"销售额": "500万元", "上年销售额": "400万元", "地方财政贡献": "1234.565"}, Decimal("1234.57")),
        # last year's sales unknown: the amount cannot be told
        ({"销售额": "500万元", "地方财政贡献": "50万元"}, None),
        # the capping fact unknown: the amount cannot be told
        ({"销售额": "500万元", "上年销售额": "400万元"}, None),
    ],
)
def test_growth_above_last_year_capped_by_an_amount_and_a_fact(
    tmp_path: Path, facts: dict[str, Any], expected: Decimal | None
) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, policy_text())))
    outcome = loaded.evaluate(facts, as_of=DAY)
    assert outcome.benefit("增长奖励").status == "eligible"
    got = amount(outcome, "增长奖励")
    assert got == expected and (
        got is None or got.as_tuple().exponent >= -2 or got == got.quantize(Decimal("0.01"))
    )


def test_missing_facts_name_the_threshold_and_the_cap(tmp_path: Path) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, policy_text())))
    outcome = loaded.evaluate({"销售额": "500万元"}, as_of=DAY)
    assert outcome.benefit("增长奖励").missing_facts == ("上年销售额", "地方财政贡献")
    text = outcome.to_text()
    assert "rate: 20% of 销售额 above 上年销售额, at most 100万元 and 地方财政贡献" in text


def test_excess_over_an_amount(tmp_path: Path) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, policy_text())))

    def paid(export: str) -> Decimal | None:
        return amount(loaded.evaluate({"出口额": export}, as_of=DAY), "出口奖励")

    assert paid("1亿元") == Decimal("0.00")
    assert paid("100000001") == Decimal("0.01")  # 0.5% of 1元 = 0.005 → half up
    assert paid("100000000.99") == Decimal("0.00")  # 0.5% of 0.99 = 0.00495 → 0.00
    assert paid("3亿元") == Decimal("1000000.00")
    text = loaded.evaluate({"出口额": "3亿元"}, as_of=DAY).to_text()
    assert "amount: 1000000.00元 (0.5% of 出口额 above 1亿元)" in text


def test_a_floor_is_capped_by_the_fact(tmp_path: Path) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, policy_text())))
    ranged = loaded.evaluate({"地方财政贡献": "30万元"}, as_of=DAY).benefit("保底补助")
    assert ranged.range is not None
    assert (ranged.range[0].amount, ranged.range[1] and ranged.range[1].amount) == (
        Decimal(100000),
        Decimal("300000.00"),
    )
    low = loaded.evaluate({"地方财政贡献": "5万元"}, as_of=DAY).benefit("保底补助")
    assert low.range is not None and low.range[0].amount == Decimal("50000.00")
    unknown = loaded.evaluate({}, as_of=DAY).benefit("保底补助")
    assert (
        unknown.status == "eligible" and unknown.range is None and unknown.missing_facts == ("地方财政贡献",)
    )


def test_fmt_round_trips() -> None:
    model = parse(policy_text(), "p.policy")
    text = fmt(model)
    assert "        rate 20% of 销售额 above 上年销售额\n        cap 100万元, 地方财政贡献\n" in text
    assert parse(text, "p.policy") == model


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (policy_text(cap="cap 100万元, 贡献"), "unknown fact `贡献`"),
        (policy_text(cap="cap 100万元, 200万元"), "a `cap` has at most one amount"),
        (
            policy_text(growth="rate 20% of 销售额 above 5"),
            "the threshold after `above` is an amount of money",
        ),
        (
            policy_text(growth="rate 20% of 销售额 above 100万美元"),
            "this benefit mixes currencies: CNY and USD",
        ),
        (policy_text(growth="rate 20% of 销售额 above 上年"), "unknown fact `上年`"),
    ],
)
def test_wrong_caps_and_thresholds_are_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as raised:
        check(parse(path.read_text(encoding="utf-8"), str(path)), str(path))
    messages = [d.message for d in raised.value.diagnostics if d.severity == "error"]
    assert any(message in m for m in messages), messages


ROWS: list[dict[str, Any]] = [
    {
        "销售额": Decimal(s),
        "上年销售额": Decimal(p) if p else None,
        "地方财政贡献": Decimal(c) if c else None,
        "出口额": Decimal(e),
    }
    for s, p, c, e in [
        ("5000000", "4000000", "500000", "100000000"),
        ("5000000", "4000000", "150000", "100000001"),
        ("100000000", "0", "100000000", "100000000.99"),
        ("3000000", "4000000", "500000", "300000000"),
        ("5000000", "4000000", "1234.565", "0"),
        ("5000000", "", "500000", "100000000.5"),
        ("5000000", "4000000", "", "99999999.99"),
        ("5000000.0049", "5000000", "0.004", "100000000.0001"),
    ]
]


def test_the_standalone_module_and_duckdb_agree_with_python(tmp_path: Path) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, policy_text())))
    module = types.ModuleType("rules_caps")
    exec(compile(loaded.module_source(), str(tmp_path / "rules.py"), "exec"), module.__dict__)
    expected = []
    for row in ROWS:
        facts = {k: v for k, v in row.items() if v is not None}
        outcome = loaded.evaluate(facts, as_of=DAY)
        assert module.to_json(module.evaluate(facts, DAY)) == outcome.to_json()
        floor = outcome.benefit("保底补助").range
        expected.append(
            (
                amount(outcome, "增长奖励"),
                amount(outcome, "出口奖励"),
                None if floor is None else (floor[0].amount, floor[1] and floor[1].amount),
            )
        )
    names = ("销售额", "上年销售额", "地方财政贡献", "出口额")
    table = pa.table(
        {
            "id": pa.array(range(len(ROWS)), pa.int64()),
            **{n: pa.array([r[n] for r in ROWS], pa.decimal128(38, 10)) for n in names},
        }
    )
    con = duckdb.connect()
    con.register("facts", table)
    got = con.execute(loaded.sql("duckdb", as_of=DAY)).fetchall()
    columns = [c[0] for c in con.description]
    for row, want in zip(sorted(got, key=lambda r: r[0]), expected, strict=True):
        record = dict(zip(columns, row, strict=True))
        low, high = record["保底补助:low"], record["保底补助:high"]
        assert (
            record["增长奖励:amount"],
            record["出口奖励:amount"],
            None if low is None else (low, high),
        ) == want


def test_a_follower_takes_the_caps_whole_and_diff_shows_them(tmp_path: Path) -> None:
    extra = (
        "    benefit 跟随奖励 {\n        follows 增长奖励\n"
        '        cite "按其年度销售额同比超出部分的20%给予奖励，'
        '最高不超过100万元且不超过其年度地方财政贡献"\n'
        "    }\n"
    )
    base = policy_text()
    assert base.endswith("    }\n}\n")
    text = base[: -len("}\n")] + extra + "}\n"  # inside the measure, after its last rule
    loaded = policy_dsl.load(str(write(tmp_path / "a", text)))
    facts = {"销售额": "500万元", "上年销售额": "400万元", "地方财政贡献": "15万元"}
    assert amount(loaded.evaluate(facts, as_of=DAY), "跟随奖励") == Decimal("150000.00")  # the fact cap too
    from policy_dsl.diff.compare import diff_paths

    old = write(tmp_path / "old", policy_text())
    new = write(tmp_path / "new", policy_text(cap="cap 100万元"))
    result = diff_paths(str(old), str(new))
    (rule,) = [r for m in result.measures for r in m.rules if r.id == "增长奖励"]
    assert ("cap", "100万元, 地方财政贡献", "100万元") in [(f.field, f.old, f.new) for f in rule.fields]
