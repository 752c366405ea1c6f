"""Positions: every model node knows where it is written, as Lark's ``propagate_positions`` says.

The parser builds a Lark tree and hands each node, with its ``meta``, to a :class:`_ToModel`
method; these tests pin the spans a user sees in diagnostics (a block from its keyword to its
``}``, a condition from its opening parenthesis), and that parses share no state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest

from policy_dsl import model as m
from policy_dsl.errors import PolicySyntaxError
from policy_dsl.parse import parse
from policy_dsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
DRAFT = ROOT / "policies" / "cq-foreign-trade-2022" / "draft.policy"
EXAMPLES = [
    *sorted((ROOT / "policies").rglob("*.policy")),  # the Chongqing draft among them
    *sorted((ROOT / "tests" / "examples" / "good").glob("*.policy")),
    *sorted((ROOT / "tests" / "examples" / "bad").glob("*.policy")),
]

Where = tuple[str, str, int, int, int, int]


def where(node: Any, path: str = "") -> list[Where]:
    """Every position in a model, with the field path that leads to it."""
    found: list[Where] = []
    if attrs.has(type(node)):
        pos = getattr(node, "pos", None)
        if pos is not None:
            found.append((path, type(node).__name__, pos.line, pos.column, pos.end_line, pos.end_column))
        for field in attrs.fields(type(node)):
            if field.name != "pos":
                found += where(getattr(node, field.name), f"{path}.{field.name}")
    elif isinstance(node, tuple | list):
        for index, item in enumerate(node):
            found += where(item, f"{path}[{index}]")
    return found


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_node_of_a_shipped_or_example_file_has_a_position(path: Path) -> None:
    """Every node of every file that parses is placed inside its file, start before end."""
    text = SourceFile.read(path).text
    try:
        model = parse(text, str(path))
    except PolicySyntaxError as error:
        assert all(d.pos is not None and d.pos.line >= 1 for d in error.diagnostics)
        return
    lines = text.count("\n") + 1
    for _, _, line, column, end_line, end_column in where(model.items):
        assert 1 <= line <= end_line <= lines and column >= 1
        assert (line, column) <= (end_line, end_column)


def test_the_draft_has_many_positions_to_compare() -> None:
    model = parse(DRAFT.read_text(encoding="utf-8"), str(DRAFT))
    found = where(model.items)
    assert len(found) > 800
    assert all(line >= 1 and column >= 1 for _, _, line, column, _, _ in found)


def test_spans_take_in_keywords_and_parentheses() -> None:
    text = (
        'definition d {\n  means (a or b) and not c\n}\nenum e { x, y, }\nagency A "甲" { aliases "乙", }\n'
    )
    definition, enum, agency = parse(text).items
    assert isinstance(definition, m.Definition) and isinstance(definition.means, m.And)
    assert where(definition)[0][2:] == (1, 1, 3, 2)  # from `definition` to `}`
    conjunction = definition.means
    assert where(conjunction)[0][2:] == (2, 9, 2, 27)  # from `(` to `c`
    assert where(conjunction.operands[0])[0][2:] == (2, 10, 2, 16)  # inside the parentheses
    assert where(conjunction.operands[1])[0][2:] == (2, 22, 2, 27)  # from `not`
    assert where(enum)[0][2:] == (4, 1, 4, 17)
    assert where(agency)[0][2:] == (5, 1, 5, 30)


def test_a_unit_spans_its_keyword_to_its_brace() -> None:
    text = 'chapter 二、 "支持范围" {\n  article 第 1 0 条 {\n    cite "x"\n  }\n}\n'
    [chapter] = parse(text).items
    assert isinstance(chapter, m.Unit) and chapter.number == "二、"
    assert where(chapter)[0][2:] == (1, 1, 5, 2)
    [article] = chapter.units
    assert article.kind == "article" and article.number == "第 1 0 条" and article.label == "第10条"
    assert where(article)[0][2:] == (2, 3, 4, 4)


def test_twenty_thousand_nested_parentheses_parse() -> None:
    depth = 20_000
    model = parse("definition d { means " + "(" * depth + "a" + ")" * depth + " }")
    [definition] = model.items
    assert isinstance(definition, m.Definition) and definition.means == m.Reference("a")


def test_parses_do_not_share_state() -> None:
    with pytest.raises(PolicySyntaxError):
        parse("fact policy: bool\n")
    model = parse("// a comment\nfact f: bool\n")
    assert [c.text for c in model.comments] == ["// a comment"]


def test_positions_compare_by_value() -> None:
    from policy_dsl.errors import Diagnostic
    from policy_dsl.source import SourceFile, SourcePosition

    a, b = SourceFile("a.policy", "x\ny\n"), SourceFile("b.policy", "x\ny\n")
    assert SourcePosition(a, 1, 1, 1, 2) == SourcePosition(SourceFile("a.policy", ""), 1, 1, 1, 2)
    assert SourcePosition(a, 1, 1, 1, 2) != SourcePosition(a, 2, 1, 2, 2)
    assert SourcePosition(a, 1, 1, 1, 2) != SourcePosition(b, 1, 1, 1, 2)
    assert SourcePosition(a, 1, 1, 1, 2) != SourcePosition(a, 1, 1, 1, 3)
    assert len({SourcePosition(a, line, 1, line, 2) for line in (1, 2, 1)}) == 2
    # diagnostics at different places are different diagnostics
    assert Diagnostic("m", SourcePosition(a, 1, 1, 1, 2)) != Diagnostic("m", SourcePosition(a, 2, 1, 2, 2))
    assert Diagnostic("m", SourcePosition(a, 1, 1, 1, 2)) == Diagnostic("m", SourcePosition(a, 1, 1, 1, 2))


def test_nodes_still_compare_without_their_positions() -> None:
    """``parse(fmt(m)) == m``: the model's equality leaves positions out, field by field."""
    first = parse('policy "p" {}\nfact x: bool\n', "one.policy")
    second = parse('\n\npolicy "p" {}\n\n\nfact x: bool\n', "two.policy")
    assert first == second
    assert first.items[1].pos != second.items[1].pos
