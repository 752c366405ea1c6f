"""Stage 4: evaluate a compiled policy for one enterprise. Entry point: :func:`evaluate`.

The :class:`Outcome` lists every benefit (eligible / not eligible / unknown, naming the
missing facts), its amount, rate or cap, each condition that decided it with its value,
the citations and the responsible agencies; and every duty of the agencies that applies to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from policy_dsl.check import COMMITMENT_SHOWN
from policy_dsl.compile import CompiledPolicy
from policy_dsl.facts import validate_facts
from policy_dsl.runtime import to_json
from policy_dsl.source import SourceFile
from policy_dsl.values import CURRENCY_CHINESE, Money, Percent, format_decimal, format_money

ELIGIBLE = "eligible"
NOT_ELIGIBLE = "not_eligible"
UNKNOWN = "unknown"
NOT_IN_FORCE = "not_in_force"
#: eligible by its own terms, but not received: an exclusive group (不重复享受) keeps another benefit
SUPERSEDED = "superseded"


@attrs.frozen
class ConditionResult:
    """One test that decided an outcome: its text, its value (None = unknown), where it is written."""

    test: str
    value: bool | None
    via: str | None
    definition: str | None
    at: str
    #: the test stands under an odd number of `not`s: false, it satisfies the condition
    negated: bool = False


@attrs.frozen
class CitationRef:
    text: str
    note: str | None


@attrs.frozen
class AgencyRef:
    id: str
    name: str


@attrs.frozen
class ExclusiveResult:
    """A benefit's exclusive group (不重复享受): how one is kept, the other members, and the one kept
    (None: none lost to another — fewer than two eligible, the enterprise chooses, or the highest
    cannot be told)."""

    group: str
    label: str
    keep: str
    others: tuple[str, ...]
    kept: str | None
    citations: tuple[CitationRef, ...]


@attrs.frozen
class Schedule:
    """A tiered benefit's bands, as written: ``from 1000万元 to 5000万元: rate 70% of 贡献``…"""

    fact: str
    marginal: bool
    bands: tuple[str, ...]
    #: ``tiers by year of 认定日期``: an installment schedule, its bands years counted from the date
    year_of: bool = False


@attrs.frozen
class TierPart:
    """In a marginal schedule: the part of the fact inside one band, and the rate paid on it."""

    band: str
    part: Decimal
    rate: Percent


@attrs.frozen
class TierResult:
    """How one enterprise's amount came from the tiers: the band (``tiers by``; None: in no band),
    or each band's part (``marginal tiers``)."""

    band: str | None
    parts: tuple[TierPart, ...] | None


@attrs.frozen
class ItemResult:
    """For a benefit ``for each`` item of a list: what one item (counted from 1) got, and why."""

    item: int
    status: str
    amount: Money | None
    conditions: tuple[ConditionResult, ...]
    missing_facts: tuple[str, ...]
    #: its facts of an open enum (等) holding values not listed
    unlisted: tuple[tuple[str, tuple[str, ...]], ...] = ()


@attrs.frozen
class StageResult:
    """One stage of a staged payment (分阶段兑现): its share, its condition, whether it is reached."""

    group: str
    share: Percent
    condition: str
    reached: bool | None


@attrs.frozen
class BenefitOutcome:
    id: str
    label: str
    kind: str | None
    measure: str
    measure_title: str
    status: str
    amount: Money | None
    rate: Percent | None
    rate_base: str | None
    cap: Money | None
    frequency: str | None
    period: tuple[dt.date | None, dt.date | None] | None
    in_period: bool
    condition: str | None
    conditions: tuple[ConditionResult, ...]
    missing_facts: tuple[str, ...]
    citations: tuple[CitationRef, ...]
    agencies: tuple[AgencyRef, ...]
    at: str
    #: facts of an open enum (等) holding values not listed: why a test on them is unknown
    unlisted: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: What the text commits to (check.COMMITMENTS): "entitled" unless the policy says less.
    commitment: str = "entitled"
    #: ``amount 100元 per 面积``: the fact counted, its value (None: unknown) and the amount per unit
    per: str | None = None
    per_count: int | Decimal | None = None
    unit_amount: Money | None = None
    #: a range (5%—20%, 10万元—100万元) or a floor (不低于): no single amount, decided case by case
    ranged: bool = False
    rate_high: Percent | None = None
    amount_low: Money | None = None
    amount_high: Money | None = None
    #: an eligible enterprise's range: its low end and its high end (None: open above, no cap)
    range: tuple[Money, Money | None] | None = None
    #: status ``superseded``: the benefit of its exclusive group (不重复享受) kept instead
    superseded_by: str | None = None
    #: the exclusive groups it belongs to, and what each did
    exclusive: tuple[ExclusiveResult, ...] = ()
    #: ``tiers by FACT`` / ``marginal tiers of FACT``: the schedule, and for an eligible enterprise
    #: whose FACT is known, the band it fell in or (marginal) each band's part
    tiers: Schedule | None = None
    tier: TierResult | None = None
    #: ``cap 年度地方财政贡献``: facts that also cap the amount (the least applies)
    cap_facts: tuple[str, ...] = ()
    #: ``rate … of 销售额 above 上年销售额`` / ``above 1亿元``: the threshold the rate starts above
    rate_above: str | None = None
    #: ``for each 获批品种``: the list whose items are each decided and paid, the most for all of
    #: them (``cap total``), and per item what it got (None: the items are not known)
    each: str | None = None
    cap_total: Money | None = None
    cap_total_facts: tuple[str, ...] = ()
    #: ``min 10万元`` (最低): the least a computed amount is
    minimum: Money | None = None
    items: tuple[ItemResult, ...] | None = None
    #: paid in stages (分阶段兑现): each stage, and the whole amount of which ``amount`` is payable
    stages: tuple[StageResult, ...] | None = None
    total: Money | None = None

    @property
    def eligible(self) -> bool:
        return self.status == ELIGIBLE


@attrs.frozen
class DutyOutcome:
    id: str
    label: str
    measure: str
    measure_title: str
    status: str
    levels: tuple[tuple[str, str, str], ...]
    period: tuple[dt.date | None, dt.date | None] | None
    in_period: bool
    condition: str | None
    conditions: tuple[ConditionResult, ...]
    missing_facts: tuple[str, ...]
    citations: tuple[CitationRef, ...]
    agencies: tuple[AgencyRef, ...]
    at: str
    #: facts of an open enum (等) holding values not listed: why a test on them is unknown
    unlisted: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: an obligation of the enterprise (企业应当…, 违约追回), not a duty of the agencies
    obligation: bool = False
    #: what follows for the enterprise, as the text says it (追回奖励, 无偿收回土地使用权)
    sanctions: tuple[str, ...] = ()


@attrs.frozen
class Outcome:
    """What a policy gives and owes one enterprise on one date."""

    policy: dict[str, Any] = attrs.field(eq=False)
    as_of: dt.date
    benefits: tuple[BenefitOutcome, ...]
    duties: tuple[DutyOutcome, ...]
    raw: dict[str, Any] = attrs.field(eq=False, repr=False)
    #: When :meth:`only` filtered the outcome: the statuses kept and how many benefits there were.
    filtered: tuple[tuple[str, ...], int] | None = attrs.field(default=None, eq=False)

    def benefit(self, ident: str) -> BenefitOutcome:
        for benefit in self.benefits:
            if benefit.id == ident:
                return benefit
        raise KeyError(ident)

    @property
    def eligible(self) -> tuple[BenefitOutcome, ...]:
        return tuple(b for b in self.benefits if b.status == ELIGIBLE)

    def only(self, statuses: Iterable[str]) -> Outcome:
        """The same outcome keeping only benefits of the given statuses (``eligible``,
        ``not_eligible``, ``unknown``); duties are kept by the matching status (applies, does not
        apply, unknown)."""
        wanted = set(statuses)
        duty_words = {
            "applies": "eligible",
            "does_not_apply": "not_eligible",
            "unknown": "unknown",
            NOT_IN_FORCE: NOT_IN_FORCE,
        }
        benefits = tuple(b for b in self.benefits if b.status in wanted)
        duties = tuple(d for d in self.duties if duty_words[d.status] in wanted)
        raw = dict(self.raw)
        raw["benefits"] = [b for b in self.raw["benefits"] if b["status"] in wanted]
        raw["duties"] = [d for d in self.raw["duties"] if duty_words[d["status"]] in wanted]
        return Outcome(
            self.policy, self.as_of, benefits, duties, raw, (tuple(sorted(wanted)), len(self.benefits))
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (Decimals and dates as strings), the same as the standalone module gives."""
        result: dict[str, Any] = to_json(self.raw)
        return result

    def to_text(self, verbose: bool = False) -> str:
        return render_text(self, verbose)


def evaluate(
    compiled: CompiledPolicy,
    facts: Mapping[str, Any],
    as_of: dt.date | None = None,
    source: SourceFile | None = None,
    adopted: bool = False,
) -> Outcome:
    """Validate ``facts`` and evaluate every benefit and duty on ``as_of`` (default: today); a draft
    as if adopted only when ``adopted`` (otherwise it has no force: every rule is not in force)."""
    values = validate_facts(compiled.checked, facts, source)
    raw = compiled.evaluate(values, as_of or dt.date.today(), adopted)
    return outcome_from_raw(raw)


def _money(raw: Any) -> Money | None:
    return None if raw is None else Money(Decimal(raw["amount"]), raw["currency"])


def _range(raw: Any) -> tuple[Money, Money | None] | None:
    if raw is None:
        return None
    low = _money(raw["low"])
    assert low is not None
    return low, _money(raw["high"])


def _threshold_text(raw: Any) -> str | None:
    if raw is None or isinstance(raw, str):
        return raw
    return money_text(Money(Decimal(raw["amount"]), raw["currency"]))


def _schedule(raw: Any) -> Schedule | None:
    if raw is None:
        return None
    return Schedule(raw["fact"], raw["marginal"], tuple(raw["bands"]), bool(raw.get("year_of", False)))


def _tier_result(raw: Any) -> TierResult | None:
    if raw is None:
        return None
    parts = raw["parts"]
    return TierResult(
        raw["band"],
        None
        if parts is None
        else tuple(TierPart(p["band"], Decimal(p["part"]), Percent(Decimal(p["rate"]))) for p in parts),
    )


def _period(raw: Any) -> tuple[dt.date | None, dt.date | None] | None:
    return None if raw is None else (raw["start"], raw["end"])


def _conditions(raw: list[dict[str, Any]]) -> tuple[ConditionResult, ...]:
    return tuple(
        ConditionResult(c["test"], c["value"], c["via"], c["definition"], c["at"], c.get("negated", False))
        for c in raw
    )


def _items(raw: Any) -> tuple[ItemResult, ...] | None:
    if raw is None:
        return None
    return tuple(
        ItemResult(
            i["item"],
            i["status"],
            _money(i["amount"]),
            _conditions(i["conditions"]),
            tuple(i["missing_facts"]),
            tuple((u["fact"], tuple(u["values"])) for u in i.get("unlisted", ())),
        )
        for i in raw
    )


def _common(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": raw["id"],
        "label": raw["label"],
        "measure": raw["measure"]["number"],
        "measure_title": raw["measure"]["title"],
        "status": raw["status"],
        "period": _period(raw["period"]),
        "in_period": raw["in_period"],
        "condition": raw["condition"],
        "conditions": _conditions(raw["conditions"]),
        "missing_facts": tuple(raw["missing_facts"]),
        "unlisted": tuple((u["fact"], tuple(u["values"])) for u in raw.get("unlisted", ())),
        "citations": tuple(CitationRef(c["text"], c["note"]) for c in raw["citations"]),
        "agencies": tuple(AgencyRef(a["id"], a["name"]) for a in raw["agencies"]),
        "at": raw["at"],
    }


def outcome_from_raw(raw: dict[str, Any]) -> Outcome:
    benefits = tuple(
        BenefitOutcome(
            **_common(b),
            kind=b["kind"],
            commitment=b.get("commitment") or "entitled",
            ranged=bool(b.get("ranged")),
            rate_high=Percent(b["rate_high"]) if b.get("rate_high") is not None else None,
            amount_low=_money(b.get("amount_low")),
            amount_high=_money(b.get("amount_high")),
            range=_range(b.get("range")),
            tiers=_schedule(b.get("tiers")),
            cap_facts=tuple(b.get("cap_facts", ())),
            rate_above=_threshold_text(b.get("rate_above")),
            superseded_by=b.get("superseded_by"),
            exclusive=tuple(
                ExclusiveResult(
                    e["group"],
                    e["label"],
                    e["keep"],
                    tuple(e["with"]),
                    e["kept"],
                    tuple(CitationRef(c["text"], c["note"]) for c in e["citations"]),
                )
                for e in b.get("exclusive", ())
            ),
            tier=_tier_result(b.get("tier")),
            per=b.get("per"),
            per_count=b.get("per_count"),
            unit_amount=_money(b.get("unit_amount")),
            amount=_money(b["amount"]),
            rate=Percent(b["rate"]) if b["rate"] is not None else None,
            rate_base=b["rate_base"],
            cap=_money(b["cap"]),
            frequency=b["frequency"],
            each=b.get("each"),
            cap_total=_money(b.get("cap_total")),
            minimum=_money(b.get("minimum")),
            cap_total_facts=tuple(b.get("cap_total_facts") or ()),
            items=_items(b.get("items")),
            stages=None
            if b.get("stages") is None
            else tuple(
                StageResult(s["group"], Percent(Decimal(s["share"])), s["condition"], s["reached"])
                for s in b["stages"]
            ),
            total=_money(b.get("total")),
        )
        for b in raw["benefits"]
    )
    duties = tuple(
        DutyOutcome(
            **_common(d),
            levels=tuple(tuple(lv.values()) for lv in d["levels"]),
            obligation=bool(d.get("obligation")),
            sanctions=tuple(d.get("sanctions", ())),
        )
        for d in raw["duties"]
    )
    return Outcome(raw["policy"], raw["as_of"], benefits, duties, raw)


# ---------------------------------------------------------------- text rendering

_MARK = {True: "✓", False: "✗", None: "?"}
_STATUS = {
    ELIGIBLE: "✓ eligible",
    NOT_ELIGIBLE: "✗ not eligible",
    UNKNOWN: "? unknown",
    SUPERSEDED: "↷ superseded",
    "applies": "✓ applies",
    "does_not_apply": "✗ does not apply",
    NOT_IN_FORCE: "– not in force",
}


#: How an eligible benefit reads, by what its text commits to (docs/language.md, "Commitment").
ELIGIBLE_AS = {c: ("· " if c == "intention" else "✓ ") + shown for c, shown in COMMITMENT_SHOWN.items()}
#: The line under an eligible benefit that is not an entitlement: what the text does and does not promise.
COMMITMENT_NOTES = {
    "may_receive": (
        "the text supports, encourages or guides it (支持/鼓励/指导): the agency decides; not an entitlement"
    ),
    "priority": "the text gives priority (优先) where there is a selection; not an entitlement",
    "case_by_case": "decided case by case (一事一议): terms are negotiated, none are in the text",
    "intention": "the text announces work (研究/推动): nothing is owed to an enterprise yet",
}


def status_text(benefit: BenefitOutcome) -> str:
    """「✓ eligible」, or what an eligible benefit's weaker promise makes of it (「✓ may receive」)."""
    if benefit.status == ELIGIBLE:
        return ELIGIBLE_AS.get(benefit.commitment, _STATUS[ELIGIBLE])
    return _STATUS[benefit.status]


def money_text(money: Money) -> str:
    return format_money(money, chinese=True)


def exact_money_text(money: Money) -> str:
    """A computed amount, digit for digit: 36800.00元, never a rounded 3.68万元."""
    unit = CURRENCY_CHINESE.get(money.currency)
    digits = format(money.amount, "f")
    return f"{digits}{unit}" if unit else f"{digits} {money.currency}"


def render_text(outcome: Outcome, verbose: bool = False) -> str:
    policy = outcome.policy
    version = ", ".join(x for x in (policy.get("version"), policy.get("status")) if x)
    lines = [
        f"{policy['title']}" + (f" ({version})" if version else "") + f" — as of {outcome.as_of.isoformat()}"
    ]
    statuses = (ELIGIBLE, UNKNOWN, NOT_ELIGIBLE, NOT_IN_FORCE, SUPERSEDED)
    counts = {s: sum(1 for b in outcome.benefits if b.status == s) for s in statuses}
    eligible, unknown, not_eligible = counts[ELIGIBLE], counts[UNKNOWN], counts[NOT_ELIGIBLE]
    if policy.get("status") == "draft":
        if outcome.raw.get("adopted"):
            lines.append("a draft, evaluated as if adopted as written")
        else:
            lines.append(
                "a draft (征求意见稿) has no force: every rule is not in force "
                "(evaluate it as if adopted with --as-adopted)"
            )
    if outcome.filtered is not None:
        kept, total = outcome.filtered
        shown = ", ".join(k.replace("_", " ") for k in kept)
        lines.append(f"benefits: showing {len(outcome.benefits)} of {total} ({shown} only)")
    else:
        summary = f"benefits: {eligible} eligible, {unknown} unknown, {not_eligible} not eligible"
        weaker = [
            b.commitment for b in outcome.benefits if b.status == ELIGIBLE and b.commitment != "entitled"
        ]
        if weaker:
            promised = ", ".join(
                f"{weaker.count(c)} {COMMITMENT_SHOWN[c]}" for c in COMMITMENT_NOTES if c in weaker
            )
            summary += f" (of the eligible, {eligible - len(weaker)} entitled; {promised})"
        if counts[SUPERSEDED]:
            summary += f", {counts[SUPERSEDED]} superseded (not cumulated)"
        if counts[NOT_IN_FORCE]:
            summary += f", {counts[NOT_IN_FORCE]} not in force"
        lines.append(summary)
    for benefit in outcome.benefits:
        lines.append("")
        kind = f", {benefit.kind}" if benefit.kind else ""
        lines.append(f"{status_text(benefit):<15} {benefit.label}  [{benefit.measure}{kind}]")
        if benefit.status in (ELIGIBLE, UNKNOWN) and benefit.commitment in COMMITMENT_NOTES:
            lines.append(f"    commitment: {COMMITMENT_NOTES[benefit.commitment]}")
        lines.extend(_benefit_value(benefit))
        lines.extend(stage_lines(benefit))
        lines.extend(exclusive_lines(benefit))
        if benefit.items:  # each item with its own tests
            lines.extend(_explanation(benefit.condition, (), benefit.in_period, benefit.period, verbose))
            lines.extend(item_lines(benefit, verbose))
        else:
            lines.extend(
                _explanation(
                    benefit.condition, benefit.conditions, benefit.in_period, benefit.period, verbose
                )
            )
            lines.extend(item_lines(benefit, verbose))
        if benefit.missing_facts:
            lines.append("    missing facts: " + ", ".join(benefit.missing_facts))
        if not benefit.items:  # per item, each item says its own
            lines.extend(unlisted_lines(benefit.unlisted))
        lines.extend(_citations(benefit.citations, benefit.agencies))
    sections = (
        (
            [d for d in outcome.duties if not d.obligation],
            "duties of the agencies (applies: its condition names this enterprise; "
            "applies to all: a general duty in force):",
        ),
        (
            [d for d in outcome.duties if d.obligation],
            "obligations of the enterprise (applies: its condition names this enterprise, which "
            "must do or bear what it says):",
        ),
    )
    for duties, heading in sections:
        if not duties:
            continue
        lines.append("")
        lines.append(heading)
        for duty in duties:
            lines.append("")
            status = _STATUS[duty.status]
            if duty.condition is None and duty.status == "applies":
                status = "· applies to all"
            lines.append(f"{status:<15} {duty.label}  [{duty.measure}]")
            for label, op, value in duty.levels:
                lines.append(f"    service level: {label} {op} {value}")
            for sanction in duty.sanctions:
                lines.append(f"    sanction: {sanction}")
            lines.extend(_explanation(duty.condition, duty.conditions, duty.in_period, duty.period, verbose))
            if duty.missing_facts:
                lines.append("    missing facts: " + ", ".join(duty.missing_facts))
            lines.extend(unlisted_lines(duty.unlisted))
            lines.extend(_citations(duty.citations, duty.agencies))
    return "\n".join(lines) + "\n"


KEEP_SHOWN = {
    "highest": "就高: the highest is kept",
    "first": "the first granted, in the order written, is kept",
    "one": "one of them, the enterprise's choice",
}


def exclusive_lines(benefit: BenefitOutcome) -> list[str]:
    """Non-cumulation (不重复享受): which benefit of the group was kept instead, or that only one of
    the eligible ones is received."""
    lines = []
    for group in benefit.exclusive:
        others = "、".join(group.others)
        if benefit.superseded_by is not None and group.kept == benefit.superseded_by:
            lines.append(
                f"    superseded by {group.kept}: not cumulated with {others} ({KEEP_SHOWN[group.keep]})"
            )
        elif group.kept == benefit.id:
            lines.append(f"    kept: not cumulated with {others} ({KEEP_SHOWN[group.keep]})")
        elif benefit.status == ELIGIBLE:
            lines.append(f"    not cumulated with {others}: {KEEP_SHOWN[group.keep]}")
    return lines


def unlisted_lines(unlisted: tuple[tuple[str, tuple[str, ...]], ...]) -> list[str]:
    """Why a test on a known fact is unknown: its value is not among an open enum's (等) listed ones."""
    return [
        f"    not listed: {fact} = {', '.join(values)} (the text's list ends in 等: it may or may not count)"
        for fact, values in unlisted
    ]


def range_text(benefit: BenefitOutcome) -> str:
    """What a ranged benefit says: 「5% — 20% of 投资」, 「10万元 — 100万元」, 「at least 10% of 成本」."""
    cap = f", at most {cap_text(benefit)}" if cap_text(benefit) else ""
    if benefit.rate is not None:
        base = base_text(benefit)
        if benefit.rate_high is None:
            return f"at least {benefit.rate}{base}{cap}"
        return f"{benefit.rate} — {benefit.rate_high}{base}{cap}"
    low = money_text(benefit.amount_low) if benefit.amount_low is not None else "?"
    if benefit.amount_high is None:
        return f"at least {low}{cap}"
    return f"{low} — {money_text(benefit.amount_high)}{cap}"


def cap_text(benefit: BenefitOutcome) -> str | None:
    """A benefit's caps as shown: ``100万元``, ``年度地方财政贡献``, ``100万元 and 年度地方财政贡献``."""
    parts = ([money_text(benefit.cap)] if benefit.cap else []) + list(benefit.cap_facts)
    return " and ".join(parts) if parts else None


def base_text(benefit: BenefitOutcome) -> str:
    """What a rate applies to: `` of 销售额``, `` of 销售额 above 上年销售额``, or nothing."""
    if not benefit.rate_base:
        return ""
    above = f" above {benefit.rate_above}" if benefit.rate_above else ""
    return f" of {benefit.rate_base}{above}"


def schedule_text(schedule: Schedule) -> str:
    """``tiers by 投资: from 1000万元 to 5000万元: rate 70% of 贡献; above 5000万元: …``"""
    head = f"marginal tiers of {schedule.fact}" if schedule.marginal else f"tiers by {schedule.fact}"
    if schedule.year_of:
        head = f"tiers by year of {schedule.fact}"
    return f"{head}: " + "; ".join(schedule.bands)


def tier_parts_text(parts: tuple[TierPart, ...], currency: str | None) -> str:
    """A marginal amount's sum: ``1% of 400000000元 (above 1亿元 to 5亿元) + 2% of …``."""
    if not parts:
        return "no part in any band"

    def part(value: Decimal) -> str:
        return exact_money_text(Money(value, currency)) if currency else format_decimal(value)

    return " + ".join(f"{p.rate} of {part(p.part)} ({p.band.partition(':')[0]})" for p in parts)


def tiers_text(benefit: BenefitOutcome) -> str:
    """A tiered benefit's amount and how the tiers gave it, or the schedule when it is not known."""
    assert benefit.tiers is not None
    cap = f", capped at {cap_text(benefit)}" if cap_text(benefit) else ""
    tier = benefit.tier
    if tier is not None and tier.parts is not None:
        shown = exact_money_text(benefit.amount) if benefit.amount is not None else "?"
        currency = (benefit.amount or benefit.cap or Money(Decimal(0), "")).currency or None
        return f"amount: {shown} ({tier_parts_text(tier.parts, currency)}{cap})"
    word = "installment" if benefit.tiers.year_of else "tier"
    keyed = f"year of {benefit.tiers.fact}" if benefit.tiers.year_of else benefit.tiers.fact
    if tier is not None and tier.band is not None:
        if benefit.amount is not None:
            return f"amount: {exact_money_text(benefit.amount)} ({word} {tier.band}{cap})"
        return f"amount: {word} {tier.band}{cap}; not computed: " + (
            ", ".join(benefit.missing_facts) + " unknown" if benefit.missing_facts else "a count below 0"
        )
    if tier is not None:  # eligible, but the fact falls in no band
        return f"amount: none — {keyed} falls in no {word} ({schedule_text(benefit.tiers)})"
    unknown = f"; {benefit.tiers.fact} unknown" if benefit.status == ELIGIBLE else ""
    return f"amount: {schedule_text(benefit.tiers)}{cap}{unknown}"


def stage_lines(benefit: BenefitOutcome) -> list[str]:
    """A benefit paid in stages: what is payable of the whole, and each stage reached or not."""
    if benefit.stages is None:
        return []
    lines = []
    if benefit.total is not None and benefit.amount is not None:
        payable, whole = exact_money_text(benefit.amount), exact_money_text(benefit.total)
        lines.append(f"    paid in stages: {payable} payable of {whole}")
    elif benefit.total is not None:
        lines.append(f"    paid in stages: of {exact_money_text(benefit.total)}, the part payable is unknown")
    else:
        lines.append(f"    paid in stages ({benefit.stages[0].group})")
    for stage in benefit.stages:
        lines.append(f"      {_MARK[stage.reached]} {stage.share} when {stage.condition}")
    return lines


def _benefit_value(benefit: BenefitOutcome) -> list[str]:
    if benefit.stages is not None and benefit.total is not None:  # the whole amount, then the stages
        return _benefit_value(attrs.evolve(benefit, stages=None, total=None, amount=benefit.total))
    if benefit.each is not None:
        return _items_value(benefit)
    parts: list[str] = []
    if benefit.ranged:
        if benefit.range is not None:
            low, high = benefit.range
            ends = (
                f"{exact_money_text(low)} — {exact_money_text(high)}"
                if high
                else f"at least {exact_money_text(low)}"
            )
            parts.append(f"amount: {ends}, decided case by case ({range_text(benefit)})")
        else:
            parts.append(f"amount: {range_text(benefit)}, decided case by case")
    elif benefit.tiers is not None:
        parts.append(tiers_text(benefit))
    elif benefit.per is not None and benefit.unit_amount is not None:
        unit = f"{money_text(benefit.unit_amount)} per {benefit.per}"
        cap = f", capped at {cap_text(benefit)}" if cap_text(benefit) else ""
        if benefit.amount is not None:
            count = format_decimal(benefit.per_count) if benefit.per_count is not None else "?"
            parts.append(f"amount: {exact_money_text(benefit.amount)} ({unit} × {count}{cap})")
        else:
            known = ""
            if benefit.status == ELIGIBLE:  # no amount: the count is unknown, or negative
                known = (
                    f"; {benefit.per} unknown"
                    if benefit.per_count is None
                    else f"; {benefit.per} < 0: no amount"
                )
            parts.append(f"amount: {unit}{cap}{known}")
    elif benefit.amount is not None:
        text = f"amount: {exact_money_text(benefit.amount)}"
        if benefit.rate is not None and benefit.rate_base:
            text += f" ({benefit.rate}{base_text(benefit)}"
            text += f", capped at {cap_text(benefit)})" if cap_text(benefit) else ")"
        parts.append(text)
    elif benefit.rate is not None:
        base = base_text(benefit)
        cap = f", at most {cap_text(benefit)}" if cap_text(benefit) else ""
        parts.append(f"rate: {benefit.rate}{base}{cap}")
    elif cap_text(benefit) is not None:
        parts.append(f"amount: up to {cap_text(benefit)}")
    if benefit.minimum is not None:
        parts.append(f"at least {money_text(benefit.minimum)}")
    if benefit.frequency:
        parts.append({"once": "one-off", "recurring": "recurring"}.get(benefit.frequency, benefit.frequency))
    return ["    " + "; ".join(parts)] if parts else []


def item_lines(benefit: BenefitOutcome, verbose: bool = False) -> list[str]:
    """A benefit ``for each`` item: how many items qualified, then each item's status, amount and
    tests (``item 2: ✗ not eligible``)."""
    if benefit.each is None:
        return []
    if benefit.items is None:
        return [f"    for each {benefit.each}: the items are not known"]
    if not benefit.items:
        return [f"    for each {benefit.each}: no items"]
    eligible = sum(1 for i in benefit.items if i.status == ELIGIBLE)
    lines = [f"    for each {benefit.each}: {eligible} of {len(benefit.items)} items eligible"]
    for item in benefit.items:
        paid = ""
        if item.amount is not None:
            paid = f"  {exact_money_text(item.amount)}"
        lines.append(f"      item {item.item}: {_STATUS[item.status]}{paid}")
        for result, depth in zip(item.conditions, condition_depths(item.conditions), strict=True):
            where = f"  ({result.at})" if verbose else ""
            test, value = shown_test(result)
            lines.append(f"{'        ' + '  ' * depth}{_MARK[value]} {test}{where}")
        if item.missing_facts and item.status != NOT_ELIGIBLE:
            lines.append("        missing facts: " + ", ".join(item.missing_facts))
        lines.extend("    " + line for line in unlisted_lines(item.unlisted))
    return lines


def _items_value(benefit: BenefitOutcome) -> list[str]:
    """A benefit ``for each`` item: the sum the enterprise receives, and how each item is paid."""
    each = attrs.evolve(
        benefit,
        each=None,
        items=None,
        amount=None,
        range=None,
        tier=None,
        per_count=None,
        frequency=None,
        status=NOT_ELIGIBLE,  # the schedule as written, not one enterprise's missing facts
    )
    per_item = "; ".join(line.strip() for line in _benefit_value(each))
    per_item = per_item.removeprefix("amount: ").removeprefix("rate: ")
    paid = {i.amount for i in benefit.items or () if i.amount is not None}
    if not per_item and len(paid) == 1:  # a fixed amount: each eligible item's
        per_item = exact_money_text(next(iter(paid)))
    per_item = per_item or "as each item's facts give it"
    bounds = [exact_money_text(benefit.cap_total)] if benefit.cap_total else []
    bounds += list(benefit.cap_total_facts)
    total = f", at most {' and '.join(bounds)} in all" if bounds else ""
    often = {"once": "; one-off", "recurring": "; recurring"}.get(benefit.frequency or "", "")
    if benefit.amount is not None:
        return [f"    amount: {exact_money_text(benefit.amount)} (per item: {per_item}{total}){often}"]
    if per_item.startswith("up to"):  # a cap only (最高): no amount is computed, per item or in all
        return [f"    amount: {per_item} per item{total}{often}"]
    if benefit.status == ELIGIBLE:
        undecided = any(i.status == UNKNOWN for i in benefit.items or ())
        why = "an item is undecided" if undecided else "missing: " + ", ".join(benefit.missing_facts)
        return [f"    amount: not computed (per item: {per_item}{total}; {why}){often}"]
    return [f"    per item: {per_item}{total}{often}"]


def _explanation(
    condition: str | None,
    conditions: tuple[ConditionResult, ...],
    in_period: bool,
    period: tuple[dt.date | None, dt.date | None] | None,
    verbose: bool,
) -> list[str]:
    lines: list[str] = []
    if condition is not None:
        lines.append(f"    when {condition}")
    for result, depth in zip(conditions, condition_depths(conditions), strict=True):
        indent = "      " + "  " * depth
        where = f"  ({result.at})" if verbose else ""
        test, value = shown_test(result)
        lines.append(f"{indent}{_MARK[value]} {test}{where}")
    if period is not None:
        start = period[0].isoformat() if period[0] else "—"
        end = period[1].isoformat() if period[1] else "no end date"
        lines.append(f"      {_MARK[in_period]} in force {start} to {end}")
    return lines


def shown_test(result: ConditionResult) -> tuple[str, bool | None]:
    """A test as it counts for the outcome: under a `not`, ``not X`` is what holds (✓ when X is false)."""
    if not result.negated:
        return result.test, result.value
    return f"not {result.test}", None if result.value is None else not result.value


def condition_depths(conditions: tuple[ConditionResult, ...]) -> list[int]:
    """How deep each condition sits: a definition's own tests one level under the definition."""
    definition_depth: dict[str, int] = {}
    depths: list[int] = []
    for result in conditions:
        if result.definition is not None and result.via != result.definition:
            # the value of a definition, used directly (via None) or inside another definition
            depth = 0 if result.via is None else definition_depth.get(result.via, 0) + 1
            definition_depth[result.definition] = depth
        elif result.via is not None:
            depth = definition_depth.get(result.via, 0) + 1
        else:
            depth = 0
        depths.append(depth)
    return depths


def _citations(citations: tuple[CitationRef, ...], agencies: tuple[AgencyRef, ...]) -> list[str]:
    lines = [f"    cites: 「{c.text}」" + (f"\n      note: {c.note}" if c.note else "") for c in citations]
    if agencies:
        names = [a.id for a in agencies]
        lines.append("    responsible: " + names[0] + " (lead)" + "".join(", " + n for n in names[1:]))
    return lines
