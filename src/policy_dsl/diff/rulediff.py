"""The rules layer of a diff: every benefit, duty, target and definition, old → new.

Entry point: :func:`diff_rules`. Rules are matched by id (encoders keep ids across versions;
a rule with a new id is added, one whose id is gone is removed). For a rule in both versions
each field that decides an outcome is compared — kind, conditions (with each threshold that
moved), amount, rate, cap, frequency, period, service levels, goals, agencies — and shown with
the citation on each side.
"""

from __future__ import annotations

import attrs

from policy_dsl import model as m
from policy_dsl.check import CheckedPolicy, RuleInfo, encoded_constants
from policy_dsl.citations import comparable, quantities
from policy_dsl.diff.facts import rename_facts
from policy_dsl.format import amount_text, cap_text, format_condition, format_literal, rate_text, tier_text
from policy_dsl.visitor import Visitor

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"


@attrs.frozen
class FieldChange:
    field: str
    old: str | None
    new: str | None


@attrs.frozen
class RuleChange:
    kind: str
    id: str
    status: str
    label: str
    measure_old: str | None
    measure_new: str | None
    fields: tuple[FieldChange, ...]
    citations_old: tuple[str, ...]
    citations_new: tuple[str, ...]


@attrs.frozen
class _RuleView:
    kind: str
    label: str
    measure: str | None
    fields: dict[str, str]
    atoms: tuple[m.Comparison, ...]
    citations: tuple[str, ...]


class _Atoms(Visitor):
    def __init__(self) -> None:
        self.found: list[m.Comparison] = []

    def visit_Comparison(self, node: m.Comparison) -> None:
        self.found.append(node)


def _atoms(condition: m.Node | None) -> tuple[m.Comparison, ...]:
    if condition is None:
        return ()
    collector = _Atoms()
    collector.visit(condition)
    return tuple(collector.found)


def _period(period: m.Period | None) -> str | None:
    if period is None:
        return None
    return f"{format_literal(period.start)} to {format_literal(period.end)}"


def _agencies(checked: CheckedPolicy, idents: tuple[str, ...]) -> str:
    return "、".join(idents)


def _view(
    checked: CheckedPolicy,
    info: RuleInfo | None,
    definition: m.Definition | None,
    renamed: dict[str, str] | None = None,
) -> _RuleView:
    fields: dict[str, str] = {}
    if definition is not None and renamed:
        definition = rename_facts(definition, renamed)
    if definition is not None:
        if definition.means is not None:
            fields["means"] = format_condition(definition.means)
        label = definition.label.value if definition.label else definition.name
        citations = tuple(c.text.value for c in definition.citations)
        return _RuleView("definition", label, None, fields, _atoms(definition.means), citations)
    assert info is not None
    # a cross-reference as written: `follows` and what it states itself, not a copy of the rule it
    # follows (a change there is reported there; the outcomes layer sees the terms it inherits)
    written = info.written if info.written is not None else info.rule
    rule = rename_facts(written, renamed) if renamed else written
    if isinstance(rule, m.Benefit | m.Duty) and rule.follows is not None:
        fields["follows"] = rule.follows.text
    when = rule.when if isinstance(rule, m.Benefit | m.Duty) else None
    if when is not None:
        fields["when"] = format_condition(when)
    if isinstance(rule, m.Benefit):
        if rule.kind is not None:
            fields["kind"] = rule.kind.text
        if rule.commits is not None and rule.commits.text != "entitled":  # unsaid is entitled
            fields["commits"] = rule.commits.text
        if rule.amount is not None:
            per = f" per {rule.per.text}" if rule.per is not None else ""
            fields["amount"] = amount_text(rule) + per
        if rule.rate is not None:
            fields["rate"] = rate_text(rule.rate)
        if rule.tiers is not None:  # the schedule, then each band: a moved band end shows on its band
            fact = rule.tiers.fact.text  # shown after the field's name: "tiers by 投资"
            fields["tiers"] = f"of {fact}, marginal" if rule.tiers.marginal else f"by {fact}"
            if rule.tiers.year_of:
                fields["tiers"] = f"by year of {fact}"
            for index, tier in enumerate(rule.tiers.tiers):
                fields[f"tier {index + 1}"] = tier_text(tier, rule.tiers.year_of)
        if rule.cap is not None or rule.cap_facts:
            fields["cap"] = cap_text(rule)
        if rule.each is not None:
            fields["for each"] = rule.each.text
        if rule.cap_total is not None or rule.cap_total_facts:
            bounds = [format_literal(rule.cap_total)] if rule.cap_total is not None else []
            fields["cap total"] = ", ".join([*bounds, *(n.text for n in rule.cap_total_facts)])
        if rule.frequency is not None:
            fields["frequency"] = rule.frequency.text
        for group in checked.staged:  # paid in stages (分阶段兑现): each stage, where it is written
            if rule.name in group.members:
                for index, stage in enumerate(group.rule.stages):
                    stage_written = rename_facts(stage, renamed) if renamed else stage
                    fields[f"stage {index + 1}"] = (
                        f"{format_literal(stage.share)} when {format_condition(stage_written.when)}"
                    )
    if isinstance(rule, m.Duty):
        for index, level in enumerate(rule.levels):
            fields[f"service level {index + 1}"] = (
                f"{level.label.value} {level.op} {format_literal(level.value)}"
            )
        for index, sanction in enumerate(rule.sanctions):
            fields[f"sanction {index + 1}"] = sanction.value
    if isinstance(rule, m.Target):
        for index, goal in enumerate(rule.goals):
            fields[f"goal {index + 1}"] = f"{goal.label.value} {goal.op} {format_literal(goal.value)}"
    period = _period(rule.period)
    if period is not None:
        fields["period"] = period
    if rule.agencies:  # a rule's own agencies; a measure's are compared in the units layer
        fields["agencies"] = _agencies(checked, info.agencies)
    kind = "obligation" if isinstance(rule, m.Duty) and rule.enterprise else type(rule).__name__.lower()
    label = rule.label.value if rule.label else rule.name
    citations = tuple(c.text.value for c in rule.citations)
    if "follows" in fields and info.written is not None and info.written is not info.rule:
        # what it takes from the rule it follows, marked so: a change there shows here as such
        inherited = _view(checked, attrs.evolve(info, written=None), None, renamed).fields
        for key, value in inherited.items():
            fields.setdefault(key, f"{value} (from {fields['follows']})")
    return _RuleView(kind, label, info.measure, fields, _atoms(when), citations)


def _views(checked: CheckedPolicy, renamed: dict[str, str] | None = None) -> dict[str, _RuleView]:
    views: dict[str, _RuleView] = {}
    for name, definition in checked.definitions.items():
        views[name] = _view(checked, None, definition, renamed)
    for info in (*checked.benefits, *checked.duties, *checked.targets):
        views[info.rule.name] = _view(checked, info, None, renamed)
    return views


def _threshold_changes(old: tuple[m.Comparison, ...], new: tuple[m.Comparison, ...]) -> list[FieldChange]:
    """Comparisons of the same fact with the same operator whose constant moved: 5000万美元 → 6000万美元."""

    def key(node: m.Comparison) -> tuple[str, str] | None:
        if isinstance(node.left, m.Reference) and isinstance(node.right, m.Literal):
            return (node.left.name, node.op)
        return None

    changes: list[FieldChange] = []
    new_by_key: dict[tuple[str, str], list[m.Comparison]] = {}
    for node in new:
        k = key(node)
        if k is not None:
            new_by_key.setdefault(k, []).append(node)
    old_texts = {format_condition(n) for n in old}
    new_texts = {format_condition(n) for n in new}
    for node in old:
        k = key(node)
        if k is None or format_condition(node) in new_texts:
            continue
        for candidate in new_by_key.get(k, []):
            if format_condition(candidate) not in old_texts:
                changes.append(FieldChange("threshold", format_condition(node), format_condition(candidate)))
                break
    return changes


def _cited_quantities(view: _RuleView) -> tuple[str, ...]:
    """The quantities a rule's quotes state, in order, each once (as written: 300万美元)."""
    return tuple(dict.fromkeys(q.text for c in view.citations for q in quantities(c)))


def _stale(before: _RuleView, after: _RuleView, new: CheckedPolicy, ident: str) -> bool:
    """Whether a number gone from the rule's quotes is still one of its constants (through the
    definitions it uses): the quote was updated, the rule was not (500万美元 → 300万美元 quoted,
    `<= 500万美元` still encoded)."""
    gone = {
        comparable(q.value)
        for c in before.citations
        for q in quantities(c)
        if q.text not in {r.text for cite in after.citations for r in quantities(cite)}
    }
    if not gone:
        return False
    info = new.rule(ident)
    rule: m.Rule | None = info.rule if info is not None else new.definitions.get(ident)
    return rule is not None and bool(gone & encoded_constants(rule, new.definitions))


def diff_rules(
    old: CheckedPolicy, new: CheckedPolicy, renamed: dict[str, str] | None = None
) -> tuple[RuleChange, ...]:
    """Every rule that was added, removed or changed, in the new version's order (removed ones last).

    ``renamed`` maps old fact names to new ones (:func:`policy_dsl.diff.facts.align_facts`): the
    old version is read with the new names, so a renamed fact changes no rule."""
    old_views, new_views = _views(old, renamed), _views(new)
    changes: list[RuleChange] = []
    for ident, view in new_views.items():
        before = old_views.get(ident)
        if before is None:
            fields = tuple(FieldChange(k, None, v) for k, v in view.fields.items())
            changes.append(
                RuleChange(
                    view.kind, ident, ADDED, view.label, None, view.measure, fields, (), view.citations
                )
            )
            continue
        # a benefit that says no `commits` is an entitlement: a change to or from one says so
        unsaid = {"commits": "entitled"} if view.kind == "benefit" == before.kind else {}
        field_changes = [
            FieldChange(k, before.fields.get(k, unsaid.get(k)), view.fields.get(k, unsaid.get(k)))
            for k in dict.fromkeys([*before.fields, *view.fields])
            if before.fields.get(k) != view.fields.get(k)
        ]
        if field_changes:
            fields = (*_threshold_changes(before.atoms, view.atoms), *field_changes)
        elif _stale(before, view, new, ident):
            # the rule did not change, but the numbers of the sentences it quotes did: a stale
            # encoding (its waivers let `policy check` pass) — the reader is told, not left to guess
            fields = (
                FieldChange(
                    "cited quantities (the rule did not change)",
                    "、".join(_cited_quantities(before)) or "—",
                    "、".join(_cited_quantities(view)) or "—",
                ),
            )
        else:
            continue
        changes.append(
            RuleChange(
                view.kind,
                ident,
                CHANGED,
                view.label,
                before.measure,
                view.measure,
                fields,
                before.citations,
                view.citations,
            )
        )
    for ident, view in old_views.items():
        if ident not in new_views:
            fields = tuple(FieldChange(k, v, None) for k, v in view.fields.items())
            changes.append(
                RuleChange(
                    view.kind, ident, REMOVED, view.label, view.measure, None, fields, view.citations, ()
                )
            )
    return tuple(changes)
