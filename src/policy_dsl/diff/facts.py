"""The facts layer of a diff: which facts were added, removed, retyped — and which were only renamed.

Entry point: :func:`align_facts`. A revision's encoding may name a fact differently when its
trigger was reworded (出口额 → 上年度出口额). Compared by name, every rule using it would read as
changed and every outcome region would carry both facts. A fact present in only one version is
paired with one present only in the other when they have the same type (and, for enums, mostly
the same values) and two kinds of evidence say they are one fact: a similar label or name, and a
similar description or a rule that reads both (or names all but equal). The pairing is reported
once, as a rename, and the other layers compare through it: the rules layer reads the old version
with the new names, and the outcomes layer gives both names the same value.
"""

from __future__ import annotations

import difflib
from typing import Any

import attrs

from policy_dsl import model as m
from policy_dsl.check import CheckedPolicy, amount_facts, references
from policy_dsl.visitor import Visitor

ADDED = "added"
REMOVED = "removed"
RENAMED = "renamed"
RETYPED = "retyped"

#: How alike two facts must be (0–1) to be read as one fact renamed (see :func:`align_facts`).
RENAME_THRESHOLD = 0.55


@attrs.frozen
class FactChange:
    status: str
    old: str | None
    new: str | None
    old_type: str | None = None
    new_type: str | None = None
    #: why two facts were read as one: the evidence, for a reviewer to judge
    reason: str | None = None


@attrs.frozen
class FactAlignment:
    changes: tuple[FactChange, ...]
    #: old name → new name, for every fact read as renamed
    renamed: dict[str, str] = attrs.field(factory=dict)

    def new_name(self, old: str) -> str:
        return self.renamed.get(old, old)


def _type_text(checked: CheckedPolicy, name: str) -> str:
    kind = checked.facts[name].type
    return f"{kind.kind} {kind.param}" if kind.param else kind.kind


def _words(checked: CheckedPolicy, name: str) -> tuple[str, str]:
    decl = checked.facts[name].decl
    label = decl.label.value if decl.label else name
    description = decl.description.value if decl.description else ""
    return label, description


def _users(checked: CheckedPolicy) -> dict[str, set[str]]:
    """For each fact, the rules (and definitions) that read it."""
    users: dict[str, set[str]] = {}
    for name, definition in checked.definitions.items():
        for ref in references(definition.means) if definition.means is not None else []:
            users.setdefault(ref, set()).add(name)
    for info in (*checked.benefits, *checked.duties):
        rule = info.rule
        when = rule.when if isinstance(rule, m.Benefit | m.Duty) else None
        for ref in references(when) if when is not None else []:
            users.setdefault(ref, set()).add(rule.name)
        for name in amount_facts(rule) if isinstance(rule, m.Benefit) else ():
            users.setdefault(name, set()).add(rule.name)
    return users


def _ratio(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _same_type(old: CheckedPolicy, new: CheckedPolicy, a: str, b: str) -> bool:
    ta, tb = old.facts[a].type, new.facts[b].type
    if ta.kind != tb.kind:
        return False
    if ta.kind in {"enum", "set"}:
        va = {v.name for v in old.enums[ta.param or ""].values} if ta.param in old.enums else set()
        vb = {v.name for v in new.enums[tb.param or ""].values} if tb.param in new.enums else set()
        return bool(va | vb) and len(va & vb) / len(va | vb) >= 0.5
    return ta.param == tb.param


def align_facts(old: CheckedPolicy, new: CheckedPolicy) -> FactAlignment:
    """Facts added, removed, retyped and renamed between two versions."""
    only_old = [name for name in old.facts if name not in new.facts]
    only_new = [name for name in new.facts if name not in old.facts]
    old_users, new_users = _users(old), _users(new)
    scored: list[tuple[float, str, str, str]] = []
    for a in only_old:
        for b in only_new:
            if not _same_type(old, new, a, b):
                continue
            (label_a, desc_a), (label_b, desc_b) = _words(old, a), _words(new, b)
            words = max(_ratio(label_a, label_b), _ratio(a, b))
            described = _ratio(desc_a, desc_b)
            ua, ub = old_users.get(a, set()), new_users.get(b, set())
            shared = len(ua & ub) / len(ua | ub) if ua | ub else 0.0
            # two kinds of evidence, or names all but equal: a shared reader alone is no rename
            # (a rule that changed its conditions reads new facts in place of old ones)
            if words >= 0.85 or (words > 0.55 and (described >= 0.6 or shared > 0)):
                score = words
            elif described >= 0.8 and shared > 0:
                score = described
            else:
                continue
            reasons = []
            if words >= 0.5:
                reasons.append(f"label 「{label_a}」 → 「{label_b}」")
            if described >= 0.5:
                reasons.append("a similar description")
            if shared > 0:
                reasons.append("read by " + "、".join(sorted(ua & ub)))
            scored.append((score, a, b, "; ".join(reasons) or "same type"))
    scored.sort(key=lambda item: (-item[0], item[1], item[2]))
    renamed: dict[str, str] = {}
    taken: set[str] = set()
    changes: list[FactChange] = []
    for score, a, b, reason in scored:
        if score < RENAME_THRESHOLD or a in renamed or b in taken:
            continue
        renamed[a] = b
        taken.add(b)
        changes.append(FactChange(RENAMED, a, b, _type_text(old, a), _type_text(new, b), reason))
    for name in only_old:
        if name not in renamed:
            changes.append(FactChange(REMOVED, name, None, _type_text(old, name), None))
    for name in only_new:
        if name not in taken:
            changes.append(FactChange(ADDED, None, name, None, _type_text(new, name)))
    for name in old.facts:
        if name in new.facts and _type_text(old, name) != _type_text(new, name):
            changes.append(FactChange(RETYPED, name, name, _type_text(old, name), _type_text(new, name)))
    return FactAlignment(tuple(changes), renamed)


class _Rename(Visitor):
    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping

    def generic_visit(self, node: m.Node, *args: Any) -> Any:
        changes = {}
        for field in attrs.fields(type(node)):  # type: ignore[arg-type]
            value = getattr(node, field.name)
            if isinstance(value, m.Node):
                changes[field.name] = self.visit(value)
            elif isinstance(value, tuple) and value and isinstance(value[0], m.Node):
                changes[field.name] = tuple(self.visit(item) for item in value)
        return attrs.evolve(node, **changes) if changes else node  # type: ignore[misc]

    def visit_Reference(self, node: m.Reference) -> m.Reference:
        return attrs.evolve(node, name=self.mapping.get(node.name, node.name))

    def visit_Name(self, node: m.Name) -> m.Name:
        return node  # agencies, enum values, kinds: not facts

    def visit_Rate(self, node: m.Rate) -> m.Rate:
        if node.base is None:
            return node
        return attrs.evolve(
            node, base=attrs.evolve(node.base, text=self.mapping.get(node.base.text, node.base.text))
        )

    def _fact(self, name: m.Name | None) -> m.Name | None:
        if name is None:
            return None
        return attrs.evolve(name, text=self.mapping.get(name.text, name.text))

    def visit_Benefit(self, node: m.Benefit) -> m.Benefit:
        visited: m.Benefit = self.generic_visit(node)
        return attrs.evolve(visited, per=self._fact(visited.per))  # `per 面积` names a fact

    def visit_Tiers(self, node: m.Tiers) -> m.Tiers:
        return attrs.evolve(
            node,
            fact=attrs.evolve(node.fact, text=self.mapping.get(node.fact.text, node.fact.text)),
            tiers=tuple(self.visit(tier) for tier in node.tiers),
        )

    def visit_Tier(self, node: m.Tier) -> m.Tier:
        return attrs.evolve(node, base=self._fact(node.base), per=self._fact(node.per))


def rename_facts(node: m.Node, mapping: dict[str, str]) -> Any:
    """``node`` with every reference to a renamed fact written with its new name."""
    if not mapping:
        return node
    return _Rename(mapping).visit(node)
