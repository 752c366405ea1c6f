"""What a benefit's text commits to (`commits …`): checked, kept by fmt, shown by eval and explain,
carried by the standalone module, and compared by policy-diff (docs/language.md, "Commitment")."""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

import policy_dsl
from policy_dsl.check import COMMITMENTS, check
from policy_dsl.cli import policy, policy_diff
from policy_dsl.diff.compare import diff_paths
from policy_dsl.errors import PolicyCheckError
from policy_dsl.format import fmt
from policy_dsl.parse import parse

SOURCE = (
    "关于支持企业发展的若干措施\n\n"
    "一、资金支持\n\n"
    "对小微企业给予贷款贴息补助。支持企业参加国际性展会。"
    "研究设立企业纾困基金。对困难企业实行“一事一议”。对新引进的研究生给予每人1万元补贴。\n"
)


def policy_text(commits: dict[str, str | None], follows: bool = False) -> str:
    def line(name: str) -> str:
        value = commits.get(name)
        return f"        commits {value}\n" if value else ""

    extra = ""
    if follows:
        extra = (
            "    benefit 区县展会支持 {\n"
            "        follows 展会支持\n"
            "        when 是区县企业\n"
            '        cite "支持企业参加国际性展会"\n'
            "    }\n"
        )
    return (
        'policy "关于支持企业发展的若干措施" {\n    status final\n    source "source.txt"\n}\n'
        'agency 某局 "某局"\n'
        "fact 是小微企业: bool\nfact 参展: bool\nfact 是困难企业: bool\nfact 是区县企业: bool\n"
        "fact 引进研究生: bool\n"
        'measure 一、 "资金支持" {\n    agencies 某局\n'
        "    benefit 贷款贴息 {\n        kind interest_subsidy\n"
        + line("贷款贴息")
        + '        when 是小微企业\n        cite "对小微企业给予贷款贴息补助"\n    }\n'
        "    benefit 展会支持 {\n        kind other\n"
        + line("展会支持")
        + '        when 参展\n        cite "支持企业参加国际性展会"\n    }\n'
        "    benefit 纾困基金 {\n        kind other\n"
        + line("纾困基金")
        + '        cite "研究设立企业纾困基金"\n    }\n'
        "    benefit 困难企业一事一议 {\n        kind other\n"
        + line("困难企业一事一议")
        + '        when 是困难企业\n        cite "对困难企业实行“一事一议”"\n    }\n'
        "    benefit 研究生补贴 {\n        kind subsidy\n        amount 1万元\n"
        + line("研究生补贴")
        + '        when 引进研究生\n        cite "对新引进的研究生给予每人1万元补贴"\n    }\n'
        + extra
        + "}\n"
    )


STATED = {
    "贷款贴息": None,
    "展会支持": "may_receive",
    "纾困基金": "intention",
    "困难企业一事一议": "case_by_case",
    "研究生补贴": None,
}
FACTS = {"是小微企业": True, "参展": True, "是困难企业": True, "是区县企业": True, "引进研究生": True}


def write(directory: Path, name: str, text: str) -> Path:
    (directory / "source.txt").write_text(SOURCE, encoding="utf-8")
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def warnings_of(path: Path) -> list[str]:
    checked = check(parse(path.read_text(encoding="utf-8"), str(path)), str(path))
    return [d.message for d in checked.warnings if "commits to" in d.message]


def test_a_weaker_promise_unsaid_is_a_warning_naming_the_word(tmp_path: Path) -> None:
    path = write(tmp_path, "p.policy", policy_text({}))
    found = warnings_of(path)
    assert len(found) == 3, found  # 支持, 研究 and 一事一议; 给予 and 研究生 say nothing weaker
    assert any("展会支持" in w and "「支持」" in w for w in found)
    assert any("纾困基金" in w and "「研究」" in w for w in found)
    assert any("困难企业一事一议" in w and "「一事一议」" in w for w in found)
    assert not any("研究生补贴" in w for w in found)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("研究生", False),
        ("研究院", False),
        ("研究所", False),
        ("研究中心", False),
        ("正在研究中", True),
        ("研究制定办法", True),
    ],
)
def test_the_verb_study_is_told_from_nouns_that_hold_it(text: str, says: bool) -> None:
    from policy_dsl.check import _says

    assert _says(text, "研究") is says


def test_saying_the_commitment_silences_the_warning_and_follows_inherits_it(tmp_path: Path) -> None:
    path = write(tmp_path, "p.policy", policy_text(STATED, follows=True))
    assert warnings_of(path) == []
    outcome = policy_dsl.load(str(path)).evaluate(FACTS)
    shown = {b.id: b.commitment for b in outcome.benefits}
    assert shown == {
        "贷款贴息": "entitled",
        "展会支持": "may_receive",
        "纾困基金": "intention",
        "困难企业一事一议": "case_by_case",
        "研究生补贴": "entitled",
        "区县展会支持": "may_receive",  # from the rule it follows
    }


def test_an_unknown_commitment_is_an_error_with_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path, "p.policy", policy_text({**STATED, "展会支持": "may_recieve"}))
    with pytest.raises(PolicyCheckError) as raised:
        check(parse(path.read_text(encoding="utf-8"), str(path)), str(path))
    (error,) = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert "unknown commitment `may_recieve`" in error.message
    assert error.hint is not None and "`may_receive`" in error.hint


@pytest.mark.parametrize("commitment", COMMITMENTS)
def test_fmt_keeps_the_commitment(tmp_path: Path, commitment: str) -> None:
    path = write(tmp_path, "p.policy", policy_text({"展会支持": commitment}))
    text = fmt(parse(path.read_text(encoding="utf-8"), str(path)))
    assert f"        kind other\n        commits {commitment}\n" in text
    assert fmt(parse(text, str(path))) == text


def test_eval_reads_each_promise_as_what_it_is(tmp_path: Path) -> None:
    path = write(tmp_path, "p.policy", policy_text(STATED))
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(FACTS, ensure_ascii=False), encoding="utf-8")
    runner = CliRunner()
    text = runner.invoke(policy, ["eval", str(path), "--facts", str(facts), "--as-of", "2024-01-01"])
    assert text.exit_code == 0, text.stderr
    out = text.stdout
    assert "(of the eligible, 2 entitled; 1 may receive, 1 case by case, 1 announced)" in out
    assert "✓ eligible      贷款贴息" in out
    assert "✓ may receive   展会支持" in out
    assert "✓ case by case  困难企业一事一议" in out
    assert "· announced     纾困基金" in out
    assert "commitment: the text announces work (研究/推动): nothing is owed to an enterprise yet" in out
    as_json = runner.invoke(
        policy, ["eval", str(path), "--facts", str(facts), "--as-of", "2024-01-01", "--format", "json"]
    )
    assert as_json.exit_code == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert {b["id"]: b["commitment"] for b in data["benefits"]} == {
        "贷款贴息": "entitled",
        "展会支持": "may_receive",
        "纾困基金": "intention",
        "困难企业一事一议": "case_by_case",
        "研究生补贴": "entitled",
    }
    explained = runner.invoke(policy, ["explain", str(path), "--facts", str(facts), "--as-of", "2024-01-01"])
    assert explained.exit_code == 0, explained.stderr
    assert "so the enterprise may receive it: the text supports it, the agency decides" in explained.stdout
    assert "so the enterprise is within what the text announces: nothing is owed yet" in explained.stdout


def test_the_standalone_module_carries_the_commitment(tmp_path: Path) -> None:
    path = write(tmp_path, "p.policy", policy_text(STATED))
    loaded = policy_dsl.load(str(path))
    module = types.ModuleType("rules_commitment")
    exec(compile(loaded.module_source(), str(tmp_path / "rules.py"), "exec"), module.__dict__)
    import datetime as dt

    day = dt.date(2024, 1, 1)
    result = module.to_json(module.evaluate(FACTS, day))
    assert result == loaded.evaluate(FACTS, as_of=day).to_json()
    assert {b["id"]: b["commitment"] for b in result["benefits"]}["纾困基金"] == "intention"


def test_policy_diff_reports_a_promise_made_stronger(tmp_path: Path) -> None:
    old = write(tmp_path, "old.policy", policy_text(STATED))
    new = write(tmp_path, "new.policy", policy_text({**STATED, "展会支持": None}))  # unsaid: entitled
    result = diff_paths(str(old), str(new))
    rules = [r for m in result.measures for r in m.rules if r.id == "展会支持"]
    (rule,) = rules
    assert [(f.field, f.old, f.new) for f in rule.fields] == [("commits", "may_receive", "entitled")]
    outcomes = [o for m in result.measures for o in m.outcomes if o.id == "展会支持"]
    (regions,) = outcomes
    (region,) = regions.regions
    assert region.change == "changed"
    assert region.witness.old.commitment == "may_receive"
    assert region.witness.new.commitment == "entitled"
    report = CliRunner().invoke(policy_diff, [str(old), str(new)])
    assert report.exit_code == 1, report.stderr
    assert "commits: may_receive → entitled" in report.stdout
    assert "old: eligible (may receive); new: eligible" in report.stdout


def test_an_explicit_entitlement_is_no_change(tmp_path: Path) -> None:
    old = write(tmp_path, "old.policy", policy_text(STATED))
    new = write(tmp_path, "new.policy", policy_text({**STATED, "贷款贴息": "entitled"}))
    result = diff_paths(str(old), str(new))
    assert not [r for m in result.measures for r in m.rules if r.id == "贷款贴息"]


def test_the_html_report_names_the_promise(tmp_path: Path) -> None:
    old = write(tmp_path, "old.policy", policy_text(STATED))
    new = write(tmp_path, "new.policy", policy_text({**STATED, "展会支持": None}))
    page = CliRunner().invoke(policy_diff, [str(old), str(new), "--format", "html"])
    assert page.exit_code == 1, page.stderr
    assert "承诺强度" in page.stdout
    assert "符合：可获支持（由部门决定）" in page.stdout


POPULATION = (
    "id,是小微企业,参展,是困难企业,是区县企业,引进研究生\n"
    "a,true,true,false,false,true\n"
    "b,false,true,true,false,true\n"
    "c,false,false,false,false,false\n"
)


def test_population_results_name_the_promise_and_the_money_not_promised(tmp_path: Path) -> None:
    path = write(tmp_path, "p.policy", policy_text({**STATED, "研究生补贴": "may_receive"}))
    population = tmp_path / "pop.csv"
    population.write_text(POPULATION, encoding="utf-8")
    runner = CliRunner()
    args = ["eval", str(path), "--population", str(population), "--as-of", "2024-01-01"]
    as_json = runner.invoke(policy, [*args, "--format", "json"])
    assert as_json.exit_code == 0, as_json.stderr
    entries = {e["benefit"]: e for e in json.loads(as_json.stdout)["benefits"]}
    assert entries["研究生补贴"]["commitment"] == "may_receive"
    assert entries["贷款贴息"]["commitment"] == "entitled"
    assert entries["研究生补贴"]["eligible"] == 2
    text = runner.invoke(policy, args)
    assert text.exit_code == 0, text.stderr
    assert "研究生补贴: 2 eligible (may receive: not an entitlement)" in text.stdout
    assert "纾困基金: 3 eligible (announced: not an entitlement)" in text.stdout
    assert "of which 20,000.00 for benefits the text does not promise outright" in text.stdout


def test_a_population_diff_counts_a_changed_promise_as_changed(tmp_path: Path) -> None:
    old = write(tmp_path, "old.policy", policy_text({**STATED, "研究生补贴": "may_receive"}))
    new = write(tmp_path, "new.policy", policy_text(STATED))
    population = tmp_path / "pop.csv"
    population.write_text(POPULATION, encoding="utf-8")
    report = CliRunner().invoke(
        policy_diff, [str(old), str(new), "--population", str(population), "--format", "json"]
    )
    assert report.exit_code == 1, report.stderr
    entries = {b["benefit"]: b for b in json.loads(report.stdout)["population"]["benefits"]}
    moved = entries["研究生补贴"]
    assert moved["commitment"] == {"old": "may_receive", "new": "entitled"}
    assert moved["changed"]["count"] == 2  # a and b: granted under both, the promise made firmer
    assert entries["展会支持"]["changed"]["count"] == 0
