"""The model is built during the LALR parse; its positions are those of Lark's own parse tree.

The reference is the way the parser used to work: Lark builds a tree with ``propagate_positions``
and each tree node is handed, with its ``meta``, to the same :class:`_ToModel` method. Every node's
span, every diagnostic and every node's content must come out the same both ways.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.extra.lark import from_lark
from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedInput
from lark.tree import Meta

from policy_dsl import model as m
from policy_dsl.errors import PolicySyntaxError
from policy_dsl.parse import _open_grammar, _syntax_diagnostic, _ToModel, build_parser, parse
from policy_dsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
DRAFT = ROOT / "policies" / "cq-foreign-trade-2022" / "draft.policy"
EXAMPLES = [
    *sorted((ROOT / "policies").rglob("*.policy")),  # the Chongqing draft among them
    *sorted((ROOT / "tests" / "examples" / "good").glob("*.policy")),
    *sorted((ROOT / "tests" / "examples" / "bad").glob("*.policy")),
]

Where = tuple[str, str, int, int, int, int]


class _FromTree(Transformer[Token, Any]):
    """The reference: each Lark tree node, with its meta's span, to the same _ToModel method."""

    def __init__(self, builder: _ToModel) -> None:
        super().__init__()
        self.builder = builder

    def __default__(self, data: str, children: list[Any], meta: Meta) -> Any:
        span = None if meta.empty else (meta.line, meta.column, meta.end_line, meta.end_column)
        return getattr(self.builder, data)(span, children)


@functools.cache
def tree_parser() -> Lark:
    return _open_grammar(Lark, cache=False)


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


def both_ways(text: str) -> tuple[Any, Any]:
    """(items, diagnostics) from the inline parse and from the reference; items None if any."""
    try:
        model = parse(text, "<t>")
        inline: Any = (model.items, [])
    except PolicySyntaxError as error:
        inline = (None, error.diagnostics)
    builder = _ToModel(SourceFile("<t>", text))
    try:
        items = _FromTree(builder).transform(tree_parser().parse(text))
    except UnexpectedInput as exc:
        return inline, (None, [_syntax_diagnostic(exc, builder.file)])
    return inline, (None if builder.diagnostics else tuple(items), builder.diagnostics)


def assert_same(text: str) -> None:
    (items, problems), (ref_items, ref_problems) = both_ways(text)
    assert items == ref_items
    assert where(items) == where(ref_items)
    assert [(d.message, d.hint, where(d)) for d in problems] == [
        (d.message, d.hint, where(d)) for d in ref_problems
    ]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_positions_are_those_of_the_lark_tree(path: Path) -> None:
    assert_same(SourceFile.read(path).text)


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
    assert_same(text)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
@given(from_lark(build_parser(cache=False)))
def test_grammar_sentences_get_the_positions_of_the_lark_tree(text: str) -> None:
    assert_same(text)


def test_parses_do_not_share_state() -> None:
    with pytest.raises(PolicySyntaxError):
        parse("fact policy: bool\n")
    model = parse("// a comment\nfact f: bool\n")
    assert [c.text for c in model.comments] == ["// a comment"]
