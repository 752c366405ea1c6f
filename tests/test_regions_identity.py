"""Outcome regions skip a rule that decides and grants the same in both versions — and only such a rule.

The shortcut compares the code that decides a rule's condition (constants by value, every
definition it uses inlined) and the rule's data; these tests check that it fires when nothing can
differ and never hides a change, by comparing with the full enumeration.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import policy_dsl
from policy_dsl.compile import CompiledPolicy
from policy_dsl.diff import regions
from policy_dsl.diff.regions import BenefitRegions, outcome_regions

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "policies" / "cq-foreign-trade-2022"
DRAFT, REVISION = EXAMPLE / "draft.policy", EXAMPLE / "revision-example.policy"
LIUHE = ROOT / "policies" / "liuhe-key-industries-2023"
DAY = dt.date(2022, 7, 1)


def rule_ids(*compiled: CompiledPolicy) -> list[tuple[str, str]]:
    found: dict[tuple[str, str], None] = {}
    for policy in compiled:
        for kind, table in (("benefit", "BENEFITS"), ("duty", "DUTIES")):
            for rule in policy.namespace[table]:
                found[(kind, rule["id"])] = None
    return list(found)


def enumerated(
    monkeypatch: pytest.MonkeyPatch, old: CompiledPolicy, new: CompiledPolicy, ident: str, kind: str
) -> BenefitRegions:
    """The regions found without the shortcut: every version's fingerprint made unique."""
    with monkeypatch.context() as patch:
        patch.setattr(regions._Version, "fingerprint", lambda self: object())
        return outcome_regions(old, new, ident, DAY, kind)


def shape(result: BenefitRegions) -> list[Any]:
    return [(r.change, r.condition) for r in result.regions]


def test_a_policy_against_itself_evaluates_no_enterprise() -> None:
    policy = policy_dsl.load(DRAFT).compiled
    again = policy_dsl.load(DRAFT).compiled
    for kind, ident in rule_ids(policy):
        result = outcome_regions(policy, again, ident, DAY, kind)
        assert result.regions == () and result.evaluated == 0 and result.exact, ident
        assert result.combinations >= 1 and result.note is None


def test_a_changed_definition_is_seen_through_an_unchanged_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    text = DRAFT.read_text(encoding="utf-8")
    changed = text.replace(
        "means 是外贸企业 and 出口额 <= 500万美元", "means 是外贸企业 and 出口额 < 500万美元", 1
    )
    assert changed != text
    old = policy_dsl.load(DRAFT).compiled
    new = policy_dsl.loads(changed, str(DRAFT)).compiled
    result = outcome_regions(old, new, "中小微外贸企业直客对接", DAY, "duty")
    assert result.evaluated > 0
    assert [r.change for r in result.regions] == ["lost"]
    assert "出口额 = 500万美元" in result.regions[0].condition
    assert shape(result) == shape(enumerated(monkeypatch, old, new, "中小微外贸企业直客对接", "duty"))


@pytest.mark.parametrize(
    ("old_path", "new_path"),
    [(DRAFT, REVISION), (LIUHE / "old.policy", LIUHE / "new.policy")],
    ids=["chongqing", "liuhe"],
)
def test_a_skipped_rule_has_no_region_when_enumerated(
    monkeypatch: pytest.MonkeyPatch, old_path: Path, new_path: Path
) -> None:
    old = policy_dsl.load(old_path).compiled
    new = policy_dsl.load(new_path).compiled
    skipped = 0
    for kind, ident in rule_ids(old, new):
        result = outcome_regions(old, new, ident, DAY, kind)
        if result.evaluated == 0:
            skipped += 1
            assert enumerated(monkeypatch, old, new, ident, kind).regions == (), ident
    assert skipped > 0


def test_the_fingerprint_reads_constants_by_value() -> None:
    """Two versions number their constants differently; the fingerprint does not see the numbers."""
    text = DRAFT.read_text(encoding="utf-8")
    # a new constant early in the file shifts the numbering of every later one
    extra = (
        'definition 新定义 "新定义" {\n    means 出口额 > 1美元\n'
        '    cite "差异化降低中小微外贸企业投保费率"\n}\n\n'
    )
    shifted = text.replace("definition 小微外贸企业", extra + "definition 小微外贸企业", 1)
    old = policy_dsl.load(DRAFT).compiled
    new = policy_dsl.loads(shifted, str(DRAFT)).compiled
    assert old.generator is not None and new.generator is not None
    assert old.generator.constant_values != new.generator.constant_values
    for index in range(len(old.namespace["BENEFITS"])):
        assert old.rule_fingerprint("benefit", index) == new.rule_fingerprint("benefit", index)
