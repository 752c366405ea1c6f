"""``policy-diff`` on the shipped pair: the draft against the illustrative revision.

Every change listed in ``revision-example.CHANGES.md`` must be reported in its layer of the JSON
report, and nothing else may be reported as changed. Then encodings (GB18030, CRLF, BOM), bad
input (exit 2, a clear message, no traceback) and the command's options and exit codes.
"""

from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import policy_dsl
from policy_dsl.cli import policy_diff
from policy_dsl.diff.compare import diff_paths
from policy_dsl.diff.report import render, to_dict

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "policies" / "cq-foreign-trade-2022"
DRAFT, REVISION = EXAMPLE / "draft.policy", EXAMPLE / "revision-example.policy"
DRAFT_TXT, REVISION_TXT = EXAMPLE / "draft.txt", EXAMPLE / "revision-example.txt"
CHANGES = EXAMPLE / "revision-example.CHANGES.md"


# ---------------------------------------------------------------- the intended changes


@cache
def changes_table() -> tuple[dict[str, str], ...]:
    """The rows of the table in CHANGES.md, keyed by its header."""
    lines = [line for line in CHANGES.read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        assert len(cells) == len(header), line
        rows.append(dict(zip(header, cells, strict=True)))
    return tuple(rows)


def row(kind: str) -> dict[str, str]:
    [found] = [r for r in changes_table() if r["kind"] == kind]
    return found


def numbers(cell: str) -> list[str]:
    """The measure labels a cell names: （六）（十二） → （六）, （十二） (ASCII closing brackets too)."""
    return [f"（{n}）" for n in re.findall(r"（([一二三四五六七八九十]+)[）)]", cell)]


def quoted(cell: str) -> list[str]:
    return re.findall(r'"([^"]+)"', cell)


def idents(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def units_of(text: str) -> list[str]:
    match = re.search(r"责任单位：(.+?)）", text)
    assert match, text
    return [u for u in re.split(r"[、，]", match[1]) if u]


@cache
def report() -> dict[str, Any]:
    result = to_dict(diff_paths(str(DRAFT), str(REVISION)))
    # the JSON form is the one a reader of the report gets: check it survives a round trip
    decoded: dict[str, Any] = json.loads(json.dumps(result, ensure_ascii=False))
    return decoded


@cache
def rule_ids() -> dict[str, str]:
    """Every rule id of either version, with its kind (benefit, duty, target, definition)."""
    out: dict[str, str] = {}
    for path in (DRAFT, REVISION):
        checked = policy_dsl.load(path).checked
        out.update({name: "definition" for name in checked.definitions})
        for kind, infos in (
            ("benefit", checked.benefits),
            ("duty", checked.duties),
            ("target", checked.targets),
        ):
            out.update({info.rule.name: kind for info in infos})
    return out


def rules_named(r: dict[str, str]) -> list[str]:
    return [i for i in idents(r["rule ids"]) if i in rule_ids()]


def measure_by_old(number: str) -> dict[str, Any]:
    found = [mm for mm in report()["measures"] if number in [x["number"] for x in mm["old"]]]
    assert len(found) == 1, (number, found)
    return found[0]


def measure_by_new(number: str) -> dict[str, Any]:
    found = [mm for mm in report()["measures"] if number in [x["number"] for x in mm["new"]]]
    assert len(found) == 1, (number, found)
    return found[0]


def all_rules() -> list[dict[str, Any]]:
    return [*report()["definitions"], *(r for mm in report()["measures"] for r in mm["rules"])]


def rule(ident: str) -> dict[str, Any]:
    found = [r for r in all_rules() if r["id"] == ident]
    assert len(found) == 1, (ident, found)
    return found[0]


def field(ident: str, name: str) -> dict[str, Any]:
    found = [f for f in rule(ident)["fields"] if f["field"] == name]
    assert len(found) == 1, (ident, name, rule(ident)["fields"])
    return found[0]


def regions(ident: str) -> list[dict[str, Any]]:
    return [
        region
        for mm in report()["measures"]
        for benefit in mm["outcomes"]
        if benefit["benefit"] == ident
        for region in benefit["regions"]
    ]


def test_the_table_lists_the_fourteen_changes() -> None:
    kinds = [r["kind"] for r in changes_table()]
    assert kinds == [
        "threshold",
        "rate",
        "cap",
        "period",
        "service-level",
        "agency-added",
        "agency-removed",
        "measure-inserted",
        "measure-deleted",
        "measure-renumbered",
        "measure-moved",
        "measures-merged",
        "reworded",
        "conditions-tightened-and-loosened",
    ]


# ---------------------------------------------------------------- each change, in its layer


def test_c1_threshold_in_the_rules_and_the_outcomes() -> None:
    r = row("threshold")
    old_words, new_words = quoted(r["draft"])[0], quoted(r["revision"])[0]
    assert "5000万美元" in old_words and "6000万美元" in new_words
    named = rules_named(r)
    # 中型外贸企业 changes; 中小微外贸企业 (named as the way through) does not
    definition, through = [i for i in named if rule_ids()[i] == "definition"]
    assert through not in {x["id"] for x in all_rules()}
    change = field(definition, "threshold")
    assert (change["old"], change["new"]) == ("出口额 <= 5000万美元", "出口额 <= 6000万美元")
    assert measure_by_old(numbers(r["draft"])[0]) is measure_by_new(numbers(r["revision"])[0])
    benefits = [i for i in named if rule_ids()[i] == "benefit"]
    assert len(benefits) == 5
    for ident in benefits:
        found = regions(ident)
        gained = [x for x in found if x["change"] == "gained"]
        assert gained, ident
        assert any("出口额 in (5000万美元, 6000万美元]" in x["condition"] for x in gained), (ident, found)
        assert not [x for x in found if x["change"] == "lost"], ("no one loses", ident, found)


@pytest.mark.parametrize(
    ("kind", "name"),
    [("rate", "rate"), ("cap", "cap"), ("period", "period"), ("service-level", "goal 1")],
)
def test_c2_to_c5_rule_fields(kind: str, name: str) -> None:
    r = row(kind)
    [ident] = rules_named(r)[:1]
    assert rule(ident)["status"] == "changed"
    change = field(ident, name)
    # the quantity the drafter changed, as the table quotes it, is on each side of the field
    old_words, new_words = quoted(r["draft"])[0], quoted(r["revision"])[0]
    old_q = [q for q in re.findall(r"\d+(?:年\d+月\d+日|万元|%|个工作日)", old_words)]
    new_q = [q for q in re.findall(r"\d+(?:年\d+月\d+日|万元|%|个工作日)", new_words)]
    moved = [(a, b) for a, b in zip(old_q, new_q, strict=True) if a != b]
    assert len(moved) == 1, (old_q, new_q)
    assert moved[0][0] in change["old"] and moved[0][1] in change["new"], change
    # （五）'s average is the tax bureau's own goal (a target), its period a general duty's
    expected_kind = {"period": "duty", "service-level": "target"}.get(kind, "benefit")
    assert rule(ident)["kind"] == expected_kind
    measure = measure_by_old(numbers(r["draft"])[0])
    assert [x["number"] for x in measure["new"]] == numbers(r["revision"])[:1]
    assert ident in [x["id"] for x in measure["rules"]]


def test_c4_period_gains_the_commitment_for_the_extra_months() -> None:
    [ident] = rules_named(row("period"))
    gained = [x for x in regions(ident) if x["change"] == "gained"]
    assert [x["condition"] for x in gained] == ["评估日期 in (2023-06-30, 2023-12-31]"]
    assert not [x for x in regions(ident) if x["change"] == "lost"]


def test_c3_cap_raises_the_maximum_without_changing_eligibility() -> None:
    [ident] = rules_named(row("cap"))
    found = regions(ident)
    assert {x["change"] for x in found} == {"changed"}

    def cap(shown: str) -> Decimal:
        match = re.fullmatch(r"up to ([\d.]+) CNY", shown)
        assert match, shown
        return Decimal(match[1])

    [witness] = [x["witness"] for x in found]
    assert (cap(witness["old"]["amount"]), cap(witness["new"]["amount"])) == (1_000_000, 1_500_000)


@pytest.mark.parametrize("kind", ["agency-added", "agency-removed"])
def test_c6_c7_units_layer(kind: str) -> None:
    r = row(kind)
    before, after = units_of(quoted(r["draft"])[0]), units_of(quoted(r["revision"])[0])
    measure = measure_by_old(numbers(r["draft"])[0])
    assert [x["number"] for x in measure["new"]] == numbers(r["revision"])[:1]
    units = measure["units"]
    assert units["old"] == before and units["new"] == after
    assert units["added"] == [u for u in after if u not in before]
    assert units["removed"] == [u for u in before if u not in after]
    assert units["added"] or units["removed"]
    assert units["lead"] is None and units["renamed"] == [] and not units["reordered"]
    assert measure["rules"] == [], "the encodings' rules inherit the units: no rule changes"
    assert all(s["op"] == "equal" for s in measure["title_redline"])
    changed_text = "".join(s["text"] for s in measure["redline"] if s["op"] != "equal")
    assert changed_text == "、".join(units["added"] + units["removed"]) + "、", measure["redline"]


def test_c8_measure_inserted() -> None:
    r = row("measure-inserted")
    [number] = numbers(r["revision"])
    measure = measure_by_new(number)
    assert measure["kind"] == "inserted" and measure["old"] == []
    assert measure["new"][0]["title"] == quoted(r["revision"])[0]
    assert measure["new"][0]["chapter"] == "三、"
    added = rules_named(r)
    assert sorted(x["id"] for x in measure["rules"]) == sorted(added)
    assert all(x["status"] == "added" for x in measure["rules"])
    subsidy = "境外商标注册和国际认证费用补助"
    assert field(subsidy, "cap")["new"] == "20万元"
    assert field(subsidy, "rate")["new"] == "50% of 境外商标注册和国际认证费用"
    assert {x["change"] for x in regions(subsidy)} == {"gained"}
    assert all(x["witness"]["old"]["status"] == "absent" for x in regions(subsidy))


def test_c9_measure_deleted() -> None:
    r = row("measure-deleted")
    [number] = numbers(r["draft"])
    measure = measure_by_old(number)
    assert measure["kind"] == "deleted" and measure["new"] == []
    assert measure["old"][0]["title"] == quoted(r["draft"])[0]
    removed = rules_named(r)
    assert sorted(x["id"] for x in measure["rules"]) == sorted(removed)
    assert all(x["status"] == "removed" for x in measure["rules"])
    for ident in removed:
        if rule_ids()[ident] == "benefit":
            assert {x["change"] for x in regions(ident)} == {"lost"}, ident
    assert "多转出进项税额抵扣" not in [x["id"] for x in all_rules()]
    assert regions("多转出进项税额抵扣") == []


def test_c10_renumbered_measures_are_not_modified() -> None:
    r = row("measure-renumbered")
    olds, news = numbers(r["draft"].split("respectively")[0]), numbers(r["revision"].split("respectively")[0])
    assert len(olds) == len(news) == 6
    for old, new in zip(olds, news, strict=True):
        measure = measure_by_old(old)
        assert [x["number"] for x in measure["new"]] == [new]
        assert measure["renumbered"] and not measure["moved"], (old, new)
    # （七）→（六） and （八）→（七）: unchanged apart from the number
    for old in ("（七）", "（八）"):
        measure = measure_by_old(old)
        assert measure["kind"] == "unchanged", old
        assert measure["rules"] == [] and not measure["units"]["added"] and not measure["units"]["removed"]
        assert all(s["op"] == "equal" for s in measure["redline"] + measure["title_redline"])
    for kept in ("（一）", "（二）", "（三）", "（十三）"):
        measure = measure_by_new(kept)
        assert [x["number"] for x in measure["old"]] == [kept] and not measure["renumbered"]


def test_c11_measure_moved() -> None:
    r = row("measure-moved")
    measure = measure_by_old(numbers(r["draft"])[0])
    assert [x["number"] for x in measure["new"]] == numbers(r["revision"])[:1]
    assert measure["kind"] == "unchanged"
    assert measure["moved"] and measure["renumbered"]
    assert (measure["old"][0]["chapter"], measure["new"][0]["chapter"]) == ("二、", "三、")
    assert measure["rules"] == [] and measure["outcomes"] == []
    assert all(s["op"] == "equal" for s in measure["redline"] + measure["title_redline"])
    assert [m for m in report()["measures"] if m["moved"]] == [measure], "only （四） moved"


def test_c12_measures_merged() -> None:
    r = row("measures-merged")
    olds, [new] = numbers(r["draft"])[:2], numbers(r["revision"])[:1]
    measure = measure_by_new(new)
    assert measure["kind"] == "merged"
    assert [x["number"] for x in measure["old"]] == olds
    assert measure["renumbered"]
    merged_rules = set(rules_named(r))
    assert not [x for x in all_rules() if x["id"] in merged_rules], "merged rules are unchanged rules"
    # the units of each merged measure against the merged list, as the row describes: （十）'s rules
    # change lead from 人行重庆营管部 to 市商务委 and gain 各区县政府; （九）'s gain 中国信保重庆分公司
    assert measure["units"] is None
    parts = {part["measures"]: part for part in measure["units_parts"]}
    assert set(parts) == {f"{olds[0]}→{new}", f"{olds[1]}→{new}"}
    nine, ten = parts[f"{olds[0]}→{new}"], parts[f"{olds[1]}→{new}"]
    assert nine["added"] == ["中国信保重庆分公司"] and nine["removed"] == [] and nine["lead"] is None
    assert ten["added"] == ["各区县政府"] and ten["removed"] == []
    assert ten["lead"] == {"old": "人行重庆营管部", "new": "市商务委"}
    for part in parts.values():
        assert set(part["new"]) == set(units_of(r["revision"]))


def test_c13_reworded() -> None:
    r = row("reworded")
    measure = measure_by_old(numbers(r["draft"])[0])
    assert measure["kind"] == "reworded"
    assert measure["rules"] == [] and measure["outcomes"] == []
    assert any(s["op"] != "equal" for s in measure["redline"])


def test_c14_conditions_tightened_and_loosened() -> None:
    r = row("conditions-tightened-and-loosened")
    [ident] = rules_named(r)
    when = field(ident, "when")
    assert "首次投保短期出口信用保险" in when["new"] and "出口额 <= 1000万美元" in when["new"]
    changes = {x["change"]: x for x in regions(ident)}
    assert {"gained", "lost"} <= set(changes)
    assert "出口额 in (500万美元, 1000万美元]" in changes["gained"]["condition"]
    assert "not 首次投保短期出口信用保险" in changes["lost"]["condition"]
    # C2: those eligible in both get 80% instead of 100% of the premium
    assert "changed" in changes
    witness = changes["changed"]["witness"]
    assert witness["old"]["amount"] == "10000.00 CNY" and witness["new"]["amount"] == "8000.00 CNY"


# ---------------------------------------------------------------- nothing else


def test_nothing_else_is_reported_as_changed() -> None:
    rows = changes_table()
    named_rules = {i for r in rows for i in rules_named(r)}
    named_old = {n for r in rows for n in numbers(r["draft"])}
    named_new = {n for r in rows for n in numbers(r["revision"])}
    data = report()
    assert data["old"]["title"] == data["new"]["title"]
    # rules: exactly the ones the table names, and every one the table says changes
    reported = {x["id"] for x in all_rules()}
    assert reported <= named_rules, reported - named_rules
    expected_changes = {
        "中型外贸企业",
        "小微企业信保保费补贴",
        "国际注册产品奖励",
        "退税办理时间",
        "退税平均办理时间",
        *rules_named(row("measure-inserted")),
        *rules_named(row("measure-deleted")),
    }
    assert reported == expected_changes
    # outcomes: only benefits the table names
    with_regions = {b["benefit"] for mm in data["measures"] for b in mm["outcomes"] if b["regions"]}
    assert with_regions <= named_rules, with_regions - named_rules
    for measure in data["measures"]:
        olds = {x["number"] for x in measure["old"]}
        news = {x["number"] for x in measure["new"]}
        if not (olds & named_old or news & named_new):
            # （一）（三）: identical; （三）'s duty 中小微外贸企业直客对接 may show C1's outcome
            assert measure["kind"] == "unchanged", measure["kind"]
            assert not measure["renumbered"] and not measure["moved"]
            assert (
                measure["rules"] == [] and not measure["units"]["added"] and not measure["units"]["removed"]
            )
            assert all(s["op"] == "equal" for s in measure["redline"] + measure["title_redline"])
        units = measure["units"]
        if units and (units["added"] or units["removed"] or units["lead"] or units["renamed"]):
            # C6 and C7 only; the merge (C12) reports its units under the merge
            assert olds in ({"（二）"}, {"（十一）"}), (olds, units)
    summary = data["summary"]
    structure = summary["structure"]
    assert (structure["deleted"], structure["inserted"], structure["merged"]) == (1, 1, 1)
    assert structure.get("split", 0) == 0 and structure["reworded"] == 1
    # modified: （五）（六）（十二） for their rules, and （二）（十一） if a units change counts as one
    assert structure["modified"] + structure["unchanged"] == 3 + 7
    assert (structure["renumbered"], structure["moved"]) == (8, 1)
    # C6 adds 市公安局, C7 removes 市农业农村委; the merge (C12) adds one unit to each member's list
    # and changes （十）'s lead
    assert summary["units"]["added"] == 3 and summary["units"]["removed"] == 1
    assert summary["units"]["renamed"] == 0 and summary["units"]["lead changed"] == 1
    # only C9 (the deleted measure) and C14 (renewals) lose anything
    losers = {
        b["benefit"]
        for mm in data["measures"]
        for b in mm["outcomes"]
        for x in b["regions"]
        if x["change"] == "lost"
    }
    allowed = {*rules_named(row("measure-deleted")), *rules_named(row("conditions-tightened-and-loosened"))}
    assert losers <= allowed, losers - allowed
    assert {"加工贸易专项资金支持", "自贸区两头在外保税维修", "小微企业信保保费补贴"} <= losers


def test_unchanged_rules_in_changed_measures() -> None:
    """CHANGES.md: in （六）→（五） only the threshold, rate and conditions moved."""
    for ident in (
        "优化承保理赔服务",
        "小微企业统一投保平台",
        "出运前订单取消风险保障",
        "新业态出口信用保险承保",
        "资信服务",
        "风险预警提示",
        "一般贸易出口承保支持",
        "小微外贸企业",
        "小微外贸企业认定标准放宽",
        "信保赔款视同收汇退税",
        "多转出进项税额抵扣",
        "鼓励类进口贴息",
        "进口贸易促进创新示范区",
    ):
        assert ident in rule_ids(), ident
        assert ident not in {x["id"] for x in all_rules()}, ident
        assert regions(ident) == [], ident


def test_plain_texts_give_the_same_structure() -> None:
    plain = to_dict(diff_paths(str(DRAFT_TXT), str(REVISION_TXT)))
    encoded = report()

    def shape(data: dict[str, Any]) -> list[Any]:
        return [
            (
                mm["kind"],
                [x["number"] for x in mm["old"]],
                [x["number"] for x in mm["new"]],
                mm["renumbered"],
                mm["moved"],
                mm["redline"],
                mm["units"],
            )
            for mm in data["measures"]
        ]

    # the encodings' rule changes turn reworded into modified; the plain texts know no rules
    assert shape(plain) == shape(encoded)
    assert plain["old"]["status"] == "征求意见稿"
    assert plain["new"]["status"] == "示例修订稿，非官方"


# ---------------------------------------------------------------- encodings


def _without_encoding(data: dict[str, Any]) -> dict[str, Any]:
    data = json.loads(json.dumps(data, ensure_ascii=False))
    for side in ("old", "new"):
        data[side].pop("encoding")
        data[side].pop("path")
    return data


@pytest.mark.parametrize(
    ("encode", "expected"),
    [
        (lambda t: t.replace("\n", "\r\n").encode("gb18030"), "GB18030, CRLF"),
        (lambda t: t.encode("gb18030"), "GB18030"),
        (lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"), "UTF-8 with BOM"),
        (lambda t: b"\xef\xbb\xbf" + t.replace("\n", "\r\n").encode("utf-8"), "UTF-8 with BOM, CRLF"),
    ],
    ids=["gb18030-crlf", "gb18030", "bom", "bom-crlf"],
)
def test_encodings_give_the_same_report(tmp_path: Path, encode: Any, expected: str) -> None:
    paths = []
    for source in (DRAFT_TXT, REVISION_TXT):
        target = tmp_path / source.name
        target.write_bytes(encode(source.read_text(encoding="utf-8")))
        paths.append(str(target))
    utf8 = diff_paths(str(DRAFT_TXT), str(REVISION_TXT))
    other = diff_paths(*paths)
    assert (other.old.encoding, other.new.encoding) == (expected, expected)
    assert _without_encoding(to_dict(other)) == _without_encoding(to_dict(utf8))
    text = render(other, "text")
    first = text.splitlines()[0]
    assert first == f"policy-diff {paths[0]} ({expected}) → {paths[1]} ({expected})"
    assert text.split("\n", 1)[1] == render(utf8, "text").split("\n", 1)[1]


def test_mixed_encodings_are_named_each(tmp_path: Path) -> None:
    old = tmp_path / "old.txt"
    old.write_bytes(DRAFT_TXT.read_text(encoding="utf-8").replace("\n", "\r\n").encode("gb18030"))
    result = CliRunner().invoke(policy_diff, [str(old), str(REVISION_TXT)])
    assert result.exit_code == 1, result.stderr
    assert result.stdout.splitlines()[0] == f"policy-diff {old} (GB18030, CRLF) → {REVISION_TXT} (UTF-8)"


# ---------------------------------------------------------------- bad input


def _assert_clean_error(result: Any, *needles: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert isinstance(result.exception, SystemExit), result.exception
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    result = CliRunner().invoke(policy_diff, [str(DRAFT_TXT), str(missing)])
    _assert_clean_error(result, f"{missing}: no such file")


def test_missing_policy_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.policy"
    result = CliRunner().invoke(policy_diff, [str(missing), str(DRAFT)])
    _assert_clean_error(result, f"{missing}: no such file")


def test_binary_file(tmp_path: Path) -> None:
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = CliRunner().invoke(policy_diff, [str(DRAFT_TXT), str(binary)])
    _assert_clean_error(result, f"{binary}: is a binary file")


def test_text_without_measures(tmp_path: Path) -> None:
    prose = tmp_path / "prose.txt"
    prose.write_text("关于推动外贸保稳提质的实施意见\n\n这是一段没有措施编号的文字。\n", encoding="utf-8")
    result = CliRunner().invoke(policy_diff, [str(prose), str(DRAFT_TXT)])
    _assert_clean_error(result, f"{prose}: does not look like a policy document", "（一）")


def test_neither_utf8_nor_gb18030(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes("（一）措施\n".encode() + b"\x80\xff\xfe\n")
    result = CliRunner().invoke(policy_diff, [str(DRAFT_TXT), str(bad)])
    _assert_clean_error(result, f"{bad}: is neither UTF-8 nor GB18030 text")


def test_one_policy_and_one_text() -> None:
    result = CliRunner().invoke(policy_diff, [str(DRAFT), str(REVISION_TXT)])
    _assert_clean_error(result, "compare two .policy files or two plain texts, not one of each")


def test_a_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(policy_diff, [str(tmp_path), str(DRAFT_TXT)])
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr and result.stderr


def test_a_policy_that_does_not_check(tmp_path: Path) -> None:
    folder = tmp_path / "cq"
    shutil.copytree(EXAMPLE, folder)
    shutil.copy(Path(EXAMPLE).parent / "enterprise.vocabulary", folder.parent)
    path = folder / "revision-example.policy"
    text = path.read_text(encoding="utf-8")
    broken = text.replace(
        "when 是外贸企业 and 出口额 <= 1000万美元", "when 是外贸企业 and 出口 <= 1000万美元", 1
    )
    assert broken != text
    path.write_text(broken, encoding="utf-8")
    result = CliRunner().invoke(policy_diff, [str(folder / "draft.policy"), str(path)])
    _assert_clean_error(result, "unknown name `出口`", "did you mean `出口额`?")


# ---------------------------------------------------------------- the command


def test_exit_codes() -> None:
    runner = CliRunner()
    assert runner.invoke(policy_diff, [str(DRAFT), str(REVISION)]).exit_code == 1
    assert runner.invoke(policy_diff, [str(DRAFT_TXT), str(REVISION_TXT)]).exit_code == 1
    same = runner.invoke(policy_diff, [str(DRAFT), str(DRAFT)])
    assert same.exit_code == 0, same.stderr
    assert same.stdout.rstrip().endswith("no differences")
    assert runner.invoke(policy_diff, [str(REVISION_TXT), str(REVISION_TXT)]).exit_code == 0


def test_json_format() -> None:
    result = CliRunner().invoke(policy_diff, [str(DRAFT), str(REVISION), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["schema"] == "policy-diff" and data["schema_version"] == "3.3"
    assert data["different"] is True
    same = CliRunner().invoke(policy_diff, [str(DRAFT_TXT), str(DRAFT_TXT), "--format", "json"])
    assert same.exit_code == 0
    assert json.loads(same.stdout)["different"] is False


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_output_file(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    runner = CliRunner()
    written = runner.invoke(policy_diff, [str(DRAFT), str(REVISION), "--format", fmt, "-o", str(out)])
    assert written.exit_code == 1, written.stderr
    assert written.stdout == ""
    assert written.stderr == f"wrote {out}\n"
    printed = runner.invoke(policy_diff, [str(DRAFT), str(REVISION), "--format", fmt])
    assert out.read_text(encoding="utf-8") == printed.stdout
    assert "\x1b[" not in printed.stdout


def test_colour_only_when_asked() -> None:
    coloured = CliRunner().invoke(policy_diff, [str(DRAFT_TXT), str(REVISION_TXT), "--color"])
    assert "\x1b[31m[-" in coloured.stdout and "\x1b[32m{+" in coloured.stdout
    plain = CliRunner().invoke(policy_diff, [str(DRAFT_TXT), str(REVISION_TXT)])
    assert "\x1b[" not in plain.stdout


def test_heading_numbers_order_by_value_in_any_script() -> None:
    from policy_dsl.diff.compare import _numeral

    assert [_numeral(n) for n in ("十四", "3", "１２", "②", "⑵", "百")] == [14, 3, 12, 2, 2, 100]
    assert _numeral("甲") == 0
