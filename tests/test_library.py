"""A library of policies: vocabularies, the index's checks, matching one enterprise across documents
(standing, areas, same-content groups, what to ask next), and reverse matching over a population.

The fixture library (tests/fixtures/library, invented texts) has a province, a city and a county
policy of one area, an older county policy the newer one replaces, and a policy of another area.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy_dsl.cli import policy as policy_cli
from policy_dsl.errors import FactsError, PolicyCheckError
from policy_dsl.library import Library, load_library
from policy_dsl.policy import load
from policy_dsl.values import Money

FIXTURE = Path(__file__).parent / "fixtures" / "library"
DAY = dt.date(2024, 1, 1)


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(FIXTURE)


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "library"
    shutil.copytree(FIXTURE, target)
    return target


def _messages(error: pytest.ExceptionInfo[Any]) -> list[str]:
    return [d.message for d in error.value.diagnostics if d.severity == "error"]


# ---------------------------------------------------------------- vocabularies


def _policy_using(tmp_path: Path, *vocabularies: str, own: str = "", when: str = "是规上工业企业") -> Path:
    (tmp_path / "t.txt").write_text("给予企业奖励。\n", encoding="utf-8")
    uses = "\n".join(f'use "{v}"' for v in vocabularies)
    text = f"""policy "t" {{
    status draft
    source "t.txt"
}}

{uses}
{own}
benefit 奖励 {{
    kind reward
    when {when}
    amount 1万元
    cite "给予企业奖励"
}}
"""
    path = tmp_path / "t.policy"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_fact_two_vocabularies_declare_with_different_types_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.vocabulary").write_text("fact 出口额: money USD\nfact 是规上工业企业: bool\n", "utf-8")
    (tmp_path / "b.vocabulary").write_text("fact 出口额: money CNY\n", "utf-8")
    with pytest.raises(PolicyCheckError) as error:
        load(_policy_using(tmp_path, "a.vocabulary", "b.vocabulary"))
    assert _messages(error) == [
        "`出口额` is declared in `a.vocabulary` as money USD and in `b.vocabulary` as money CNY"
    ]
    where = error.value.diagnostics[0].pos
    assert where is not None and where.path.endswith("b.vocabulary") and where.line == 1


def test_one_meaning_in_two_vocabularies_is_one_declaration(tmp_path: Path) -> None:
    (tmp_path / "a.vocabulary").write_text("fact 出口额: money USD\nfact 是规上工业企业: bool\n", "utf-8")
    (tmp_path / "b.vocabulary").write_text('fact 出口额: money 美元 { label "出口额" }\n', "utf-8")
    when = "是规上工业企业 and 出口额 >= 0美元"
    policy = load(_policy_using(tmp_path, "a.vocabulary", "b.vocabulary", when=when))
    assert policy.checked.facts["出口额"].origin == "a.vocabulary"
    facts = {"是规上工业企业": True, "出口额": "10万美元"}
    assert policy.evaluate(facts, as_of=DAY, adopted=True).benefit("奖励").status == "eligible"


def test_a_policy_asks_only_the_vocabulary_facts_it_uses(tmp_path: Path) -> None:
    (tmp_path / "a.vocabulary").write_text(
        "enum 规模 { 大型, 中型, 小型 }\nfact 企业规模: 规模\nfact 出口额: money USD\n"
        "fact 是规上工业企业: bool\ndefinition 中型以上 { means 企业规模 in {大型, 中型} }\n",
        "utf-8",
    )
    policy = load(_policy_using(tmp_path, "a.vocabulary", when="中型以上 and 是规上工业企业"))
    checked = policy.checked
    assert (set(checked.facts), set(checked.enums), set(checked.definitions)) == (
        {"企业规模", "是规上工业企业"},
        {"规模"},
        {"中型以上"},
    )


def test_a_policy_redeclaring_a_vocabulary_fact_is_told_so(tmp_path: Path) -> None:
    (tmp_path / "a.vocabulary").write_text("fact 是规上工业企业: bool\n", "utf-8")
    with pytest.raises(PolicyCheckError) as error:
        load(_policy_using(tmp_path, "a.vocabulary", own="fact 是规上工业企业: integer\n"))
    assert _messages(error) == [
        "`是规上工业企业` is already declared in the vocabulary `a.vocabulary` as bool"
    ]


def test_a_vocabulary_holds_declarations_only(tmp_path: Path) -> None:
    (tmp_path / "a.vocabulary").write_text(
        'fact 是规上工业企业: bool\nbenefit x { kind reward amount 1元 cite "给予企业奖励" }\n', "utf-8"
    )
    with pytest.raises(PolicyCheckError) as error:
        load(_policy_using(tmp_path, "a.vocabulary"))
    assert any("may declare only agencies, enums, facts" in m for m in _messages(error))


# ---------------------------------------------------------------- the index


def test_the_fixture_library_checks_clean(library: Library) -> None:
    assert list(library.policies) == [
        "province.policy",
        "city.policy",
        "county.policy",
        "county-old.policy",
        "chongqing.policy",
    ]
    assert library.around["柳河县"] == ("全国", "吉林省", "通化市")
    assert [g.name for g in library.same] == ["驰名商标", "专精特新", "研发补助"]
    assert [w for w in library.warnings if "index" in w.message] == []


def test_a_fact_with_two_meanings_across_the_library_is_an_error(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    city = folder / "city.policy"
    city.write_text(
        city.read_text("utf-8").replace(
            'use "shared.vocabulary"\n',
            'use "shared.vocabulary"\n\nfact 初次认定国家级企业技术中心: integer\n',
        ),
        "utf-8",
    )
    with pytest.raises(PolicyCheckError) as error:
        load_library(folder)
    # the index lists city.policy first: the county's declaration is the one reported, pointing back
    assert _messages(error) == [
        "`初次认定国家级企业技术中心` means bool here but integer in `city.policy` (line 16)"
    ]
    assert str(error.value.diagnostics[0].pos.path).endswith("county.policy")


def test_index_errors_are_all_reported_with_hints(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    index = folder / "library.index"
    text = index.read_text("utf-8")
    text = text.replace('"county.policy" 县驰名商标奖励', '"county.policy" 县驰名商标奖')
    text = text.replace("                    柳河县", "                    柳河")
    text = text.replace('policy "chongqing.policy"', 'policy "chongqing.policy" replaces "chongqing.policy"')
    text = text.replace('"city.policy" 市专精特新奖励', '"cty.policy" 市专精特新奖励')
    index.write_text(text, "utf-8")
    with pytest.raises(PolicyCheckError) as error:
        load_library(folder)
    found = {d.message: d.hint for d in error.value.diagnostics if d.severity == "error"}
    assert found == {
        "a policy cannot replace itself": None,
        "`柳河` is not a value of enum `行政区`": "did you mean `柳河县`?",
        **{
            f"the jurisdiction `柳河县` of `{county}` is not an area of the library": "did you mean `柳河`?"
            for county in ("county.policy", "county-old.policy")
        },
        "`county.policy` has no benefit `县驰名商标奖`": "did you mean `县驰名商标奖励`?",
        "`cty.policy` is not a policy of this library": "did you mean `city.policy`?",
    }


def test_a_policy_in_the_folder_but_not_in_the_index_is_a_warning(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    shutil.copy(folder / "city.policy", folder / "city-copy.policy")
    library = load_library(folder)
    assert [w.message for w in library.warnings] == [
        "`city-copy.policy` is in the library's folder but not in its index: it is not matched"
    ]


# ---------------------------------------------------------------- matching one enterprise


def _statuses(match: Any) -> dict[str, str]:
    return {f"{pid}:{bid}": e.status for (pid, bid), e in match.entries.items()}


def test_superseded_across_documents_keep_highest_and_precedence(library: Library) -> None:
    facts = {
        "所在地": "柳河县",
        "新获认定中国驰名商标": True,
        "新列入专精特新中小企业": True,
        "研发费用": "300万元",
    }
    match = library.match(facts, as_of=DAY)
    assert _statuses(match) == {
        "province.policy:省驰名商标奖励": "superseded",  # 就高: the county's 50万元 over 30万元
        "province.policy:省专精特新奖励": "eligible",
        "province.policy:省研发补助": "superseded",  # 就高: 10% of 300万元 = 30万元 over 20万元
        "city.policy:市专精特新奖励": "superseded",  # 上级文件优先: the province's, though lower
        "county.policy:县驰名商标奖励": "eligible",
        "county.policy:县技术中心奖励": "unknown",
        "county.policy:县研发补助": "eligible",
        "county.policy:县展会支持": "unknown",
        "county-old.policy:旧驰名商标奖励": "repealed",
        "chongqing.policy:渝驰名商标奖励": "outside_area",
    }
    kept = match.entries[("province.policy", "省驰名商标奖励")]
    assert kept.superseded_by == ("county.policy", "县驰名商标奖励")
    assert kept.settled == "keep highest"
    assert kept.basis == (
        "county.policy",
        "本政策涉及同一内容的奖励与其他政策文件规定不一致的，按就高不重复原则办理",
    )
    city = match.entries[("city.policy", "市专精特新奖励")]
    assert (city.superseded_by, city.settled) == (("province.policy", "省专精特新奖励"), "precedence higher")
    assert match.totals() == {"CNY": Money(Decimal("1000000.00"), "CNY")}
    data = match.to_json()
    assert [b["benefit"] for b in data["benefits"]["entitled"]] == [
        "省专精特新奖励",
        "县驰名商标奖励",
        "县研发补助",
    ]
    assert [b["benefit"] for b in data["superseded"]] == ["省驰名商标奖励", "省研发补助", "市专精特新奖励"]
    assert data["superseded"][0]["superseded_by"] == {"policy": "county.policy", "benefit": "县驰名商标奖励"}


def test_before_the_new_version_the_old_one_stands_and_they_stack(library: Library) -> None:
    facts = {"所在地": "柳河县", "新获认定中国驰名商标": True}
    match = library.match(facts, as_of=dt.date(2022, 6, 1))
    statuses = _statuses(match)
    assert statuses["county.policy:县驰名商标奖励"] == "not_in_force"  # takes effect 2023-01-01
    assert statuses["county-old.policy:旧驰名商标奖励"] == "eligible"
    assert statuses["province.policy:省驰名商标奖励"] == "eligible"
    # neither the old county text nor the province's says 就高不重复 or 上级文件优先: both are paid
    assert match.entries[("county-old.policy", "旧驰名商标奖励")].settled == "stacks"
    assert match.standings["county.policy"].status == "not_in_force"
    assert match.standings["county-old.policy"].status == "in_force"


def test_the_area_decides_which_documents_apply(library: Library) -> None:
    chongqing = library.match({"所在地": "重庆市", "新获认定中国驰名商标": True}, as_of=DAY)
    assert [k for k, e in chongqing.entries.items() if e.status == "eligible"] == [
        ("chongqing.policy", "渝驰名商标奖励")
    ]
    city = library.match({"所在地": "通化市", "新列入专精特新中小企业": True}, as_of=DAY)
    assert city.standings["county.policy"].status == "outside_area"  # the county lies inside the city
    assert city.entries[("city.policy", "市专精特新奖励")].status == "superseded"


@pytest.mark.parametrize("area", [None, "渝中区"])
def test_an_area_not_given_or_not_placed_leaves_each_benefit_unknown_for_it(
    library: Library, area: str | None
) -> None:
    facts: dict[str, Any] = {"新获认定中国驰名商标": True}
    if area is not None:
        facts["所在地"] = area  # an open enum: a value not listed, which the library cannot place
    match = library.match(facts, as_of=DAY)
    entry = match.entries[("county.policy", "县驰名商标奖励")]
    assert (entry.status, entry.missing) == ("unknown", ("所在地",))
    assert match.ask_next()[0].fact == "所在地"


def test_what_to_ask_next_ranks_by_what_each_fact_could_unlock(library: Library) -> None:
    asks = library.match({"所在地": "柳河县"}, as_of=DAY).ask_next()
    ranked = [(a.fact, len(a.decides), sorted(str(m) for m in a.amounts)) for a in asks]
    assert ranked == [
        ("初次认定国家级企业技术中心", 1, ["100万元"]),
        # 50万元 and 30万元 reward the same thing (就高不重复): it could add 50万元, not 80万元
        ("新获认定中国驰名商标", 2, ["50万元"]),
        ("新列入专精特新中小企业", 2, ["20万元"]),
        # the county's 10% of 研发费用 has no fixed amount; the province's 20万元 does
        ("研发费用", 2, ["20万元"]),
        ("参加境外展会", 1, []),  # may receive: nothing fixed is owed
    ]


def test_unknown_facts_and_wrong_values_are_reported_together(library: Library) -> None:
    with pytest.raises(FactsError) as error:
        library.match({"新获认定中国驰名商: ": True, "研发费用": "三百万", "所在地": 5}, as_of=DAY)
    messages = [d.message for d in error.value.diagnostics]
    assert len(messages) == 3
    assert messages[0].startswith("unknown fact `新获认定中国驰名商: `")
    assert error.value.diagnostics[0].hint == "did you mean `新获认定中国驰名商标`?"
    assert any("研发费用" in m for m in messages)
    assert "fact `所在地`: expected one of 全国, 吉林省, 通化市, 柳河县, 重庆市, got 5" in messages


def test_match_command_text_json_html_and_errors(tmp_path: Path) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(
        json.dumps({"所在地": "柳河县", "新获认定中国驰名商标": True}, ensure_ascii=False), "utf-8"
    )
    runner = CliRunner()
    base = ["match", str(FIXTURE), "--facts", str(facts), "--as-of", "2024-01-01"]
    text = runner.invoke(policy_cli, base)
    assert text.exit_code == 0, text.output
    assert "Entitled (给予: the text grants it) (1):" in text.output
    assert (
        "as county.policy says: 「本政策涉及同一内容的奖励与其他政策文件规定不一致的，按就高不重复原则办理」"
        in text.output
    )
    assert "  1. 初次认定国家级企业技术中心 — decides 1 benefit alone (up to 100万元)" in text.output
    data = json.loads(runner.invoke(policy_cli, [*base, "--format", "json"]).output)
    assert data["benefits"]["entitled"][0]["benefit"] == "县驰名商标奖励"
    assert data["ask_next"][0]["fact"] == "初次认定国家级企业技术中心"
    page = runner.invoke(policy_cli, [*base, "--format", "html"]).output
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "县技术中心" not in page
    assert "初次认定国家级企业技术中心奖励" in page
    facts.write_text('{"所在地": "柳河县", "研发费用": "300万美元"}', "utf-8")
    bad = runner.invoke(policy_cli, base)
    assert bad.exit_code == 2
    assert "facts.json:1:" in bad.output and "研发费用" in bad.output and "Traceback" not in bad.output


def test_check_command_checks_the_library(tmp_path: Path) -> None:
    result = CliRunner().invoke(policy_cli, ["check", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    assert "library 「测试政策库」: 5 policies, 1 vocabulary" in result.output
    folder = _copy(tmp_path)
    (folder / "library.index").write_text('library "x" { policy "nope.policy" }\n', "utf-8")
    result = CliRunner().invoke(policy_cli, ["check", str(folder)])
    assert result.exit_code == 2
    assert "library.index:1:22: error: policy `nope.policy` not found" in result.output


# ---------------------------------------------------------------- reverse matching

AREAS = st.sampled_from([None, "柳河县", "通化市", "吉林省", "重庆市", "全国", "渝中区"])
FLAGS = st.sampled_from([None, True, False])
SPEND = st.one_of(
    st.none(),
    st.sampled_from([Decimal("0"), Decimal("0.01"), Decimal("2000000"), Decimal("2000000.01")]),
    st.decimals(min_value=0, max_value=10**8, places=2),
)
ENTERPRISE = st.fixed_dictionaries(
    {
        "所在地": AREAS,
        "新获认定中国驰名商标": FLAGS,
        "新列入专精特新中小企业": FLAGS,
        "研发费用": SPEND,
        "初次认定国家级企业技术中心": FLAGS,
        "参加境外展会": FLAGS,
    }
)
DAYS = st.sampled_from([dt.date(2021, 6, 1), dt.date(2022, 6, 1), DAY, dt.date(2026, 1, 2)])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(enterprises=st.lists(ENTERPRISE, min_size=1, max_size=12), day=DAYS)
def test_population_matching_agrees_with_matching_each_enterprise(
    library: Library,
    tmp_path_factory: pytest.TempPathFactory,
    enterprises: list[dict[str, Any]],
    day: dt.date,
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from policy_dsl.matching import population_results, read_population, row_keys

    types = {
        "所在地": pa.string(),
        "新获认定中国驰名商标": pa.bool_(),
        "新列入专精特新中小企业": pa.bool_(),
        "研发费用": pa.decimal128(20, 2),
        "初次认定国家级企业技术中心": pa.bool_(),
        "参加境外展会": pa.bool_(),
    }
    columns = {"id": pa.array([f"e{i}" for i in range(len(enterprises))])}
    columns.update(
        {name: pa.array([e[name] for e in enterprises], type=kind) for name, kind in types.items()}
    )
    path = tmp_path_factory.mktemp("population") / "enterprises.parquet"
    pq.write_table(pa.table(columns), path)
    table = read_population(library, str(path))
    results = population_results(library, table, day, adopted=False)
    assert row_keys(table) == [f"e{i}" for i in range(len(enterprises))]
    for row, enterprise in enumerate(enterprises):
        facts = {name: value for name, value in enterprise.items() if value is not None}
        if "研发费用" in facts:
            facts["研发费用"] = Money(facts["研发费用"], "CNY")
        single = library.match(facts, as_of=day).entries
        assert {k: c.status[row] for k, c in results.items()} == {k: e.status for k, e in single.items()}, (
            facts
        )
        for key, entry in single.items():
            assert results[key].superseded_by.get(row) == entry.superseded_by, (key, facts)
            assert results[key].settled.get(row) == (
                entry.settled if entry.status in ("eligible", "superseded") else None
            )
            if entry.status == "eligible":
                assert results[key].amount[row] == entry.amount, (key, facts)


def test_population_command_reports_whom_a_policy_newly_reaches(tmp_path: Path) -> None:
    population = tmp_path / "enterprises.csv"
    population.write_text(
        "id,所在地,新获认定中国驰名商标,新列入专精特新中小企业,研发费用,初次认定国家级企业技术中心\n"
        "a,柳河县,true,true,3000000,\n"  # county and province both reach it
        "b,柳河县,false,false,,true\n"  # only the county's 技术中心奖励
        "c,重庆市,true,,,\n"  # outside the county
        "d,,,,,true\n",  # area unknown: unknown, not reached
        "utf-8",
    )
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        policy_cli,
        [
            "match",
            str(FIXTURE),
            "--population",
            str(population),
            "--as-of",
            "2024-01-01",
            "--policy",
            "county.policy",
            "-o",
            str(out),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["enterprises"] == 4
    assert data["policy"]["reaches"] == 2
    assert data["policy"]["newly_reached"] == ["b"]
    written = out.read_text("utf-8").splitlines()
    assert written[0] == "id,policy,benefit,status,commitment,amount,currency"
    assert "a,county.policy,县研发补助,eligible,entitled,300000.0000,CNY" in written


def test_library_cases_pass_and_a_wrong_expectation_fails(tmp_path: Path) -> None:
    runner = CliRunner()
    cases = FIXTURE / "cases.json"
    result = runner.invoke(policy_cli, ["test", str(FIXTURE), str(cases)])
    assert result.exit_code == 0, result.output
    assert result.output.endswith("3 passed, 0 failed\n")
    wrong = tmp_path / "cases.json"
    wrong.write_text(
        cases.read_text("utf-8")
        .replace('"ask_next": ["所在地"]', '"ask_next": ["新获认定中国驰名商标"]')
        .replace(
            '"省专精特新奖励": {"status": "eligible", "amount": "20万元"}', '"省专精特新奖励": "unknown"'
        ),
        "utf-8",
    )
    result = runner.invoke(policy_cli, ["test", str(FIXTURE), str(wrong)])
    assert result.exit_code == 1
    assert "province.policy 省专精特新奖励: expected unknown, got eligible" in result.output
    assert "ask next: expected ['新获认定中国驰名商标'], got ['所在地']" in result.output
    typo = tmp_path / "typo.json"
    typo.write_text(cases.read_text("utf-8").replace('"repealed"', '"repeal"'), "utf-8")
    result = runner.invoke(policy_cli, ["test", str(FIXTURE), str(typo)])
    assert result.exit_code == 2
    assert "`repeal` is not a status (county-old.policy 旧驰名商标奖励)" in result.output
    assert "did you mean `repealed`?" in result.output


def test_the_index_formats_back_to_itself_and_the_schema_covers_every_policy() -> None:
    from policy_dsl.format import fmt
    from policy_dsl.parse import parse

    text = (FIXTURE / "library.index").read_text("utf-8")
    assert fmt(parse(text, "library.index")) == text
    result = CliRunner().invoke(policy_cli, ["schema", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.output)
    assert set(schema["properties"]) == {
        "所在地",
        "新获认定中国驰名商标",
        "新列入专精特新中小企业",
        "研发费用",
        "初次认定国家级企业技术中心",
        "参加境外展会",
    }
    assert schema["additionalProperties"] is False


def test_what_to_ask_next_tries_each_answer_of_an_enum() -> None:
    """The tourism text's four star levels (2万元, 4万元, 8万元, 15万元): one answer, one level, so
    the most it could unlock is 15万元, not their sum; it ranks below a 30万元 yes/no question."""
    shipped = load_library(Path(__file__).parent.parent / "policies")
    facts = {
        "所在地": "柳河县",
        "已享受县政府一事一议优惠": False,
        "已享受其他部门财政补助": False,
        "违规经营或违规申报经核实": False,
    }
    asks = {a.fact: a for a in shipped.match(facts, as_of=dt.date(2020, 6, 1)).ask_next()}
    stars = asks["乡村旅游示范单位新评定星级"]
    assert len(stars.decides) == 4
    assert [str(m) for m in stars.amounts] == ["15万元"]
    order = [a.fact for a in shipped.match(facts, as_of=dt.date(2020, 6, 1)).ask_next()]
    assert order.index("初次认定省级企业技术中心") < order.index("乡村旅游示范单位新评定星级")


def test_the_html_page_escapes_what_the_policies_say(tmp_path: Path) -> None:
    """A policy file is untrusted input: its labels reach the page as text, never as markup."""
    folder = _copy(tmp_path)
    county = folder / "county.policy"
    county.write_text(
        county.read_text("utf-8").replace(
            '"新获认定中国驰名商标奖励" {', '"<script>alert(1)</script>驰名商标奖励 & <b>" {', 1
        ),
        "utf-8",
    )
    match = load_library(folder).match({"所在地": "柳河县", "新获认定中国驰名商标": True}, as_of=DAY)
    page = match.to_html()
    assert "<script" not in page and "驰名商标奖励 & <b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;驰名商标奖励 &amp; &lt;b&gt;" in page


def test_one_fact_described_two_ways_is_a_warning_unless_one_version_replaces_the_other(
    tmp_path: Path,
) -> None:
    folder = _copy(tmp_path)

    def declare(name: str, description: str) -> None:
        path = folder / name
        fact = f'fact 参加境外展会: bool {{\n    description "{description}"\n}}\n'
        text = path.read_text("utf-8")
        if "fact 参加境外展会: bool\n" in text:
            text = text.replace("fact 参加境外展会: bool\n", fact)
        else:
            text = text.replace('use "shared.vocabulary"\n', f'use "shared.vocabulary"\n\n{fact}')
        path.write_text(text, "utf-8")

    declare("county.policy", "参加境外举办的展会")
    declare("county-old.policy", "参加境内外展会")  # an earlier version of the county's text
    assert load_library(folder).warnings == ()
    declare("province.policy", "参加境内外展会")  # in force beside the county's text
    warnings = load_library(folder).warnings
    assert [w.message for w in warnings] == [
        "`参加境外展会` is described differently here and in `province.policy` (line 14): "
        "one answer is read for both"
    ]
    assert str(warnings[0].pos.path).endswith("county.policy")
