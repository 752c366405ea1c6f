"""Stage 2: :class:`~policy_dsl.model.PolicyFile` → :class:`CheckedPolicy`. Entry point: :func:`check`.

Resolves names (facts, definitions, enum values, agencies), infers and checks types, units
and currencies, verifies every citation against the source text, and orders definitions so
none depends on itself. Every problem is collected; one :class:`PolicyCheckError` lists them
all in source order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs

from policy_dsl import model as m
from policy_dsl import types as t
from policy_dsl.document import Document, DocumentMeasure, read_document
from policy_dsl.errors import Diagnostic, PolicyCheckError, PolicyError, did_you_mean
from policy_dsl.parse import glued_keyword, parse
from policy_dsl.source import SourceFile, SourcePosition
from policy_dsl.types import Type
from policy_dsl.values import Duration, Money, Percent
from policy_dsl.visitor import Visitor

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


@attrs.frozen
class AgencyRegistry:
    """Agencies by canonical id, and every name (id, full name, alias) that refers to one."""

    agencies: dict[str, m.Agency]
    names: dict[str, str]

    def resolve(self, name: str) -> str | None:
        return self.names.get(name)


@attrs.frozen
class RuleInfo:
    """A benefit, duty or target with what the checker resolved around it."""

    rule: m.Benefit | m.Duty | m.Target
    measure: m.Measure
    chapter: m.Chapter | None
    agencies: tuple[str, ...]


@attrs.frozen
class MeasureInfo:
    measure: m.Measure
    chapter: m.Chapter | None
    agencies: tuple[str, ...]


@attrs.frozen
class UncitedSentence:
    measure: str
    text: str
    line: int


@attrs.frozen
class Coverage:
    """How much of the source text the encoding accounts for, so a reviewer sees what was left out."""

    measures_in_source: tuple[str, ...]
    measures_encoded: tuple[str, ...]
    unit_lines_in_source: tuple[str, ...]
    unit_lines_encoded: tuple[str, ...]
    sentences_total: int
    uncited: tuple[UncitedSentence, ...]

    def summary(self) -> str:
        cited = self.sentences_total - len(self.uncited)
        return (
            f"coverage: measures {len(self.measures_encoded)}/{len(self.measures_in_source)}, "
            f"responsible-unit lines {len(self.unit_lines_encoded)}/{len(self.unit_lines_in_source)}, "
            f"sentences cited {cited}/{self.sentences_total}"
        )

    def report(self) -> str:
        lines = [self.summary()]
        missing = [n for n in self.measures_in_source if n not in self.measures_encoded]
        if missing:
            lines.append("  measures not encoded: " + "、".join(f"（{n}）" for n in missing))
        unmatched = [n for n in self.unit_lines_in_source if n not in self.unit_lines_encoded]
        if unmatched:
            lines.append("  responsible-unit lines not encoded: " + "、".join(f"（{n}）" for n in unmatched))
        if self.uncited:
            lines.append(f"  sentences no citation covers ({len(self.uncited)}), judged not to be rules:")
            for sentence in self.uncited:
                lines.append(f"    （{sentence.measure}） line {sentence.line}: {sentence.text}")
        return "\n".join(lines)


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
    measures: tuple[MeasureInfo, ...]
    benefits: tuple[RuleInfo, ...]
    duties: tuple[RuleInfo, ...]
    targets: tuple[RuleInfo, ...]
    coverage: Coverage | None = None

    @property
    def title(self) -> str:
        return self.header.title.value


def check(policy: m.PolicyFile, path: str | None = None) -> CheckedPolicy:
    """Check a parsed policy; ``path`` locates the source text and registries it names.

    Raises :class:`PolicyCheckError` (or the syntax error of an imported registry).
    """
    checker = _Checker(policy, path or policy.pos.path)
    return checker.run()


# ---------------------------------------------------------------- citations


def normalize_text(text: str) -> str:
    """Compare citations after folding full-width/half-width forms and dropping all white space."""
    folded = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", "", folded)


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[。；！？\n])", text)
    return [p.strip() for p in parts if p.strip()]


# ---------------------------------------------------------------- the checker


class _Checker:
    def __init__(self, policy: m.PolicyFile, path: str) -> None:
        self.policy = policy
        self.path = path
        self.base = Path(path).parent
        self.diagnostics: list[Diagnostic] = []
        self.document: SourceFile | None = None
        self.structure: Document | None = None
        self.incomplete_registry = False
        self.normalized_document = ""
        self.normalized: dict[str, str] = {}  # each citation's text folded once per check
        self.facts: dict[str, FactInfo] = {}
        self.enums: dict[str, m.EnumDecl] = {}
        self.definitions: dict[str, m.Definition] = {}
        self.names_seen: dict[str, SourcePosition] = {}
        self.names_folded: dict[str, str] = {}  # casefold → the name as declared

    def error(self, message: str, pos: SourcePosition | None, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(message, pos=pos, hint=hint))

    def head(self, node: m.Node) -> SourcePosition:
        """Where a declaration's name is written: tighter than the whole block for a caret."""
        name = getattr(node, "name", None) or getattr(node, "id", None)
        pos = node.pos
        if not isinstance(name, str) or pos.line <= 0:
            return pos
        line = pos.file.line(pos.line)
        index = line.find(name, max(pos.column - 1, 0))
        if index < 0:
            return pos
        return SourcePosition(pos.file, pos.line, index + 1, pos.line, index + 1 + len(name))

    # -- entry
    def run(self) -> CheckedPolicy:
        header = self.check_header()
        registry = self.collect_agencies()
        self.collect_enums()
        self.collect_facts()
        self.collect_definitions()
        measures, benefits, duties, targets = self.check_measures(registry)
        ordered = self.order_definitions()
        for definition in self.definitions.values():
            self.check_citations(definition, definition.citations)
            if definition.means is None:
                self.error(f"definition `{definition.name}` has no `means` condition", self.head(definition))
            else:
                self.expect_condition(definition.means)
        coverage = self.coverage(measures, registry)
        if self.diagnostics:
            raise PolicyCheckError(self.diagnostics)
        assert header is not None
        return CheckedPolicy(
            path=self.path,
            file=self.policy,
            header=header,
            document=self.document,
            facts=self.facts,
            enums=self.enums,
            agencies=registry,
            definitions={name: self.definitions[name] for name in ordered},
            measures=tuple(measures),
            benefits=tuple(benefits),
            duties=tuple(duties),
            targets=tuple(targets),
            coverage=coverage,
        )

    # -- coverage of the source text
    def all_citations(self) -> Iterator[m.Citation]:
        for definition in self.definitions.values():
            yield from definition.citations
        for measure in self.policy.measures():
            yield from measure.citations
            for rule in measure.rules:
                if not isinstance(rule, m.Definition):
                    yield from rule.citations

    def coverage(self, measures: list[MeasureInfo], registry: AgencyRegistry) -> Coverage | None:
        if self.document is None or self.structure is None:
            return None
        document = self.structure
        text = self.normalized_document
        covered = bytearray(len(text))
        for citation in self.all_citations():
            needle = self.normalize(citation.text.value)
            start = text.find(needle) if needle else -1
            while start >= 0:
                covered[start : start + len(needle)] = b"\x01" * len(needle)
                start = text.find(needle, start + 1)
        encoded = {info.measure.number: info for info in measures}
        uncited: list[UncitedSentence] = []
        total = 0
        cursor = 0
        unit_lines: list[str] = []
        units_encoded: list[str] = []
        for doc_measure in document.measures:
            for sentence in doc_measure.sentences:
                needle = normalize_text(sentence.text)
                found = text.find(needle, cursor)
                if not needle or found < 0:
                    continue
                cursor = found + len(needle)
                total += 1
                if not any(covered[found : found + len(needle)]):
                    uncited.append(UncitedSentence(doc_measure.number, sentence.text, sentence.line))
            if doc_measure.units_text is None:
                continue
            unit_lines.append(doc_measure.number)
            info = encoded.get(doc_measure.number)
            if info is not None and self.check_units(doc_measure, info, registry, text, covered):
                units_encoded.append(doc_measure.number)
        return Coverage(
            measures_in_source=tuple(m.number for m in document.measures),
            measures_encoded=tuple(m.number for m in document.measures if m.number in encoded),
            unit_lines_in_source=tuple(unit_lines),
            unit_lines_encoded=tuple(units_encoded),
            sentences_total=total,
            uncited=tuple(uncited),
        )

    def check_units(
        self,
        doc_measure: DocumentMeasure,
        info: MeasureInfo,
        registry: AgencyRegistry,
        text: str,
        covered: bytearray,
    ) -> bool:
        """The measure's agencies must be the units its （责任单位：…） line names, in the same order."""
        measure = info.measure
        if self.incomplete_registry or len(info.agencies) != len(measure.agencies):
            return False  # an agency already failed to resolve: do not pile on
        where = measure.agencies[0].pos if measure.agencies else measure.pos
        units_norm = normalize_text(doc_measure.units_text or "")
        for citation in measure.citations:
            cited = normalize_text(citation.text.value)
            if cited and (cited in units_norm or units_norm in cited):
                where = citation.text.pos
                break
        listed: list[str] = []
        for unit in doc_measure.units:
            agency = registry.resolve(unit.name) or (registry.resolve(unit.full) if unit.full else None)
            if agency is None:
                self.error(
                    f"the （责任单位：…） line of （{measure.number}） names `{unit.name}`, "
                    "which no agency is called",
                    where,
                    hint=did_you_mean(unit.name, registry.names)
                    or "add it (or the alias) to the agency registry",
                )
                return False
            listed.append(agency)
        if tuple(listed) != info.agencies:
            self.error(
                f"the agencies of （{measure.number}） differ from its （责任单位：…） line",
                where,
                hint="the text lists, lead first: " + "、".join(listed),
            )
            return False
        needle = normalize_text(doc_measure.units_text or "")
        start = text.find(needle)
        return start >= 0 and all(covered[start : start + len(needle)])

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
                self.normalized_document = normalize_text(self.document.text)
                self.structure = read_document(self.document.text)
        if header.date is not None and not _is_date(header.date):
            self.error("the header's `date` must be a date", header.date.pos)
        return header

    # -- agencies
    def collect_agencies(self) -> AgencyRegistry:
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
        location = self.base / use.path.value
        try:
            source = SourceFile.read(location)
        except FileNotFoundError:
            self.error(f"agency registry `{use.path.value}` not found", use.path.pos)
            self.incomplete_registry = True
            return []
        except (OSError, ValueError) as exc:
            self.error(f"agency registry `{use.path.value}` cannot be read: {exc}", use.path.pos)
            self.incomplete_registry = True
            return []
        try:
            registry = parse(source.text, str(location), source=source)
        except PolicyError as exc:
            self.diagnostics.extend(exc.diagnostics)
            self.incomplete_registry = True
            return []
        agencies: list[m.Agency] = []
        for item in registry.items:
            if isinstance(item, m.Agency):
                agencies.append(item)
            else:
                self.error(
                    "an agency registry may declare only agencies",
                    item.pos,
                    hint="move this into the policy file that uses the registry",
                )
        return agencies

    # -- declarations
    def claim_name(self, name: str, node: m.Node, what: str) -> bool:
        if name in self.names_seen:
            first = self.names_seen[name]
            self.error(
                f"`{name}` is declared twice",
                self.head(node),
                hint=f"the first declaration is at line {first.line}",
            )
            return False
        other = self.names_folded.get(name.casefold())
        if other is not None:
            self.error(
                f"`{name}` and `{other}` differ only in case",
                self.head(node),
                hint=f"`{other}` is at line {self.names_seen[other].line}; rename one: SQL engines "
                "(DuckDB, Spark) do not tell such names apart as columns",
            )
            return False
        self.names_seen[name] = node.pos
        self.names_folded[name.casefold()] = name
        return True

    def collect_enums(self) -> None:
        for item in self.policy.items:
            if not isinstance(item, m.EnumDecl):
                continue
            if not self.claim_name(item.name, item, "enum"):
                continue
            seen: set[str] = set()
            for value in item.values:
                if value.name in seen:
                    self.error(f"enum `{item.name}` lists `{value.name}` twice", value.pos)
                seen.add(value.name)
            self.enums[item.name] = item

    def collect_facts(self) -> None:
        for item in self.policy.items:
            if not isinstance(item, m.FactDecl):
                continue
            if not self.claim_name(item.name, item, "fact"):
                continue
            self.facts[item.name] = FactInfo(item, self.resolve_type(item.type))

    def resolve_type(self, ref: m.TypeRef) -> Type:
        if ref.kind in {"enum", "set"}:
            name = ref.param or ""
            if name not in self.enums:
                self.error(f"unknown enum `{name}`", ref.pos, hint=did_you_mean(name, self.enums))
                return t.UNKNOWN
        return Type(ref.kind, ref.param)

    def collect_definitions(self) -> None:
        for definition in self.all_definitions():
            if self.claim_name(definition.name, definition, "definition"):
                self.definitions[definition.name] = definition

    def all_definitions(self) -> Iterator[m.Definition]:
        for item in self.policy.items:
            if isinstance(item, m.Definition):
                yield item
        for measure in self.policy.measures():
            for rule in measure.rules:
                if isinstance(rule, m.Definition):
                    yield rule

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
    def check_measures(
        self, registry: AgencyRegistry
    ) -> tuple[list[MeasureInfo], list[RuleInfo], list[RuleInfo], list[RuleInfo]]:
        measures: list[MeasureInfo] = []
        benefits: list[RuleInfo] = []
        duties: list[RuleInfo] = []
        targets: list[RuleInfo] = []
        numbers: dict[str, SourcePosition] = {}
        for chapter, measure in self.measures_with_chapters():
            if measure.number in numbers:
                self.error(
                    f"measure （{measure.number}） appears twice",
                    measure.title.pos,
                    hint=f"the first is at line {numbers[measure.number].line}",
                )
            numbers[measure.number] = measure.pos
            self.check_heading(f"（{measure.number}）", measure.title)
            if not measure.citations:
                self.error(
                    f"measure （{measure.number}） has no citation",
                    measure.title.pos,
                    hint="cite its （责任单位：…） line or its opening sentence",
                )
            self.check_citations(measure, measure.citations)
            measure_agencies = self.resolve_agencies(measure.agencies, registry)
            measures.append(MeasureInfo(measure, chapter, measure_agencies))
            for rule in measure.rules:
                if isinstance(rule, m.Definition):
                    continue
                if not self.claim_name(rule.name, rule, type(rule).__name__.lower()):
                    continue
                own = self.resolve_agencies(rule.agencies, registry)
                info = RuleInfo(rule, measure, chapter, own or measure_agencies)
                self.check_citations(rule, rule.citations)
                self.check_period(rule.period)
                if isinstance(rule, m.Benefit):
                    self.check_benefit(rule)
                    benefits.append(info)
                elif isinstance(rule, m.Duty):
                    if rule.when is not None:
                        self.expect_condition(rule.when)
                    for level in rule.levels:
                        self.check_metric(level)
                    duties.append(info)
                else:
                    if not rule.goals:
                        self.error(f"target `{rule.name}` has no `goal`", self.head(rule))
                    for goal in rule.goals:
                        self.check_metric(goal)
                    targets.append(info)
        for chapter in (i for i in self.policy.items if isinstance(i, m.Chapter)):
            self.check_heading(f"{chapter.number}、", chapter.title)
        return measures, benefits, duties, targets

    def measures_with_chapters(self) -> Iterator[tuple[m.Chapter | None, m.Measure]]:
        for item in self.policy.items:
            if isinstance(item, m.Chapter):
                for measure in item.measures:
                    yield item, measure
            elif isinstance(item, m.Measure):
                yield None, item

    def check_heading(self, number: str, title: m.Text) -> None:
        """A chapter's or measure's number and title must be a whole heading of the source text."""
        if self.document is None or self.structure is None:
            return
        headings = {f"{c.number}、": c.title for c in self.structure.chapters}
        headings.update({f"（{me.number}）": me.title for me in self.structure.measures})
        written = headings.get(number)
        if written is not None and normalize_text(written) == normalize_text(title.value):
            return
        if written is not None:
            self.error(
                f"the title of {number} differs from the source text",
                title.pos,
                hint=f"the source has: {number}{written}",
            )
        else:
            self.error(
                f"heading `{number}{title.value}` does not occur in the source text",
                title.pos,
                hint=self.closest_sentence(title.value),
            )

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

    def check_citations(self, node: m.Node, citations: Iterable[m.Citation]) -> None:
        citations = tuple(citations)
        if not citations and not isinstance(node, m.Measure):
            label = getattr(node, "name", "")
            self.error(
                f"{type(node).__name__.lower()} `{label}` has no citation",
                self.head(node),
                hint='add `cite "…"` with the exact words of the source text it encodes',
            )
        if self.document is None:
            return
        for citation in citations:
            text = citation.text.value
            folded = self.normalize(text)
            if not folded:
                self.error("empty citation", citation.text.pos)
            elif folded not in self.normalized_document:
                self.error(
                    "citation does not occur in the source text",
                    citation.text.pos,
                    hint=self.closest_sentence(text),
                )

    def normalize(self, text: str) -> str:
        folded = self.normalized.get(text)
        if folded is None:
            folded = self.normalized[text] = normalize_text(text)
        return folded

    def closest_sentence(self, text: str) -> str | None:
        import difflib

        if self.document is None:
            return None
        wanted = normalize_text(text)
        best: tuple[float, str] | None = None
        for sentence in _sentences(self.document.text):
            norm = normalize_text(sentence)
            matcher = difflib.SequenceMatcher(None, wanted, norm, autojunk=False)
            ratio = matcher.find_longest_match(0, len(wanted), 0, len(norm)).size / max(len(wanted), 1)
            if best is None or ratio > best[0]:
                best = (ratio, sentence)
        if best is None or best[0] < 0.4:
            return None
        shown = best[1] if len(best[1]) <= 80 else best[1][:80] + "…"
        return f"the closest sentence in the source is: {shown}"

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

    def check_benefit(self, benefit: m.Benefit) -> None:
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
        if benefit.when is not None:
            self.expect_condition(benefit.when)
        currencies: list[tuple[str, SourcePosition]] = []
        for label, lit in (("amount", benefit.amount), ("cap", benefit.cap)):
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
        ):
            self.error(
                "the fixed `amount` is larger than the `cap`",
                benefit.amount.pos,
                hint="a cap limits an amount computed from a rate; a fixed amount above it can never be paid",
            )
        if benefit.amount is not None and benefit.rate is not None:
            self.error("a benefit has either a fixed `amount` or a `rate`, not both", benefit.rate.pos)
        if benefit.rate is not None:
            rate = benefit.rate
            if not isinstance(rate.rate.value, Percent):
                self.error("a `rate` must be a percentage", rate.rate.pos, hint="e.g. rate 100% of 保费")
            if rate.base is not None:
                base = self.facts.get(rate.base.text)
                if base is None:
                    self.error(
                        f"unknown fact `{rate.base.text}`",
                        rate.base.pos,
                        hint=did_you_mean(rate.base.text, self.facts),
                    )
                elif base.type.kind != "money":
                    self.error(
                        f"a rate applies to an amount of money, but `{rate.base.text}` is {base.type}",
                        rate.base.pos,
                    )
                else:
                    currencies.append((base.type.param or "", rate.base.pos))
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
