"""Whatever text it is given, the front end answers with a policy or a PolicyError: never a crash.

Two sources of text: sentences of the grammar itself (``hypothesis.extra.lark.from_lark``), which
reach every production, and the good example policies after a few careless edits, which reach
the checker and the error messages. Every error must render, and point at a real line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import strategies as s
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

from policy_dsl.check import check
from policy_dsl.errors import PolicyError, PolicySyntaxError
from policy_dsl.format import fmt
from policy_dsl.parse import build_parser, parse

ROOT = Path(__file__).resolve().parent.parent
DRAFT = ROOT / "policies" / "cq-foreign-trade-2022" / "draft.policy"
GOOD = sorted((ROOT / "tests" / "examples" / "good").glob("*.policy"))
EXAMPLES = [DRAFT, *GOOD]

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def assert_reports_well(error: PolicyError, text: str) -> None:
    """The error renders, says something, and every position it gives is on a line of the file."""
    rendered = str(error)
    assert rendered.strip(), "an error with no message"
    assert error.diagnostics, "an error with no diagnostics"
    for diagnostic in error.diagnostics:
        diagnostic.render()
        if diagnostic.pos is not None:
            assert diagnostic.pos.line >= 1, f"diagnostic at line {diagnostic.pos.line}: {diagnostic.message}"
            assert diagnostic.pos.column >= 1, (
                f"diagnostic at column {diagnostic.pos.column}: {diagnostic.message}"
            )


def grammar_sentences() -> st.SearchStrategy[str]:
    return from_lark(build_parser(cache=False))  # from_lark reads the grammar, so no cached tables


@FUZZ
@given(grammar_sentences())
def test_grammar_sentences_parse_or_raise_a_syntax_error(text: str) -> None:
    try:
        parse(text, "<fuzz>")
    except PolicySyntaxError as error:
        assert_reports_well(error, text)


@FUZZ
@given(grammar_sentences())
def test_whatever_parses_formats_back_to_itself(text: str) -> None:
    """Any file the parser accepts, however odd, survives ``fmt`` unchanged in meaning."""
    try:
        model = parse(text, "<fuzz>")
    except PolicySyntaxError:
        return
    formatted = fmt(model)
    formatted.encode("utf-8")  # `policy fmt` writes it to a UTF-8 file
    assert parse(formatted, "<formatted>") == model, formatted
    assert fmt(parse(formatted, "<formatted>")) == formatted


@FUZZ
@given(grammar_sentences())
def test_whatever_parses_checks_or_raises_a_policy_error(text: str) -> None:
    try:
        model = parse(text, "<fuzz>")
    except PolicySyntaxError:
        return
    try:
        check(model, str(DRAFT))  # beside the draft: its source text and registry exist
    except PolicyError as error:
        assert_reports_well(error, text)


@pytest.mark.parametrize("escaped", ["\\u0000", "a\\u0000b", "\\ud800", "x\\udfff.txt"])
@pytest.mark.parametrize("field", ["use", "source"])
def test_unreadable_file_names_are_policy_errors(escaped: str, field: str) -> None:
    """A registry or source path no file can have (NUL, lone surrogate) is reported, not a crash."""
    text = f'use "{escaped}"' if field == "use" else f'policy "t" {{ source "{escaped}" }}'
    try:
        check(parse(text, str(DRAFT)), str(DRAFT))
    except PolicyError as error:
        assert_reports_well(error, text)


def _front_end(text: str, path: Path) -> None:
    try:
        check(parse(text, str(path)), str(path))
    except PolicyError as error:
        assert_reports_well(error, text)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_good(path: Path) -> None:
    """The fuzz below starts from files that pass; otherwise it would test nothing."""
    check(parse(path.read_text(encoding="utf-8"), str(path)), str(path))


@settings(FUZZ, max_examples=120)
@given(st.data())
def test_edited_examples_raise_only_policy_errors(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(EXAMPLES), label="example")
    text = data.draw(s.mutated(path.read_text(encoding="utf-8")), label="edited text")
    _front_end(text, path)


@settings(FUZZ, max_examples=50)
@given(st.data())
def test_edited_examples_formatted_round_trip(data: st.DataObject) -> None:
    """An edit the parser still accepts (a changed number, a moved name) formats back faithfully."""
    path = data.draw(st.sampled_from(EXAMPLES), label="example")
    text = data.draw(s.mutated(path.read_text(encoding="utf-8")), label="edited text")
    try:
        model = parse(text, str(path))
    except PolicySyntaxError:
        return
    formatted = fmt(model)
    assert parse(formatted, str(path)) == model, formatted
