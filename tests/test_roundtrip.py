"""The formatter and the parser are inverses: ``parse(fmt(m)) == m``, and ``fmt`` is idempotent.

Models are generated the way the parser builds them (see ``strategies.py``); positions are not
compared, by design (``model.py``). A failure prints the formatted text that did not read back.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import strategies as s
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from policy_dsl import model as m
from policy_dsl.format import fmt
from policy_dsl.parse import parse

ROOT = Path(__file__).resolve().parent.parent
GOOD = sorted((ROOT / "tests" / "examples" / "good").glob("*.policy"))
DRAFT = ROOT / "policies" / "cq-foreign-trade-2022" / "draft.policy"

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_round_trips(model: m.PolicyFile) -> None:
    text = fmt(model)
    parsed = parse(text, "<formatted>")
    assert parsed == model, f"formatted text reads back differently:\n{text}"
    assert fmt(parsed) == text, f"fmt is not idempotent on:\n{text}"


def _in_definition(condition: m.Node) -> m.PolicyFile:
    return m.PolicyFile((m.Definition("甲", means=condition),))


@FAST
@given(s.value_literals(min_year=1), st.sampled_from(s.COMPARISON_OPS))
@example(m.Literal(dt.date(999, 12, 31), chinese=True), "==")  # 0999年12月31日 parses; is it written back?
def test_every_literal_round_trips(literal: m.Literal, op: str) -> None:
    """Every literal kind, in Chinese and in ASCII notation, reads back as the same value."""
    assert_round_trips(_in_definition(m.Comparison(m.Reference("x"), op, literal)))


@settings(max_examples=20, deadline=None)
@given(st.booleans(), st.sampled_from(["means", "and", "or", "not"]))
def test_true_and_false_round_trip_as_literals(value: bool, where: str) -> None:
    literal = m.Literal(value)
    condition: m.Node = {
        "means": literal,
        "and": m.And((m.Reference("x"), literal)),
        "or": m.Or((literal, m.Reference("x"))),
        "not": m.Not(literal),
    }[where]
    assert_round_trips(_in_definition(condition))


@FAST
@given(s.conditions())
def test_conditions_round_trip(condition: m.Node) -> None:
    """and / or / not nest with the right parentheses; every atom reads back as written."""
    assert_round_trips(_in_definition(condition))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s.policy_files())
def test_policy_files_round_trip(model: m.PolicyFile) -> None:
    """Whole files: header, registries, agencies, enums, facts of every type, chapters, measures, rules."""
    assert_round_trips(model)


@FAST
@given(s.texts(40))
def test_any_string_round_trips(value: str) -> None:
    """Quotes, backslashes, control characters, newlines and any unicode survive quoting."""
    model = m.PolicyFile(
        (
            m.PolicyHeader(m.Text(value), source=m.Text(value)),
            m.Agency("甲", m.Text(value), (m.Text(value),), (m.Text(value),)),
            m.Unit(
                "measure",
                "（一）",
                m.Text(value),
                agencies=(m.Name(value),),
                citations=(m.Citation(m.Text(value)),),
            ),
        )
    )
    assert_round_trips(model)


@pytest.mark.parametrize("path", [DRAFT, *GOOD], ids=lambda p: p.name)
def test_example_policies_format_back_to_themselves(path: Path) -> None:
    """A real file, formatted, reads back as the same policy, and its format is a fixed point."""
    text = path.read_text(encoding="utf-8")
    model = parse(text, str(path))
    formatted = fmt(model)
    assert parse(formatted, str(path)) == model
    assert fmt(parse(formatted, str(path))) == formatted
