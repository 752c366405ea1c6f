"""Limits that keep every stage after the parser fast and within Python's recursion limit: a
condition holds at most 1,000 tests and nests at most 100 levels; a number has at most 30 digits.
Each is a clear error at the condition or literal, never a crash or a hang."""

from __future__ import annotations

from pathlib import Path

import pytest

import policy_dsl
from policy_dsl.check import MAX_CONDITION_DEPTH, MAX_CONDITION_TESTS
from policy_dsl.errors import Diagnostic, PolicyCheckError, PolicyError
from policy_dsl.source import SourceFile, SourcePosition

HEAD = 'policy "p" {\n    status final\n}\n\nfact x: bool\nfact n: integer\n\n'


def definition(condition: str) -> str:
    return HEAD + f'definition d "d" {{\n    means {condition}\n}}\n'


def test_a_condition_at_the_depth_limit_is_checked() -> None:
    condition = "(" * (MAX_CONDITION_DEPTH - 2) + "x and n > 1" + ")" * (MAX_CONDITION_DEPTH - 2)
    with pytest.raises(PolicyCheckError) as caught:  # only for its missing citation
        policy_dsl.loads(definition(condition), "p.policy")
    assert all("nests" not in d.message for d in caught.value.diagnostics)


@pytest.mark.parametrize("depth", [MAX_CONDITION_DEPTH + 1, 5_000, 30_000])
def test_deeper_conditions_are_one_clear_error(depth: int) -> None:
    condition = "not " * depth + "x"
    with pytest.raises(PolicyCheckError) as caught:
        policy_dsl.loads(definition(condition), "p.policy")
    [diagnostic] = caught.value.diagnostics
    limit = MAX_CONDITION_DEPTH
    assert diagnostic.message == f"this condition nests {depth + 1} levels deep; at most {limit}"
    assert (diagnostic.pos.line, diagnostic.pos.column) == (9, 11)


def test_parentheses_alone_do_not_nest() -> None:
    """20,000 parentheses around one test parse (the parser's loop is not recursive) and leave one
    test: the model keeps no node for a parenthesis."""
    condition = "(" * 20_000 + "x" + ")" * 20_000 + " and (((n > 1)))"
    with pytest.raises(PolicyCheckError) as caught:  # only for its missing citation
        policy_dsl.loads(definition(condition), "p.policy")
    assert all("nests" not in d.message and "tests" not in d.message for d in caught.value.diagnostics)
    assert "definition `d` has no citation" in [d.message for d in caught.value.diagnostics]


def test_too_many_tests_is_one_clear_error() -> None:
    condition = " and ".join(f"n > {i}" for i in range(MAX_CONDITION_TESTS + 1))
    with pytest.raises(PolicyCheckError) as caught:
        policy_dsl.loads(definition(condition), "p.policy")
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.message == f"this condition holds {MAX_CONDITION_TESTS + 1} tests; at most 1000"
    rendered = diagnostic.render()
    assert max(len(line) for line in rendered.splitlines()) < 400  # the long line is windowed


def test_numbers_have_at_most_thirty_digits() -> None:
    policy = HEAD + 'definition d "d" {\n    means n > ' + "9" * 31 + "\n}\n"
    with pytest.raises(PolicyError) as caught:
        policy_dsl.loads(policy, "p.policy")
    assert "more than 30 digits" in str(caught.value)


def test_a_long_line_is_shown_as_a_window_around_the_span() -> None:
    line = "a" * 1000 + "错误" + "b" * 1000
    source = SourceFile("f.policy", line + "\n")
    rendered = Diagnostic("here", SourcePosition(source, 1, 1001, 1, 1003)).render().splitlines()
    shown, caret = rendered[2], rendered[3]
    assert shown.startswith("1 | …") and shown.endswith("…") and "错误" in shown
    assert caret.index("^") == shown.index("错")  # what precedes 错 is one column a character
    assert caret.count("^") == 4


def test_files_larger_than_their_kind_may_be_are_refused_at_once(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from policy_dsl.cli import policy
    from policy_dsl.source import MAX_DOCUMENT_BYTES, MAX_POLICY_BYTES

    big = tmp_path / "big.policy"
    big.write_text(HEAD + "// " + "x" * MAX_POLICY_BYTES + "\n", encoding="utf-8")
    run = CliRunner().invoke(policy, ["check", str(big)])
    assert run.exit_code == 2
    assert "is larger than 1 MiB" in run.stderr and "Traceback" not in run.stderr
    # a source text may be longer than a policy, up to its own limit
    (tmp_path / "s.txt").write_text("标题\n" + "文" * (MAX_DOCUMENT_BYTES // 3 + 10), encoding="utf-8")
    small = tmp_path / "p.policy"
    small.write_text('policy "p" {\n    status final\n    source "s.txt"\n}\n', encoding="utf-8")
    run = CliRunner().invoke(policy, ["check", str(small)])
    assert run.exit_code == 2
    assert "source text `s.txt` cannot be read: is larger than 1 MiB" in run.stderr
    (tmp_path / "s.txt").write_text("标题\n", encoding="utf-8")
    stdin = CliRunner().invoke(
        policy, ["eval", str(small), "--facts", "-"], input="{" + " " * MAX_POLICY_BYTES + "}"
    )
    assert stdin.exit_code == 2 and "the most a facts file may be" in stdin.stderr
