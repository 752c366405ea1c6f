"""Amounts per unit (`amount 100元 per 种植基地面积`: 元/亩, 元/人): checked, formatted, computed
exactly by Python, the standalone module and SQL, explained, and compared by policy-diff."""

from __future__ import annotations

import datetime as dt
import json
import types
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from click.testing import CliRunner

import policy_dsl
from policy_dsl.check import check
from policy_dsl.cli import policy, policy_diff
from policy_dsl.diff.compare import diff_paths
from policy_dsl.errors import PolicyCheckError
from policy_dsl.format import fmt
from policy_dsl.parse import parse

SOURCE = (
    "关于支持中药材种植的若干措施\n\n"
    "一、种植基地\n\n"
    "对新建中药材种植基地的，给予企业100元/亩奖励，单个企业最高不超过5万元。"
    "对新引进的博士，按每人1500元标准给予补贴。\n"
)
DAY = dt.date(2024, 1, 1)


def policy_text(
    price: str = "100元", cap: str | None = "5万元", per: str = "种植基地面积", extra: str = ""
) -> str:
    cap_line = f"        cap {cap}\n" if cap else ""
    return (
        'policy "关于支持中药材种植的若干措施" {\n    status final\n    source "source.txt"\n}\n'
        'agency 某局 "某局"\n'
        "fact 新建种植基地: bool\nfact 种植基地面积: decimal\n"
        "fact 博士人数: integer\nfact 投资额: money CNY\n"
        'measure 一、 "种植基地" {\n    agencies 某局\n'
        "    benefit 种植基地奖励 {\n        kind reward\n"
        "        when 新建种植基地\n"
        f"        amount {price} per {per}\n"
        + cap_line
        + '        cite "给予企业100元/亩奖励，单个企业最高不超过5万元"\n'
        '        waive "100元" because "test"\n        waive "5万元" because "test"\n    }\n'
        "    benefit 博士补贴 {\n        kind subsidy\n        when 博士人数 > 0\n"
        "        amount 1500元 per 博士人数\n"
        '        cite "对新引进的博士，按每人1500元标准给予补贴"\n    }\n' + extra + "}\n"
    )


def write(directory: Path, name: str, text: str) -> Path:
    (directory / "source.txt").write_text(SOURCE, encoding="utf-8")
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(PolicyCheckError) as raised:
        check(parse(path.read_text(encoding="utf-8"), str(path)), str(path))
    return [f"{d.message} | {d.hint}" for d in raised.value.diagnostics if d.severity == "error"]


@pytest.mark.parametrize(
    ("facts", "amount", "shown"),
    [
        (
            {"种植基地面积": 150},
            Decimal("15000.00"),
            "15000.00元 (100元 per 种植基地面积 × 150, capped at 5万元)",
        ),
        ({"种植基地面积": "10.555"}, Decimal("1055.50"), "1055.50元 (100元 per 种植基地面积 × 10.555"),
        ({"种植基地面积": 500}, Decimal("50000.00"), "50000.00元"),  # exactly the cap
        ({"种植基地面积": 501}, Decimal(50000), "50000元 (100元 per 种植基地面积 × 501, capped at 5万元)"),
        ({"种植基地面积": 0}, Decimal("0.00"), "0.00元"),
    ],
)
def test_the_amount_is_the_price_times_the_count_capped(
    tmp_path: Path, facts: dict[str, object], amount: Decimal, shown: str
) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, "p.policy", policy_text())))
    outcome = loaded.evaluate({"新建种植基地": True, **facts}, as_of=DAY)
    benefit = outcome.benefit("种植基地奖励")
    assert benefit.status == "eligible"
    assert benefit.amount is not None and benefit.amount.amount == amount
    assert benefit.amount.currency == "CNY"
    assert shown in outcome.to_text()


def test_rounding_is_half_up_to_the_fen(tmp_path: Path) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, "p.policy", policy_text(price="100.5元", cap=None))))
    benefit = loaded.evaluate({"新建种植基地": True, "种植基地面积": "10.555"}, as_of=DAY).benefit(
        "种植基地奖励"
    )
    assert benefit.amount is not None and benefit.amount.amount == Decimal("1060.78")  # 1060.7775


def test_an_unknown_count_leaves_the_amount_open_and_asks_for_it(tmp_path: Path) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, "p.policy", policy_text())))
    outcome = loaded.evaluate({"新建种植基地": True}, as_of=DAY)
    benefit = outcome.benefit("种植基地奖励")
    assert benefit.status == "eligible" and benefit.amount is None
    assert benefit.missing_facts == ("种植基地面积",)
    assert "amount: 100元 per 种植基地面积, capped at 5万元; 种植基地面积 unknown" in outcome.to_text()


def test_a_negative_count_gives_no_amount(tmp_path: Path) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, "p.policy", policy_text())))
    outcome = loaded.evaluate({"新建种植基地": True, "种植基地面积": -3}, as_of=DAY)
    benefit = outcome.benefit("种植基地奖励")
    assert benefit.status == "eligible" and benefit.amount is None
    assert "amount: 100元 per 种植基地面积, capped at 5万元; 种植基地面积 < 0: no amount" in outcome.to_text()


def test_explain_shows_the_product(tmp_path: Path) -> None:
    path = write(tmp_path, "p.policy", policy_text())
    facts = tmp_path / "f.json"
    facts.write_text(json.dumps({"博士人数": 40}, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(
        policy, ["explain", str(path), "--facts", str(facts), "--as-of", "2024-01-01"]
    )
    assert result.exit_code == 0, result.stderr
    assert "so the enterprise is eligible, for 60000.00元 (1500元 per 博士人数 × 40)" in result.stdout


def test_fmt_writes_per_after_the_amount(tmp_path: Path) -> None:
    path = write(tmp_path, "p.policy", policy_text())
    text = fmt(parse(path.read_text(encoding="utf-8"), str(path)))
    assert "        amount 100元 per 种植基地面积\n" in text
    assert fmt(parse(text, str(path))) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            policy_text(per="投资额"),
            "`per` counts units of an integer or decimal fact (人数, 面积); `投资额` is money CNY",
        ),
        (policy_text(per="种植面积"), "unknown fact `种植面积` | did you mean `种植基地面积`?"),
        (
            policy_text(price="1234567890.123元", cap=None),
            "an amount per unit has at most 12 digits (this one has 13)",
        ),
        (
            policy_text(
                extra="    benefit 只有单位 {\n        kind reward\n        per 博士人数\n"
                '        cite "对新引进的博士，按每人1500元标准给予补贴"\n    }\n'
            ),
            "`per` needs an `amount`: the amount paid per unit",
        ),
    ],
)
def test_a_wrong_per_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    found = errors_of(write(tmp_path, "p.policy", text))
    assert any(message in error for error in found), found


def test_a_price_above_the_cap_is_no_error(tmp_path: Path) -> None:
    """A fixed amount above its cap is an error; a price per unit above it is not (one unit is less)."""
    path = write(tmp_path, "p.policy", policy_text(price="6万元"))
    policy_dsl.load(str(path))


def test_the_standalone_module_and_duckdb_agree_with_python(tmp_path: Path) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, "p.policy", policy_text(price="100.5元"))))
    rows = [
        {"新建种植基地": True, "种植基地面积": Decimal(v), "博士人数": n}
        for v, n in [
            ("0", 0),
            ("10.555", 1),
            ("497.5124", 40),
            ("497.5125", 2),
            ("1000", None),
            ("0.005", 3),
            ("-1", -2),  # a negative count pays no computable amount, in every backend
        ]
    ]
    rows.append({"新建种植基地": True, "种植基地面积": None, "博士人数": None})
    module = types.ModuleType("rules_per")
    exec(compile(loaded.module_source(), str(tmp_path / "rules.py"), "exec"), module.__dict__)
    expected = []
    for row in rows:
        outcome = loaded.evaluate({k: v for k, v in row.items() if v is not None}, as_of=DAY)
        assert module.to_json(module.evaluate({k: v for k, v in row.items() if v is not None}, DAY)) == (
            outcome.to_json()
        )
        expected.append(
            tuple((b.status == "eligible", b.amount.amount if b.amount else None) for b in outcome.benefits)
        )
    table = pa.table(
        {
            "id": pa.array(range(len(rows)), pa.int64()),
            "新建种植基地": pa.array([r["新建种植基地"] for r in rows], pa.bool_()),
            "种植基地面积": pa.array([r["种植基地面积"] for r in rows], pa.decimal128(38, 10)),
            "博士人数": pa.array([r["博士人数"] for r in rows], pa.int64()),
            "投资额": pa.array([None] * len(rows), pa.decimal128(38, 2)),
        }
    )
    con = duckdb.connect()
    con.register("facts", table)
    got = con.execute(loaded.sql("duckdb", as_of=DAY) + "").fetchall()
    columns = [c[0] for c in con.description]
    for row, want in zip(sorted(got, key=lambda r: r[columns.index("id")]), expected, strict=True):
        record = dict(zip(columns, row, strict=True))
        have = (
            (record["种植基地奖励"], record["种植基地奖励:amount"]),
            (record["博士补贴"], record["博士补贴:amount"]),
        )
        normal = tuple((bool(e), a) for e, a in have)
        assert normal == tuple((e, a if e else None) for e, a in want), (record, want)


def test_policy_diff_reports_a_price_change_with_a_witness(tmp_path: Path) -> None:
    old = write(tmp_path, "old.policy", policy_text())
    new = write(tmp_path, "new.policy", policy_text(price="200元"))
    result = diff_paths(str(old), str(new))
    (rule,) = [r for m in result.measures for r in m.rules if r.id == "种植基地奖励"]
    assert ("amount", "100元 per 种植基地面积", "200元 per 种植基地面积") in [
        (f.field, f.old, f.new) for f in rule.fields
    ]
    (regions,) = [o for m in result.measures for o in m.outcomes if o.id == "种植基地奖励"]
    changed = [r for r in regions.regions if r.change == "changed"]
    assert changed
    for region in changed:
        witness = region.witness
        area = Decimal(dict(witness.facts)["种植基地面积"])
        assert witness.old.amount == f"{min(100 * area, Decimal(50000)):.2f} CNY"
        assert witness.new.amount == f"{min(200 * area, Decimal(50000)):.2f} CNY"
        assert witness.old.amount != witness.new.amount
    report = CliRunner().invoke(policy_diff, [str(old), str(new)])
    assert report.exit_code == 1, report.stderr
    assert "amount: 100元 per 种植基地面积 → 200元 per 种植基地面积" in report.stdout


def test_a_rule_that_follows_with_an_amount_of_its_own_does_not_take_the_per(tmp_path: Path) -> None:
    extra = (
        "    benefit 乡镇奖励 {\n        follows 种植基地奖励\n        amount 1万元\n"
        '        cite "给予企业100元/亩奖励，单个企业最高不超过5万元"\n'
        '        waive "100元" because "test"\n        waive "5万元" because "test"\n    }\n'
        "    benefit 乡镇按亩奖励 {\n        follows 种植基地奖励\n"
        '        cite "给予企业100元/亩奖励，单个企业最高不超过5万元"\n'
        '        waive "100元" because "test"\n        waive "5万元" because "test"\n    }\n'
    )
    loaded = policy_dsl.load(str(write(tmp_path, "p.policy", policy_text(extra=extra))))
    outcome = loaded.evaluate({"新建种植基地": True, "种植基地面积": 3}, as_of=DAY)
    own = outcome.benefit("乡镇奖励")
    assert own.amount is not None and own.amount.amount == Decimal(10000) and own.per is None
    inherited = outcome.benefit("乡镇按亩奖励")
    assert inherited.amount is not None and inherited.amount.amount == Decimal("300.00")
