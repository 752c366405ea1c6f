"""Tiered amounts (分档): `tiers by FACT` pays as the band the fact falls in says (the whole amount at
the band's rate), `marginal tiers of FACT` pays each band's rate on the part inside it (超过部分) —
checked, formatted, computed exactly by Python, the standalone module and SQL, explained, and
compared by policy-diff with a witness."""

from __future__ import annotations

import datetime as dt
import json
import types
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from click.testing import CliRunner

import policy_dsl
from policy_dsl.check import check
from policy_dsl.cli import policy, policy_diff
from policy_dsl.diff.compare import diff_paths
from policy_dsl.errors import PolicyError
from policy_dsl.format import fmt
from policy_dsl.parse import parse

SOURCE = (
    "关于支持重点产业发展的若干措施\n\n"
    "一、投资奖励\n\n"
    "固定资产投资1000万元及以上至5000万元、5000万元以上至1亿元、1亿元以上的，"
    "参照其年度地方财政贡献的70%、80%和90%给予奖励。"
    "年销售额超过1亿元的部分按1%给予奖励，超过5亿元的部分按2%给予奖励，最高不超过1000万元。"
    "种植面积100亩及以上至500亩的给予100元/亩奖励，500亩以上的给予200元/亩奖励。\n"
)
DAY = dt.date(2024, 1, 1)

WHOLE = """        tiers by 固定资产投资 {
            from 1000万元 to 5000万元: rate 70% of 地方财政贡献
            above 5000万元 to 1亿元: rate 80% of 地方财政贡献
            above 1亿元: rate 90% of 地方财政贡献
        }
"""
MARGINAL = """        marginal tiers of 年销售额 {
            above 1亿元 to 5亿元: rate 1%
            above 5亿元: rate 2%
        }
        cap 1000万元
"""
PER = """        tiers by 种植面积 {
            from 100 to 500: amount 100元 per 种植面积
            above 500: amount 200元 per 种植面积
        }
"""


def policy_text(whole: str = WHOLE, marginal: str = MARGINAL, per: str = PER, extra: str = "") -> str:
    return (
        'policy "关于支持重点产业发展的若干措施" {\n    status final\n    source "source.txt"\n}\n'
        'agency 某局 "某局"\n'
        "fact 固定资产投资: money CNY\nfact 地方财政贡献: money CNY\nfact 年销售额: money CNY\n"
        "fact 种植面积: decimal\n"
        'measure 一、 "投资奖励" {\n    agencies 某局\n'
        "    benefit 投资奖励 {\n        kind reward\n"
        + whole
        + '        cite "固定资产投资1000万元及以上至5000万元、5000万元以上至1亿元、1亿元以上的，'
        '参照其年度地方财政贡献的70%、80%和90%给予奖励"\n    }\n'
        "    benefit 销售奖励 {\n        kind reward\n"
        + marginal
        + '        cite "年销售额超过1亿元的部分按1%给予奖励，超过5亿元的部分按2%给予奖励，'
        '最高不超过1000万元"\n'
        "    }\n"
        "    benefit 种植奖励 {\n        kind reward\n"
        + per
        + '        cite "种植面积100亩及以上至500亩的给予100元/亩奖励，500亩以上的给予200元/亩奖励"\n'
        '        waive "100亩" because "种植面积以亩计：100"\n'
        '        waive "500亩" because "种植面积以亩计：500"\n'
        "    }\n" + extra + "}\n"
    )


WAIVED = "".join(f'        waive "{q}" because "t"\n' for q in ("100亩", "500亩", "100元"))


def write(directory: Path, name: str, text: str, source: str = SOURCE) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "source.txt").write_text(source, encoding="utf-8")
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def amount(outcome: policy_dsl.Outcome, benefit: str) -> Decimal | None:
    found = outcome.benefit(benefit).amount
    return None if found is None else found.amount


@pytest.mark.parametrize(
    ("invest", "contribution", "expected", "band"),
    [
        ("9999999.99", "100", None, None),  # below the first band: in no band, no amount
        ("10000000", "100", "70.00", "from 1000万元 to 5000万元"),  # 及以上: the low end included
        ("50000000", "100", "70.00", "from 1000万元 to 5000万元"),  # 至5000万元: included
        ("50000000.01", "100", "80.00", "above 5000万元 to 1亿元"),  # 以上 after 至: 超过
        ("100000000", "100", "80.00", "above 5000万元 to 1亿元"),
        ("100000000.01", "100", "90.00", "above 1亿元"),
        ("100000000.01", "0.05", "0.05", "above 1亿元"),  # 90% of 0.05 = 0.045 → half up to 0.05
    ],
)
def test_whole_tiers_pay_the_band_the_fact_falls_in(
    tmp_path: Path, invest: str, contribution: str, expected: str | None, band: str | None
) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, "p.policy", policy_text())))
    outcome = loaded.evaluate({"固定资产投资": invest, "地方财政贡献": contribution}, as_of=DAY)
    assert amount(outcome, "投资奖励") == (Decimal(expected) if expected else None)
    result = outcome.benefit("投资奖励")
    assert result.tier is not None and result.tier.band == (
        None if band is None else next(b for b in result.tiers.bands if b.startswith(band + ":"))  # type: ignore[union-attr]
    )


def test_marginal_tiers_add_each_bands_part_and_cap_the_sum(tmp_path: Path) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, "p.policy", policy_text())))

    def paid(sales: str) -> Decimal | None:
        return amount(loaded.evaluate({"年销售额": sales}, as_of=DAY), "销售奖励")

    assert paid("100000000") == Decimal("0.00")  # 超过1亿元的部分: nothing at 1亿元 itself
    assert paid("100000050") == Decimal("0.50")  # 1% of 50元
    assert paid("500000000") == Decimal("4000000.00")  # 1% of 4亿
    assert paid("600000000") == Decimal("6000000.00")  # 400万 + 2% of 1亿
    assert paid("800000000") == Decimal("10000000")  # 400万 + 600万: the cap exactly
    assert paid("900000000") == Decimal("10000000")  # 1200万 capped at 1000万
    outcome = loaded.evaluate({"年销售额": "600000000"}, as_of=DAY)
    tier = outcome.benefit("销售奖励").tier
    assert tier is not None and tier.parts is not None
    assert [(p.band, p.part, p.rate.value) for p in tier.parts] == [
        ("above 1亿元 to 5亿元: rate 1%", Decimal(400000000), Decimal(1)),
        ("above 5亿元: rate 2%", Decimal(100000000), Decimal(2)),
    ]
    text = outcome.to_text()
    assert (
        "amount: 6000000.00元 (1% of 400000000元 (above 1亿元 to 5亿元) + 2% of 100000000元 (above 5亿元), "
        "capped at 1000万元)" in text
    )


def test_per_unit_tiers_multiply_the_bands_price(tmp_path: Path) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, "p.policy", policy_text())))

    def paid(area: str) -> Decimal | None:
        return amount(loaded.evaluate({"种植面积": area}, as_of=DAY), "种植奖励")

    assert paid("99.99") is None
    assert paid("100") == Decimal("10000.00")
    assert paid("500") == Decimal("50000.00")  # 100元 × 500: 500亩 is in the first band
    assert paid("500.01") == Decimal("100002.00")  # 200元 × 500.01


def test_an_unknown_fact_leaves_the_amount_open_and_the_schedule_shown(tmp_path: Path) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, "p.policy", policy_text())))
    outcome = loaded.evaluate({"固定资产投资": "6000万元"}, as_of=DAY)
    invest = outcome.benefit("投资奖励")
    assert invest.status == "eligible" and invest.amount is None
    assert invest.missing_facts == ("地方财政贡献",)
    text = outcome.to_text()
    assert (
        "amount: tier above 5000万元 to 1亿元: rate 80% of 地方财政贡献; not computed: 地方财政贡献 unknown"
        in text
    )
    sales = outcome.benefit("销售奖励")
    assert sales.amount is None and sales.tier is None and sales.missing_facts == ("年销售额",)
    assert "amount: marginal tiers of 年销售额: above 1亿元 to 5亿元: rate 1%; above 5亿元: rate 2%" in text
    low = loaded.evaluate({"固定资产投资": "500万元", "地方财政贡献": "1万元"}, as_of=DAY)
    assert (
        "amount: none — 固定资产投资 falls in no tier (tiers by 固定资产投资: from 1000万元" in low.to_text()
    )
    data = low.to_json()
    entry = next(b for b in data["benefits"] if b["id"] == "投资奖励")
    assert entry["amount"] is None
    assert entry["tier"] == {"band": None, "parts": None}
    assert entry["tiers"]["fact"] == "固定资产投资" and entry["tiers"]["marginal"] is False
    assert len(entry["tiers"]["bands"]) == 3


def test_explain_names_the_band(tmp_path: Path) -> None:
    path = write(tmp_path, "p.policy", policy_text())
    facts = tmp_path / "f.json"
    facts.write_text(
        json.dumps({"固定资产投资": "6000万元", "地方财政贡献": "100万元"}, ensure_ascii=False), "utf-8"
    )
    result = CliRunner().invoke(
        policy, ["explain", str(path), "--facts", str(facts), "--as-of", "2024-01-01"]
    )
    assert result.exit_code == 0, result.stderr
    assert "for 800000.00元 (tier above 5000万元 to 1亿元: rate 80% of 地方财政贡献)" in result.stdout


def test_fmt_round_trips_tiers(tmp_path: Path) -> None:
    text = policy_text()
    model = parse(text, "p.policy")
    formatted = fmt(model)
    assert (
        "        tiers by 固定资产投资 {\n            from 1000万元 to 5000万元: rate 70% of 地方财政贡献\n"
        in formatted
    )
    assert "        marginal tiers of 年销售额 {\n            above 1亿元 to 5亿元: rate 1%\n" in formatted
    assert parse(formatted, "p.policy") == model
    assert fmt(parse(formatted, "p.policy")) == formatted


BAND_ERRORS = [
    (
        WHOLE.replace("above 5000万元 to 1亿元", "from 5000万元 to 1亿元"),
        "tiers overlap: 5000万元 falls in both `from 1000万元 to 5000万元` and `from 5000万元 to 1亿元`",
    ),
    (
        WHOLE.replace("above 5000万元 to 1亿元", "above 4000万元 to 1亿元"),
        "tiers overlap: the values from 4000万元 to 5000万元 fall in both",
    ),
    (WHOLE.replace("above 1亿元:", "from 1亿元 to 2000万元:"), "this tier is empty: from 1亿元 to 2000万元"),
    (
        WHOLE.replace("above 1亿元:", "above 1亿美元:"),
        "a band of `固定资产投资` (money CNY) cannot end at 1亿美元",
    ),
    (
        WHOLE.replace("rate 90% of 地方财政贡献", "rate 90% of 种植面积"),
        "a rate applies to an amount of money",
    ),
    (WHOLE.replace("rate 90% of 地方财政贡献", "rate 90%"), ""),  # of the tiers' fact itself: no error
    (
        WHOLE + "        rate 5% of 地方财政贡献\n",
        "a tiered benefit's amount comes from its tiers: no `rate`",
    ),
    (WHOLE.replace("tiers by 固定资产投资", "tiers by 投资"), "unknown fact `投资`"),
]
MARGINAL_ERRORS = [
    (
        MARGINAL.replace("rate 2%", "rate 2% of 年销售额"),
        "a marginal tier's rate applies to the part of `年销售额`",
    ),
    (MARGINAL.replace("rate 2%", "amount 5万元"), "a marginal tier pays a rate of the part in its band"),
    (MARGINAL.replace("cap 1000万元", "cap 1000万美元"), "this benefit mixes currencies: CNY and USD"),
    (MARGINAL.replace("年销售额 {", "种植面积 {"), "marginal tiers take parts of an amount of money"),
]
PER_ERRORS = [
    (
        PER.replace("amount 200元 per 种植面积", "amount 200元 per 年销售额"),
        "`per` counts units of an integer",
    ),
    (PER + "        cap 1万元\n", ""),  # a cap below a per-unit amount is no error: it caps the product
    (
        PER.replace("amount 100元 per 种植面积", "amount 2万元") + "        cap 1万元\n",
        "this tier's fixed amount is larger than the `cap`",
    ),
]


@pytest.mark.parametrize(
    ("text", "message"),
    [(policy_text(whole=w), e) for w, e in BAND_ERRORS]
    + [(policy_text(marginal=w), e) for w, e in MARGINAL_ERRORS]
    + [(policy_text(per=w), e) for w, e in PER_ERRORS],
)
def test_a_wrong_schedule_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "p.policy", text)
    model = parse(path.read_text(encoding="utf-8"), str(path))
    if not message:
        check(model, str(path))
        return
    with pytest.raises(PolicyError) as raised:
        check(model, str(path))
    messages = [d.message for d in raised.value.diagnostics if d.severity == "error"]
    assert any(message in m for m in messages), messages


ROWS: list[dict[str, Any]] = [
    {"固定资产投资": Decimal(v), "地方财政贡献": Decimal(c), "年销售额": Decimal(s), "种植面积": Decimal(a)}
    for v, c, s, a in [
        ("9999999.99", "100", "99999999.99", "99.99"),
        ("10000000", "100", "100000000", "100"),
        ("50000000", "1000000", "100000000.01", "499.99"),
        ("50000000.01", "123456.78", "499999999.99", "500"),
        ("100000000", "0.05", "500000000", "500.01"),
        ("100000000.01", "0.05", "500000000.01", "12345.6789"),
        ("100000000.01", "7", "799999999.99", "0"),
        ("0", "0", "800000000", "100.005"),
        ("1", "1", "800000000.01", "0.005"),
    ]
]
ROWS.append({"固定资产投资": None, "地方财政贡献": Decimal(5), "年销售额": None, "种植面积": None})


def test_the_standalone_module_and_duckdb_agree_with_python(tmp_path: Path) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, "p.policy", policy_text())))
    module = types.ModuleType("rules_tiers")
    exec(compile(loaded.module_source(), str(tmp_path / "rules.py"), "exec"), module.__dict__)
    expected = []
    for row in ROWS:
        facts = {k: v for k, v in row.items() if v is not None}
        outcome = loaded.evaluate(facts, as_of=DAY)
        assert module.to_json(module.evaluate(facts, DAY)) == outcome.to_json()
        expected.append({b.id: (b.status, b.amount.amount if b.amount else None) for b in outcome.benefits})
    table = pa.table(
        {
            "id": pa.array(range(len(ROWS)), pa.int64()),
            **{
                name: pa.array([r[name] for r in ROWS], pa.decimal128(38, 10))
                for name in ("固定资产投资", "地方财政贡献", "年销售额", "种植面积")
            },
        }
    )
    con = duckdb.connect()
    con.register("facts", table)
    got = con.execute(loaded.sql("duckdb", as_of=DAY)).fetchall()
    columns = [c[0] for c in con.description]
    for row, want in zip(sorted(got, key=lambda r: r[columns.index("id")]), expected, strict=True):
        record = dict(zip(columns, row, strict=True))
        for benefit, (status, paid) in want.items():
            assert record[benefit] is (status == "eligible")
            assert record[f"{benefit}:amount"] == paid, (benefit, record, want)


def moved_pair(directory: Path) -> tuple[Path, Path]:
    """The policy, and a revision that moves the second band's start from 5000万元 to 6000万元."""
    old = write(directory / "old", "p.policy", policy_text())
    moved = SOURCE.replace("至5000万元、5000万元以上", "至6000万元、6000万元以上")
    text = policy_text(
        whole=WHOLE.replace("to 5000万元", "to 6000万元").replace("above 5000万元", "above 6000万元")
    ).replace("至5000万元、5000万元以上", "至6000万元、6000万元以上")
    new = write(directory / "new", "p.policy", text, moved)
    return old, new


def test_a_moved_band_is_a_change_with_a_witness(tmp_path: Path) -> None:
    old, new = moved_pair(tmp_path)
    result = diff_paths(str(old), str(new))
    (rule,) = [r for m in result.measures for r in m.rules if r.id == "投资奖励"]
    fields = {(f.field, f.old, f.new) for f in rule.fields}
    assert (
        "tier 1",
        "from 1000万元 to 5000万元: rate 70% of 地方财政贡献",
        "from 1000万元 to 6000万元: rate 70% of 地方财政贡献",
    ) in fields
    assert (
        "tier 2",
        "above 5000万元 to 1亿元: rate 80% of 地方财政贡献",
        "above 6000万元 to 1亿元: rate 80% of 地方财政贡献",
    ) in fields
    (regions,) = [o for m in result.measures for o in m.outcomes if o.id == "投资奖励"]
    changed = [r for r in regions.regions if r.change == "changed"]
    assert changed
    loaded_old, loaded_new = policy_dsl.load(str(old)), policy_dsl.load(str(new))
    for region in changed:
        facts = dict(region.witness.facts)
        # the witness is verified: both versions evaluated on it give the reported amounts, and it
        # lies where the band moved: (5000万元, 6000万元], in the second band before, the first after
        was = loaded_old.evaluate(facts, as_of=region.witness.as_of).benefit("投资奖励")
        now = loaded_new.evaluate(facts, as_of=region.witness.as_of).benefit("投资奖励")
        assert was.amount is not None and now.amount is not None and was.amount != now.amount
        assert region.witness.old.amount == f"{was.amount.amount} CNY"
        assert region.witness.new.amount == f"{now.amount.amount} CNY"
        assert was.tier is not None and now.tier is not None
        assert (was.tier.band or "").startswith("above 5000万元 to 1亿元")
        assert (now.tier.band or "").startswith("from 1000万元 to 6000万元")
    report = CliRunner().invoke(policy_diff, [str(old), str(new)])
    assert report.exit_code == 1, report.stderr
    assert (
        "tier 2: above 5000万元 to 1亿元: rate 80% of 地方财政贡献 → above 6000万元 to 1亿元" in report.stdout
    )


def test_a_follower_takes_the_whole_payment_of_the_rule_it_follows(tmp_path: Path) -> None:
    """按第N条执行: the tiers, a range's high end and a floor come with the rule followed."""
    extra = (
        "    benefit 迁回奖励 {\n        follows 投资奖励\n"
        '        cite "固定资产投资1000万元及以上至5000万元、5000万元以上至1亿元、1亿元以上的，'
        '参照其年度地方财政贡献的70%、80%和90%给予奖励"\n    }\n'
        "    benefit 区间奖励 {\n        kind reward\n        amount 10万元 to 100万元\n"
        '        cite "种植面积100亩及以上至500亩的给予100元/亩奖励"\n' + WAIVED + "    }\n"
        "    benefit 区间奖励二 {\n        follows 区间奖励\n"
        '        cite "种植面积100亩及以上至500亩的给予100元/亩奖励"\n' + WAIVED + "    }\n"
    )
    loaded = policy_dsl.load(str(write(tmp_path, "p.policy", policy_text(extra=extra))))
    outcome = loaded.evaluate({"固定资产投资": "6000万元", "地方财政贡献": "100万元"}, as_of=DAY)
    assert amount(outcome, "迁回奖励") == Decimal("800000.00")
    ranged = outcome.benefit("区间奖励二")
    assert ranged.amount is None and ranged.range is not None
    assert (ranged.range[0].amount, ranged.range[1] and ranged.range[1].amount) == (
        Decimal(100000),
        Decimal(1000000),
    )


def test_a_case_names_the_band(tmp_path: Path) -> None:
    """Cases pin the band a tiered amount came from (`"tier"`), or that none applied (null)."""
    path = write(tmp_path, "p.policy", policy_text())

    def case(invest: str, band: str | None) -> dict[str, Any]:
        return {
            "name": f"投资 {invest}",
            "as_of": "2024-01-01",
            "facts": {"固定资产投资": invest, "地方财政贡献": "100万元"},
            "expect": {"投资奖励": {"status": "eligible", "tier": band}},
        }

    good = [case("5000万元", "from 1000万元 to 5000万元"), case("50000000.01", "above 5000万元 to 1亿元")]
    good.append(case("500万元", None))
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps({"cases": good}, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(policy, ["test", str(path), str(cases)])
    assert result.exit_code == 0, result.stdout + result.stderr
    cases.write_text(
        json.dumps({"cases": [case("5000万元", "above 5000万元 to 1亿元")]}, ensure_ascii=False),
        encoding="utf-8",
    )
    failed = CliRunner().invoke(policy, ["test", str(path), str(cases)])
    assert failed.exit_code == 1
    assert "投资奖励: expected tier above 5000万元 to 1亿元, got from 1000万元 to 5000万元" in failed.stdout
