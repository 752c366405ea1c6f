"""Two versions of a policy → :class:`PolicyDiff`, every layer tied together by measure.

Entry points: :func:`diff_paths` (two files, ``.policy`` or plain text), :func:`diff_documents`
(two texts) and :func:`diff_policies` (two loaded encodings). The layers:

1. structure — measures aligned by content (``align.py``): unchanged, reworded, modified,
   inserted, deleted, merged, split; renumbered and moved are noted beside;
2. text — a redline per aligned measure (``redline.py``);
3. responsible units — added, removed, reordered (lead changed), renamed;
4. rules — every benefit, duty, target and definition, old → new (``rulediff.py``);
5. outcomes — where each benefit is gained, lost or changed, with witnesses (``regions.py``);
6. population — optional counts of enterprises that gain, lose or change (``population.py``).
"""

from __future__ import annotations

import datetime as dt
import difflib
import unicodedata
from pathlib import Path

import attrs

from policy_dsl.check import AgencyRegistry, CheckedPolicy
from policy_dsl.citations import normalize_text
from policy_dsl.diff.align import (
    DELETED,
    INSERTED,
    MODIFIED,
    REWORDED,
    UNCHANGED,
    Alignment,
    ChapterChange,
    MeasureChange,
    align,
)
from policy_dsl.diff.facts import FactChange, align_facts
from policy_dsl.diff.redline import Segment, changed, redline
from policy_dsl.diff.regions import BenefitRegions, outcome_regions
from policy_dsl.diff.rulediff import RuleChange, diff_rules
from policy_dsl.document import Document, DocumentMeasure, read_document
from policy_dsl.errors import Diagnostic, PolicyLoadError
from policy_dsl.policy import Policy, load, read_bytes
from policy_dsl.source import MAX_DOCUMENT_BYTES, UnreadableText, decode_text

#: 2.0: measures and chapters named by their labels as written (（六）, 二、, 第5条), not bare numerals;
#: new: facts, chapters, each version's validity / repeals / precedence, merge and split parts, the
#: deciding tests of each witness (failing)
SCHEMA_VERSION = "3.3"


@attrs.frozen
class UnitsChange:
    """How a measure's （责任单位：…） list changed."""

    old: tuple[str, ...]
    new: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    renamed: tuple[tuple[str, str], ...]
    lead: tuple[str, str] | None
    reordered: bool

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.renamed or self.lead or self.reordered)


@attrs.frozen
class MeasureDiff:
    change: MeasureChange
    title_redline: tuple[Segment, ...]
    redline: tuple[Segment, ...]
    units: UnitsChange | None
    rules: tuple[RuleChange, ...]
    outcomes: tuple[BenefitRegions, ...]
    #: For a merge or a split: each old (merge) or new (split) measure's units against the other side's.
    units_parts: tuple[tuple[str, UnitsChange], ...] = ()
    #: For a merge or a split: where each part lands — (old measure, new measure, first and last
    #: sentence, 1-based, of the side that holds several parts' text)
    boundaries: tuple[tuple[str, str, int, int], ...] = ()

    @property
    def kind(self) -> str:
        return self.change.kind

    @property
    def all_units(self) -> tuple[tuple[str | None, UnitsChange], ...]:
        """Every units comparison of the measure, labelled for merges and splits."""
        if self.units is not None:
            return ((None, self.units),)
        return tuple((label, units) for label, units in self.units_parts)

    @property
    def different(self) -> bool:
        c = self.change
        return (
            c.kind != UNCHANGED
            or c.renumbered
            or c.moved
            or any(units.changed for _, units in self.all_units)
            or bool(self.rules)
            or any(o.regions for o in self.outcomes)
        )


@attrs.frozen
class VersionInfo:
    path: str
    title: str
    status: str | None
    encoding: str
    measures: int
    encoded: bool
    #: the document's standing, where it is encoded: validity, what it repeals, precedence
    validity: str | None = None
    repeals: tuple[str, ...] = ()
    precedence: str | None = None

    def standing(self) -> dict[str, str]:
        return {
            "status": self.status or "—",
            "validity": self.validity or "—",
            "repeals": "、".join(self.repeals) or "—",
            "precedence": PRECEDENCE_TEXT.get(self.precedence or "", "—"),
        }


#: How reports say which text prevails in a conflict.
PRECEDENCE_TEXT = {"higher": "higher-level texts prevail (上级文件优先)", "this": "this text prevails"}


@attrs.frozen
class PolicyDiff:
    old: VersionInfo
    new: VersionInfo
    measures: tuple[MeasureDiff, ...]
    definitions: tuple[RuleChange, ...]
    as_of: dt.date | None
    population: object | None = None
    #: facts added, removed, retyped and renamed (a rename is reported once, here)
    facts: tuple[FactChange, ...] = ()
    #: every chapter old → new (a retitled chapter is reported once, here)
    chapters: tuple[ChapterChange, ...] = ()

    @property
    def chapter_changes(self) -> tuple[ChapterChange, ...]:
        return tuple(c for c in self.chapters if c.kind != UNCHANGED)

    def standing_changes(self) -> list[tuple[str, str, str]]:
        """The document-level changes: status, validity, what is repealed, precedence."""
        old, new = self.old.standing(), self.new.standing()
        return [(key, old[key], new[key]) for key in old if old[key] != new[key]]

    @property
    def different(self) -> bool:
        return (
            self.old.title != self.new.title
            or bool(self.standing_changes())
            or bool(self.facts)
            or bool(self.chapter_changes)
            or any(m.different for m in self.measures)
            or bool(self.definitions)
            or bool(self.population is not None and getattr(self.population, "different", False))
        )

    def summary(self) -> dict[str, dict[str, int]]:
        """Counts per kind of change, layer by layer."""
        kinds: dict[str, int] = {}
        for measure in self.measures:
            kinds[measure.kind] = kinds.get(measure.kind, 0) + 1
        structure = dict(sorted(kinds.items()))
        for chapter in self.chapter_changes:
            key = f"chapters {chapter.kind}"
            structure[key] = structure.get(key, 0) + 1
        structure["renumbered"] = sum(1 for m in self.measures if m.change.renumbered)
        structure["moved"] = sum(1 for m in self.measures if m.change.moved)
        units = [u for m in self.measures for _, u in m.all_units if u.changed]
        units_counts = {
            "measures": sum(1 for m in self.measures if any(u.changed for _, u in m.all_units)),
            "added": sum(len(u.added) for u in units),
            "removed": sum(len(u.removed) for u in units),
            "renamed": sum(len(u.renamed) for u in units),
            "lead changed": sum(1 for u in units if u.lead),
            "reordered": sum(1 for u in units if u.reordered),
        }
        rules = [r for m in self.measures for r in m.rules] + list(self.definitions)
        rule_counts: dict[str, int] = {}
        for rule in rules:
            rule_counts[rule.status] = rule_counts.get(rule.status, 0) + 1
        regions = [r for m in self.measures for o in m.outcomes for r in o.regions]
        outcome_counts = {
            "benefits": sum(
                1 for m in self.measures for o in m.outcomes if o.regions and o.kind == "benefit"
            ),
            "duties": sum(1 for m in self.measures for o in m.outcomes if o.regions and o.kind == "duty"),
            "gained": sum(1 for r in regions if r.change == "gained"),
            "lost": sum(1 for r in regions if r.change == "lost"),
            "changed": sum(1 for r in regions if r.change == "changed"),
        }
        text = {
            "measures redlined": sum(
                1 for m in self.measures if changed(m.redline) or changed(m.title_redline)
            )
        }
        fact_counts: dict[str, int] = {}
        for fact in self.facts:
            fact_counts[fact.status] = fact_counts.get(fact.status, 0) + 1
        return {
            "structure": structure,
            "text": text,
            "units": units_counts,
            "facts": dict(sorted(fact_counts.items())),
            "rules": dict(sorted(rule_counts.items())),
            "outcomes": outcome_counts,
        }


# ---------------------------------------------------------------- reading plain documents


def decode(raw: bytes, path: str) -> tuple[str, str]:
    """Text and the encoding found, by the one decoder (:func:`policy_dsl.source.decode_text`)."""
    try:
        return decode_text(raw)
    except UnreadableText as exc:
        raise PolicyLoadError([Diagnostic(f"{path}: {exc}", hint="save it as UTF-8")]) from None


def read_plain(path: str | Path) -> tuple[Document, str, str]:
    shown = str(path)
    text, encoding = decode(read_bytes(path, "a policy document", MAX_DOCUMENT_BYTES), shown)
    document = read_document(text)
    if not document.measures:
        raise PolicyLoadError(
            [
                Diagnostic(
                    f"{shown}: does not look like a policy document: "
                    "no numbered units (一、, 第1条, （一）, 1. …) found",
                    hint="policy-diff compares texts whose units are numbered: chapters 一、 or 第一章, "
                    "articles 第1条, measures （一）, items 1.",
                )
            ]
        )
    return document, text, encoding


# ---------------------------------------------------------------- layers


def _units_change(
    old: DocumentMeasure | None,
    new: DocumentMeasure | None,
    registries: tuple[AgencyRegistry | None, AgencyRegistry | None],
) -> UnitsChange | None:
    if old is None or new is None or (old.units_text is None and new.units_text is None):
        return None
    before = tuple(u.name for u in old.units)
    after = tuple(u.name for u in new.units)
    old_reg, new_reg = registries

    def ident(name: str, registry: AgencyRegistry | None) -> str:
        if registry is not None:
            return registry.resolve(name) or name
        return name

    old_ids = [ident(n, old_reg) for n in before]
    new_ids = [ident(n, new_reg) for n in after]
    renamed = [(before[i], after[new_ids.index(x)]) for i, x in enumerate(old_ids) if x in new_ids]
    renamed = [(a, b) for a, b in renamed if a != b]
    added = [after[j] for j, x in enumerate(new_ids) if x not in old_ids]
    removed = [before[i] for i, x in enumerate(old_ids) if x not in new_ids]
    # a unit out and one in at the same place of the list, alike, is a rename (市经济信息委 →
    # 市经济和信息化委员会), registry or not: a registry only knows the aliases written in it
    for gone in list(removed):
        i = before.index(gone)
        alike = i < len(after) and after[i] in added
        if alike and difflib.SequenceMatcher(None, gone, after[i]).ratio() >= 0.5:
            renamed.append((gone, after[i]))
            removed.remove(gone)
            added.remove(after[i])
    lead = None
    if before and after and old_ids[0] != new_ids[0] and (before[0], after[0]) not in renamed:
        lead = (before[0], after[0])  # a renamed lead is the same lead
    common_old = [x for x in old_ids if x in new_ids]
    common_new = [x for x in new_ids if x in old_ids]
    reordered = common_old != common_new
    return UnitsChange(before, after, tuple(added), tuple(removed), tuple(renamed), lead, reordered)


def _text(measures: tuple[DocumentMeasure, ...], group: bool) -> str:
    """A measure's text for the redline; for a merge or a split the units lines are left out,
    and the units layer compares the lists, one member at a time."""
    if group:
        return "".join(m.body for m in measures)
    return "".join(m.body + (m.units_text or "") for m in measures)


def _phrases(old: Document, new: Document, checked: tuple[CheckedPolicy | None, ...]) -> list[str]:
    names: set[str] = set()
    for document in (old, new):
        for measure in document.measures:
            names.update(u.name for u in measure.units)
            names.update(u.full for u in measure.units if u.full)
    for policy in checked:
        if policy is not None:
            names.update(policy.agencies.names)
    return sorted(names)


def _measure_diffs(
    alignment: Alignment,
    rules: tuple[RuleChange, ...],
    outcomes: dict[str, BenefitRegions],
    policies: tuple[CheckedPolicy | None, CheckedPolicy | None],
) -> list[MeasureDiff]:
    phrases = _phrases(alignment.old, alignment.new, policies)
    registries = tuple(p.agencies if p is not None else None for p in policies)
    benefits_of: dict[tuple[str, str], list[str]] = {}
    for side, policy in zip(("old", "new"), policies, strict=True):
        if policy is not None:
            for info in (*policy.benefits, *policy.duties):
                benefits_of.setdefault((side, info.measure), []).append(info.rule.name)
    diffs: list[MeasureDiff] = []
    placed: set[str] = set()
    placed_outcomes: set[str] = set()
    for change in alignment.changes:
        group = len(change.old) > 1 or len(change.new) > 1
        old_text, new_text = _text(change.old, group), _text(change.new, group)
        old_title = "、".join(m.title for m in change.old)
        new_title = "、".join(m.title for m in change.new)
        title_segments = redline(old_title, new_title, phrases)
        body_segments = redline(old_text, new_text, phrases)
        units = None
        parts: list[tuple[str, UnitsChange]] = []
        if len(change.old) == 1 and len(change.new) == 1:
            units = _units_change(change.old[0], change.new[0], registries)  # type: ignore[arg-type]
        elif len(change.old) > 1:  # merged: each old measure's units against the new list
            for member in change.old:
                part = _units_change(member, change.new[0], registries)  # type: ignore[arg-type]
                if part is not None:
                    parts.append((f"{member.number}→{change.new[0].number}", part))
        elif len(change.new) > 1:  # split: the old list against each new measure's
            for member in change.new:
                part = _units_change(change.old[0], member, registries)  # type: ignore[arg-type]
                if part is not None:
                    parts.append((f"{change.old[0].number}→{member.number}", part))
        old_numbers = {m.number for m in change.old}
        new_numbers = {m.number for m in change.new}
        measure_rules = tuple(
            r
            for r in rules
            if r.kind != "definition"
            and r.id not in placed
            and (r.measure_new in new_numbers if r.measure_new is not None else r.measure_old in old_numbers)
        )
        placed.update(r.id for r in measure_rules)
        ids: list[str] = []
        for number in sorted(new_numbers, key=_numeral):
            ids.extend(benefits_of.get(("new", number), []))
        for number in sorted(old_numbers, key=_numeral):
            ids.extend(i for i in benefits_of.get(("old", number), []) if i not in ids)
        measure_outcomes = tuple(outcomes[i] for i in ids if i in outcomes and i not in placed_outcomes)
        placed_outcomes.update(o.id for o in measure_outcomes)
        if change.kind == REWORDED and measure_rules:
            change = attrs.evolve(change, kind=MODIFIED)  # the encodings show a change of rule
        diffs.append(
            MeasureDiff(
                change,
                title_segments,
                body_segments,
                units,
                measure_rules,
                measure_outcomes,
                tuple(parts),
                _boundaries(change),
            )
        )
    return diffs


def _boundaries(change: MeasureChange) -> tuple[tuple[str, str, int, int], ...]:
    """Where each part of a merge (or split) lands: every sentence of the merged measure is given
    to the old measure it is most like, and runs of sentences make the parts."""
    if len(change.old) > 1 and len(change.new) == 1:
        whole, parts, merged = change.new[0], change.old, True
    elif len(change.new) > 1 and len(change.old) == 1:
        whole, parts, merged = change.old[0], change.new, False
    else:
        return ()
    owners: list[int] = []
    for sentence in whole.sentences:
        text = normalize_text(sentence.text)
        scores = [
            max(
                (difflib.SequenceMatcher(None, text, normalize_text(s.text)).ratio() for s in p.sentences),
                default=0,
            )
            for p in parts
        ]
        owners.append(max(range(len(parts)), key=lambda k: scores[k]))
    found: list[tuple[str, str, int, int]] = []
    for index, owner in enumerate(owners, start=1):
        part = parts[owner].number
        old, new = (part, whole.number) if merged else (whole.number, part)
        if found and found[-1][:2] == (old, new) and found[-1][3] == index - 1:
            found[-1] = (old, new, found[-1][2], index)
        else:
            found.append((old, new, index, index))
    return tuple(found)


_NUMERALS = {c: i for i, c in enumerate("零一二三四五六七八九")}


def _numeral(text: str) -> int:
    """（十四） → 14, ②→ 2, for ordering; a heading that is no numeral orders as 0."""
    if text.isdecimal():
        return int(text)
    if text.isdigit():  # ②, ⑵, superscripts: digits int() does not read
        return int("".join(str(unicodedata.digit(char, 0)) for char in text))
    total, current = 0, 0
    for char in text:
        if char == "十":
            total += (current or 1) * 10
            current = 0
        elif char == "百":
            total += (current or 1) * 100
            current = 0
        else:
            current = _NUMERALS.get(char, 0)
    return total + current


def _fallback_as_of(policies: tuple[CheckedPolicy | None, ...]) -> dt.date:
    """A fixed evaluation date where no period decides it (so reports are reproducible): the
    earliest day any period of either version starts, else the latest header date, else 2000-01-01."""
    starts = [
        info.rule.period.start.value
        for p in policies
        if p is not None
        for info in (*p.benefits, *p.duties)
        if info.rule.period is not None and isinstance(info.rule.period.start.value, dt.date)
    ]
    if starts:
        return min(starts)
    validity = [p.validity.start for p in policies if p is not None and p.validity.start is not None]
    if validity:  # a day both versions are in force, if there is one: the later start
        return max(validity)
    dates = [
        p.header.date.value
        for p in policies
        if p is not None and p.header.date is not None and isinstance(p.header.date.value, dt.date)
    ]
    return max(dates) if dates else dt.date(2000, 1, 1)


def diff_documents(old: Document, new: Document, old_info: VersionInfo, new_info: VersionInfo) -> PolicyDiff:
    """The structure, text and units layers of two plain documents."""
    alignment = align(old, new)
    measures = _measure_diffs(alignment, (), {}, (None, None))
    return PolicyDiff(old_info, new_info, tuple(measures), (), None, chapters=alignment.chapters)


def diff_policies(old: Policy, new: Policy, old_info: VersionInfo, new_info: VersionInfo) -> PolicyDiff:
    """Every layer of two encodings, each with its source text."""
    old_checked, new_checked = old.checked, new.checked
    assert old_checked.document is not None and new_checked.document is not None
    alignment = align(read_document(old_checked.document.text), read_document(new_checked.document.text))
    facts = align_facts(old_checked, new_checked)
    rules = diff_rules(old_checked, new_checked, facts.renamed)
    fallback = _fallback_as_of((old_checked, new_checked))
    outcomes: dict[str, BenefitRegions] = {}
    for kind in ("benefit", "duty"):
        infos = (
            [*new_checked.benefits, *old_checked.benefits]
            if kind == "benefit"
            else [*new_checked.duties, *old_checked.duties]
        )
        for ident in dict.fromkeys(info.rule.name for info in infos):
            outcomes[ident] = outcome_regions(
                old.compiled, new.compiled, ident, fallback, kind, facts.renamed
            )
    measures = _measure_diffs(alignment, rules, outcomes, (old_checked, new_checked))
    definitions = tuple(r for r in rules if r.kind == "definition")
    return PolicyDiff(
        old_info, new_info, tuple(measures), definitions, fallback, None, facts.changes, alignment.chapters
    )


def diff_loaded(old: Policy, new: Policy) -> PolicyDiff:
    """Compare two loaded policies (all layers), as :func:`diff_paths` compares two ``.policy`` files:
    for a caller holding them already (``policy serve``)."""
    infos = []
    for policy in (old, new):
        checked = policy.checked
        assert checked.document is not None
        document = read_document(checked.document.text)
        status = checked.header.version.value if checked.header.version else document.status
        validity = checked.validity
        infos.append(
            VersionInfo(
                policy.path,
                checked.title,
                status,
                checked.document.encoding,  # how the source text is stored
                len(document.measures),
                True,
                validity.describe(),
                validity.repeals,
                validity.precedence,
            )
        )
    return diff_policies(old, new, infos[0], infos[1])


def diff_paths(old_path: str, new_path: str) -> PolicyDiff:
    """Compare two files: two ``.policy`` encodings (all layers) or two plain texts."""
    paths = (old_path, new_path)
    encoded = [p.endswith(".policy") for p in paths]
    if encoded[0] != encoded[1]:
        raise PolicyLoadError(
            [
                Diagnostic(
                    "compare two .policy files or two plain texts, not one of each",
                    hint=f"got {old_path} and {new_path}",
                )
            ]
        )
    if all(encoded):
        return diff_loaded(load(old_path), load(new_path))
    documents = []
    infos = []
    for path in paths:
        document, _, encoding = read_plain(path)
        documents.append(document)
        infos.append(
            VersionInfo(path, document.title, document.status, encoding, len(document.measures), False)
        )
    return diff_documents(documents[0], documents[1], infos[0], infos[1])


__all__ = [
    "DELETED",
    "INSERTED",
    "SCHEMA_VERSION",
    "MeasureDiff",
    "PolicyDiff",
    "UnitsChange",
    "VersionInfo",
    "decode",
    "diff_documents",
    "diff_paths",
    "diff_policies",
]
