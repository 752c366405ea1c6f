"""Budget impact of a population (issue 12): money per benefit and currency, groups and bands, why
results are unknown, duties, and the optional id lists of policy-diff --population.

Every figure is computed by hand from the four enterprises of POPULATION below."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import policy_dsl
from policy_dsl.cli import policy, policy_diff
from policy_dsl.diff.compare import diff_paths
from policy_dsl.diff.population import population_diff
from policy_dsl.table import population_summary

OLD_TEXT = """支持外贸企业的若干措施

一、财政支持
（一）保费补贴
对小微企业（出口额500万美元以下）给予保费50%补贴，最高1万元。
（二）认定奖励
对认定企业给予5万元奖励。
（三）运费补助
对出口企业给予运费10%补助。
（四）高新奖励
对高新企业给予1万元奖励。
（五）上门服务
税务局为一类企业提供上门服务。
"""

OLD_POLICY = """policy "支持外贸企业的若干措施" { status final  source "old.txt" }

enum 类别 { 一类, 二类 }

fact 出口额: money USD
fact 分类: 类别
fact 保费: money CNY
fact 认定: bool
fact 运费: money CNY
fact 是高新企业: bool

definition 小微 {
    means 出口额 <= 500万美元
    cite "出口额500万美元以下"
}

chapter 一、 "财政支持" {
    measure （一） "保费补贴" {
        benefit 保费补贴 {
            kind premium_subsidy
            when 小微
            rate 50% of 保费
            cap 1万元
            cite "给予保费50%补贴，最高1万元"
        }
    }
    measure （二） "认定奖励" {
        benefit 认定奖励 {
            kind reward
            when 认定
            amount 5万元
            cite "对认定企业给予5万元奖励"
        }
    }
    measure （三） "运费补助" {
        benefit 运费补助 {
            kind subsidy
            when 出口额 > 0美元
            rate 10% of 运费
            cite "对出口企业给予运费10%补助"
        }
    }
    measure （四） "高新奖励" {
        benefit 高新奖励 {
            kind reward
            when 是高新企业
            amount 1万元
            cite "对高新企业给予1万元奖励"
        }
    }
    measure （五） "上门服务" {
        duty 上门服务 {
            when 分类 in {一类}
            cite "税务局为一类企业提供上门服务"
        }
    }
}
"""

NEW_TEXT = (
    OLD_TEXT.replace("给予保费50%补贴", "给予保费80%补贴")
    .replace("给予5万元奖励", "给予10万元奖励")
    .replace("对出口企业给予运费10%补助。", "运费补助停止执行。")
    .replace("为一类企业", "为一类、二类企业")
    + "（六）新奖励\n对新认定企业给予2万元奖励。\n"
)

NEW_POLICY = (
    OLD_POLICY.replace('source "old.txt"', 'source "new.txt"')
    .replace("rate 50% of 保费", "rate 80% of 保费")
    .replace("给予保费50%补贴", "给予保费80%补贴")
    .replace("amount 5万元", "amount 10万元")
    .replace("给予5万元奖励", "给予10万元奖励")
    .replace("when 分类 in {一类}", "when 分类 in {一类, 二类}")
    .replace("为一类企业提供", "为一类、二类企业提供")
    .replace("fact 是高新企业: bool", "fact 是高新企业: bool\nfact 新事实: bool")
    .replace(
        """        benefit 运费补助 {
            kind subsidy
            when 出口额 > 0美元
            rate 10% of 运费
            cite "对出口企业给予运费10%补助"
        }
""",
        '        cite "运费补助停止执行"\n',
    )
    .rstrip()
    .removesuffix("}")
    + """    measure （六） "新奖励" {
        benefit 新奖励 {
            kind reward
            when 新事实
            amount 2万元
            cite "对新认定企业给予2万元奖励"
        }
    }
}
"""
)

# A: 小微, 50% of 30000 = 15000 capped at 1万元; 认定 5万元; 运费 10% of 1000 = 100; 一类 (owed)
# B: 出口额 exactly 500万美元 (小微, and the lower band); 4000; not 认定; 运费 unknown (undetermined)
# C: not 小微; 认定 5万元; 运费 200; 一类; 所在区县 empty (NULL)
# D: 出口额 unknown: 保费补贴, 运费补助 unknown; 认定 unknown; 分类 unknown
POPULATION = """id,出口额,分类,保费,认定,运费,所在区县
A,3000000,一类,30000,true,1000,渝中区
B,5000000,二类,8000,false,,江北区
C,6000000,一类,,true,2000,
D,,,5000,,500,渝中区
"""
DAY = dt.date(2024, 1, 1)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("impact")
    for name, text in {
        "old.txt": OLD_TEXT,
        "new.txt": NEW_TEXT,
        "old.policy": OLD_POLICY,
        "new.policy": NEW_POLICY,
        "population.csv": POPULATION,
    }.items():
        (directory / name).write_text(text, encoding="utf-8")
    return {name: directory / name for name in ("old.policy", "new.policy", "population.csv")}


def _summary(files: dict[str, Path], by: tuple[str, ...] = ()) -> dict[str, Any]:
    checked = policy_dsl.load(files["old.policy"]).checked
    return population_summary(checked, str(files["population.csv"]), None, DAY, by=by)


def _entry(data: dict[str, Any], benefit: str) -> dict[str, Any]:
    return next(b for b in data["benefits"] if b["benefit"] == benefit)


def test_the_totals_are_the_hand_computed_sums(files: dict[str, Path]) -> None:
    data = _summary(files)
    assert data["enterprises"] == 4
    capped = _entry(data, "保费补贴")  # a rate with a cap: A 10000 (capped), B 4000; D unknown
    assert (capped["eligible"], capped["not_eligible"], capped["unknown"]) == (2, 1, 1)
    assert capped["amount"] == {"total": "14000.00", "undetermined": 1}
    assert _entry(data, "认定奖励")["amount"] == {"total": "100000.00", "undetermined": 1}
    rate = _entry(data, "运费补助")  # B is eligible but its base is unknown; D unknown
    assert (rate["eligible"], rate["unknown"]) == (3, 1)
    assert rate["amount"] == {"total": "300.00", "undetermined": 2}
    # 高新奖励 reads a fact the file lacks: every enterprise undetermined
    assert _entry(data, "高新奖励")["amount"] == {"total": "0.00", "undetermined": 4}
    assert data["totals"] == [{"currency": "CNY", "total": "114300.00", "undetermined": 4, "range": None}]


def test_duties_are_counted(files: dict[str, Path]) -> None:
    duty = _entry(_summary(files), "上门服务")
    assert duty["kind"] == "duty" and duty["amount"] is None and duty["currency"] is None
    assert (duty["eligible"], duty["not_eligible"], duty["unknown"], duty["not_in_force"]) == (2, 1, 1, 0)


def test_missing_facts_are_reported_with_their_count(files: dict[str, Path]) -> None:
    data = _summary(files)
    assert data["missing_facts"] == [{"fact": "是高新企业", "rules": ["高新奖励"], "unknown_results": 4}]
    run = CliRunner().invoke(
        policy,
        [
            "eval",
            str(files["old.policy"]),
            "--population",
            str(files["population.csv"]),
            "--as-of",
            "2024-01-01",
        ],
    )
    assert run.exit_code == 0, run.stderr
    assert run.stdout.splitlines()[1] == (
        "fact `是高新企业` is not a column of the population: 4 results of the rule that reads it are unknown"
    )


def test_a_group_column_with_nulls_gets_its_own_group(files: dict[str, Path]) -> None:
    groups = _summary(files, ("所在区县",))["groups"]
    assert groups["by"] == ["所在区县"]
    rows = {row["group"]["所在区县"]: row for row in groups["rows"]}
    assert list(rows) == ["江北区", "渝中区", None]  # NULL last
    assert rows[None]["enterprises"] == 1  # C
    assert rows["渝中区"]["enterprises"] == 2  # A and D
    assert rows["渝中区"]["totals"] == [{"currency": "CNY", "total": "60100.00"}]  # A: 10000 + 50000 + 100
    assert rows[None]["totals"] == [{"currency": "CNY", "total": "50200.00"}]
    run = CliRunner().invoke(
        policy,
        [
            "eval",
            str(files["old.policy"]),
            "--population",
            str(files["population.csv"]),
            "--as-of",
            "2024-01-01",
            "--by",
            "所在区县",
        ],
    )
    assert "所在区县 (unknown): 1 enterprises" in run.stdout


def test_bands_put_the_boundary_in_the_lower_band(files: dict[str, Path]) -> None:
    groups = _summary(files, ("出口额:500万美元,550万美元",))["groups"]
    rows = {row["group"]["出口额"]: row["enterprises"] for row in groups["rows"]}
    # B exports exactly 500万美元: in the lower band, as 以下 includes the number
    assert rows == {"≤ 500万美元": 2, "> 550万美元": 1, None: 1}  # a band with no enterprise is not listed


def test_several_columns_comma_separated(files: dict[str, Path]) -> None:
    groups = _summary(files, ("所在区县,出口额:500万美元",))["groups"]
    assert groups["by"] == ["所在区县", "出口额"]
    assert {"所在区县": "渝中区", "出口额": "≤ 500万美元"} in [row["group"] for row in groups["rows"]]


def _diff(files: dict[str, Path], **options: Any) -> Any:
    """The population layer; 所在区县, a fact of neither version, is accepted as a --by column only."""
    options.setdefault("by", ("所在区县",))
    old, new = str(files["old.policy"]), str(files["new.policy"])
    result = population_diff(diff_paths(old, new), old, new, str(files["population.csv"]), DAY, **options)
    return result.population


def test_the_diff_sums_old_new_and_change(files: dict[str, Path]) -> None:
    data = _diff(files).to_dict()
    capped = _entry(data, "保费补贴")  # new: A 80% of 30000 capped at 10000, B 6400
    assert capped["amount"] == {
        "old": "14000.00",
        "new": "16400.00",
        "change": "2400.00",
        "undetermined": {"old": 1, "new": 1},
    }
    assert capped["changed"] == {"count": 2}  # the rate changed: A and B, no ids by default
    assert _entry(data, "认定奖励")["amount"]["change"] == "100000.00"
    removed = _entry(data, "运费补助")
    assert removed["lost"] == {"count": 3} and removed["unknown"] == {"count": 1}
    assert removed["amount"] == {
        "old": "300.00",
        "new": "0.00",
        "change": "-300.00",
        "undetermined": {"old": 2, "new": 0},
    }
    assert data["totals"] == [
        {
            "currency": "CNY",
            "old": "114300.00",
            "new": "216400.00",
            "change": "102100.00",
            "undetermined": {"old": 4, "new": 4},
            "range": None,
        }
    ]


def test_the_diff_counts_duties(files: dict[str, Path]) -> None:
    duty = _entry(_diff(files).to_dict(), "上门服务")
    assert duty["kind"] == "duty" and duty["amount"] is None
    assert duty["eligible"] == {"old": 2, "new": 3}
    assert duty["gained"] == {"count": 1}  # B, 二类


def test_the_diff_says_which_facts_are_missing(files: dict[str, Path]) -> None:
    missing = _diff(files).to_dict()["missing_facts"]
    assert {"fact": "新事实", "rules": ["新奖励"], "unknown_results": 4} in missing
    assert {"fact": "是高新企业", "rules": ["高新奖励"], "unknown_results": 4} in missing
    args = [str(files["old.policy"]), str(files["new.policy"]), "--population", str(files["population.csv"])]
    run = CliRunner().invoke(policy_diff, [*args, "--as-of", "2024-01-01", "--by", "所在区县"])
    head = run.stdout.split("\nSummary\n")[0]
    assert "population: fact `新事实` is not a column of the population: 4 results" in head


def test_ids_are_listed_only_when_asked(files: dict[str, Path]) -> None:
    default = _entry(_diff(files).to_dict(), "运费补助")
    assert "ids" not in default["lost"]
    two = _entry(_diff(files, ids=2).to_dict(), "运费补助")
    assert two["lost"] == {"count": 3, "ids": ["A", "B"]}
    every = _entry(_diff(files, ids="all").to_dict(), "运费补助")
    assert every["lost"] == {"count": 3, "ids": ["A", "B", "C"]}
    args = [str(files["old.policy"]), str(files["new.policy"]), "--population", str(files["population.csv"])]
    run = CliRunner().invoke(policy_diff, [*args, "--as-of", "2024-01-01", "--by", "所在区县", "--ids", "2"])
    assert "      lost: A, B, … 1 more" in run.stdout
    run = CliRunner().invoke(policy_diff, [*args, "--as-of", "2024-01-01", "--by", "所在区县"])
    assert "lost: A" not in run.stdout


def test_diff_groups(files: dict[str, Path]) -> None:
    groups = _diff(files, by=("所在区县",)).to_dict()["groups"]
    rows = {row["group"]["所在区县"]: row for row in groups["rows"]}
    assert list(rows) == ["江北区", "渝中区", None]
    jiangbei = next(b for b in rows["江北区"]["benefits"] if b["benefit"] == "保费补贴")
    assert jiangbei["amount"] == {"old": "4000.00", "new": "6400.00", "change": "2400.00"}
    assert rows["江北区"]["totals"][0]["change"] == "2400.00"


@pytest.mark.parametrize(
    ("by", "message"),
    [
        ("区县", "`区县` is not a column of"),
        ("出口额:很多", "`很多` (a bound of `出口额`) is not a value"),
        ("出口额:500万元", "`500万元` is in CNY, but `出口额` is in USD"),
        ("分类:1", "`分类` is a enum fact"),
        ("出口额:500万美元,100万美元", "the bounds of `出口额` must increase"),
    ],
)
def test_a_bad_by_is_a_clear_error(files: dict[str, Path], by: str, message: str) -> None:
    eval_args = ["eval", str(files["old.policy"]), "--population", str(files["population.csv"])]
    diff_args = [
        str(files["old.policy"]),
        str(files["new.policy"]),
        "--population",
        str(files["population.csv"]),
    ]
    for command, args in ((policy, eval_args), (policy_diff, diff_args)):
        run = CliRunner().invoke(command, [*args, "--as-of", "2024-01-01", "--by", by])
        assert run.exit_code == 2, run.stdout
        assert message in run.stderr
        assert "Traceback" not in run.stderr
    run = CliRunner().invoke(policy, [*eval_args, "--by", "区县"])
    assert "did you mean `所在区县`?" in run.stderr


def test_a_column_of_neither_version_is_refused_unless_it_groups(files: dict[str, Path]) -> None:
    args = [str(files["old.policy"]), str(files["new.policy"]), "--population", str(files["population.csv"])]
    run = CliRunner().invoke(policy_diff, [*args, "--as-of", "2024-01-01"])
    assert run.exit_code == 2
    assert "column `所在区县` is a fact of neither version" in run.stderr
    assert "--by 所在区县" in run.stderr


def test_bad_ids_are_a_usage_error(files: dict[str, Path]) -> None:
    args = [str(files["old.policy"]), str(files["new.policy"]), "--population", str(files["population.csv"])]
    run = CliRunner().invoke(policy_diff, [*args, "--ids", "some"])
    assert run.exit_code == 2 and "give a positive number or `all`" in run.stderr


def test_eval_json_has_the_documented_shape(files: dict[str, Path]) -> None:
    args = [
        "eval",
        str(files["old.policy"]),
        "--population",
        str(files["population.csv"]),
        "--as-of",
        "2024-01-01",
    ]
    run = CliRunner().invoke(policy, [*args, "--format", "json", "--by", "所在区县"])
    data = json.loads(run.stdout)
    assert set(data) == {
        "population",
        "as_of",
        "enterprises",
        "missing_facts",
        "benefits",
        "totals",
        "groups",
    }
    assert data["groups"]["rows"][0]["benefits"][0] == {
        "benefit": "保费补贴",
        "eligible": 1,
        "amount": {"total": "4000.00"},
    }


def test_html_is_refused_for_one_enterprise(files: dict[str, Path], tmp_path: Path) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text("{}", encoding="utf-8")
    run = CliRunner().invoke(
        policy, ["eval", str(files["old.policy"]), "--facts", str(facts), "--format", "html"]
    )
    assert run.exit_code == 2 and "--format html is for --population runs" in run.stderr


def test_an_empty_population_sums_to_zero(files: dict[str, Path], tmp_path: Path) -> None:
    """No row: every count 0 and every sum 0.00 (DuckDB's count_if is NULL over no rows)."""
    empty = tmp_path / "empty.csv"
    empty.write_text(POPULATION.splitlines()[0] + "\n", encoding="utf-8")
    checked = policy_dsl.load(files["old.policy"]).checked
    data = population_summary(checked, str(empty), None, DAY, by=("所在区县",))
    assert data["enterprises"] == 0
    assert data["totals"] == [{"currency": "CNY", "total": "0.00", "undetermined": 0, "range": None}]
    assert data["groups"] == {"by": ["所在区县"], "rows": []}
    old, new = str(files["old.policy"]), str(files["new.policy"])
    layer = population_diff(diff_paths(old, new), old, new, str(empty), DAY, by=("所在区县",)).population
    assert layer.to_dict()["totals"][0]["change"] == "0.00"


def test_markdown_carries_the_population_as_tables(files: dict[str, Path]) -> None:
    from policy_dsl.diff.report import render

    old, new = str(files["old.policy"]), str(files["new.policy"])
    result = population_diff(
        diff_paths(old, new), old, new, str(files["population.csv"]), DAY, by=("所在区县",), ids=0
    )
    text = render(result, "markdown")
    section = text.split("## Population", 1)[1]
    assert "```" not in section  # tables, not a preformatted block
    assert "| 保费补贴 | CNY | 14,000.00 | 16,400.00 | +2,400.00 | 1 / 1 |" in section
    assert "| **total** | CNY | 114,300.00 | 216,400.00 | +102,100.00 | 4 / 4 |" in section
    assert "### By 所在区县" in section and "(unknown)" in section
    assert "- 保费补贴, changed: A, B" in section  # the ids asked for (all)


def test_enum_groups_follow_the_enum_order(files: dict[str, Path]) -> None:
    """An enum's groups come in the order the enum declares its values (not their text's order),
    NULL last; other columns in their values' order."""
    from policy_dsl.impact import GroupBy, group_key

    enum, plain = GroupBy("等级", order=("乙", "甲", "丙")), GroupBy("区县")
    values = [("甲", "b"), (None, "a"), ("丙", "a"), ("乙", None), ("乙", "a")]
    ordered = sorted(values, key=lambda v: group_key([enum, plain], v))
    assert ordered == [("乙", "a"), ("乙", None), ("甲", "b"), ("丙", "a"), (None, "a")]
    rows = _summary(files, by=("分类",))["groups"]["rows"]  # and through the population path
    assert [r["group"]["分类"] for r in rows] == ["一类", "二类", None]
