"""Stage 2: :class:`~policy_dsl.model.PolicyFile` → :class:`CheckedPolicy`. Entry point: :func:`check`.

Resolves names (facts, definitions, enum values, agencies), infers and checks types, units
and currencies, verifies every citation against the source text, and orders definitions so
none depends on itself. Every problem is collected; one :class:`PolicyCheckError` lists them
all in source order.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from policy_dsl import model as m
from policy_dsl import types as t
from policy_dsl.citations import FoldedSource, Site, Span, constants, normalize_text, verify_citations
from policy_dsl.coverage import Coverage, covered_text, measure_coverage
from policy_dsl.document import Document, DocumentUnit, UnitKey, heading_key, read_document
from policy_dsl.errors import Diagnostic, PolicyCheckError, did_you_mean
from policy_dsl.format import band_text, format_condition, format_literal
from policy_dsl.parse import glued_keyword
from policy_dsl.registry import Registry, load_registries
from policy_dsl.source import SourceFile, SourcePosition
from policy_dsl.types import Type
from policy_dsl.values import (
    CURRENCY_WORDS,
    EXACT,
    Duration,
    Money,
    Percent,
    decimal_digits,
    runtime_value,
)
from policy_dsl.visitor import Visitor

#: What a benefit's text commits to, strongest first (`commits …`; docs/language.md, "Commitment"):
#: 给予/补贴/奖励 an amount → entitled; 支持/鼓励/可 → may_receive (the agency decides); 优先 → priority
#: (preferred where there is a selection); 一事一议 → case_by_case (negotiated, no terms in the text);
#: 研究/积极推动 → intention (the text announces work; nothing is owed to an enterprise yet).
COMMITMENTS = ("entitled", "may_receive", "priority", "case_by_case", "intention")
#: How the reports name what an eligible benefit's text commits to (eval, explain, populations).
COMMITMENT_SHOWN = {
    "entitled": "eligible",
    "may_receive": "may receive",
    "priority": "priority",
    "case_by_case": "case by case",
    "intention": "announced",
}
#: The words of a cited sentence that suggest a commitment weaker than an entitlement, weakest first:
#: a benefit citing one and saying no `commits` gets a warning naming it.
COMMITMENT_WORDS = (
    ("intention", ("研究", "积极推动", "探索", "争取")),  # 研究 the verb: not 研究生, 研究院, 研究所
    ("case_by_case", ("一事一议",)),
    ("priority", ("优先",)),
    ("may_receive", ("支持", "鼓励", "引导", "指导")),
)

#: Nouns that hold a commitment word without being one (研究生 a graduate student, 研究院 an institute).
_NOT_COMMITMENT = re.compile("研究(?=生|院|所|员|室|中心)")


def _says(text: str, word: str) -> bool:
    """Whether ``text`` uses ``word`` as a word of commitment (研究 in 研究生 is not one)."""
    return word in _NOT_COMMITMENT.sub("", text) if word == "研究" else word in text


#: The most digits of an amount per unit (`amount 100元 per 面积`): its product with a count stays
#: exact in SQL's DECIMAL(38) (sql._per_sql).
MAX_PER_DIGITS = 12

#: The kinds of benefit an encoder may name. Others are an error (with did-you-mean).
BENEFIT_KINDS = (
    "subsidy",
    "reward",
    "premium_subsidy",
    "interest_subsidy",
    "tax_refund",
    "tax_relief",
    "loan_support",
    "financing",
    "facilitation",
    "service",
    "recognition",
    "other",
)


@attrs.frozen
class FactInfo:
    decl: m.FactDecl
    type: Type
    #: the vocabulary (a ``use``d file) that declares it, as the policy names it; None: the policy's own
    origin: str | None = None


@attrs.frozen
class ItemsInfo:
    """``items 获批品种 { … }``: a list fact (``Type("list", name)`` in ``CheckedPolicy.facts``) and
    the facts each of its items has, in scope only in a benefit ``for each`` it."""

    decl: m.ItemsDecl
    facts: dict[str, FactInfo]


@attrs.frozen
class AgencyRegistry:
    """Agencies by canonical id, and every name (id, full name, alias) that refers to one."""

    agencies: dict[str, m.Agency]
    names: dict[str, str]

    def resolve(self, name: str) -> str | None:
        return self.names.get(name)


@attrs.frozen
class UnitInfo:
    """A unit of the encoding with what the checker resolved: its chapter, agencies, and text."""

    unit: m.Unit
    chapter: m.Unit | None  # the outermost unit holding it, when that is not the unit itself
    agencies: tuple[str, ...]  # its own `agencies` line
    source: DocumentUnit | None = attrs.field(default=None, eq=False)
    #: who answers for its rules: its own agencies, else those of the nearest unit holding it
    responsible: tuple[str, ...] = ()


@attrs.frozen
class RuleInfo:
    """A benefit, duty or target with what the checker resolved around it.

    ``rule`` is the rule as evaluated: a cross-reference (``follows``) has the fields of the rule
    it follows where it states none; ``written`` is the rule as the encoding writes it.
    """

    rule: m.Benefit | m.Duty | m.Target
    unit: m.Unit
    chapter: m.Unit | None
    agencies: tuple[str, ...]
    period: tuple[dt.date | None, dt.date | None] | None = None
    written: m.Benefit | m.Duty | m.Target | None = attrs.field(default=None, eq=False)
    #: The label of the measure of the text (the diff's unit of alignment) that holds the rule.
    measure: str = ""

    @property
    def follows(self) -> str | None:
        written = self.written or self.rule
        return written.follows.text if isinstance(written, m.Benefit | m.Duty) and written.follows else None


#: The units a period counted from a date (``within``) may have: calendar days, weeks, months, years.
WITHIN_UNITS = ("days", "weeks", "months", "years")

#: How an exclusive group (不重复享受) picks the benefit an enterprise keeps.
KEEPS = ("highest", "first", "one")


@attrs.frozen
class ExclusiveInfo:
    """A checked exclusive group: its benefits in the order written and how one is kept."""

    rule: m.Exclusive
    unit: m.Unit
    members: tuple[str, ...]
    keep: str


#: At most this many stages in a staged payment (the SQL writes one arm per set of stages reached).
MAX_STAGES = 5


@attrs.frozen
class StagedInfo:
    """A checked staged payment (分阶段兑现): its benefits and each stage's share (percent)."""

    rule: m.Staged
    unit: m.Unit
    members: tuple[str, ...]
    shares: tuple[Decimal, ...]


@attrs.frozen
class Validity:
    """When the document is in force, and its standing (status, what it repeals, precedence)."""

    start: dt.date | None
    end: dt.date | None
    draft: bool
    repeals: tuple[str, ...] = ()
    precedence: str | None = None
    #: the document's level (LEVELS), and ``keep highest`` (就高不重复 with other documents)
    level: str | None = None
    keep: str | None = None

    @property
    def period(self) -> tuple[dt.date | None, dt.date | None] | None:
        return None if self.start is None and self.end is None else (self.start, self.end)

    def describe(self) -> str:
        start = self.start.isoformat() if self.start else "—"
        end = self.end.isoformat() if self.end else "no end date"
        text = f"in force {start} to {end}" if self.period else "no validity stated"
        return text + (" (a draft: no force until adopted)" if self.draft else "")


@attrs.frozen
class CheckedPolicy:
    """A policy whose names, types and citations are all known to be right."""

    path: str
    file: m.PolicyFile
    header: m.PolicyHeader
    document: SourceFile | None
    facts: dict[str, FactInfo]
    enums: dict[str, m.EnumDecl]
    agencies: AgencyRegistry
    definitions: dict[str, m.Definition]
    units: tuple[UnitInfo, ...]
    benefits: tuple[RuleInfo, ...]
    duties: tuple[RuleInfo, ...]
    targets: tuple[RuleInfo, ...]
    coverage: Coverage | None = None
    #: Non-cumulation: groups of benefits of which an enterprise keeps one (不重复享受, 就高)
    exclusives: tuple[ExclusiveInfo, ...] = ()
    #: Lists of items (``items 获批品种 { … }``) by name, with each item's facts
    items: dict[str, ItemsInfo] = attrs.field(factory=dict)
    #: Staged payments (分阶段兑现): benefits paid in parts as milestones are reached
    staged: tuple[StagedInfo, ...] = ()
    validity: Validity = Validity(None, None, False)
    warnings: tuple[Diagnostic, ...] = ()
    structure: Document | None = attrs.field(default=None, eq=False)

    @property
    def all_facts(self) -> dict[str, FactInfo]:
        """Every fact: the enterprise's (a list of items among them) and each item's."""
        if not self.items:
            return self.facts
        found = dict(self.facts)
        for info in self.items.values():
            found.update(info.facts)
        return found

    @property
    def measures(self) -> tuple[UnitInfo, ...]:
        """The units that hold rules or cite the text (every unit but the document itself)."""
        return tuple(info for info in self.units if info.unit.kind != "document")

    def rule(self, name: str) -> RuleInfo | None:
        for info in (*self.benefits, *self.duties, *self.targets):
            if info.rule.name == name:
                return info
        return None

    @property
    def title(self) -> str:
        return self.header.title.value


def check(
    policy: m.PolicyFile, path: str | None = None, registries: Mapping[str, Registry] | None = None
) -> CheckedPolicy:
    """Check a parsed policy; ``path`` locates the source text it names. ``registries`` are the
    agency registries it ``use``s, read by the caller (:func:`policy_dsl.registry.load_registries`;
    read here from ``path``'s folder when not given).

    Raises :class:`PolicyCheckError` (with the problems of a registry that could not be read).
    """
    location = path or policy.pos.path
    if registries is None:
        registries = load_registries(policy, location)
    oversized = _oversized_conditions(policy)
    if oversized:  # every later walk of a condition is recursive: refuse them before any
        raise PolicyCheckError(oversized)
    checker = _Checker(policy, location, registries)
    return checker.run()


@attrs.frozen
class CheckedVocabulary:
    """A vocabulary file (facts, enums, lists of items, definitions, agencies that policies ``use``),
    checked on its own: every type and enum known, every definition's condition well typed."""

    path: str
    file: m.PolicyFile
    facts: dict[str, FactInfo]
    enums: dict[str, m.EnumDecl]
    definitions: dict[str, m.Definition]
    agencies: AgencyRegistry
    items: dict[str, ItemsInfo] = attrs.field(factory=dict)

    @property
    def all_facts(self) -> dict[str, FactInfo]:
        """Every fact: the enterprise's and each item's (as :attr:`CheckedPolicy.all_facts`)."""
        found = dict(self.facts)
        for info in self.items.values():
            found.update(info.facts)
        return found


def check_vocabulary(vocabulary: m.PolicyFile, path: str | None = None) -> CheckedVocabulary:
    """Check a vocabulary on its own. Raises :class:`PolicyCheckError` for a file holding anything
    else (a header, a unit, a rule, a ``use``) and for the errors a policy using it would show."""
    checker = _Checker(vocabulary, path or vocabulary.pos.path, {})
    return checker.run_vocabulary()


#: The most tests one condition may hold, and the deepest it may nest (parentheses, `not`, and /
#: or). Real conditions hold a few tests, a few levels deep; these limits keep every stage after the
#: parser (whose loop is not recursive) fast and within Python's recursion limit.
MAX_CONDITION_TESTS = 1000
MAX_CONDITION_DEPTH = 100


def _oversized_conditions(policy: m.PolicyFile) -> list[Diagnostic]:
    """A condition over :data:`MAX_CONDITION_TESTS` tests or :data:`MAX_CONDITION_DEPTH` levels,
    measured without recursion, each reported once where it starts."""
    found: list[Diagnostic] = []
    for unit in (policy.document_unit(), *policy.units()):
        for rule in unit.rules:
            condition = rule.means if isinstance(rule, m.Definition) else getattr(rule, "when", None)
            if condition is None:
                continue
            tests, deepest = 0, 0
            stack: list[tuple[m.Node, int]] = [(condition, 1)]
            while stack:
                node, depth = stack.pop()
                deepest = max(deepest, depth)
                if isinstance(node, m.Not):
                    stack.append((node.operand, depth + 1))
                elif isinstance(node, m.And | m.Or):
                    stack.extend((operand, depth + 1) for operand in node.operands)
                else:
                    tests += 1
            if deepest > MAX_CONDITION_DEPTH:
                found.append(
                    Diagnostic(
                        f"this condition nests {deepest} levels deep; at most {MAX_CONDITION_DEPTH}",
                        condition.pos,
                        hint="name parts of it as definitions, or drop redundant parentheses and `not`s",
                    )
                )
            elif tests > MAX_CONDITION_TESTS:
                found.append(
                    Diagnostic(
                        f"this condition holds {tests} tests; at most {MAX_CONDITION_TESTS}",
                        condition.pos,
                        hint="name parts of it as definitions",
                    )
                )
    return found


# ---------------------------------------------------------------- the checker


class _Checker:
    def __init__(self, policy: m.PolicyFile, path: str, registries: Mapping[str, Registry]) -> None:
        self.policy = policy
        self.registries = registries
        self.path = path
        self.base = Path(path).parent
        self.diagnostics: list[Diagnostic] = []
        self.document: SourceFile | None = None
        self.structure: Document | None = None
        self.incomplete_registry = False
        self.folded: FoldedSource | None = None
        self.definition_constants: dict[str, tuple[set[object], list[str]]] = {}
        self.resolved: dict[str, m.Benefit | m.Duty | m.Target] = {}
        self.registry = AgencyRegistry({}, {})
        self.facts: dict[str, FactInfo] = {}
        self.items: dict[str, ItemsInfo] = {}
        self.written_rules: dict[str, tuple[m.Benefit | m.Duty | m.Target, UnitInfo]] = {}
        self.enums: dict[str, m.EnumDecl] = {}
        self.definitions: dict[str, m.Definition] = {}
        self.names_seen: dict[str, SourcePosition] = {}
        self.names_folded: dict[str, str] = {}  # casefold → the name as declared
        #: Names whose declaration was refused (declared twice, or clashing in case): already
        #: reported once, so their uses are not reported again as unknown.
        self.names_refused: set[str] = set()
        #: Declarations of the vocabularies (``use``d files) in the order used, with the file each
        #: comes from; and for each declared name, its file (None: this file) and its meaning.
        self.shared: list[tuple[str, m.Node]] = []
        self.origin: dict[str, str | None] = {}
        self.meanings: dict[str, str] = {}

    def error(self, message: str, pos: SourcePosition | None, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(message, pos=pos, hint=hint))

    def head(self, node: m.Node) -> SourcePosition:
        """Where a declaration's name is written: tighter than the whole block for a caret."""
        name = getattr(node, "name", None) or getattr(node, "id", None)
        if isinstance(node, m.Unit):
            name = node.number
        pos = node.pos
        if not isinstance(name, str) or pos.line <= 0:
            return pos
        line = pos.file.line(pos.line)
        # the name as a whole word: `benefit e` is not the `e` of `benefit`
        found = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)").search(line, max(pos.column - 1, 0))
        if found is None:
            return pos
        index = found.start()
        return SourcePosition(pos.file, pos.line, index + 1, pos.line, index + 1 + len(name))

    # -- entry
    def run(self) -> CheckedPolicy:
        header = self.check_header()
        registry = self.collect_agencies()
        self.collect_enums()
        self.collect_facts()
        self.collect_definitions()
        validity = self.check_validity(header)
        units, rules = self.check_units(registry)
        benefits, duties, targets = self.check_rules(rules, validity)
        exclusives = self.check_exclusives(rules, benefits)
        staged = self.check_staged(rules, benefits)
        ordered = self.order_definitions()
        for definition in self.definitions.values():
            if definition.means is None:
                self.error(f"definition `{definition.name}` has no `means` condition", self.head(definition))
            else:
                self.expect_condition(definition.means)
        self.verify_citations(header, units, rules)
        coverage = self.coverage(units, registry)
        errors = [d for d in self.diagnostics if d.severity == "error"]
        if errors:
            raise PolicyCheckError(self.diagnostics)
        assert header is not None
        self.drop_unused_shared(ordered)
        return CheckedPolicy(
            path=self.path,
            file=self.policy,
            header=header,
            document=self.document,
            facts=self.facts,
            enums=self.enums,
            agencies=registry,
            definitions={name: self.definitions[name] for name in ordered},
            units=tuple(units),
            benefits=tuple(benefits),
            duties=tuple(duties),
            targets=tuple(targets),
            coverage=coverage,
            exclusives=tuple(exclusives),
            items=self.items,
            staged=tuple(staged),
            validity=validity,
            warnings=tuple(sorted(self.diagnostics, key=Diagnostic.sort_key)),
            structure=self.structure,
        )

    def drop_unused_shared(self, ordered: list[str]) -> None:
        """Keep of the vocabularies' declarations those the policy uses (directly, or through a
        definition, an enum, an `implies` or a list it uses): a policy's facts are the questions it
        asks, not every fact its vocabulary knows."""
        used = names_used(item for item in self.policy.items)
        pending = list(used)
        shared = {getattr(item, "name", None): item for _, item in self.shared}
        while pending:
            name = pending.pop()
            item = shared.get(name)
            if item is None:
                continue
            for found in names_used([item]):
                if found not in used:
                    used.add(found)
                    pending.append(found)

        def keep(name: str) -> bool:
            return self.origin.get(name) is None or name in used

        self.facts = {name: info for name, info in self.facts.items() if keep(name)}
        self.items = {name: info for name, info in self.items.items() if keep(name)}
        self.enums = {name: enum for name, enum in self.enums.items() if keep(name)}
        self.definitions = {name: d for name, d in self.definitions.items() if keep(name)}
        ordered[:] = [name for name in ordered if keep(name)]

    def run_vocabulary(self) -> CheckedVocabulary:
        for item in self.policy.items:
            if not isinstance(item, (m.Agency, *SHARED_DECLARATIONS)):
                self.error(
                    "a vocabulary may declare only agencies, enums, facts, lists of items and definitions",
                    item.pos,
                    hint="a policy `use`s the vocabulary; its header, units and rules stay in the policy",
                )
        registry = self.collect_agencies()
        self.collect_enums()
        self.collect_facts()
        self.collect_definitions()
        self.order_definitions()
        for definition in self.definitions.values():
            if definition.citations:
                self.error(
                    "a vocabulary's definition cannot cite: a vocabulary encodes no text of its own",
                    definition.citations[0].pos,
                    hint="cite the words where a policy's rule uses it",
                )
        for definition in self.definitions.values():
            if definition.means is None:
                self.error(f"definition `{definition.name}` has no `means` condition", self.head(definition))
            else:
                self.expect_condition(definition.means)
        if any(d.severity == "error" for d in self.diagnostics):
            raise PolicyCheckError(self.diagnostics)
        return CheckedVocabulary(
            self.path, self.policy, self.facts, self.enums, self.definitions, registry, self.items
        )

    # -- coverage of the source text
    def all_citations(self) -> Iterator[m.Citation]:
        header = self.policy.header
        if header is not None:
            yield from header.citations
        for unit in (self.policy.document_unit(), *self.policy.units()):
            yield from unit.citations
            for rule in unit.rules:
                yield from rule.citations

    def coverage(self, units: list[UnitInfo], registry: AgencyRegistry) -> Coverage | None:
        if self.structure is None or self.folded is None:
            return None
        covered = covered_text(self.folded, self.all_citations())
        encoded = [info for info in units if info.source is not None]
        lines_ok = [
            info.source
            for info in encoded
            if info.source is not None
            and info.source.units_text is not None
            and self.check_unit_agencies(info.source, info, registry, covered)
        ]
        sources = [info.source for info in encoded if info.source is not None]
        return measure_coverage(self.structure, self.folded, covered, sources, lines_ok)

    def check_unit_agencies(
        self,
        doc_unit: DocumentUnit,
        info: UnitInfo,
        registry: AgencyRegistry,
        covered: bytearray,
    ) -> bool:
        """The unit's agencies must be the units its （责任单位：…） line names, in the same order."""
        unit = info.unit
        if self.incomplete_registry or len(info.agencies) != len(unit.agencies):
            return False  # an agency already failed to resolve: do not pile on
        where = unit.agencies[0].pos if unit.agencies else unit.pos
        units_norm = normalize_text(doc_unit.units_text or "")
        for citation in unit.citations:
            cited = normalize_text(citation.text.value)
            if cited and (cited in units_norm or units_norm in cited):
                where = citation.text.pos
                break
        listed: list[str] = []
        for named in doc_unit.units:
            agency = registry.resolve(named.name) or (registry.resolve(named.full) if named.full else None)
            if agency is None:
                self.error(
                    f"the （责任单位：…） line of {unit.label} names `{named.name}`, "
                    "which no agency is called",
                    where,
                    hint=did_you_mean(named.name, registry.names)
                    or "add it (or the alias) to the agency registry",
                )
                return False
            listed.append(agency)
        if tuple(listed) != info.agencies:
            self.error(
                f"the agencies of {unit.label} differ from its （责任单位：…） line",
                where,
                hint="the text lists, lead first: " + "、".join(listed),
            )
            return False
        assert self.folded is not None
        start = self.folded.text.find(units_norm, self.folded.offset_of_line(doc_unit.units_line or 1))
        return start >= 0 and all(covered[start : start + len(units_norm)])

    # -- header and source text
    def check_header(self) -> m.PolicyHeader | None:
        headers = [item for item in self.policy.items if isinstance(item, m.PolicyHeader)]
        if not headers:
            self.error(
                "this file has no `policy` header",
                self.policy.pos,
                hint='start with `policy "标题" { status draft  source "document.txt" }`',
            )
            return None
        for extra in headers[1:]:
            self.error(
                "a second `policy` header", extra.pos, hint=f"the first is at line {headers[0].pos.line}"
            )
        header = headers[0]
        if header.source is None:
            self.error(
                "the policy names no source text, so its citations cannot be verified",
                header.pos,
                hint='add `source "document.txt"`: the document this file encodes',
            )
        else:
            location = self.base / header.source.value
            try:
                self.document = SourceFile.read(location)
            except FileNotFoundError:
                self.error(f"source text `{header.source.value}` not found", header.source.pos)
            except (OSError, ValueError) as exc:
                self.error(f"source text `{header.source.value}` cannot be read: {exc}", header.source.pos)
            else:
                self.folded = FoldedSource(self.document)
                self.structure = read_document(self.document.text)
        if header.date is not None and not _is_date(header.date):
            self.error("the header's `date` must be a date", header.date.pos)
        return header

    def check_validity(self, header: m.PolicyHeader | None) -> Validity:
        """The document's period: from ``effective`` (a date, or the publication ``date``) for ``valid``
        years/months/days, or ``until`` a date; a period counted in years or months starts the day
        after its event and ends on the corresponding day (民法典 第二百零一、二百零二条)."""
        if header is None:
            return Validity(None, None, False)
        draft = header.status is not None and header.status.text == "draft"
        start: dt.date | None = None
        effective = header.effective
        if isinstance(effective, m.Name):
            if header.date is None or not _is_date(header.date):
                self.error(
                    "`effective publication` needs the publication `date` in the header",
                    effective.pos,
                    hint="add `date 2023-02-08` (the date the document was issued)",
                )
            else:
                start = header.date.value  # type: ignore[assignment]
        elif effective is not None:
            if not _is_date(effective):
                self.error("`effective` takes a date or `publication`", effective.pos)
            else:
                start = effective.value  # type: ignore[assignment]
        end: dt.date | None = None
        if header.valid is not None and header.until is not None:
            self.error(
                "give either `valid` or `until`, not both",
                header.until.pos,
                hint="`valid 3年` counts from the effective date; `until` names the last day",
            )
        elif header.valid is not None:
            value = header.valid.value
            if not isinstance(value, Duration) or value.unit not in ("years", "months", "days"):
                self.error(
                    "`valid` takes a duration in years, months or days",
                    header.valid.pos,
                    hint="e.g. valid 3年",
                )
            elif start is None:
                if not isinstance(effective, m.Name):  # `effective publication` without a date: above
                    self.error(
                        "`valid` counts from the effective date, which the header does not give",
                        header.valid.pos,
                        hint="add `effective 2023-02-08` or `effective publication` with the `date`",
                    )
            else:
                try:
                    end = period_end(start, value)
                except (ValueError, OverflowError):  # past 9999-12-31
                    self.error(
                        "the document's validity would end after the year 9999",
                        header.valid.pos,
                        hint="check the number of years or months",
                    )
        elif header.until is not None:
            if not _is_date(header.until):
                self.error("`until` takes a date", header.until.pos)
            else:
                end = header.until.value  # type: ignore[assignment]
        if start is not None and end is not None and end < start:
            where = header.until or header.valid or header
            self.error("the document's validity ends before it takes effect", where.pos)
        precedence = None
        if header.precedence is not None:
            precedence = header.precedence.text
            if precedence not in PRECEDENCE:
                self.error(
                    f"unknown precedence `{precedence}`",
                    header.precedence.pos,
                    hint=did_you_mean(precedence, PRECEDENCE)
                    or "`higher` (上级文件优先: a higher-level text prevails) or `this`",
                )
        level = self.header_word(header.level, LEVELS, "`national`, `provincial`, `city` or `county`")
        keep = self.header_word(header.keep, ("highest",), "`highest` (就高不重复)")
        repeals = tuple(t.value for t in header.repeals)
        return Validity(start, end, draft, repeals, precedence, level, keep)

    def header_word(self, word: m.Name | None, allowed: tuple[str, ...], shown: str) -> str | None:
        if word is None:
            return None
        if word.text not in allowed:
            self.error(
                f"unknown {'level' if allowed is LEVELS else 'keep'} `{word.text}`",
                word.pos,
                hint=did_you_mean(word.text, allowed) or shown,
            )
            return None
        return word.text

    # -- agencies
    def collect_agencies(self) -> AgencyRegistry:
        self.registry = self._collect_agencies()
        return self.registry

    def _collect_agencies(self) -> AgencyRegistry:
        agencies: dict[str, m.Agency] = {}
        names: dict[str, str] = {}
        declared: list[m.Agency] = []
        for item in self.policy.items:
            if isinstance(item, m.UseRegistry):
                declared.extend(self.load_registry(item))
            elif isinstance(item, m.Agency):
                declared.append(item)
        for agency in declared:
            if agency.id in agencies:
                first = agencies[agency.id].pos
                self.error(
                    f"agency `{agency.id}` is declared twice",
                    self.head(agency),
                    hint=f"the first declaration is at {first.path}:{first.line}",
                )
                continue
            agencies[agency.id] = agency
        for agency in agencies.values():
            for alias in (m.Text(agency.id, pos=agency.pos), agency.name, *agency.aliases):
                owner = names.get(alias.value)
                if owner is not None and owner != agency.id:
                    self.error(
                        f"`{alias.value}` names both agency `{owner}` and agency `{agency.id}`",
                        alias.pos,
                        hint="an alias must name one agency",
                    )
                    continue
                names[alias.value] = agency.id
        return AgencyRegistry(agencies, names)

    def load_registry(self, use: m.UseRegistry) -> list[m.Agency]:
        """The agencies of a registry the caller read (:mod:`policy_dsl.registry`)."""
        registry = self.registries.get(use.path.value)
        if registry is None or registry.file is None:
            if registry is not None:
                self.diagnostics.extend(registry.problems)
            self.incomplete_registry = True
            return []
        agencies: list[m.Agency] = []
        for item in registry.file.items:
            if isinstance(item, m.Agency):
                agencies.append(item)
            elif use.path.value.endswith(".agencies"):
                self.error(
                    "an agency registry may declare only agencies",
                    item.pos,
                    hint="move this into the policy file that uses the registry, or into a `.vocabulary`",
                )
            elif isinstance(item, SHARED_DECLARATIONS):
                self.shared.append((use.path.value, item))
            else:
                self.error(
                    "a used file (an agency registry or a vocabulary) may declare only agencies, enums, "
                    "facts, lists of items and definitions",
                    item.pos,
                    hint="move this into the policy file that uses it",
                )
        return agencies

    def declared(self, kind: tuple[type[m.Node], ...]) -> Iterator[tuple[str | None, m.Node]]:
        """Declarations of one kind: the vocabularies' first (with the file each is from), then this
        file's own (origin None)."""
        for origin, item in self.shared:
            if isinstance(item, kind):
                yield origin, item
        for item in self.policy.items:
            if isinstance(item, kind):
                yield None, item

    # -- declarations
    def claim_name(self, name: str, node: m.Node, what: str, origin: str | None = None) -> bool:
        """Whether ``node`` declares ``name`` here. A name two vocabularies declare with one meaning is
        one declaration (the first); with two meanings, or declared again by the policy itself over
        a vocabulary's, it is an error."""
        meaning = declaration_meaning(node, self.enums)
        if name in self.names_seen:
            first = self.names_seen[name]
            prior = self.origin.get(name)
            if prior is not None and origin is not None:
                if self.meanings.get(name) == meaning:
                    return False  # the same declaration, shared: the first stands
                self.error(
                    f"`{name}` is declared in `{prior}` as {self.meanings.get(name)} and in `{origin}` "
                    f"as {meaning}",
                    self.head(node),
                    hint="one name, one meaning across the vocabularies a policy uses: rename one, or "
                    "make them agree",
                )
            elif prior is not None:
                same = self.meanings.get(name) == meaning
                self.error(
                    f"`{name}` is already declared in the vocabulary `{prior}`"
                    + ("" if same else f" as {self.meanings.get(name)}"),
                    self.head(node),
                    hint="drop this declaration: the vocabulary's applies"
                    if same
                    else "rename this one: a policy that uses a vocabulary takes its meaning",
                )
            else:
                self.error(
                    f"`{name}` is declared twice",
                    self.head(node),
                    hint=f"the first declaration is at line {first.line}",
                )
            self.names_refused.add(name)
            return False
        other = self.names_folded.get(name.casefold())
        if other is not None:
            self.error(
                f"`{name}` and `{other}` differ only in case",
                self.head(node),
                hint=f"`{other}` is at line {self.names_seen[other].line}; rename one: SQL engines "
                "(DuckDB, Spark) do not tell such names apart as columns",
            )
            self.names_refused.add(name)
            return False
        self.names_seen[name] = node.pos
        self.names_folded[name.casefold()] = name
        self.origin[name] = origin
        self.meanings[name] = meaning
        return True

    def collect_enums(self) -> None:
        for origin, item in self.declared((m.EnumDecl,)):
            assert isinstance(item, m.EnumDecl)
            if not self.claim_name(item.name, item, "enum", origin):
                continue
            seen: set[str] = set()
            for value in item.values:
                if value.name in seen:
                    self.error(f"enum `{item.name}` lists `{value.name}` twice", value.pos)
                seen.add(value.name)
            self.enums[item.name] = item

    def collect_facts(self) -> None:
        for origin, item in self.declared((m.FactDecl, m.ItemsDecl)):
            if isinstance(item, m.ItemsDecl):
                self.collect_items(item, origin)
                continue
            assert isinstance(item, m.FactDecl)
            if not self.claim_name(item.name, item, "fact", origin):
                continue
            self.facts[item.name] = FactInfo(item, self.resolve_type(item.type), origin)
        for name, info in self.facts.items():
            for implied in info.decl.implies:
                target = self.facts.get(implied.text)
                if target is None:
                    if implied.text not in self.names_refused:
                        self.error(
                            f"`{name}` implies `{implied.text}`, which is not a fact",
                            implied.pos,
                            hint=did_you_mean(implied.text, self.facts) or "declare it with `fact … : bool`",
                        )
                elif implied.text == name:
                    self.error(f"`{name}` implies itself", implied.pos, hint="drop this `implies`")
                elif target.type != t.BOOL:
                    self.error(
                        f"`{name}` implies `{implied.text}`, which is {target.type}, not a yes/no fact",
                        implied.pos,
                        hint="`implies` names bool facts that this fact's value makes true",
                    )

    def collect_items(self, decl: m.ItemsDecl, origin: str | None = None) -> None:
        """A list fact and its items' facts: names unique across the whole policy (an item's fact is
        read beside the enterprise's when a benefit is decided per item)."""
        if not self.claim_name(decl.name, decl, "list of items", origin):
            return
        fields: dict[str, FactInfo] = {}
        for fact in decl.facts:
            if not self.claim_name(fact.name, fact, "fact", origin):
                continue
            if fact.implies:
                self.error(
                    "an item's fact cannot imply other facts",
                    fact.implies[0].pos,
                    hint="`implies` is for the enterprise's own yes/no facts",
                )
            fields[fact.name] = FactInfo(fact, self.resolve_type(fact.type), origin)
        ref = m.TypeRef("list", decl.name, pos=decl.pos)
        self.facts[decl.name] = FactInfo(
            m.FactDecl(decl.name, ref, decl.label, pos=decl.pos), t.Type("list", decl.name), origin
        )
        self.items[decl.name] = ItemsInfo(decl, fields)

    def unknown_fact(self, name: m.Name) -> None:
        """``name`` is no fact here: a typo (did you mean), or an item's fact outside its benefits."""
        owner = self.item_of(name.text)
        hint = did_you_mean(name.text, self.facts)
        if owner is not None:
            hint = f"`{name.text}` is a fact of each item of `{owner}`: decide the benefit `for each {owner}`"
        self.error(f"unknown fact `{name.text}`", name.pos, hint=hint)

    def item_of(self, name: str) -> str | None:
        """The list whose items have fact ``name``, if it is an item's fact."""
        return next((list_ for list_, info in self.items.items() if name in info.facts), None)

    def resolve_type(self, ref: m.TypeRef) -> Type:
        if ref.kind in {"enum", "set"}:
            name = ref.param or ""
            if name not in self.enums:
                if name not in self.names_refused:  # else its declaration was reported already
                    self.error(f"unknown enum `{name}`", ref.pos, hint=did_you_mean(name, self.enums))
                return t.UNKNOWN
        return Type(ref.kind, ref.param)

    def collect_definitions(self) -> None:
        shared = [(origin, item) for origin, item in self.shared if isinstance(item, m.Definition)]
        own: list[tuple[str | None, m.Definition]] = [(None, d) for d in self.all_definitions()]
        for origin, definition in [*shared, *own]:
            assert isinstance(definition, m.Definition)
            if self.claim_name(definition.name, definition, "definition", origin):
                self.definitions[definition.name] = definition

    def order_definitions(self) -> list[str]:
        """Definitions in an order where each comes after those it uses; cycles are errors."""
        order: list[str] = []
        state: dict[str, str] = {}

        def visit(name: str, chain: list[str]) -> None:
            if state.get(name) == "done":
                return
            if state.get(name) == "active":
                cycle = [*chain[chain.index(name) :], name]
                definition = self.definitions[name]
                self.error(
                    "definitions refer to each other in a cycle: " + " → ".join(cycle),
                    self.head(definition),
                    hint="a definition cannot depend on itself, directly or through others",
                )
                return
            state[name] = "active"
            definition = self.definitions[name]
            if definition.means is not None:
                for ref in references(definition.means):
                    if ref in self.definitions:
                        visit(ref, [*chain, name])
            state[name] = "done"
            order.append(name)

        for name in self.definitions:
            visit(name, [])
        return order

    # -- measures
    # -- units
    def check_units(self, registry: AgencyRegistry) -> tuple[list[UnitInfo], list[tuple[m.Rule, UnitInfo]]]:
        """Every unit resolved to the unit of the text it encodes, with its rules in order."""
        units: list[UnitInfo] = []
        rules: list[tuple[m.Rule, UnitInfo]] = []
        document = UnitInfo(self.policy.document_unit(), None, ())
        units.append(document)
        rules.extend((rule, document) for rule in document.unit.rules)
        claimed: dict[int, m.Unit] = {}

        def visit(
            unit: m.Unit, parent: DocumentUnit | None, chapter: m.Unit | None, inherited: tuple[str, ...]
        ) -> None:
            source = self.locate_unit(unit, parent, claimed)
            agencies = self.resolve_agencies(unit.agencies, registry)
            info = UnitInfo(unit, chapter, agencies, source, agencies or inherited)
            units.append(info)
            rules.extend((rule, info) for rule in unit.rules)
            for child in unit.units:
                visit(child, source if source is not None else parent, chapter or unit, agencies or inherited)

        for item in self.policy.items:
            if isinstance(item, m.Unit):
                visit(item, None, None, ())
        return units, rules

    def locate_unit(
        self, unit: m.Unit, parent: DocumentUnit | None, claimed: dict[int, m.Unit]
    ) -> DocumentUnit | None:
        """The unit of the text an encoded unit stands for: same number, inside its parent's unit."""
        key = heading_key(unit.number)
        if key is None:
            self.error(
                f"`{unit.number}` is not a unit number",
                self.head(unit),
                hint="write the number as the text does: 二、, 第二章, 第5条, （六）, 1., （1）, ①",
            )
            return None
        if self.structure is None:
            return None
        pool = list(parent.walk())[1:] if parent is not None else list(self.structure.walk())
        found = [u for u in pool if u.key == key]
        where = f" inside {parent.label}" if parent is not None else ""
        if not found:
            elsewhere = [u for u in self.structure.walk() if u.key == key]
            hint = self.structure_hint()
            if elsewhere:
                placed = f"the text has {unit.label} at line {elsewhere[0].line}, not{where or ' here'}"
                hint = f"{placed}; {hint}"
            message = f"heading `{unit.label}` does not occur in the source text{where}"
            self.error(message, self.head(unit), hint=hint)
            return None
        if len(found) > 1:
            lines = ", ".join(str(u.line) for u in found[:6])
            holders = [h.label for h in self.structure.walk() if any(c in found for c in h.children)]
            if holders:
                lines += "; under " + " ".join(holders)
            self.error(
                f"the text has {len(found)} units numbered {unit.label}{where} (lines {lines})",
                self.head(unit),
                hint="nest the unit in the unit that holds the one you mean",
            )
            return None
        source = found[0]
        if id(source) in claimed:
            first = claimed[id(source)]
            self.error(
                f"{unit.label} is encoded twice",
                self.head(unit),
                hint=f"the first is at line {first.pos.line}",
            )
            return source
        claimed[id(source)] = unit
        if unit.title is not None:
            self.check_title(unit, source)
        if not unit.citations and not unit.rules and not unit.units:
            self.error(
                f"{unit.label} has no citation and no rules",
                unit.title.pos if unit.title else unit.pos,
                hint="cite its （责任单位：…） line or its opening sentence, or encode its rules",
            )
        return source

    def check_title(self, unit: m.Unit, source: DocumentUnit) -> None:
        assert unit.title is not None
        written = _title_key(unit.title.value)
        if source.title and written == _title_key(source.title):
            return
        first = next(iter(source.sentences), None)
        if not source.title and first is not None and written == _title_key(first.text):
            return  # the heading line read as the first sentence: （一）对象范围。
        has = f'{source.label} "{source.title}"' if source.title else f"{source.label} (no title)"
        self.error(
            f"the title of {unit.label} differs from the source text",
            unit.title.pos,
            hint=f"line {source.line} of the source has: {has}",
        )

    def structure_hint(self) -> str:
        """What the text's headings are and where, for an error that cannot place a unit."""
        assert self.structure is not None
        by_style: dict[str, list[DocumentUnit]] = {}
        for found in self.structure.walk():
            by_style.setdefault(found.style, []).append(found)
        if not by_style:
            return "the source text has no numbered headings (一、, 第N条, （一）, 1. …) at all"
        parents: dict[int, str] = {}
        for top in self.structure.units:
            for outer in top.walk():
                for child in outer.children:
                    parents[id(child)] = outer.label

        counts: dict[UnitKey, int] = {}
        for unit in self.structure.walk():
            counts[unit.key] = counts.get(unit.key, 0) + 1

        def shown(unit: DocumentUnit) -> str:
            same_number = counts[unit.key] > 1
            return (
                f"{unit.label} in {parents[id(unit)]}" if same_number and id(unit) in parents else unit.label
            )

        parts = []
        for same in by_style.values():
            listed = same if len(same) <= 5 else [*same[:3], same[-1]]
            labels = " ".join(shown(u) for u in listed[:-1])
            labels = (
                f"{labels} … {shown(listed[-1])}"
                if len(same) > 5
                else f"{labels} {shown(listed[-1])}".strip()
            )
            parts.append(f"{labels} (lines {same[0].line}–{same[-1].line})")
        return "the source text's headings are " + "; ".join(parts)

    # -- rules
    def check_rules(
        self, rules: list[tuple[m.Rule, UnitInfo]], validity: Validity
    ) -> tuple[list[RuleInfo], list[RuleInfo], list[RuleInfo]]:
        written: dict[str, tuple[m.Benefit | m.Duty | m.Target, UnitInfo]] = {}
        for rule, info in rules:
            if isinstance(rule, m.Definition | m.Exclusive | m.Staged):
                continue  # definitions are collected first; exclusive groups once the benefits are known
            if not self.claim_name(rule.name, rule, _rule_word(rule)):
                continue
            written[rule.name] = (rule, info)
        self.written_rules = written
        resolved = self.resolve_follows(written)
        self.resolved = resolved
        benefits: list[RuleInfo] = []
        duties: list[RuleInfo] = []
        targets: list[RuleInfo] = []
        for name, (rule, unit_info) in written.items():
            effective = resolved.get(name, rule)
            agencies = self.resolve_agencies(rule.agencies, self.registry) if rule.agencies else ()
            if not agencies and effective is not rule and effective.agencies:
                agencies = self.resolve_agencies(effective.agencies, self.registry)
            period: tuple[dt.date | None, dt.date | None] | None
            if effective.period is not None:
                own = (effective.period.start.value, effective.period.end.value)
                period = self.within_validity(effective.period, own, validity)  # type: ignore[arg-type]
            else:
                period = validity.period
            rule_info = RuleInfo(
                effective,
                unit_info.unit,
                unit_info.chapter,
                agencies or unit_info.responsible,
                period,
                rule,
                self.measure_of(unit_info),
            )
            if not rule.citations:
                self.error(
                    f"{_rule_word(rule)} `{rule.name}` has no citation",
                    self.head(rule),
                    hint='add `cite "…"` with the exact words of the source text it encodes',
                )
            self.check_period(rule.period)
            unresolved = (
                isinstance(rule, m.Benefit | m.Duty) and rule.follows is not None and name not in resolved
            )
            if isinstance(effective, m.Benefit):
                if not unresolved:  # a broken cross-reference is reported once, not as missing fields
                    self.check_benefit(effective)
                benefits.append(rule_info)
            elif isinstance(effective, m.Duty):
                if effective.when is not None:
                    self.expect_condition(effective.when)
                for level in effective.levels:
                    self.check_metric(level)
                duties.append(rule_info)
            else:
                if not effective.goals:
                    self.error(f"target `{effective.name}` has no `goal`", self.head(effective))
                for goal in effective.goals:
                    self.check_metric(goal)
                targets.append(rule_info)
        for definition in self.definitions.values():
            if not definition.citations and self.origin.get(definition.name) is None:
                self.error(
                    f"definition `{definition.name}` has no citation",
                    self.head(definition),
                    hint='add `cite "…"` with the exact words of the source text it encodes',
                )
        return benefits, duties, targets

    def check_exclusives(
        self, rules: list[tuple[m.Rule, UnitInfo]], benefits: list[RuleInfo]
    ) -> list[ExclusiveInfo]:
        """``exclusive`` groups: a name of their own, a known way to keep one, two or more distinct
        benefits, a citation; groups kept in the order written must not order benefits in a cycle."""
        names = [info.rule.name for info in benefits]
        duties = {name for name, (rule, _) in self.written_rules.items() if isinstance(rule, m.Duty)}
        found: list[ExclusiveInfo] = []
        before: dict[str, dict[str, m.Exclusive]] = {}  # `keep first`: a → b means a is kept before b
        for rule, info in rules:
            if not isinstance(rule, m.Exclusive):
                continue
            self.claim_name(rule.name, rule, "exclusive group")
            keep = rule.keep.text if rule.keep is not None else None
            if rule.keep is None:
                self.error(
                    f"exclusive group `{rule.name}` does not say which benefit is kept",
                    self.head(rule),
                    hint="add `keep highest` (就高不重复), `keep first` (in the order written) or `keep one`",
                )
            elif keep not in KEEPS:
                self.error(
                    f"unknown way to keep one benefit: `{keep}`",
                    rule.keep.pos,
                    hint=did_you_mean(keep or "", KEEPS) or "one of " + ", ".join(KEEPS),
                )
            members: list[str] = []
            for member in rule.members:
                if member.text in members:
                    self.error(f"`{member.text}` is listed twice in this group", member.pos)
                elif member.text not in names:
                    self.error(
                        f"`{member.text}` is a duty: an exclusive group holds benefits"
                        if member.text in duties
                        else f"unknown benefit `{member.text}`",
                        member.pos,
                        hint=None if member.text in duties else did_you_mean(member.text, names),
                    )
                else:
                    members.append(member.text)
            if len(rule.members) < 2:
                self.error(
                    f"exclusive group `{rule.name}` needs at least two benefits",
                    self.head(rule),
                    hint="name them: benefits A, B",
                )
            if not rule.citations:
                self.error(
                    f"exclusive group `{rule.name}` has no citation",
                    self.head(rule),
                    hint='add `cite "…"` with the words that forbid cumulating (不重复享受, 就高)',
                )
            if keep == "first":
                for a, b in itertools.pairwise(members):
                    before.setdefault(a, {})[b] = rule
                cycle = _cycle(before)
                if cycle is not None:
                    self.error(
                        "exclusive groups keep benefits in a cycle: " + " → ".join(cycle),
                        self.head(rule),
                        hint="a benefit kept before another in one group cannot come after it in another",
                    )
                    for a, b in itertools.pairwise(members):
                        before[a].pop(b, None)
            if keep in KEEPS and len(members) >= 2 and len(members) == len(rule.members):
                found.append(ExclusiveInfo(rule, info.unit, tuple(members), keep or ""))
        return found

    def check_staged(
        self, rules: list[tuple[m.Rule, UnitInfo]], benefits: list[RuleInfo]
    ) -> list[StagedInfo]:
        """``stages`` (分阶段兑现): a name of its own, benefits with one computed amount each (in no
        other staged payment), stages whose shares are percentages adding up to 100%, a citation."""
        rules_by_name = {info.rule.name: info.rule for info in benefits}
        duties = {name for name, (rule, _) in self.written_rules.items() if isinstance(rule, m.Duty)}
        staged_in: dict[str, str] = {}
        found: list[StagedInfo] = []
        for rule, info in rules:
            if not isinstance(rule, m.Staged):
                continue
            self.claim_name(rule.name, rule, "staged payment")
            good = True
            members: list[str] = []
            for member in rule.members:
                benefit = rules_by_name.get(member.text)
                problem = None
                if member.text in members:
                    problem = f"`{member.text}` is listed twice in this staged payment"
                elif benefit is None:
                    problem = (
                        f"`{member.text}` is a duty: a staged payment pays benefits"
                        if member.text in duties
                        else f"unknown benefit `{member.text}`"
                    )
                elif member.text in staged_in:
                    problem = f"`{member.text}` is already paid in stages by `{staged_in[member.text]}`"
                elif not isinstance(benefit, m.Benefit) or not _one_amount(benefit):
                    problem = f"benefit `{member.text}` has no single amount to pay in stages"
                elif benefit.each is not None:
                    problem = f"benefit `{member.text}` is paid per item: stages of it are not supported"
                if problem is not None:
                    good = False
                    hint = did_you_mean(member.text, rules_by_name) if benefit is None else None
                    if benefit is not None and problem.startswith("benefit") and "single" in problem:
                        hint = "an amount, a rate of a fact, an amount per unit or tiers; not a range"
                    self.error(problem, member.pos, hint=hint)
                    continue
                members.append(member.text)
                staged_in[member.text] = rule.name
            if not rule.members:
                good = False
                self.error(
                    f"staged payment `{rule.name}` names no benefit",
                    self.head(rule),
                    hint="name them: benefits A, B",
                )
            shares: list[Decimal] = []
            for stage in rule.stages:
                self.expect_condition(stage.when)
                if not isinstance(stage.share.value, Percent):
                    good = False
                    self.error(
                        "a stage's share is a percentage of the amount", stage.share.pos, hint="e.g. 30%"
                    )
                else:
                    shares.append(stage.share.value.value)
            if not rule.stages:
                good = False
                self.error(
                    f"staged payment `{rule.name}` has no stage",
                    self.head(rule),
                    hint="stage 30% when 主体封闭 …",
                )
            elif len(rule.stages) > MAX_STAGES:
                good = False
                self.error(
                    f"a staged payment has at most {MAX_STAGES} stages (this one has {len(rule.stages)})",
                    rule.stages[MAX_STAGES].pos,
                )
            elif len(shares) == len(rule.stages) and sum(shares, Decimal(0)) != 100:
                good = False
                total = format(sum(shares, Decimal(0)).normalize(), "f")
                self.error(
                    f"the stages' shares add up to {total}%, not 100%",
                    rule.stages[-1].pos,
                    hint="each stage pays its share of the whole amount: 分别按…的30%、30%和40%",
                )
            if not rule.citations:
                good = False
                self.error(
                    f"staged payment `{rule.name}` has no citation",
                    self.head(rule),
                    hint='add `cite "…"` with the words that stage the payment (分阶段兑现)',
                )
            if good:
                found.append(StagedInfo(rule, info.unit, tuple(members), tuple(shares)))
        return found

    def within_validity(
        self,
        written: m.Period,
        period: tuple[dt.date | None, dt.date | None],
        validity: Validity,
    ) -> tuple[dt.date | None, dt.date | None]:
        """A rule's own period, inside the document's validity: no rule is in force while its
        document is not. A period wholly outside the validity is an error."""
        start, end = period
        if not isinstance(start, dt.date) or not isinstance(end, dt.date):
            return period
        if validity.start is not None and validity.start > start:
            start = validity.start
        if validity.end is not None and validity.end < end:
            end = validity.end
        if start > end:
            self.error(
                "this period lies outside the document's validity, so the rule is never in force",
                written.pos,
                hint=f"the document is {validity.describe()}",
            )
            return period
        return start, end

    def measure_of(self, info: UnitInfo) -> str:
        """The label of the text's measure holding a unit (the diff aligns measures), else the unit's own."""
        if info.source is not None and self.structure is not None:
            line = info.source.line
            for measure in self.structure.measures:
                last = max([measure.line, measure.units_line or 0, *(s.line for s in measure.sentences)])
                if measure.line <= line <= last:
                    return measure.number
        return info.unit.label

    def resolve_follows(
        self, written: dict[str, tuple[m.Benefit | m.Duty | m.Target, UnitInfo]]
    ) -> dict[str, m.Benefit | m.Duty | m.Target]:
        """Cross-references resolved: a rule that ``follows`` another takes its fields where it gives none."""
        resolved: dict[str, m.Benefit | m.Duty | m.Target] = {}
        state: dict[str, str] = {}
        reported: set[frozenset[str]] = set()

        def resolve(name: str, chain: list[str]) -> m.Benefit | m.Duty | m.Target | None:
            rule = written[name][0]
            follows = rule.follows if isinstance(rule, m.Benefit | m.Duty) else None
            if follows is None:
                return rule
            if name in resolved:
                return resolved[name]
            if state.get(name) == "active":
                cycle = [*chain[chain.index(name) :], name]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    self.error(
                        "rules follow each other in a cycle: " + " → ".join(cycle),
                        follows.pos,
                        hint="a cross-reference must end at a rule that states its own terms",
                    )
                return None
            target = written.get(follows.text)
            if target is None:
                self.error(
                    f"`{rule.name}` follows `{follows.text}`, which is no benefit or duty of this policy",
                    follows.pos,
                    hint=did_you_mean(follows.text, written) or "name the rule it refers to",
                )
                return None
            if type(target[0]) is not type(rule) or getattr(target[0], "enterprise", False) != getattr(
                rule, "enterprise", False
            ):
                kind, other = _rule_word(rule), _rule_word(target[0])
                self.error(
                    f"{kind} `{rule.name}` follows `{follows.text}`, which is a {other}",
                    follows.pos,
                    hint=f"a {kind} can follow only another {kind}",
                )
                return None
            state[name] = "active"
            base = resolve(follows.text, [*chain, name])
            state[name] = "done"
            if base is None:
                return None
            changes = {
                field.name: getattr(base, field.name)
                for field in attrs.fields(type(rule))
                if field.name in _INHERITED and getattr(rule, field.name) in (None, ())
            }
            if isinstance(rule, m.Benefit) and isinstance(base, m.Benefit):
                if any(getattr(rule, field) not in (None, False) for field in _PAYMENT if field != "per"):
                    # a payment of its own (an amount, range, rate or tiers) replaces the whole of
                    # the other's: no `per` or tiers of the other rule mixed in
                    for field in _PAYMENT:
                        changes.pop(field, None)
                else:  # the other's payment, whole (a range's high end, a floor), but a `per` of its own
                    changes.update({n: getattr(base, n) for n in _PAYMENT if n != "per" or rule.per is None})
                if rule.cap is not None or rule.cap_facts:  # caps of its own replace the other's, all of them
                    changes.pop("cap", None)
                else:
                    changes.update(cap=base.cap, cap_facts=base.cap_facts)
                if rule.each is None:  # paid per item as the other is, at most its total
                    changes.update(each=base.each)
                if rule.cap_total is None and not rule.cap_total_facts:  # its own replace the other's
                    changes.update(cap_total=base.cap_total, cap_total_facts=base.cap_total_facts)
            merged = attrs.evolve(rule, **changes)
            resolved[name] = merged
            return merged

        for name in written:
            resolve(name, [])
        return resolved

    def all_definitions(self) -> Iterator[m.Definition]:
        for unit in (self.policy.document_unit(), *self.policy.units()):
            for rule in unit.rules:
                if isinstance(rule, m.Definition):
                    yield rule

    def verify_citations(
        self, header: m.PolicyHeader | None, units: list[UnitInfo], rules: list[tuple[m.Rule, UnitInfo]]
    ) -> None:
        sites: list[Site] = []
        spans: dict[int, Span] = {}
        if self.folded is not None and self.structure is not None:
            for doc_unit in self.structure.walk():
                spans[id(doc_unit)] = self.span_of(doc_unit)
        by_rule: dict[str, UnitInfo] = {}
        for rule, info in rules:
            by_rule.setdefault(rule.name, info)
        if header is not None and header.citations:
            known = frozenset(constants(header))
            sites.append(Site(header, "the header", header.citations, None, (), (), known))
        for info in units:
            if info.unit.citations:
                span = spans.get(id(info.source)) if info.source is not None else None
                sites.append(Site(info.unit, info.unit.label, info.unit.citations, span))
        for rule, info in rules:
            span = spans.get(id(info.source)) if info.source is not None else None
            also: list[Span] = []
            follows = rule.follows if isinstance(rule, m.Benefit | m.Duty) else None
            if follows is not None and follows.text in by_rule:
                target = by_rule[follows.text].source
                if target is not None and id(target) in spans:
                    also.append(spans[id(target)])
            what = f"{_rule_word(rule)} `{rule.name}`"
            # a cross-reference quotes the terms it takes from the rule it follows, too
            known = frozenset(self.constants_through_definitions(self.resolved.get(rule.name, rule)))
            sites.append(Site(rule, what, rule.citations, span, tuple(also), rule.waivers, known))
        if self.folded is None:
            return
        quiet = [site.node for site in sites if self.has_error_within(site.node)]
        self.diagnostics.extend(verify_citations(self.folded, sites, tuple(spans.values()), quiet))

    def has_error_within(self, node: m.Node) -> bool:
        """Whether an error was already reported inside ``node`` (its quantities are then not checked:
        a type error or a misquote says what is wrong; a stale-quantity error would repeat it)."""
        pos = node.pos
        return any(
            d.severity == "error"
            and d.pos is not None
            and d.pos.path == pos.path
            and pos.line <= d.pos.line <= pos.end_line
            for d in self.diagnostics
        )

    def constants_through_definitions(self, rule: m.Rule) -> set[object]:
        return encoded_constants(rule, self.definitions, self.definition_constants)

    def span_of(self, unit: DocumentUnit) -> Span:
        assert self.folded is not None
        start = self.folded.offset_of_line(unit.line)
        end = self.folded.offset_of_line(unit.last_line + 1)
        return Span(unit.label, start, end)

    def resolve_agencies(self, names: Iterable[m.Name], registry: AgencyRegistry) -> tuple[str, ...]:
        resolved: list[str] = []
        written: list[m.Name] = []
        for name in names:
            agency = registry.resolve(name.text)
            if agency is None:
                if not self.incomplete_registry:
                    self.error(
                        f"unknown agency `{name.text}`",
                        name.pos,
                        hint=did_you_mean(name.text, registry.names)
                        or "declare it with `agency` or `use` a registry",
                    )
                continue
            if agency in resolved:
                first = written[resolved.index(agency)]
                same = (
                    f"`{name.text}`"
                    if first.text == name.text
                    else f"`{name.text}` (another name of `{agency}`)"
                )
                self.error(
                    f"agency {same} is listed twice",
                    name.pos,
                    hint=f"it is already listed as `{first.text}` at column {first.pos.column}",
                )
                continue
            resolved.append(agency)
            written.append(name)
        return tuple(resolved)

    def check_period(self, period: m.Period | None) -> None:
        if period is None:
            return
        for end in (period.start, period.end):
            if not _is_date(end):
                self.error(
                    "a period runs from a date to a date",
                    end.pos,
                    hint="e.g. period 2022-06-20 to 2023-06-30",
                )
        start, stop = period.start.value, period.end.value
        if _is_date(period.start) and _is_date(period.end) and start > stop:  # type: ignore[operator]
            self.error("this period ends before it starts", period.pos)

    def suggest_commitment(self, benefit: m.Benefit) -> None:
        """A warning for a benefit that says no `commits` while its citation's words promise less than
        an entitlement (支持, 优先, 一事一议, 研究…): its outcomes would read as an entitlement."""
        if benefit.follows is not None:
            return  # it takes its commitment from the rule it follows, unless it says its own
        for commitment, words in COMMITMENT_WORDS:
            for citation in benefit.citations:
                found = next((w for w in words if _says(citation.text.value, w)), None)
                if found is None:
                    continue
                self.diagnostics.append(
                    Diagnostic(
                        f"benefit `{benefit.name}` cites 「{found}」 but does not say what the text commits "
                        "to: its outcomes read as an entitlement",
                        self.head(benefit),
                        hint=f"add `commits {commitment}` (or `commits entitled` if the text grants it "
                        "outright); see docs/language.md, Commitment",
                        severity="warning",
                    )
                )
                return

    def check_range(self, low: m.Literal, high: m.Literal, field: str) -> None:
        """``amount 10万元 to 100万元``, ``rate 5% to 20%``: the low end first, in one currency."""
        a, b = low.value, high.value
        if isinstance(a, Money) and isinstance(b, Money):
            if a.currency != b.currency:
                return  # the currency check says so
            a, b = a.amount, b.amount
        elif isinstance(a, Percent) and isinstance(b, Percent):
            a, b = a.value, b.value
        else:
            return
        if a > b:
            self.error(
                f"this {field}'s range starts above its end: {format_literal(low)} to {format_literal(high)}",
                low.pos,
                hint=f"write the low end first: {field} {format_literal(high)} to {format_literal(low)}",
            )

    def check_per(self, benefit: m.Benefit, per: m.Name) -> None:
        """``amount 100元 per 种植面积``: an amount of money per unit of a count or measure fact."""
        if benefit.amount is None:
            self.error(
                "`per` needs an `amount`: the amount paid per unit",
                per.pos,
                hint=f"e.g. amount 100元 per {per.text}",
            )
        elif isinstance(benefit.amount.value, Money):
            digits, _ = decimal_digits(benefit.amount.value.amount)
            if digits > MAX_PER_DIGITS:
                self.error(
                    f"an amount per unit has at most {MAX_PER_DIGITS} digits (this one has {digits})",
                    benefit.amount.pos,
                    hint="the product with the count must fit SQL's DECIMAL(38)",
                )
        fact = self.facts.get(per.text)
        if fact is None:
            self.unknown_fact(per)
        elif fact.type.kind not in ("integer", "decimal"):
            self.error(
                f"`per` counts units of an integer or decimal fact (人数, 面积); `{per.text}` is {fact.type}",
                per.pos,
                hint="a share of an amount of money is `rate P% of FACT`",
            )

    def check_threshold(self, rate: m.Rate, currencies: list[tuple[str, SourcePosition]]) -> None:
        """``rate 20% of 销售额 above 上年销售额`` / ``above 1亿元``: money, in the base's currency."""
        above = rate.above
        assert above is not None
        if isinstance(above, m.Literal):
            if not isinstance(above.value, Money):
                self.error(
                    "the threshold after `above` is an amount of money", above.pos, hint="e.g. above 1亿元"
                )
            else:
                currencies.append((above.value.currency, above.pos))
            return
        fact = self.facts.get(above.text)
        if fact is None:
            self.unknown_fact(above)
        elif fact.type.kind != "money":
            self.error(
                f"the threshold after `above` is an amount of money, but `{above.text}` is {fact.type}",
                above.pos,
            )
        else:
            currencies.append((fact.type.param or "", above.pos))

    def check_tiers(
        self, benefit: m.Benefit, tiers: m.Tiers, currencies: list[tuple[str, SourcePosition]]
    ) -> None:
        """``tiers by 投资 { from … to …: rate 70% of 贡献 … }`` and ``marginal tiers of 销售额 { … }``:
        bands of one fact, written lowest first, that do not overlap, each paying money."""
        for name, given in (("amount", benefit.amount), ("rate", benefit.rate), ("per", benefit.per)):
            if given is not None:
                self.error(
                    f"a tiered benefit's amount comes from its tiers: no `{name}` beside them",
                    given.pos,
                    hint="say what each band pays inside the tiers block",
                )
        fact = self.facts.get(tiers.fact.text)
        kinds = ("money",) if tiers.marginal else ("money", "integer", "decimal", "percent")
        if tiers.year_of:
            kinds = ("date",)
        if fact is None:
            self.unknown_fact(tiers.fact)
        elif tiers.year_of and fact.type.kind != "date":
            self.error(
                f"an installment schedule counts years from a date; `{tiers.fact.text}` is {fact.type}",
                tiers.fact.pos,
                hint="write `tiers by year of` a date fact (认定日期, 投产日期), or `tiers by` a quantity",
            )
            fact = None
        elif fact.type.kind not in kinds:
            self.error(
                f"marginal tiers take parts of an amount of money; `{tiers.fact.text}` is {fact.type}"
                if tiers.marginal
                else f"tiers are bands of a quantity (money, a count, a measure, a percentage); "
                f"`{tiers.fact.text}` is {fact.type}",
                tiers.fact.pos,
                hint="bands of a count pay `amount … per FACT` with `tiers by`" if tiers.marginal else None,
            )
            fact = None
        elif tiers.marginal and fact.type.param:
            currencies.append((fact.type.param, tiers.fact.pos))
        keyed = t.INTEGER if tiers.year_of else (fact.type if fact is not None else None)
        keyed_name = f"year of {tiers.fact.text}" if tiers.year_of else tiers.fact.text
        previous: m.Tier | None = None
        for index, tier in enumerate(tiers.tiers):
            # `year 2` is one literal at both ends: reported once
            ends = [end for end in (tier.low, tier.high) if end is not None]
            if len(ends) == 2 and ends[0] is ends[1]:
                ends = ends[:1]
            typed = fact is not None  # an unknown fact's bands are not compared: their types are unknown
            for end in ends:
                found = literal_type(end.value)
                wrong = found != t.INTEGER if tiers.year_of else not t.comparable(keyed or found, found)
                if keyed is not None and wrong:
                    typed = False
                    self.error(
                        f"a band of `{keyed_name}` ({keyed}) cannot end at {format_literal(end)} ({found})",
                        end.pos,
                        hint="years are counted 1, 2, 3… from the date's own year"
                        if tiers.year_of
                        else t.mismatch_hint(keyed, found),
                    )
            if typed and tiers.year_of:
                self.check_year_band(tiers, tier)
            if typed and tier.low is not None and tier.high is not None:
                low, high = runtime_value(tier.low.value), runtime_value(tier.high.value)
                if low > high or (low == high and (tier.low_open or tier.high_open)):
                    self.error(
                        f"this tier is empty: {band_text(tier)}",
                        tier.pos,
                        hint="write the low end first (from / above), then the high end (to / below)",
                    )
            if previous is not None and typed:
                self.check_tier_order(previous, tier, index, tiers.year_of)
            previous = tier if typed else None
            self.check_tier_pay(tiers, tier, currencies)
        self.check_installment_period(benefit, tiers)

    def check_year_band(self, tiers: m.Tiers, tier: m.Tier) -> None:
        """A band of an installment schedule holds only years 1, 2, …: year 0 is before the date."""
        low = tier.low.value if tier.low is not None else None
        first = low + 1 if isinstance(low, int) and tier.low_open else low
        if first is None or (isinstance(first, int) and first < 1):
            self.error(
                f"this installment band includes year {first if first is not None else 0} of "
                f"`{tiers.fact.text}`: years are counted from 1, the date's own year "
                "(0 is before the date)",
                tier.pos,
                hint="start the band at year 1: `from 1 to …` (前N年) or `year 1: …` (第一年)",
            )

    def check_installment_period(self, benefit: m.Benefit, tiers: m.Tiers) -> None:
        """An installment schedule may not run past the years the benefit's own condition allows
        (连续3年 is `year of 认定日期 between 1 and 3`: a fourth installment could never be paid)."""
        if not tiers.year_of:
            return
        bound: tuple[int, m.Node] | None = None
        first: int | None = None
        when = benefit.when
        atoms = when.operands if isinstance(when, m.And) else (when,) if when is not None else ()
        for atom in atoms:
            last = _year_limit(atom, tiers.fact.text)
            if last is not None and (bound is None or last < bound[0]):
                bound = (last, atom)
            start = _year_start(atom, tiers.fact.text)
            if start is not None and (first is None or start > first):
                first = start
        name = tiers.fact.text
        bounded = all(tier.high is not None for tier in tiers.tiers[-1:])
        if first is None or first < 1 or (bound is None and bounded):
            missing = "begins" if first is None or first < 1 else "ends"
            self.error(
                f"the benefit's condition does not say in which years its installments are paid: "
                f"it never says the period {missing}, so in a year with no installment (before "
                f"`{name}`, or after the last) it would be eligible for nothing",
                tiers.pos,
                hint=f"add `and year of {name} between 1 and N` to `when` (自…当年起连续N年)",
            )
            return
        if bound is None:
            return
        last, limiting = bound
        for tier in tiers.tiers:
            high = tier.high.value if tier.high is not None else None
            if isinstance(high, int) and tier.high_open:
                high -= 1
            if high is None or (isinstance(high, int) and high > last):
                runs = "on without end" if high is None else f"to year {high}"
                self.error(
                    f"this installment schedule is longer than its period: it runs {runs}, but the "
                    f"benefit's condition `{format_condition(limiting)}` ends in year {last} of "
                    f"`{tiers.fact.text}`",
                    tier.pos,
                    hint=f"end the schedule at year {last}, or correct the period in `when` "
                    "(连续N年 is `between 1 and N`)",
                )
                return

    def check_tier_order(self, lower: m.Tier, tier: m.Tier, index: int, year: bool = False) -> None:
        """Bands are written lowest first and leave no value in two of them."""
        both = f"both `{band_text(lower, year)}` and `{band_text(tier, year)}`"
        if year and lower.high is not None and tier.low is not None:
            end, start = runtime_value(lower.high.value), runtime_value(tier.low.value)
            if start <= end:
                self.error(
                    f"installment bands overlap: year {start} falls in {both}",
                    tier.pos,
                    hint="each year in one band, in order: year 1, year 2 …, or from 1 to 2, from 3 to 5",
                )
                return
        if lower.high is None or tier.low is None:
            self.error(
                f"tiers overlap: some values fall in {both}",
                tier.pos,
                hint="only the first band may be open below and only the last open above; "
                "write bands lowest first",
            )
            return
        end, start = runtime_value(lower.high.value), runtime_value(tier.low.value)
        if start == end and not lower.high_open and not tier.low_open:
            shown = format_literal(tier.low)
            self.error(
                f"tiers overlap: {shown} falls in {both}",
                tier.pos,
                hint=f"write this band `above {shown}` (以上 after a band ending at {shown} reads as 超过; "
                "docs/language.md §17)",
            )
        elif start < end:
            self.error(
                f"tiers overlap: the values from {format_literal(tier.low)} to "
                f"{format_literal(lower.high)} fall in {both}",
                tier.pos,
                hint="write bands lowest first, each starting where the one before ends",
            )

    def check_tier_pay(
        self, tiers: m.Tiers, tier: m.Tier, currencies: list[tuple[str, SourcePosition]]
    ) -> None:
        if tier.rate is not None:
            if not isinstance(tier.rate.value, Percent):
                self.error("a `rate` must be a percentage", tier.rate.pos, hint="e.g. rate 70% of 贡献")
            if tiers.marginal:
                if tier.base is not None:
                    self.error(
                        f"a marginal tier's rate applies to the part of `{tiers.fact.text}` in its band: "
                        "no `of`",
                        tier.base.pos,
                        hint=f"for the whole amount at the band's rate, write `tiers by {tiers.fact.text}`",
                    )
                return
            if tiers.year_of and tier.base is None:
                self.error(
                    "a rate in an installment schedule needs the amount it is a rate of",
                    tier.rate.pos,
                    hint=f"e.g. {format_literal(tier.rate)} of 地方财政贡献",
                )
                return
            base_name = tier.base or tiers.fact
            base = self.facts.get(base_name.text)
            if base is None:
                if tier.base is not None:
                    self.unknown_fact(tier.base)
            elif base.type.kind != "money":
                self.error(
                    f"a rate applies to an amount of money, but `{base_name.text}` is {base.type}",
                    base_name.pos if tier.base is not None else tier.rate.pos,
                    hint=None if tier.base is not None else "say which amount: rate … of FACT",
                )
            else:
                currencies.append((base.type.param or "", base_name.pos))
            return
        if tiers.marginal:
            self.error(
                "a marginal tier pays a rate of the part in its band, not an amount",
                tier.pos,
                hint=f"a fixed amount per band is `tiers by {tiers.fact.text}`",
            )
            return
        assert tier.amount is not None
        if not isinstance(tier.amount.value, Money):
            self.error("the `amount` of a tier must be money", tier.amount.pos, hint="e.g. 10万元")
            return
        currencies.append((tier.amount.value.currency, tier.amount.pos))
        if tier.per is not None:
            digits, _ = decimal_digits(tier.amount.value.amount)
            if digits > MAX_PER_DIGITS:
                self.error(
                    f"an amount per unit has at most {MAX_PER_DIGITS} digits (this one has {digits})",
                    tier.amount.pos,
                    hint="the product with the count must fit SQL's DECIMAL(38)",
                )
            per = self.facts.get(tier.per.text)
            if per is None:
                self.unknown_fact(tier.per)
            elif per.type.kind not in ("integer", "decimal"):
                self.error(
                    "`per` counts units of an integer or decimal fact (人数, 面积); "
                    f"`{tier.per.text}` is {per.type}",
                    tier.per.pos,
                )

    def check_benefit(self, benefit: m.Benefit) -> None:
        """A benefit; one ``for each`` a list is checked with its items' facts in scope."""
        if benefit.cap_total is not None or benefit.cap_total_facts:
            self.check_cap_total(benefit, benefit.cap_total or benefit.cap_total_facts[0])
        if benefit.each is None:
            self.check_benefit_fields(benefit)
            return
        info = self.items.get(benefit.each.text)
        if info is None:
            fact = self.facts.get(benefit.each.text)
            self.error(
                f"`{benefit.each.text}` is not a list of items"
                if fact is not None
                else f"unknown list of items `{benefit.each.text}`",
                benefit.each.pos,
                hint=did_you_mean(benefit.each.text, self.items)
                or "declare it with `items NAME { fact … }`: the facts each item has",
            )
            self.check_benefit_fields(benefit)
            return
        ranged = is_ranged(benefit)
        if ranged:
            self.error(
                "a range or a floor paid per item is not supported",
                benefit.each.pos,
                hint="encode the amount each item is sure to get, and `waive` the rest with a note",
            )
        enterprise = self.facts
        self.facts = {**enterprise, **info.facts}
        try:
            self.check_benefit_fields(benefit)
        finally:
            self.facts = enterprise

    def check_minimum(self, benefit: m.Benefit, minimum: m.Literal) -> None:
        """``min 10万元`` (最低): the least of an amount computed from facts, never above the cap."""
        computed = benefit.tiers is not None or benefit.per is not None
        computed = computed or (benefit.rate is not None and benefit.rate.base is not None)
        ranged = is_ranged(benefit)
        if not computed or ranged:
            self.error(
                "`min` is the least of an amount computed from facts (a rate, a price per unit, tiers)",
                minimum.pos,
                hint="a fixed amount needs no minimum; a range's low end is written `… to …`",
            )
            return
        cap = benefit.cap.value if benefit.cap is not None else None
        low = minimum.value
        if (
            isinstance(cap, Money)
            and isinstance(low, Money)
            and cap.currency == low.currency
            and low.amount > cap.amount
        ):
            self.error(
                "the `min` is above the `cap`: the amount could never be paid as written",
                minimum.pos,
                hint="最低 is at most 最高",
            )

    def check_cap_total(self, benefit: m.Benefit, cap: m.Literal | m.Name) -> None:
        """``cap total 500万元``: the most for all of an enterprise's items, in the amount's currency."""
        if benefit.each is None:
            self.error(
                "`cap total` limits the sum over the items of a benefit `for each` a list",
                cap.pos,
                hint="a single payment's most is `cap`",
            )

    def check_benefit_fields(self, benefit: m.Benefit) -> None:
        if benefit.kind is None:
            self.error(
                f"benefit `{benefit.name}` has no `kind`",
                self.head(benefit),
                hint="one of " + ", ".join(BENEFIT_KINDS),
            )
        elif benefit.kind.text not in BENEFIT_KINDS:
            self.error(
                f"unknown benefit kind `{benefit.kind.text}`",
                benefit.kind.pos,
                hint=did_you_mean(benefit.kind.text, BENEFIT_KINDS) or "one of " + ", ".join(BENEFIT_KINDS),
            )
        if benefit.commits is not None and benefit.commits.text not in COMMITMENTS:
            self.error(
                f"unknown commitment `{benefit.commits.text}`: what the text commits to",
                benefit.commits.pos,
                hint=did_you_mean(benefit.commits.text, COMMITMENTS) or "one of " + ", ".join(COMMITMENTS),
            )
        elif benefit.commits is None:
            self.suggest_commitment(benefit)
        if benefit.when is not None:
            self.expect_condition(benefit.when)
        currencies: list[tuple[str, SourcePosition]] = []
        for label, lit in (
            ("amount", benefit.amount),
            ("amount", benefit.amount_high),
            ("cap", benefit.cap),
            ("cap total", benefit.cap_total),
            ("min", benefit.minimum),
        ):
            if lit is None:
                continue
            if not isinstance(lit.value, Money):
                self.error(f"the `{label}` of a benefit must be money", lit.pos, hint="e.g. 100万元")
            else:
                currencies.append((lit.value.currency, lit.pos))
        if (
            benefit.amount is not None
            and benefit.cap is not None
            and isinstance(benefit.amount.value, Money)
            and isinstance(benefit.cap.value, Money)
            and benefit.amount.value.currency == benefit.cap.value.currency
            and benefit.amount.value.amount > benefit.cap.value.amount
            and benefit.per is None
        ):
            self.error(
                "the fixed `amount` is larger than the `cap`"
                if benefit.amount_high is None and not benefit.amount_floor
                else "this amount's range starts above the `cap`",
                benefit.amount.pos,
                hint="a cap limits an amount computed from a rate; a fixed amount above it can never be paid",
            )
        if benefit.minimum is not None:
            self.check_minimum(benefit, benefit.minimum)
        if benefit.tiers is not None:
            self.check_tiers(benefit, benefit.tiers, currencies)
            cap = benefit.cap.value if benefit.cap is not None else None
            for tier in benefit.tiers.tiers:
                fixed = tier.amount.value if tier.amount is not None and tier.per is None else None
                if (
                    isinstance(fixed, Money)
                    and isinstance(cap, Money)
                    and fixed.currency == cap.currency
                    and fixed.amount > cap.amount
                ):
                    self.error(
                        "this tier's fixed amount is larger than the `cap`",
                        tier.amount.pos,  # type: ignore[union-attr]
                        hint="a cap limits an amount computed from a rate or a count; this one is never paid",
                    )
        for bound in (*benefit.cap_facts, *benefit.cap_total_facts):
            fact = self.facts.get(bound.text)
            if fact is None:
                self.unknown_fact(bound)
            elif fact.type.kind != "money":
                self.error(
                    f"a bound is an amount of money, but `{bound.text}` is {fact.type}",
                    bound.pos,
                    hint="bound FACT: the amount is at most that fact's value (不超过其…)",
                )
            else:
                currencies.append((fact.type.param or "", bound.pos))
        if benefit.amount is not None and benefit.rate is not None:
            self.error("a benefit has either a fixed `amount` or a `rate`, not both", benefit.rate.pos)
        if benefit.per is not None:
            self.check_per(benefit, benefit.per)
        if benefit.amount is not None and benefit.amount_high is not None:
            self.check_range(benefit.amount, benefit.amount_high, "amount")
        if benefit.per is not None and (benefit.amount_high is not None or benefit.amount_floor):
            self.error(
                "an amount per unit is one price: a range or a floor per unit is not supported",
                benefit.per.pos,
                hint="encode the low price and `waive` the rest, with a note",
            )
        if benefit.rate is not None and benefit.rate.high is not None:
            if not isinstance(benefit.rate.high.value, Percent):
                self.error(
                    "a `rate` must be a percentage", benefit.rate.high.pos, hint="e.g. rate 5% to 20% of 投资"
                )
            else:
                self.check_range(benefit.rate.rate, benefit.rate.high, "rate")
        if benefit.rate is not None:
            rate = benefit.rate
            if not isinstance(rate.rate.value, Percent):
                self.error("a `rate` must be a percentage", rate.rate.pos, hint="e.g. rate 100% of 保费")
            if rate.base is not None:
                base = self.facts.get(rate.base.text)
                if base is None:
                    self.unknown_fact(rate.base)
                elif base.type.kind != "money":
                    self.error(
                        f"a rate applies to an amount of money, but `{rate.base.text}` is {base.type}",
                        rate.base.pos,
                    )
                else:
                    currencies.append((base.type.param or "", rate.base.pos))
            if rate.above is not None:
                self.check_threshold(rate, currencies)
        if currencies:
            currencies.sort(key=lambda item: (item[1].line, item[1].column))
            first = currencies[0][0]
            for currency, pos in currencies[1:]:
                if currency != first:
                    self.error(
                        f"this benefit mixes currencies: {first} and {currency}",
                        pos,
                        hint="the amount, the rate's base and the cap must be in one currency",
                    )

    def check_metric(self, metric: m.Metric) -> None:
        if isinstance(metric.value.value, bool):
            self.error("a service level or goal must be a quantity", metric.value.pos)

    # -- conditions
    def expect_condition(self, condition: m.Condition) -> None:
        found = _TypeOf(self).visit(condition)
        if found not in (t.BOOL, t.UNKNOWN):
            self.error(
                f"a condition must be true or false, but this is {found}",
                condition.pos,
                hint="compare it, e.g. `出口额 <= 5000万美元`",
            )


#: What a document may say of a conflict with other texts: a higher-level text prevails, or this one.
PRECEDENCE = ("higher", "this")
#: A document's level, highest first (上级文件 are those of a level before another's).
LEVELS = ("national", "provincial", "city", "county")
#: The fields a cross-reference takes from the rule it follows where it gives none of its own.
_INHERITED = (
    "label",
    "kind",
    "commits",
    "when",
    "amount",
    "per",
    "rate",
    "cap",
    "frequency",
    "period",
    "agencies",
    "levels",
    "sanctions",
)


def names_used(nodes: Iterable[m.Node]) -> set[str]:
    """Every name the nodes refer to: facts and definitions in conditions and amounts, enums in
    types, facts an `implies` names, the facts of a list's items."""
    found: set[str] = set()
    stack: list[object] = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, tuple | list):
            stack.extend(node)
        elif isinstance(node, m.Name):
            found.add(node.text)
        elif isinstance(node, m.Reference):
            found.add(node.name)
        elif isinstance(node, m.TypeRef):
            if node.param:
                found.add(node.param)
        elif isinstance(node, m.Node):
            if isinstance(node, m.ItemsDecl):
                found.update(f.name for f in node.facts)
            fields = attrs.fields(type(node))  # type: ignore[arg-type]
            stack.extend(getattr(node, field.name) for field in fields)
    return found


#: What a vocabulary (a ``use``d file) may declare besides agencies.
SHARED_DECLARATIONS = (m.EnumDecl, m.FactDecl, m.ItemsDecl, m.Definition)


def declaration_meaning(node: m.Node, enums: Mapping[str, m.EnumDecl]) -> str:
    """What a declaration means, in words that two declarations share exactly when they mean the same:
    a fact's type (its currency by code), an enum's values, a list's item facts, a definition's
    condition. Labels and descriptions are not meaning."""
    if isinstance(node, m.FactDecl):
        ref = node.type
        if ref.kind == "money":
            return f"money {CURRENCY_WORDS.get(ref.param or '', ref.param)}"
        if ref.kind == "enum":
            return f"enum {ref.param}"
        return str(Type(ref.kind, ref.param))
    if isinstance(node, m.EnumDecl):
        values = ", ".join(v.name for v in node.values)
        return f"{'open ' if node.open else ''}enum {{ {values} }}"
    if isinstance(node, m.ItemsDecl):
        fields = "; ".join(f"{f.name}: {declaration_meaning(f, enums)}" for f in node.facts)
        return f"a list of items {{ {fields} }}"
    if isinstance(node, m.Definition):
        means = format_condition(node.means) if node.means is not None else "nothing"
        return f"a definition meaning {means}"
    return type(node).__name__


def is_ranged(rule: m.Benefit) -> bool:
    """A range (5%—20%, 10万元—100万元) or a floor (不低于): no single amount but two ends."""
    return bool(rule.amount_high or rule.amount_floor or (rule.rate and (rule.rate.high or rule.rate.floor)))


def _one_amount(rule: m.Benefit) -> bool:
    """Whether a benefit computes one amount (not a range): an amount, a rate of a fact, a price
    per unit, or tiers."""
    if is_ranged(rule):
        return False
    if rule.tiers is not None or rule.amount is not None:
        return True
    return rule.rate is not None and rule.rate.base is not None


def _rule_word(rule: m.Node) -> str:
    """How a rule is named in messages: benefit, duty, obligation, target."""
    if isinstance(rule, m.Duty) and rule.enterprise:
        return "obligation"
    if isinstance(rule, m.Staged):
        return "staged payment"
    if isinstance(rule, m.Exclusive):
        return "exclusive group"
    return type(rule).__name__.lower()


#: The fields that say what a benefit pays: a rule that follows another takes all of them or none.
_PAYMENT = ("amount", "amount_high", "amount_floor", "per", "rate", "tiers", "minimum")


def period_end(start: dt.date, length: Duration) -> dt.date:
    """The last day of a period of ``length`` from the event on ``start``.

    Counted in days, the period starts the next day (民法典 第二百零一条) and ends ``length`` days
    later; counted in months or years it ends on the corresponding day of the last month, or that
    month's last day when it has no such day (第二百零二条): 2023-02-08 + 3年 → 2026-02-08.
    """
    if length.unit in ("days", "weeks"):
        return start + dt.timedelta(days=length.amount * (7 if length.unit == "weeks" else 1))
    months = length.amount * (12 if length.unit == "years" else 1)
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day)


def _title_key(text: str) -> str:
    return normalize_text(text).rstrip("。：:；;，,")


def _cycle(edges: Mapping[str, Mapping[str, object]]) -> list[str] | None:
    """A cycle in a directed graph (a → b for each b in edges[a]), as its nodes with the first
    repeated at the end; None if there is none."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "active"
        path.append(node)
        for nxt in edges.get(node, {}):
            if state.get(nxt) == "active":
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found is not None:
                    return found
        path.pop()
        state[node] = "done"
        return None

    for start in list(edges):
        if start not in state:
            found = visit(start)
            if found is not None:
                return found
    return None


def _is_date(lit: m.Literal) -> bool:
    import datetime as dt

    return isinstance(lit.value, dt.date)


def literal_type(value: object) -> Type:
    import datetime as dt
    from decimal import Decimal

    if isinstance(value, bool):
        return t.BOOL
    if isinstance(value, int):
        return t.INTEGER
    if isinstance(value, Decimal):
        return t.DECIMAL
    if isinstance(value, Money):
        return t.money(value.currency)
    if isinstance(value, Percent):
        return t.PERCENT
    if isinstance(value, Duration):
        return t.duration(value.unit)
    if isinstance(value, dt.date):
        return t.DATE
    raise TypeError(f"not a literal value: {value!r}")  # pragma: no cover


def encoded_constants(
    rule: m.Rule,
    definitions: Mapping[str, m.Definition],
    cache: dict[str, tuple[set[object], list[str]]] | None = None,
) -> set[object]:
    """A rule's constants and those of the definitions its condition uses (a threshold stated once,
    in a definition, is encoded wherever the definition is used); ``cache`` keeps each
    definition's constants and references between calls."""
    cache = {} if cache is None else cache
    found = constants(rule)
    seen: set[str] = set()
    when = rule.when if isinstance(rule, m.Benefit | m.Duty) else getattr(rule, "means", None)
    pending = list(references(when)) if when is not None else []
    while pending:
        name = pending.pop()
        definition = definitions.get(name)
        if definition is None or name in seen:
            continue
        seen.add(name)
        cached = cache.get(name)
        if cached is None:
            cached = cache[name] = (constants(definition), references(definition))
        found |= cached[0]
        pending.extend(cached[1])
    return found


def amount_facts(rule: m.Benefit) -> list[str]:
    """The facts a benefit's amount reads, beyond its condition: a rate's base, a `per` count, the
    tiers' fact and each band's base and count."""
    found: list[str] = []
    above = rule.rate.above if rule.rate is not None else None
    names = [
        rule.rate.base if rule.rate is not None else None,
        above if isinstance(above, m.Name) else None,
        rule.per,
        *rule.cap_facts,
        *rule.cap_total_facts,
    ]
    if rule.tiers is not None:
        names.append(rule.tiers.fact)
        names.extend(n for tier in rule.tiers.tiers for n in (tier.base, tier.per))
    for name in names:
        if name is not None and name.text not in found:
            found.append(name.text)
    return found


def amount_currency(facts: Mapping[str, FactInfo], rule: m.Benefit) -> str | None:
    """The currency of a benefit's amount: of its amount or cap, its rate's base, or its tiers'
    amounts and bases (a marginal schedule: its fact's). The checker makes them agree."""
    currency = None
    literals = [rule.amount, rule.cap]
    bases = [rule.rate.base if rule.rate is not None else None, *rule.cap_facts]
    if rule.tiers is not None:
        literals.extend(tier.amount for tier in rule.tiers.tiers)
        bases.extend(tier.base for tier in rule.tiers.tiers)
        if rule.tiers.marginal:
            bases.append(rule.tiers.fact)
        elif any(tier.rate is not None and tier.base is None for tier in rule.tiers.tiers):
            bases.append(rule.tiers.fact)  # `rate 5%` in `tiers by 投资`: of 投资 itself
    for lit in literals:
        if lit is not None and isinstance(lit.value, Money):
            currency = lit.value.currency
    for base in bases:
        info = facts.get(base.text) if base is not None else None
        if info is not None and info.type.kind == "money":
            currency = info.type.param or currency
    return currency


def _year_limit(atom: m.Node, fact: str) -> int | None:
    """The last year ``atom`` allows for ``year of fact`` (``<= 3``, ``< 4``, ``between 1 and 3``,
    ``== 3``), or None if it sets no such limit."""

    def counted(node: m.Node) -> bool:
        return isinstance(node, m.YearOf) and node.subject.name == fact

    def number(node: m.Node) -> int | None:
        value = node.value if isinstance(node, m.Literal) else None
        return value if type(value) is int else None

    if isinstance(atom, m.Between) and counted(atom.subject):
        return number(atom.high)
    if isinstance(atom, m.Comparison):
        op = {"≤": "<=", "≥": ">=", "≠": "!="}.get(atom.op, atom.op)
        if counted(atom.right):  # 3 >= year of D
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
            left, right = atom.right, atom.left
        else:
            left, right = atom.left, atom.right
        limit = number(right)
        if not counted(left) or limit is None:
            return None
        return {"<=": limit, "==": limit, "<": limit - 1}.get(op)
    return None


def _year_start(atom: m.Node, fact: str) -> int | None:
    """The first year ``atom`` allows for ``year of fact`` (``>= 1``, ``> 0``, ``between 1 and 3``,
    ``== 3``), or None if it sets no such start."""
    if (
        isinstance(atom, m.Between)
        and isinstance(atom.subject, m.YearOf)
        and atom.subject.subject.name == fact
    ):
        low = atom.low.value if isinstance(atom.low, m.Literal) else None
        return low if type(low) is int else None
    if isinstance(atom, m.Comparison):
        flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "≤": "≥", "≥": "≤"}
        mirrored = m.Comparison(atom.right, flipped.get(atom.op, atom.op), atom.left)
        # the start of a condition is the end of its negation's mirror: year of D >= 2 ⇔ not (… <= 1)
        for side in (atom, mirrored):
            if isinstance(side.left, m.YearOf) and side.left.subject.name == fact:
                value = side.right.value if isinstance(side.right, m.Literal) else None
                if type(value) is not int:
                    return None
                op = {"≥": ">=", "≤": "<="}.get(side.op, side.op)
                return {">=": value, ">": value + 1, "==": value}.get(op)
    return None


def amount_edges(rule: m.Benefit) -> list[tuple[str, Any, bool]]:
    """The values of facts at which a benefit's amount changes how it is computed, as
    ``(fact, value, computed)``: the ends of its tiers' bands (as written), and where an amount
    computed from a fact reaches the cap (``computed``: an exact quotient, to be rounded to the
    fact's unit) — a count × price, a rate of a base, a band's rate or price, a marginal sum."""
    found: list[tuple[str, Any, bool]] = []
    cap = rule.cap.value.amount if rule.cap is not None and isinstance(rule.cap.value, Money) else None

    least = (
        rule.minimum.value.amount
        if rule.minimum is not None and isinstance(rule.minimum.value, Money)
        else None
    )
    total = (
        rule.cap_total.value.amount
        if rule.each is not None and rule.cap_total is not None and isinstance(rule.cap_total.value, Money)
        else None
    )

    def at_cap(fact: str | None, rate: object = None, price: object = None) -> None:
        # where the computed amount reaches the cap, the minimum, or (one item) the total's cap
        for bound in (cap, least, total):
            if bound is None or fact is None:
                continue
            if isinstance(rate, Percent) and rate.value > 0:
                found.append((fact, EXACT.divide(EXACT.multiply(bound, 100), rate.value), True))
            if isinstance(price, Money) and price.amount > 0:
                found.append((fact, EXACT.divide(bound, price.amount), True))

    if rule.per is not None and rule.amount is not None:
        at_cap(rule.per.text, price=rule.amount.value)
    if rule.rate is not None and rule.rate.base is not None:
        above = rule.rate.above
        shift = (
            above.value.amount if isinstance(above, m.Literal) and isinstance(above.value, Money) else None
        )
        if shift is not None:  # the rate starts at the threshold: a kink there
            found.append((rule.rate.base.text, shift, False))
        start = len(found)
        at_cap(rule.rate.base.text, rate=rule.rate.rate.value)
        if rule.rate.high is not None:  # a range's high end reaches the cap first
            at_cap(rule.rate.base.text, rate=rule.rate.high.value)
        if shift is not None:  # the rate applies above the threshold: the cap is reached that much later
            found[start:] = [(name, EXACT.add(value, shift), True) for name, value, _ in found[start:]]
    tiers = rule.tiers
    if tiers is None:
        return found
    fact = tiers.fact.text
    below = Decimal(0)  # marginal: Σ rate × width of the bands under this one, in percent
    for tier in tiers.tiers:
        if not tiers.year_of:  # an installment's band ends are years, not values of the date fact
            found.extend(
                (fact, runtime_value(end.value), False) for end in (tier.low, tier.high) if end is not None
            )
        if not tiers.marginal:
            base = tier.base.text if tier.base is not None else fact
            if tier.per is not None and tier.amount is not None:
                at_cap(tier.per.text, price=tier.amount.value)
            elif tier.rate is not None:
                at_cap(base, rate=tier.rate.value)
            continue
        rate = tier.rate.value if tier.rate is not None else None
        if not isinstance(rate, Percent):
            continue
        low = runtime_value(tier.low.value) if tier.low is not None else Decimal(0)
        high = runtime_value(tier.high.value) if tier.high is not None else None
        if cap is not None and rate.value > 0:  # where the running sum reaches the cap in this band
            point = EXACT.add(low, EXACT.divide(EXACT.subtract(EXACT.multiply(cap, 100), below), rate.value))
            if point > low and (high is None or point <= high):
                found.append((fact, point, True))
        if high is not None:
            below = EXACT.fma(rate.value, EXACT.subtract(high, low), below)
    return found


def references(condition: m.Node) -> list[str]:
    """Names of facts and definitions a condition refers to, in order of appearance."""
    found: list[str] = []

    class Collect(Visitor):
        def visit_Reference(self, node: m.Reference) -> None:
            if node.name not in found:
                found.append(node.name)

    Collect().visit(condition)
    return found


class _TypeOf(Visitor):
    """Infers an expression's type, reporting what does not fit."""

    def __init__(self, checker: _Checker) -> None:
        self.checker = checker

    def error(self, message: str, pos: SourcePosition, hint: str | None = None) -> None:
        self.checker.error(message, pos, hint)

    def visit_Reference(self, node: m.Reference) -> Type:
        fact = self.checker.facts.get(node.name)
        if fact is not None:
            return fact.type
        if node.name in self.checker.definitions:
            return t.BOOL
        if node.name in self.checker.names_refused:
            return t.UNKNOWN  # its refused declaration is the one error of this cause
        candidates = [*self.checker.facts, *self.checker.definitions]
        hint = did_you_mean(node.name, candidates)
        glued = glued_keyword(node.name)
        if glued is not None and glued[1] in candidates:
            hint = f"put a space between `{glued[0]}` and `{glued[1]}`"
        owners = [e.name for e in self.checker.enums.values() if node.name in {v.name for v in e.values}]
        if owners:
            facts = [f for f, info in self.checker.facts.items() if info.type.param in owners]
            subject = facts[0] if facts else "…"
            usage = f"{subject} in {{{node.name}}}"
            hint = f"`{node.name}` is a value of enum `{owners[0]}`; test a fact with `{usage}`"
        owner = self.checker.item_of(node.name)
        if owner is not None:
            hint = f"`{node.name}` is a fact of each item of `{owner}`: decide the benefit `for each {owner}`"
        self.error(
            f"unknown name `{node.name}`", node.pos, hint=hint or "declare it with `fact` or `definition`"
        )
        return t.UNKNOWN

    def visit_Literal(self, node: m.Literal) -> Type:
        return literal_type(node.value)

    def enum_value_side(self, node: m.Comparison) -> tuple[m.Reference, m.Reference] | None:
        """``(fact, value)`` when a comparison sets an enum fact against one of its values by name."""
        for fact_side, value_side in ((node.left, node.right), (node.right, node.left)):
            if not isinstance(fact_side, m.Reference) or not isinstance(value_side, m.Reference):
                continue
            fact = self.checker.facts.get(fact_side.name)
            if fact is None or fact.type.kind != "enum" or value_side.name in self.checker.facts:
                continue
            enum = self.checker.enums.get(fact.type.param or "")
            if enum is not None and value_side.name in {v.name for v in enum.values}:
                return fact_side, value_side
        return None

    def visit_Comparison(self, node: m.Comparison) -> Type:
        enum_pair = self.enum_value_side(node)
        if enum_pair is not None:
            fact, value = enum_pair
            word = "not in" if node.op == "!=" else "in"
            if node.op in {"==", "!="}:
                self.error(
                    f"`{value.name}` is a value of the enum, not a fact: test it with `{word} {{…}}`",
                    node.pos,
                    hint=f"write `{fact.name} {word} {{{value.name}}}`",
                )
            else:
                self.error(
                    f"`{node.op}` does not apply to enum values",
                    node.pos,
                    hint=f"enum values have no order; list the ones that qualify: `{fact.name} in {{…}}`",
                )
            return t.BOOL
        left = self.visit(node.left)
        right = self.visit(node.right)
        if t.UNKNOWN in (left, right):
            return t.BOOL
        if not t.comparable(left, right):
            self.error(f"cannot compare {left} with {right}", node.pos, hint=t.mismatch_hint(left, right))
        elif node.op not in {"==", "!="} and not left.ordered:
            self.error(f"`{node.op}` does not apply to {left}", node.pos, hint=_order_hint(left))
        return t.BOOL

    def visit_Between(self, node: m.Between) -> Type:
        subject = self.visit(node.subject)
        for bound in (node.low, node.high):
            found = self.visit(bound)
            if t.UNKNOWN in (subject, found):
                continue
            if not t.comparable(subject, found):
                self.error(
                    f"cannot compare {subject} with {found}", bound.pos, hint=t.mismatch_hint(subject, found)
                )
            elif not subject.ordered:
                self.error(f"`between` does not apply to {subject}", node.pos, hint=_order_hint(subject))
        return t.BOOL

    def visit_YearOf(self, node: m.YearOf) -> Type:
        """``year of 认定日期``: an integer, the calendar year counted from the date's own."""
        subject = self.visit(node.subject)
        if subject not in (t.UNKNOWN, t.DATE):
            self.error(
                f"`year of` counts calendar years from a date; this is {subject}",
                node.subject.pos,
                hint="e.g. year of 认定日期 between 1 and 5 (自认定当年起连续5年)",
            )
        return t.INTEGER

    def visit_Within(self, node: m.Within) -> Type:
        """``成立日期 within 3年``: a date, and a length in calendar days, weeks, months or years."""
        subject = self.visit(node.subject)
        if subject not in (t.UNKNOWN, t.DATE):
            self.error(
                f"`within` counts a period from a date; this is {subject}",
                node.subject.pos,
                hint="e.g. 成立日期 within 3年 (成立不满3年)",
            )
        length = node.length.value
        if not isinstance(length, Duration) or length.unit not in WITHIN_UNITS:
            self.error(
                "`within` takes a length of time in days, weeks, months or years",
                node.length.pos,
                hint="e.g. within 3年, within 6个月, within 30天"
                + ("; working days depend on a calendar of holidays" if isinstance(length, Duration) else ""),
            )
        return t.BOOL

    def _enum_values(self, enum_name: str, values: Iterable[m.Name]) -> None:
        enum = self.checker.enums.get(enum_name)
        if enum is None:
            return
        known = [v.name for v in enum.values]
        for value in values:
            if value.text not in known:
                self.error(
                    f"`{value.text}` is not a value of enum `{enum_name}`",
                    value.pos,
                    hint=did_you_mean(value.text, known) or "its values are " + ", ".join(known),
                )

    def visit_Membership(self, node: m.Membership) -> Type:
        subject = self.visit(node.subject)
        if subject == t.UNKNOWN:
            return t.BOOL
        if subject.kind != "enum":
            hint = "use `includes` for a set of values" if subject.kind == "set" else None
            self.error(f"`in {{…}}` tests an enum, but this is {subject}", node.subject.pos, hint=hint)
            return t.BOOL
        self._enum_values(subject.param or "", node.values)
        return t.BOOL

    def visit_Includes(self, node: m.Includes) -> Type:
        subject = self.visit(node.subject)
        if subject == t.UNKNOWN:
            return t.BOOL
        if subject.kind != "set":
            hint = "use `in {…}` for a single enum value" if subject.kind == "enum" else None
            self.error(f"`includes` tests a set, but this is {subject}", node.subject.pos, hint=hint)
            return t.BOOL
        self._enum_values(subject.param or "", node.values)
        return t.BOOL

    def _logical(self, operands: Iterable[m.Condition], word: str) -> Type:
        for operand in operands:
            found = self.visit(operand)
            if found not in (t.BOOL, t.UNKNOWN):
                self.error(f"`{word}` needs conditions, but this is {found}", operand.pos)
        return t.BOOL

    def visit_Not(self, node: m.Not) -> Type:
        return self._logical([node.operand], "not")

    def visit_And(self, node: m.And) -> Type:
        return self._logical(node.operands, "and")

    def visit_Or(self, node: m.Or) -> Type:
        return self._logical(node.operands, "or")


def _order_hint(found: Type) -> str | None:
    if found.kind == "enum":
        return "enum values have no order; list the ones that qualify with `in {…}`"
    if found.kind == "bool":
        return "use the fact itself, or `not` it"
    return None
