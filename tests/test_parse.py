"""The grammar and the parser: shapes, Chinese names beside keywords, friendly syntax errors."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import pytest
from lark import Lark

from policy_dsl import load
from policy_dsl import model as m
from policy_dsl.errors import PolicyError, PolicySyntaxError
from policy_dsl.parse import parse, parser


def test_grammar_has_no_terminal_collisions_in_strict_mode() -> None:
    text = importlib.resources.files("policy_dsl").joinpath("grammar/policy.lark").read_text(encoding="utf-8")
    Lark(text, parser="lalr", strict=True)


def test_parser_is_built_once() -> None:
    assert parser() is parser()


def test_chinese_names_and_keywords() -> None:
    policy = parse('fact 出口额: money 美元\nfact 企业类别: 类别\nenum 类别 { 一类, 二类 "二类企业" }\n')
    fact = policy.items[0]
    assert isinstance(fact, m.FactDecl)
    assert fact.name == "出口额"
    assert fact.type == m.TypeRef("money", "USD")
    enum = policy.items[2]
    assert isinstance(enum, m.EnumDecl)
    assert [v.name for v in enum.values] == ["一类", "二类"]


def test_keyword_glued_to_a_chinese_name_reads_as_keyword_then_name() -> None:
    # Chinese text has no spaces; where only a keyword can stand, the lexer splits them.
    assert parse("fact出口额: bool\n") == parse("fact 出口额: bool\n")
    assert parse("definition 甲 { means 乙 and丙 }\n") == parse("definition 甲 { means 乙 and 丙 }\n")


def test_glued_keyword_where_a_name_could_stand_gets_a_hint(tmp_path: Path) -> None:
    (tmp_path / "s.txt").write_text("甲。", encoding="utf-8")
    text = 'policy "p" { source "s.txt" }\nfact 小微: bool\ndefinition 非小微 { means not小微 cite "甲" }\n'
    (tmp_path / "p.policy").write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load(tmp_path / "p.policy")
    assert "unknown name `not小微`" in str(caught.value)
    assert "put a space between `not` and `小微`" in str(caught.value)


def test_keywords_are_not_names() -> None:
    with pytest.raises(PolicySyntaxError, match="`amount` is a keyword"):
        parse("fact amount: money CNY\n")


def test_name_that_starts_with_a_keyword_is_still_a_name() -> None:
    policy = parse("fact factor: bool\nfact policy_date: date\n")
    assert [item.name for item in policy.items if isinstance(item, m.FactDecl)] == ["factor", "policy_date"]


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        ("fact 出口额：bool\n", "ASCII colon"),
        ("definition d { means 出口额 = 5 }\n", "compare with `==`"),
        ('policy "未完 {\n', "string is not closed"),
        ('policy "x" {\n', "the `{` on line 1 is never closed"),
        ("definition d { means x == 2022/06/20 }\n", "write dates as 2022-06-20"),
    ],
)
def test_friendly_syntax_errors(source: str, needle: str) -> None:
    with pytest.raises(PolicySyntaxError) as caught:
        parse(source, "bad.policy")
    assert needle in str(caught.value)


def test_caret_is_aligned_under_wide_characters() -> None:
    source = "fact 出口额: money USD\ndefinition 小微 { means 出口额 <= 500万美元 and and }\n"
    with pytest.raises(PolicySyntaxError) as caught:
        parse(source, "w.policy")
    lines = str(caught.value).splitlines()
    source_line = next(line for line in lines if line.startswith("2 | "))
    caret_line = lines[lines.index(source_line) + 1]
    # The second `and` starts after 出口额 (6 columns wide) etc.; the caret must sit under it.
    prefix = source_line[: source_line.index("and and") + 4]
    from policy_dsl.source import display_width

    assert caret_line.index("^") == display_width(prefix)


def test_positions_are_kept() -> None:
    policy = parse('\n\nfact 出口额: money USD { label "出口额" }\n', "p.policy")
    fact = policy.items[0]
    assert (fact.pos.line, fact.pos.column) == (3, 1)
    assert fact.pos.path == "p.policy"


def test_duplicate_field_is_reported() -> None:
    with pytest.raises(PolicySyntaxError, match="`kind` is given twice"):
        parse('measure （一） "t" { benefit b { kind reward kind subsidy } }\n')


def test_literals_in_conditions() -> None:
    policy = parse("definition d { means 额 between 500万美元 and 5000万美元 and 日 >= 2022年6月20日 }\n")
    definition = policy.items[0]
    assert isinstance(definition, m.Definition)
    assert isinstance(definition.means, m.And)
    between, comparison = definition.means.operands
    assert isinstance(between, m.Between)
    assert isinstance(comparison, m.Comparison)
