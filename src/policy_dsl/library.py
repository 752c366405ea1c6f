"""A library of policies: one enterprise matched against every policy in force (the 政策计算器).

Entry points: :func:`load_library` reads a folder of policies and its index (``library.index``),
checks every policy, vocabulary and the index together; :meth:`Library.match` matches one
enterprise's facts against every policy in force on a day; :func:`policy_dsl.matching.match_population`
(reverse matching) does the same for a population file in DuckDB.

How a library settles what an enterprise gets (docs/library.md):

1. each policy is evaluated as ``policy eval`` would, with the facts it declares;
2. a document not in force on the day (a draft, before it takes effect, after its validity) gives
   nothing; nor does one that another document of the library ``replaces`` once that one has taken
   effect (a repeal, or a later version);
3. a document applies to enterprises in its ``jurisdiction``: the index's ``areas`` say which area
   lies in which, and the fact they name says where the enterprise is. Not given: every benefit it
   could have is unknown for that fact alone;
4. benefits of different documents that reward the same thing (``same`` in the index) are settled
   by what the documents say: ``keep highest`` (就高不重复) keeps the highest amount, else
   ``precedence higher`` (上级文件优先) keeps the higher level's; otherwise they stack.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from policy_dsl import model as m
from policy_dsl.check import LEVELS, CheckedVocabulary, check_vocabulary, declaration_meaning, is_ranged
from policy_dsl.errors import Diagnostic, FactsError, PolicyCheckError, PolicyError, did_you_mean
from policy_dsl.evaluate import ELIGIBLE, NOT_IN_FORCE, SUPERSEDED, UNKNOWN, BenefitOutcome
from policy_dsl.facts import locate, validate_facts
from policy_dsl.parse import parse
from policy_dsl.policy import Policy, read_source
from policy_dsl.source import SourceFile, SourcePosition
from policy_dsl.values import Money

#: The index file of a library folder.
INDEX = "library.index"
#: Statuses a library adds to a policy's own: its document is replaced by another in force, or the
#: enterprise is outside the area it applies in.
REPEALED = "repealed"
OUTSIDE = "outside_area"
#: What the texts commit to, in the order a match lists them (check.COMMITMENTS).
COMMITMENT_ORDER = ("entitled", "may_receive", "priority", "case_by_case", "intention")


@attrs.frozen
class SameGroup:
    """Benefits of different documents that reward the same thing (``same`` in the index)."""

    name: str
    label: str | None
    members: tuple[tuple[str, str], ...]  # (policy id, benefit id)
    pos: SourcePosition


@attrs.frozen
class Standing:
    """A document's standing on a day, for one enterprise: ``in_force``, ``not_in_force``,
    ``repealed`` (``by`` the document that replaces it) or ``outside_area``; ``area_known`` False
    when the enterprise's area is not given (its benefits are then unknown for that fact)."""

    status: str
    by: str | None = None
    area_known: bool = True


class Library:
    """A checked library: its policies by id (the path relative to the folder), the vocabularies,
    the areas and the groups of benefits that reward the same thing."""

    def __init__(
        self,
        folder: Path,
        title: str,
        policies: dict[str, Policy],
        replaces: dict[str, tuple[str, ...]],
        vocabularies: dict[str, CheckedVocabulary],
        area_fact: str | None,
        around: dict[str, tuple[str, ...]],
        same: tuple[SameGroup, ...],
        warnings: tuple[Diagnostic, ...] = (),
    ) -> None:
        self.folder = folder
        self.title = title
        self.policies = policies
        self.replaces = replaces
        self.vocabularies = vocabularies
        self.area_fact = area_fact
        #: each area with the areas around it, outermost first (柳河县 → 全国, 吉林省, 通化市)
        self.around = around
        self.same = same
        self.warnings = warnings

    # -- the facts of the library
    @functools.cached_property
    def fixed_amounts(self) -> dict[tuple[str, str], Money | None]:
        """Each benefit's fixed amount (:func:`fixed_amount`), by (policy, benefit)."""
        return {
            (pid, info.rule.name): fixed_amount(info)
            for pid, policy in self.policies.items()
            for info in policy.checked.benefits
        }

    @functools.cached_property
    def fact_names(self) -> dict[str, str]:
        """Every fact a policy or vocabulary of the library declares, with its label (or name)."""
        names: dict[str, str] = {}
        for vocabulary in self.vocabularies.values():
            for name, info in vocabulary.facts.items():
                names.setdefault(name, info.decl.label.value if info.decl.label else name)
        for policy in self.policies.values():
            for name, info in policy.checked.facts.items():
                names.setdefault(name, info.decl.label.value if info.decl.label else name)
        return names

    def facts_schema(self) -> dict[str, Any]:
        """A JSON Schema for an enterprise's facts across the library: every policy's properties."""
        from policy_dsl.views import fact_schema, facts_schema

        properties: dict[str, Any] = {}
        for policy in self.policies.values():
            schema = facts_schema(policy.checked)
            for name, prop in schema.get("properties", {}).items():
                properties.setdefault(name, prop)
        for vocabulary in self.vocabularies.values():  # the area fact, and those no policy reads yet
            for name in vocabulary.facts:
                if name not in properties:
                    properties[name] = fact_schema(vocabulary, name)
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"Facts of an enterprise — {self.title}",
            "type": "object",
            "properties": properties,
            "additionalProperties": False,
        }

    # -- standing of documents
    def in_force(self, policy_id: str, as_of: dt.date, adopted: bool) -> bool:
        validity = self.policies[policy_id].checked.validity
        if validity.draft and not adopted:
            return False
        return (validity.start is None or validity.start <= as_of) and (
            validity.end is None or as_of <= validity.end
        )

    def taken_effect(self, policy_id: str, as_of: dt.date, adopted: bool) -> bool:
        """Whether a document has taken effect by ``as_of`` (a repeal lasts after its own validity)."""
        validity = self.policies[policy_id].checked.validity
        if validity.draft and not adopted:
            return False
        return validity.start is None or validity.start <= as_of

    def replaced_by(self, policy_id: str, as_of: dt.date, adopted: bool) -> str | None:
        for other, replaced in self.replaces.items():
            if policy_id in replaced and self.taken_effect(other, as_of, adopted):
                return other
        return None

    def standing(self, policy_id: str, as_of: dt.date, adopted: bool, area: str | None) -> Standing:
        """``policy_id``'s standing on ``as_of`` for an enterprise in ``area`` (None: not given)."""
        by = self.replaced_by(policy_id, as_of, adopted)
        if by is not None:
            return Standing(REPEALED, by)
        if not self.in_force(policy_id, as_of, adopted):
            return Standing(NOT_IN_FORCE)
        inside = self.applies_in(policy_id, area)
        if inside is False:
            return Standing(OUTSIDE)
        return Standing("in_force", area_known=inside is not None)

    def jurisdiction(self, policy_id: str) -> str | None:
        header = self.policies[policy_id].checked.header
        return header.jurisdiction.value if header.jurisdiction is not None else None

    def applies_in(self, policy_id: str, area: str | None) -> bool | None:
        """Whether a policy applies to an enterprise in ``area``: None when that cannot be told (the
        area is not given, or is one the library's areas do not place)."""
        if self.area_fact is None:
            return True
        where = self.jurisdiction(policy_id)
        if where is None or where not in self.around:
            return True  # a policy with no jurisdiction applies everywhere (the index check refuses others)
        if area is None or area not in self.around:
            return None
        return where == area or where in self.around[area]

    # -- matching
    def match(
        self,
        facts: Mapping[str, Any],
        as_of: dt.date | None = None,
        adopted: bool = False,
        source: SourceFile | None = None,
    ) -> Match:
        """Every benefit of every policy for an enterprise described by ``facts`` on ``as_of``
        (default: today), settled across documents, with what to ask next. Raises
        :class:`FactsError` naming every fact no policy declares and every value that does not fit."""
        day = as_of or dt.date.today()
        outcomes, area = self.evaluate_each(facts, day, adopted, source)
        standings = {pid: self.standing(pid, day, adopted, area) for pid in self.policies}
        entries: dict[tuple[str, str], Entry] = {}
        for policy_id, policy in self.policies.items():
            outcome = outcomes.get(policy_id)
            if outcome is not None:
                entries.update(self.entries(policy_id, outcome, day, adopted, area))
                continue
            nothing = [  # a document in force nowhere on the day: not evaluated, nothing given
                BenefitResult(
                    b.rule.name, NOT_IN_FORCE, self.fixed_amounts[(policy_id, b.rule.name)], False, ""
                )
                for b in policy.checked.benefits
            ]
            entries.update(self.settle_standing(policy_id, nothing, standings[policy_id]))
        settle(self, entries)
        return Match(self, day, adopted, area, outcomes, entries, standings, dict(facts))

    def evaluate_each(
        self, facts: Mapping[str, Any], as_of: dt.date, adopted: bool, source: SourceFile | None = None
    ) -> tuple[dict[str, Any], str | None]:
        """Each policy's outcome (the facts it declares) — of those in force on the day, the others'
        facts only checked — and the enterprise's area (None: not given)."""
        if not isinstance(facts, Mapping):
            raise FactsError([Diagnostic("the facts must be a JSON object: fact name → value")])
        known = self.fact_names
        problems: list[Diagnostic] = []
        for name in facts:
            if name not in known:
                problems.append(
                    Diagnostic(
                        f"unknown fact `{name}`: no policy of the library declares it",
                        locate(source, name),
                        hint=did_you_mean(str(name), known) or "see `policy schema` for the facts there are",
                    )
                )
        area = self.area_of(facts, source, problems)
        outcomes: dict[str, Any] = {}
        seen: set[tuple[str, str, int, int]] = set()
        unlisted = 0
        for policy_id, policy in self.policies.items():
            declared = policy.checked.all_facts
            given = {name: value for name, value in facts.items() if name in declared}
            try:
                if self.standing(policy_id, as_of, adopted, None).status in (NOT_IN_FORCE, REPEALED):
                    validate_facts(policy.checked, given, source)  # what it would be told is still checked
                else:
                    outcomes[policy_id] = policy.evaluate(given, as_of=as_of, source=source, adopted=adopted)
            except FactsError as error:
                unlisted = max(unlisted, error.unlisted)
                for diagnostic in error.diagnostics:  # one fact's problem once, not once per policy
                    pos = diagnostic.pos
                    key = (diagnostic.message, pos.path if pos else "", pos.line if pos else 0, 0)
                    if key not in seen:
                        seen.add(key)
                        problems.append(diagnostic)
        if problems:
            raise FactsError(problems, unlisted=unlisted)
        return outcomes, area

    def area_of(
        self, facts: Mapping[str, Any], source: SourceFile | None, problems: list[Diagnostic]
    ) -> str | None:
        """The enterprise's area: a value of the area fact's enum (of an open enum, any name)."""
        if self.area_fact is None or facts.get(self.area_fact) is None:
            return None
        value = facts[self.area_fact]
        enum = self.area_enum()
        values = [v.name for v in enum.values] if enum is not None else list(self.around)
        if isinstance(value, str) and (value in values or (enum is not None and enum.open)):
            return value
        shown = repr(value) if isinstance(value, str) else json_text(value)
        problems.append(
            Diagnostic(
                f"fact `{self.area_fact}`: expected one of {', '.join(values)}, got {shown}",
                locate(source, self.area_fact),
                hint=did_you_mean(str(value), values),
            )
        )
        return None

    def area_enum(self) -> m.EnumDecl | None:
        for vocabulary in self.vocabularies.values():
            info = vocabulary.facts.get(self.area_fact or "")
            if info is not None and info.type.kind == "enum":
                return vocabulary.enums.get(info.type.param or "")
        return None

    def entries(
        self, policy_id: str, outcome: Any, as_of: dt.date, adopted: bool, area: str | None
    ) -> dict[tuple[str, str], Entry]:
        """A policy's outcome as the library's entries (its document's standing applied)."""
        own = [
            BenefitResult(
                b.id,
                b.status,
                b.amount if b.status == ELIGIBLE else self.fixed_amounts[(policy_id, b.id)],
                b.ranged,
                b.commitment,
                tuple(b.missing_facts),
            )
            for b in outcome.benefits
        ]
        return self.settle_standing(policy_id, own, self.standing(policy_id, as_of, adopted, area))

    def settle_standing(
        self, policy_id: str, results: Iterable[BenefitResult], standing: Standing
    ) -> dict[tuple[str, str], Entry]:
        """Entries for one policy's own results, its document's standing applied: replaced, outside
        the enterprise's area, or unknown for the area fact alone when the area is not given."""
        found: dict[tuple[str, str], Entry] = {}
        for result in results:
            status, missing = self.stand(result.status, result.missing, standing)
            found[(policy_id, result.benefit)] = Entry(
                policy_id,
                result.benefit,
                status,
                result.amount,
                result.ranged,
                result.commitment,
                missing,
                by=standing.by,
            )
        return found

    def stand(self, status: str, missing: tuple[str, ...], standing: Standing) -> tuple[str, tuple[str, ...]]:
        """A benefit's own status and missing facts under its document's standing: replaced, not in
        force, outside the enterprise's area, or unknown for the area fact when it is not given."""
        if standing.status == REPEALED:
            return REPEALED, missing
        if standing.status == NOT_IN_FORCE:
            return NOT_IN_FORCE, missing
        if standing.status == OUTSIDE and status != NOT_IN_FORCE:
            return OUTSIDE, missing
        if not standing.area_known and status in (ELIGIBLE, UNKNOWN) and self.area_fact:
            return UNKNOWN, (self.area_fact, *missing)
        return status, missing


def json_text(value: Any) -> str:
    import json

    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


def fixed_amount(info: Any) -> Money | None:
    """The one amount a benefit pays whatever the facts (奖励50万元), or None: computed (a rate, per
    unit, tiers, per item), a range, or no amount. ``info`` is the checker's RuleInfo."""
    rule = info.rule if info is not None else None
    if not isinstance(rule, m.Benefit) or rule.amount is None or not isinstance(rule.amount.value, Money):
        return None
    if rule.per or rule.tiers or rule.rate or rule.each or is_ranged(rule):
        return None
    return rule.amount.value


@attrs.frozen
class BenefitResult:
    """One benefit's outcome under its own policy (from Python, or a row of SQL results). ``amount``:
    an eligible benefit's amount; otherwise the fixed amount it would pay (:func:`fixed_amount`)."""

    benefit: str
    status: str
    amount: Money | None
    ranged: bool
    commitment: str
    missing: tuple[str, ...] = ()


@attrs.define
class Entry:
    """One benefit of one policy, as the library settles it for one enterprise. The same record
    settles a population's rows (:mod:`policy_dsl.matching`), so the two agree by construction."""

    policy: str
    benefit: str
    status: str
    amount: Money | None
    ranged: bool
    commitment: str
    missing: tuple[str, ...] = ()
    #: repealed: the document replacing its own; superseded: the (policy, benefit) kept instead
    by: str | None = None
    superseded_by: tuple[str, str] | None = None
    #: how a ``same`` group settled it: "keep highest" (就高不重复), "precedence higher" (上级文件优先),
    #: "stacks" (no text forbids both), "one of" (就高, but the amounts cannot be compared)
    settled: str | None = None
    group: str | None = None
    #: the words of the document that settled it that way (its header's citation), and that document
    basis: tuple[str, str] | None = None


def settle(library: Library, entries: dict[tuple[str, str], Entry]) -> None:
    """Apply the index's ``same`` groups to ``entries`` in place (see the module's docstring)."""
    for group in library.same:
        members = [entries[key] for key in group.members if key in entries]
        eligible = [e for e in members if e.status == ELIGIBLE]
        for entry in members:
            entry.group = group.name
        if len(eligible) < 2:
            continue
        docs = {e.policy: library.policies[e.policy].checked.validity for e in eligible}
        if any(v.keep == "highest" for v in docs.values()):
            saying = next(e.policy for e in eligible if docs[e.policy].keep == "highest")
            basis = _basis(library, saying, "就高")
            amounts = [e.amount for e in eligible]
            currencies = {a.currency for a in amounts if a is not None}
            if (
                any(a is None or e.ranged for a, e in zip(amounts, eligible, strict=True))
                or len(currencies) > 1
            ):
                for entry in eligible:
                    entry.settled, entry.basis = "one of", basis
                continue
            best = max(
                eligible, key=lambda e: (e.amount.amount if e.amount else 0, -_level(library, e.policy))
            )
            for entry in eligible:
                entry.settled, entry.basis = "keep highest", basis
                if entry is not best:
                    entry.status = SUPERSEDED
                    entry.superseded_by = (best.policy, best.benefit)
            continue
        levels = {e.policy: _level(library, e.policy) for e in eligible}
        top = min(levels.values())
        lower = [e for e in eligible if levels[e.policy] > top]
        deferring = [e for e in lower if docs[e.policy].precedence == "higher"]
        if lower and len(deferring) == len(lower):
            kept = next(e for e in eligible if levels[e.policy] == top)
            for entry in eligible:
                entry.settled = "precedence higher"
                entry.basis = _basis(library, deferring[0].policy, "上级")
                if levels[entry.policy] > top:
                    entry.status = SUPERSEDED
                    entry.superseded_by = (kept.policy, kept.benefit)
            continue
        for entry in eligible:
            entry.settled = "stacks"


def _group_amounts(entries: Iterable[Entry]) -> tuple[Money, ...]:
    """The fixed amounts of ``entries``, a ``same`` group's members counted once, at the highest."""
    counted: dict[object, Money] = {}
    for entry in entries:
        amount = entry.amount
        if amount is None:
            continue
        key: object = ("group", entry.group) if entry.group else (entry.policy, entry.benefit)
        prior = counted.get(key)
        if prior is None or (prior.currency == amount.currency and prior.amount < amount.amount):
            counted[key] = amount
    return tuple(counted.values())


def _worth(amounts: Iterable[Money]) -> tuple[Decimal, Decimal]:
    """What amounts add up to, CNY first, then the other currencies together (no exchange rate)."""
    listed = list(amounts)
    cny = sum((a.amount for a in listed if a.currency == "CNY"), start=Decimal(0))
    other = sum((a.amount for a in listed if a.currency != "CNY"), start=Decimal(0))
    return cny, other


def _replaces(replaces: Mapping[str, tuple[str, ...]], newer: str, older: str) -> bool:
    """Whether ``newer`` replaces ``older``, directly or through others."""
    seen, pending = set(), list(replaces.get(newer, ()))
    while pending:
        current = pending.pop()
        if current == older:
            return True
        if current not in seen:
            seen.add(current)
            pending.extend(replaces.get(current, ()))
    return False


def _described(node: m.Node) -> str | None:
    """A fact's description, if it has one (two policies may describe one fact differently)."""
    description = getattr(node, "description", None)
    return description.value if isinstance(description, m.Text) else None


def _basis(library: Library, policy_id: str, word: str) -> tuple[str, str] | None:
    """The header citation of ``policy_id`` that says ``word`` (就高, 上级), with the document."""
    header = library.policies[policy_id].checked.header
    found = next((c.text.value for c in header.citations if word in c.text.value), None)
    return (policy_id, found) if found is not None else None


def _level(library: Library, policy_id: str) -> int:
    """A document's level as a number: 0 national … 3 county; 4 when not stated."""
    level = library.policies[policy_id].checked.validity.level
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


# ---------------------------------------------------------------- the result


@attrs.frozen
class AskNext:
    """A fact not given, and what answering it could decide: the benefits unknown only for it."""

    fact: str
    label: str
    decides: tuple[tuple[str, str], ...]  # (policy, benefit) unknown for this fact alone
    #: the fixed amounts they could add (entitled ones; a ``same`` group once, at its highest)
    amounts: tuple[Money, ...]
    also: int  # benefits it is one of several missing facts for


@attrs.frozen(eq=False)
class Match:
    """One enterprise matched against a library on one day: each policy's outcome (of those in force),
    every benefit's settled :class:`Entry`, each document's :class:`Standing`, the facts given."""

    library: Library
    as_of: dt.date
    adopted: bool
    area: str | None
    outcomes: dict[str, Any]
    entries: dict[tuple[str, str], Entry]
    standings: dict[str, Standing]
    facts: dict[str, Any]

    def benefit(self, policy_id: str, benefit_id: str) -> BenefitOutcome:
        outcome = self.outcomes[policy_id]
        found: BenefitOutcome = outcome.benefit(benefit_id)
        return found

    def by_status(self, status: str) -> list[Entry]:
        return [e for e in self.entries.values() if e.status == status]

    def eligible(self, commitment: str | None = None) -> list[Entry]:
        return [
            e
            for e in self.entries.values()
            if e.status == ELIGIBLE and (commitment is None or e.commitment == commitment)
        ]

    def totals(self) -> dict[str, Money]:
        """The fixed amounts the enterprise is entitled to, summed per currency (ranges and
        weaker promises are not counted: nothing fixed is owed)."""
        sums: dict[str, Money] = {}
        for entry in self.eligible("entitled"):
            if entry.amount is not None and not entry.ranged and entry.settled != "one of":
                prior = sums.get(entry.amount.currency)
                total = entry.amount.amount + (prior.amount if prior else 0)
                sums[entry.amount.currency] = Money(total, entry.amount.currency)
        return sums

    def ask_next(self) -> list[AskNext]:
        """The facts not given, ranked by how much answering each could unlock — the benefits unknown
        for that fact alone: first the most their fixed amounts (entitled ones) could add for the
        best answer, in CNY, then other currencies (no exchange rate is assumed), then how many such
        benefits there are, then how many benefits it is one of several missing facts for; the
        fact's name breaks ties. For a yes/no fact, an enum or the area, each answer is tried (only
        one star level can be true: its benefits are not added up); for another fact (an amount, a
        date) the benefits' amounts are added, an upper bound. Benefits of one ``same`` group count
        once, at the highest: they do not stack."""
        alone: dict[str, list[Entry]] = {}
        partly: dict[str, int] = {}
        for entry in self.entries.values():
            if entry.status != UNKNOWN:
                continue
            missing = tuple(dict.fromkeys(entry.missing))
            if len(missing) == 1:
                alone.setdefault(missing[0], []).append(entry)
            else:
                for fact in missing:
                    partly[fact] = partly.get(fact, 0) + 1
        names = self.library.fact_names
        found: list[AskNext] = []
        for fact in {*alone, *partly}:
            decided = sorted(
                alone.get(fact, []), key=lambda e: (COMMITMENT_ORDER.index(e.commitment), e.policy, e.benefit)
            )
            answers = self.answers(fact, decided)
            best: tuple[Money, ...] = ()
            for paying in answers:
                amounts = _group_amounts(paying)
                if _worth(amounts) > _worth(best):
                    best = amounts
            found.append(
                AskNext(
                    fact,
                    names.get(fact, fact),
                    tuple((e.policy, e.benefit) for e in decided),
                    best,
                    partly.get(fact, 0),
                )
            )

        def rank(ask: AskNext) -> tuple[Any, ...]:
            return (*(-x for x in _worth(ask.amounts)), -len(ask.decides), -ask.also, ask.fact)

        return sorted(found, key=rank)

    def answers(self, fact: str, decided: list[Entry]) -> list[list[Entry]]:
        """For each answer to ``fact`` that can be tried, the decided benefits it makes eligible (those
        with a fixed amount the text is entitled to); one list of them all where answers cannot be
        tried (an amount, a date: any of them might be reached)."""
        paying = [e for e in decided if e.amount is not None and not e.ranged and e.commitment == "entitled"]
        if not paying:
            return []
        library = self.library
        if fact == library.area_fact:
            return [[e for e in paying if library.applies_in(e.policy, area)] for area in library.around]
        candidates: list[Any] | None = None
        for entry in paying:
            info = library.policies[entry.policy].checked.facts.get(fact)
            if info is not None and info.type.kind == "bool":
                candidates = [True, False]
            elif info is not None and info.type.kind == "enum":
                enum = library.policies[entry.policy].checked.enums.get(info.type.param or "")
                candidates = [v.name for v in enum.values] if enum is not None else None
            break
        if candidates is None:
            return [paying]
        given: dict[str, dict[str, Any]] = {}  # per policy, the facts as its deciders read them
        deciders = []
        for entry in paying:
            policy = library.policies[entry.policy]
            if entry.policy not in given:
                declared = policy.checked.all_facts
                facts = {k: v for k, v in self.facts.items() if k in declared}
                given[entry.policy] = validate_facts(policy.checked, facts)
            index = next(i for i, b in enumerate(policy.checked.benefits) if b.rule.name == entry.benefit)
            deciders.append((entry, given[entry.policy], policy.compiled.rule_decider("benefit", index)))
        return [
            [entry for entry, facts, decide in deciders if decide({**facts, fact: value}, self.as_of) is True]
            for value in candidates
        ]

    # -- renderings
    def to_json(self) -> dict[str, Any]:
        from policy_dsl.match_report import match_json

        return match_json(self)

    def to_text(self) -> str:
        from policy_dsl.match_report import match_text

        return match_text(self)

    def to_html(self) -> str:
        from policy_dsl.match_report import match_html

        return match_html(self)


# ---------------------------------------------------------------- loading and checking


def load_library(path: str | Path) -> Library:
    """Read and check the library in folder ``path`` (or the index file ``path``): every policy,
    vocabulary and the index together. Raises :class:`PolicyError` with every problem found."""
    location = Path(path)
    if location.is_file():
        folder, index_path = location.parent, location
    elif location.is_dir():
        folder, index_path = location, location / INDEX
    else:
        raise PolicyCheckError(
            [Diagnostic(f"{path}: no such library (a folder of policies, or its {INDEX})")]
        )
    return _Loader(folder, index_path if index_path.exists() else None).run()


class _Loader:
    def __init__(self, folder: Path, index_path: Path | None) -> None:
        self.folder = folder
        self.index_path = index_path
        self.problems: list[Diagnostic] = []

    def error(self, message: str, pos: SourcePosition | None, hint: str | None = None) -> None:
        self.problems.append(Diagnostic(message, pos, hint))

    def warn(self, message: str, pos: SourcePosition | None, hint: str | None = None) -> None:
        self.problems.append(Diagnostic(message, pos, hint, severity="warning"))

    def shown(self, relative: str) -> str:
        return str(self.folder / relative)

    def run(self) -> Library:
        index = self.read_index()
        entries: list[tuple[str, m.LibraryPolicy | None]] = []
        if index is not None:
            for entry in index.policies:
                entries.append((entry.path.value, entry))
        else:
            entries = [
                (p.relative_to(self.folder).as_posix(), None) for p in sorted(self.folder.rglob("*.policy"))
            ]
            if not entries:
                self.error(f"{self.folder}: no policies here (no *.policy files and no {INDEX})", None)
        policies = self.load_policies(entries)
        if index is not None:
            self.unlisted(index, {pid for pid, _ in entries})
        vocabularies = self.load_vocabularies(index, policies)
        replaces = self.check_replaces(index, policies)
        self.check_meanings(policies, vocabularies, replaces)
        area_fact, around = self.check_areas(index, policies, vocabularies)
        same = self.check_same(index, policies)
        errors = [p for p in self.problems if p.severity == "error"]
        if errors:
            raise PolicyCheckError(self.problems)
        title = index.title.value if index is not None else self.folder.name
        warnings = tuple(p for p in self.problems if p.severity != "error")
        return Library(
            self.folder, title, policies, replaces, vocabularies, area_fact, around, same, warnings
        )

    def read_index(self) -> m.Library | None:
        if self.index_path is None:
            return None
        source = read_source(self.index_path)
        parsed = parse(source.text, source.path, source=source)
        libraries = [item for item in parsed.items if isinstance(item, m.Library)]
        for item in parsed.items:
            if not isinstance(item, m.Library):
                self.error(
                    "a library index holds one `library` block and nothing else",
                    item.pos,
                    hint="policies, facts and agencies go in their own files, which the index names",
                )
        if not libraries:
            self.error(
                f"{source.path}: no `library` block",
                parsed.pos,
                hint='write `library "标题" { policy "a.policy" }`',
            )
            raise PolicyCheckError(self.problems)
        for extra in libraries[1:]:
            self.error(
                "a second `library` block", extra.pos, hint=f"the first is at line {libraries[0].pos.line}"
            )
        return libraries[0]

    def load_policies(self, entries: list[tuple[str, m.LibraryPolicy | None]]) -> dict[str, Policy]:
        from policy_dsl.policy import load

        policies: dict[str, Policy] = {}
        for policy_id, entry in entries:
            if policy_id in policies:
                assert entry is not None
                self.error(f"`{policy_id}` is listed twice", entry.path.pos)
                continue
            try:
                policies[policy_id] = load(self.folder / policy_id)
            except PolicyError as error:
                if entry is not None and not (self.folder / policy_id).exists():
                    self.error(
                        f"policy `{policy_id}` not found",
                        entry.path.pos,
                        hint=self.did_you_mean_file(policy_id),
                    )
                else:
                    self.problems.extend(error.diagnostics)
                continue
            self.problems.extend(w for w in policies[policy_id].checked.warnings if w.severity != "error")
        return policies

    def did_you_mean_file(self, relative: str) -> str | None:
        files = [p.relative_to(self.folder).as_posix() for p in self.folder.rglob("*.policy")]
        return did_you_mean(relative, files)

    def unlisted(self, index: m.Library, listed: set[str]) -> None:
        for path in sorted(self.folder.rglob("*.policy")):
            relative = path.relative_to(self.folder).as_posix()
            if relative not in listed:
                self.warn(
                    f"`{relative}` is in the library's folder but not in its index: it is not matched",
                    index.pos,
                    hint=f'add `policy "{relative}"` to the index, or move the file out of the folder',
                )

    def load_vocabularies(
        self, index: m.Library | None, policies: dict[str, Policy]
    ) -> dict[str, CheckedVocabulary]:
        found: dict[str, CheckedVocabulary] = {}
        uses = list(index.uses) if index is not None else []
        if index is None:
            uses = [
                m.Text(p.relative_to(self.folder).as_posix())
                for p in sorted(self.folder.rglob("*.vocabulary"))
            ]
        for use in uses:
            location = self.folder / use.value
            try:
                source = read_source(location)
                parsed = parse(source.text, source.path, source=source)
                found[use.value] = check_vocabulary(parsed, source.path)
            except PolicyError as error:
                if not location.exists():
                    self.error(f"vocabulary `{use.value}` not found", use.pos)
                else:
                    self.problems.extend(error.diagnostics)
        return found

    def check_meanings(
        self,
        policies: dict[str, Policy],
        vocabularies: dict[str, CheckedVocabulary],
        replaces: Mapping[str, tuple[str, ...]],
    ) -> None:
        """A fact (enum, definition) declared by two files of the library with different meanings is
        an error: one enterprise answers one question once. The same type described differently is
        a warning, unless one document replaces the other (never in force together, so each answer
        is read by one of them)."""

        def versions(a: str, b: str) -> bool:
            return _replaces(replaces, a, b) or _replaces(replaces, b, a)

        first: dict[str, tuple[str, m.Node, str]] = {}  # name → (meaning, declaration, where)
        sources: list[tuple[str, Mapping[str, m.EnumDecl], Iterable[m.Node]]] = []
        for path, vocabulary in vocabularies.items():
            declared = [*(f.decl for f in vocabulary.facts.values()), *vocabulary.enums.values()]
            sources.append((path, vocabulary.enums, declared))
        for policy_id, policy in policies.items():
            checked = policy.checked
            own = [
                *(f.decl for f in checked.facts.values() if f.origin is None and f.type.kind != "list"),
                *(d for name, d in checked.enums.items()),
            ]
            sources.append((policy_id, checked.enums, own))
        for where, enums, nodes in sources:
            for node in nodes:
                name = getattr(node, "name", "")
                meaning = declaration_meaning(node, enums)
                if isinstance(node, m.FactDecl) and node.type.kind in ("enum", "set"):
                    enum = enums.get(node.type.param or "")
                    if enum is not None:
                        meaning += " " + declaration_meaning(enum, enums)
                prior = first.get(name)
                if prior is None:
                    first[name] = (meaning, node, where)
                elif prior[0] != meaning and prior[1].pos != node.pos:
                    at = prior[1].pos
                    self.error(
                        f"`{name}` means {meaning} here but {prior[0]} in `{prior[2]}` (line {at.line})",
                        node.pos,
                        hint="one name, one meaning across a library: rename one, or declare it once in a "
                        "vocabulary the policies `use`",
                    )
                elif (
                    _described(node) != _described(prior[1])
                    and None not in (_described(node), _described(prior[1]))
                    and not versions(where, prior[2])
                ):
                    at = prior[1].pos
                    self.warn(
                        f"`{name}` is described differently here and in `{prior[2]}` (line {at.line}): one "
                        "answer is read for both",
                        node.pos,
                        hint="if the texts mean different things, rename one; if the same, declare it once "
                        "in a vocabulary the policies `use`",
                    )

    def check_replaces(
        self, index: m.Library | None, policies: dict[str, Policy]
    ) -> dict[str, tuple[str, ...]]:
        replaces: dict[str, tuple[str, ...]] = {}
        if index is None:
            return replaces
        for entry in index.policies:
            kept: list[str] = []
            for target in entry.replaces:
                if target.value == entry.path.value:
                    self.error("a policy cannot replace itself", target.pos)
                elif target.value not in {e.path.value for e in index.policies}:
                    self.error(
                        f"`{target.value}` is not a policy of this library",
                        target.pos,
                        hint=did_you_mean(target.value, [e.path.value for e in index.policies]),
                    )
                else:
                    kept.append(target.value)
            if kept:
                replaces[entry.path.value] = tuple(kept)
        for start in replaces:  # a cycle would leave no version standing
            seen, frontier = {start}, list(replaces[start])
            while frontier:
                current = frontier.pop()
                if current == start:
                    entry = next(e for e in index.policies if e.path.value == start)
                    self.error(f"`{start}` replaces itself through others", entry.pos)
                    break
                if current not in seen:
                    seen.add(current)
                    frontier.extend(replaces.get(current, ()))
        return replaces

    def check_areas(
        self, index: m.Library | None, policies: dict[str, Policy], vocabularies: dict[str, CheckedVocabulary]
    ) -> tuple[str | None, dict[str, tuple[str, ...]]]:
        if index is None or not index.areas:
            return None, {}
        areas = index.areas[0]
        for extra in index.areas[1:]:
            self.error("a second `areas` block", extra.pos, hint="list every area in one tree")
        fact = areas.fact.text
        declared = None
        for vocabulary in vocabularies.values():
            if fact in vocabulary.facts:
                declared = vocabulary
        around: dict[str, tuple[str, ...]] = {}
        for top in areas.areas:
            for area, outer in top.walk():
                if area.name in around:
                    self.error(f"area `{area.name}` is listed twice", area.pos)
                around[area.name] = outer
        if declared is None:
            self.error(
                f"`{fact}` is not a fact of the library's vocabularies",
                areas.fact.pos,
                hint="declare it in a vocabulary the index `use`s, e.g. `fact 所在地: 行政区`",
            )
        else:
            info = declared.facts[fact]
            enum = declared.enums.get(info.type.param or "") if info.type.kind == "enum" else None
            if enum is None:
                self.error(f"`{fact}` must be a fact of an enum of areas, not {info.type}", areas.fact.pos)
            else:
                values = {v.name for v in enum.values}
                for top in areas.areas:
                    for area, _ in top.walk():
                        if area.name not in values:
                            self.error(
                                f"`{area.name}` is not a value of enum `{enum.name}`",
                                area.pos,
                                hint=did_you_mean(area.name, values) or f"add it to enum `{enum.name}`",
                            )
        for policy_id, policy in policies.items():
            header = policy.checked.header
            where = header.jurisdiction
            if where is not None and where.value not in around:
                self.error(
                    f"the jurisdiction `{where.value}` of `{policy_id}` is not an area of the library",
                    where.pos,
                    hint=did_you_mean(where.value, around) or "add it to the index's `areas`",
                )
        return fact, around

    def check_same(self, index: m.Library | None, policies: dict[str, Policy]) -> tuple[SameGroup, ...]:
        if index is None:
            return ()
        groups: list[SameGroup] = []
        member_of: dict[tuple[str, str], str] = {}
        for same in index.same:
            members: list[tuple[str, str]] = []
            for member in same.members:
                policy = policies.get(member.path.value)
                if policy is None:
                    if member.path.value not in {e.path.value for e in index.policies}:
                        self.error(
                            f"`{member.path.value}` is not a policy of this library",
                            member.path.pos,
                            hint=did_you_mean(member.path.value, [e.path.value for e in index.policies]),
                        )
                    continue
                ids = [info.rule.name for info in policy.checked.benefits]
                if member.benefit.text not in ids:
                    self.error(
                        f"`{member.path.value}` has no benefit `{member.benefit.text}`",
                        member.benefit.pos,
                        hint=did_you_mean(member.benefit.text, ids),
                    )
                    continue
                key = (member.path.value, member.benefit.text)
                if key in member_of:
                    self.error(
                        f"benefit `{member.benefit.text}` of `{member.path.value}` is already in "
                        f"`same {member_of[key]}`",
                        member.pos,
                        hint="a benefit rewards one thing: put it in one group",
                    )
                    continue
                member_of[key] = same.name
                members.append(key)
            if len({pid for pid, _ in members}) < 2 and len(members) == len(same.members):
                self.error(
                    f"`same {same.name}` must name benefits of at least two documents",
                    same.pos,
                    hint="benefits of one document that do not stack are an `exclusive` group in that policy",
                )
            groups.append(
                SameGroup(same.name, same.label.value if same.label else None, tuple(members), same.pos)
            )
        return tuple(groups)
