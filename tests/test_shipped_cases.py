"""Every shipped policy passes its example enterprises (policies/*/cases/*.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import policy_dsl
from policy_dsl.cases import run_cases

ROOT = Path(__file__).resolve().parent.parent
CASE_FILES = sorted(ROOT.glob("policies/*/cases/*.json"))


@pytest.mark.parametrize("cases", CASE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_cases_pass(cases: Path) -> None:
    data = json.loads(cases.read_text(encoding="utf-8"))
    policy = policy_dsl.load(cases.parent / data["policy"])
    report = run_cases(policy, cases)
    assert report.results, "a cases file with no cases"
    assert not report.failed, report.render()


def test_the_shipped_library_checks_and_passes_its_cases() -> None:
    """The shipped policies as one library (policies/library.index): matched across documents."""
    from policy_dsl.cases import run_library_cases
    from policy_dsl.library import load_library

    library = load_library(ROOT / "policies")
    assert library.warnings == ()
    report = run_library_cases(library, ROOT / "policies" / "library-cases.json")
    assert len(report.results) >= 6
    assert not report.failed, report.render()
