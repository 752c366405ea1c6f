"""The example corpus: every policy under ``tests/examples/`` checked through the CLI.

``tests/examples/good/*.policy`` (and agency registries, ``*.agencies``) must check clean
(exit 0, nothing on stderr) and already be in canonical form (``policy fmt --stdout``
prints the file back unchanged).

``tests/examples/bad/X.policy`` must fail ``policy check`` with exit code 2, print nothing on
stdout, and print exactly ``tests/examples/bad/X.expected`` on stderr. Those listed in
``WARNINGS_ONLY`` show a warning, which does not fail the check: exit code 0, the usual
``… ok`` summary on stdout, and exactly ``X.expected`` on stderr. The command runs from the
repository root with the relative path ``tests/examples/bad/X.policy``, so the golden files
hold no machine-specific paths.

Regenerating the golden files: after a deliberate change to a message, run

    POLICY_DSL_REGEN=1 .venv/bin/pytest tests/test_examples.py

which rewrites every ``.expected`` file from the current output instead of comparing (exit
codes are still asserted), then review the change with ``git diff tests/examples/bad``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from policy_dsl.cli import policy

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tests" / "examples"
GOOD = sorted(
    [
        *(EXAMPLES / "good").glob("*.policy"),
        *(EXAMPLES / "good").glob("*.agencies"),
        *(EXAMPLES / "good").glob("*.vocabulary"),
    ]
)
BAD = sorted((EXAMPLES / "bad").glob("*.policy"))
REGEN = os.environ.get("POLICY_DSL_REGEN") == "1"

#: Bad examples that src/ does not yet reject: each is a missing check, reported to the owner.
#: strict=True makes the test fail as soon as src/ rejects the file, so this entry gets removed
#: and its golden file generated.
KNOWN_MISSING_CHECKS: dict[str, str] = {}

#: Good examples that `policy fmt` does not yet print back unchanged, reported to the owner.
KNOWN_NOT_CANONICAL: dict[str, str] = {}

#: Bad examples whose only problems are warnings: `policy check` passes (exit 0) and prints them on stderr.
WARNINGS_ONLY = frozenset({"cross_unit_citation.policy", "commitment_unsaid.policy"})


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _invoke(args: list[str], monkeypatch: pytest.MonkeyPatch) -> Result:
    monkeypatch.chdir(ROOT)
    return CliRunner().invoke(policy, args, catch_exceptions=False)


def test_the_corpus_is_there() -> None:
    assert len(GOOD) >= 4
    assert len(BAD) >= 30
    missing = [
        p.name for p in BAD if not p.with_suffix(".expected").exists() and p.name not in KNOWN_MISSING_CHECKS
    ]
    assert REGEN or not missing, f"no .expected file for {missing}; run with POLICY_DSL_REGEN=1"


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_good_example_checks_clean(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _invoke(["check", _relative(path)], monkeypatch)
    assert result.stderr == ""
    assert result.exit_code == 0
    assert result.stdout.startswith(f"{_relative(path)}: ok")


def _good_param(path: Path) -> object:
    reason = KNOWN_NOT_CANONICAL.get(path.name)
    marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
    return pytest.param(path, id=path.name, marks=marks)


@pytest.mark.parametrize("path", [_good_param(p) for p in GOOD])
def test_good_example_is_canonical(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _invoke(["fmt", "--stdout", _relative(path)], monkeypatch)
    assert result.stderr == ""
    assert result.exit_code == 0
    assert result.stdout == path.read_text(encoding="utf-8")


def _bad_param(path: Path) -> object:
    reason = KNOWN_MISSING_CHECKS.get(path.name)
    marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
    return pytest.param(path, id=path.name, marks=marks)


@pytest.mark.parametrize("path", [_bad_param(p) for p in BAD])
def test_bad_example_reports_expected_errors(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _invoke(["check", _relative(path)], monkeypatch)
    if path.name in WARNINGS_ONLY:
        assert result.exit_code == 0, result.stderr
        assert result.stdout.startswith(f"{_relative(path)}: ok")
    else:
        assert result.exit_code == 2, result.stdout
        assert result.stdout == ""
    expected = path.with_suffix(".expected")
    if REGEN:
        expected.write_text(result.stderr, encoding="utf-8")
        return
    assert result.stderr == expected.read_text(encoding="utf-8")
