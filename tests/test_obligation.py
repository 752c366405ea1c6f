"""Obligations of the enterprise and their sanctions (企业应当缴纳…, 违约追回, 无偿收回): an
`obligation` is evaluated like a duty (applies / does not apply / unknown / not in force) but is the
enterprise's, and says what follows for it — in eval, explain, JSON, fmt, the checker and policy-diff."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import policy_dsl
from policy_dsl.check import check
from policy_dsl.cli import policy
from policy_dsl.diff.compare import diff_paths
from policy_dsl.errors import PolicyError
from policy_dsl.format import fmt
from policy_dsl.parse import parse

ROOT = Path(__file__).resolve().parent.parent
GOOD = ROOT / "tests" / "examples" / "good" / "obligations.policy"
DAY = dt.date(2024, 1, 1)


def test_an_obligation_applies_with_its_sanctions() -> None:
    loaded = policy_dsl.load(str(GOOD))
    outcome = loaded.evaluate({"是新上重点产业项目": True, "土地连续未使用时长": "2年"}, as_of=DAY)
    reclaim = next(d for d in outcome.duties if d.id == "收回土地使用权")
    assert reclaim.status == "applies" and reclaim.obligation
    assert reclaim.sanctions == ("县政府解除合同", "无偿收回企业的土地使用权")
    fee = next(d for d in outcome.duties if d.id == "缴纳土地闲置费")
    assert fee.status == "unknown" and fee.missing_facts == ("未动工建设时长",)
    text = outcome.to_text()
    assert "obligations of the enterprise (applies: its condition names this enterprise" in text
    assert "duties of the agencies" not in text  # this policy has none
    assert "    sanction: 无偿收回企业的土地使用权" in text
    data = outcome.to_json()
    entry = next(d for d in data["duties"] if d["id"] == "收回土地使用权")
    assert entry["obligation"] is True and entry["sanctions"] == [
        "县政府解除合同",
        "无偿收回企业的土地使用权",
    ]
    below = loaded.evaluate({"是新上重点产业项目": True, "土地连续未使用时长": "1年"}, as_of=DAY)
    assert next(d for d in below.duties if d.id == "收回土地使用权").status == "does_not_apply"


def test_explain_says_what_the_enterprise_faces(tmp_path: Path) -> None:
    facts = tmp_path / "f.json"
    facts.write_text(
        json.dumps({"是新上重点产业项目": True, "未动工建设时长": "1年"}, ensure_ascii=False), "utf-8"
    )
    result = CliRunner().invoke(
        policy, ["explain", str(GOOD), "--facts", str(facts), "--as-of", "2024-01-01"]
    )
    assert result.exit_code == 0, result.stderr
    assert (
        "so it applies to this enterprise: the enterprise must do or bear it, and faces 缴纳土地闲置费"
        in (result.stdout)
    )


def test_fmt_and_check() -> None:
    text = GOOD.read_text(encoding="utf-8")
    model = parse(text, str(GOOD))
    assert fmt(model) == text
    checked = check(model, str(GOOD))
    assert [info.rule.enterprise for info in checked.duties] == [True, True]  # type: ignore[union-attr]
    result = CliRunner().invoke(policy, ["check", str(GOOD)])
    assert "0 benefits, 0 duties, 2 obligations" in result.stdout


def test_an_obligation_follows_only_an_obligation(tmp_path: Path) -> None:
    text = (
        GOOD.read_text(encoding="utf-8")
        .replace(
            "        obligation 收回土地使用权",
            "        duty 巡查 {\n"
            '            cite "新建重点产业项目一年以上未动工建设的，按照法律规定企业应当缴纳土地闲置费"\n'
            '            waive "一年" because "t"\n'
            "        }\n\n"
            "        obligation 收回土地使用权",
        )
        .replace(
            '            sanction "县政府解除合同"\n',
            '            follows 巡查\n            sanction "县政府解除合同"\n',
        )
    )
    path = tmp_path / "p.policy"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "obligations.txt").write_text(
        (GOOD.parent / "obligations.txt").read_text(encoding="utf-8"), encoding="utf-8"
    )
    with pytest.raises(PolicyError) as raised:
        check(parse(text, str(path)), str(path))
    messages = [d.message for d in raised.value.diagnostics if d.severity == "error"]
    assert any("obligation `收回土地使用权` follows `巡查`, which is a duty" in m for m in messages), messages


def test_policy_diff_reports_a_sanction_and_the_kind(tmp_path: Path) -> None:
    source = (GOOD.parent / "obligations.txt").read_text(encoding="utf-8")
    for side in ("old", "new"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "obligations.txt").write_text(source, encoding="utf-8")
    old_text = GOOD.read_text(encoding="utf-8")
    new_text = old_text.replace('            sanction "县政府解除合同"\n', "")
    (tmp_path / "old" / "p.policy").write_text(old_text, encoding="utf-8")
    (tmp_path / "new" / "p.policy").write_text(new_text, encoding="utf-8")
    result = diff_paths(str(tmp_path / "old" / "p.policy"), str(tmp_path / "new" / "p.policy"))
    (rule,) = [r for m in result.measures for r in m.rules if r.id == "收回土地使用权"]
    assert rule.kind == "obligation"
    assert ("sanction 1", "县政府解除合同", "无偿收回企业的土地使用权") in [
        (f.field, f.old, f.new) for f in rule.fields
    ]
