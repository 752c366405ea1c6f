"""policy-diff on a realistic revision: what changed is reported once, where it belongs.

A revision's encoding renames a fact whose trigger was reworded, moves a threshold in the text
but not (by mistake) in the rule, retitles a chapter and gains a validity clause. Each of these
must be reported once — as a rename, a stale quote, a chapter change, a change of standing — and
must not multiply through the rules and outcome layers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policy_dsl.diff.compare import PolicyDiff, diff_paths
from policy_dsl.diff.report import render, to_dict

OLD_TEXT = """关于支持外贸企业的若干措施
一、财税支持
第1条 对上年度出口额500万美元以下的外贸企业，给予保费100%补贴。
第2条 对参加境外展会的外贸企业，给予展位费50%补贴。
"""

NEW_TEXT = """关于支持外贸企业的若干措施
一、财政与税收支持
第1条 对上年度出口额300万美元以下的外贸企业，给予保费100%补贴。
第2条 对参加境外展会的外贸企业，给予展位费50%补贴。
第3条 本措施自2024年1月1日起施行，有效期3年。
"""

HEADER = """policy "关于支持外贸企业的若干措施" {{
    status final
    source "{source}"
{extra}}}
"""

RULES = """fact {export}: money USD {{
    label "{label}"
    description "企业上一个年度的出口额（美元）。"
}}
fact 保费: money CNY
fact 参加境外展会: bool
fact 展位费: money CNY

chapter 一、 "{chapter}" {{
    article 第1条 {{
        benefit 保费补贴 {{
            kind premium_subsidy
            when {export} <= 500万美元
            rate 100% of 保费
            cite "对上年度出口额{amount}以下的外贸企业，给予保费100%补贴"
{waiver}        }}
    }}
    article 第2条 {{
        benefit 展位费补贴 {{
            kind subsidy
            when 参加境外展会
            rate 50% of 展位费
            cite "对参加境外展会的外贸企业，给予展位费50%补贴"
        }}
    }}
}}
"""


def write(tmp_path: Path, name: str, text: str, source: str, **fields: str) -> Path:
    (tmp_path / f"{name}.txt").write_text(source, encoding="utf-8")
    path = tmp_path / f"{name}.policy"
    path.write_text(
        HEADER.format(source=f"{name}.txt", extra=fields.pop("extra", "")) + text, encoding="utf-8"
    )
    return path


@pytest.fixture
def revision(tmp_path: Path) -> PolicyDiff:
    old = write(
        tmp_path,
        "old",
        RULES.format(export="出口额", label="出口额", chapter="财税支持", amount="500万美元", waiver=""),
        OLD_TEXT,
    )
    # the revision: the fact renamed with its reworded trigger, the quote updated to 300万美元 but
    # the rule's threshold left at 500万美元 (waived, so `policy check` lets it through), the
    # chapter retitled, and a validity clause
    new = write(
        tmp_path,
        "new",
        RULES.format(
            export="上年度出口额",
            label="上年度出口额",
            chapter="财政与税收支持",
            amount="300万美元",
            waiver='            waive "300万美元" because "left as it was, to show the warning"\n',
        ),
        NEW_TEXT,
        extra='    effective 2024-01-01\n    valid 3年\n    cite "本措施自2024年1月1日起施行，有效期3年"\n',
    )
    return diff_paths(str(old), str(new))


def test_a_renamed_fact_is_reported_once_as_renamed(revision: PolicyDiff) -> None:
    renamed = [f for f in revision.facts if f.status == "renamed"]
    assert [(f.old, f.new) for f in renamed] == [("出口额", "上年度出口额")]
    assert not [f for f in revision.facts if f.status in ("added", "removed")]
    # the rules read through the rename: no condition of 保费补贴 changed
    changes = {r.id: r for m in revision.measures for r in m.rules}
    assert all(field.field != "when" for field in changes["保费补贴"].fields)
    # and no outcome moved: the rename is not a change of who gets what
    assert not [o for m in revision.measures for o in m.outcomes if o.regions]


def test_a_quote_whose_numbers_changed_under_an_unchanged_rule_is_flagged(revision: PolicyDiff) -> None:
    changes = {r.id: r for m in revision.measures for r in m.rules}
    [field] = changes["保费补贴"].fields
    assert field.field == "cited quantities (the rule did not change)"
    assert (field.old, field.new) == ("500万美元、100%", "300万美元、100%")
    assert "展位费补贴" not in changes


def test_a_retitled_chapter_is_one_change_and_its_measures_do_not_move(revision: PolicyDiff) -> None:
    [chapter] = revision.chapter_changes
    assert chapter.kind == "retitled"
    assert chapter.label == "一、财税支持 → 一、财政与税收支持"
    assert not any(m.change.moved for m in revision.measures)


def test_the_validity_is_reported_once_not_per_rule(revision: PolicyDiff) -> None:
    assert (
        "validity",
        "no validity stated",
        "in force 2024-01-01 to 2027-01-01",
    ) in revision.standing_changes()
    # outcomes compare the rules as written: the validity gained does not make every benefit "lost"
    # before 2024 and after 2027
    assert not [r for m in revision.measures for o in m.outcomes for r in o.regions]


@pytest.mark.parametrize("output", ["text", "markdown", "json", "html"])
def test_every_format_carries_the_rename_the_chapter_and_the_validity(
    revision: PolicyDiff, output: str
) -> None:
    text = render(revision, output)
    for fact in ("出口额", "上年度出口额"):
        assert fact in text
    assert "财政与税收支持" in text
    assert "2027-01-01" in text
    assert "300万美元" in text


def test_the_json_names_the_facts_layer_and_the_standing(revision: PolicyDiff) -> None:
    data = to_dict(revision)
    assert data["schema_version"] == "3.3"
    assert data["facts"][0]["status"] == "renamed"
    assert data["new"]["validity"] == "in force 2024-01-01 to 2027-01-01"
    assert data["chapters"][0]["kind"] == "retitled"


MERGE_OLD = """措施
一、支持
（一）稳定生产
建立重点企业服务台账，细化企业服务工作。协调解决物流困难。（责任单位：市经济信息委、市商务委）
（二）扩大出口
支持企业参加境外展会，拓展国际市场。（责任单位：市商务委）
"""

MERGE_NEW = """措施
一、支持
（一）稳定生产和扩大出口
建立重点企业服务台账，细化企业服务工作。协调解决物流困难。支持企业参加境外展会，拓展国际市场。（责任单位：市经济和信息化委员会、市商务委）
"""


def test_a_merge_says_where_each_old_part_lands(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_text(MERGE_OLD, encoding="utf-8")
    (tmp_path / "new.txt").write_text(MERGE_NEW, encoding="utf-8")
    diff = diff_paths(str(tmp_path / "old.txt"), str(tmp_path / "new.txt"))
    [merged] = [m for m in diff.measures if m.kind == "merged"]
    assert merged.boundaries == (("（一）", "（一）", 1, 2), ("（二）", "（一）", 3, 3))
    text = render(diff, "text")
    assert "parts: （一） → （一） (sentences 1–2 of （一）); （二） → （一） (sentence 3 of （一）)" in text


def test_an_agency_renamed_in_place_is_a_rename_not_a_new_lead(tmp_path: Path) -> None:
    old = MERGE_OLD.replace(
        "（二）扩大出口\n支持企业参加境外展会，拓展国际市场。（责任单位：市商务委）\n", ""
    )
    new = old.replace("市经济信息委", "市经济和信息化委员会")
    (tmp_path / "old.txt").write_text(old, encoding="utf-8")
    (tmp_path / "new.txt").write_text(new, encoding="utf-8")
    diff = diff_paths(str(tmp_path / "old.txt"), str(tmp_path / "new.txt"))
    [measure] = diff.measures
    assert measure.units is not None
    assert measure.units.renamed == (("市经济信息委", "市经济和信息化委员会"),)
    assert (measure.units.added, measure.units.removed, measure.units.lead) == ((), (), None)


def test_a_threshold_that_moves_many_rules_is_reported_once() -> None:
    """The revision raises 中型外贸企业 to 6000万美元: five benefits and duties gain the same region,
    reported once under Shared changes, and each of them only refers to it."""
    root = Path(__file__).resolve().parent.parent / "policies" / "cq-foreign-trade-2022"
    diff = diff_paths(str(root / "draft.policy"), str(root / "revision-example.policy"))
    shared = to_dict(diff)["shared"]
    [entry] = [s for s in shared if s["condition"] == "是外贸企业 and 出口额 in (5000万美元, 6000万美元]"]
    assert entry["change"] == "gained" and len(entry["rules"]) == 5
    text = render(diff, "text")
    shared_line = "gained: 是外贸企业 and 出口额 in (5000万美元, 6000万美元] (shared: see Shared changes)"
    assert text.count(shared_line) == 5
    assert "witness: 是外贸企业 = true, 出口额 = 5500万美元 —" not in text  # not repeated per rule
    assert (
        "witness: 是外贸企业 = true, 出口额 = 5500万美元, 急需资金 = true" in text
    )  # its own region has one
