"""Runtime support for compiled policies: three-valued logic and outcome assembly.

This module imports nothing from policy_dsl. ``policy compile`` copies its source, after that of
:mod:`policy_dsl.intake` (which reads the facts), into the standalone module it writes, and
in-process evaluation runs the very same code, so both give the same outcomes. Values are exact:
money is a Decimal amount in the fact's declared currency, dates are ``datetime.date``; ``None``
stands for an unknown (missing) fact.
"""

import datetime as _dt
from decimal import ROUND_HALF_UP as _ROUND_HALF_UP
from decimal import Context as _Context
from decimal import Decimal as _D
from typing import Any as _Any

# -- three-valued logic (None = unknown), Kleene's rules


def _and(*values: _Any) -> _Any:
    result: _Any = True
    for value in values:
        if value is False:
            return False
        if value is None:
            result = None
    return result


def _or(*values: _Any) -> _Any:
    result: _Any = False
    for value in values:
        if value is True:
            return True
        if value is None:
            result = None
    return result


def _not(value: _Any) -> _Any:
    return None if value is None else not value


def _lt(a: _Any, b: _Any) -> _Any:
    return None if a is None or b is None else a < b


def _le(a: _Any, b: _Any) -> _Any:
    return None if a is None or b is None else a <= b


def _gt(a: _Any, b: _Any) -> _Any:
    return None if a is None or b is None else a > b


def _ge(a: _Any, b: _Any) -> _Any:
    return None if a is None or b is None else a >= b


def _eq(a: _Any, b: _Any) -> _Any:
    return None if a is None or b is None else a == b


def _ne(a: _Any, b: _Any) -> _Any:
    return None if a is None or b is None else a != b


def _between(value: _Any, low: _Any, high: _Any) -> _Any:
    # low <= value and value <= high, in Kleene's logic: one false side decides
    return _and(_le(low, value), _le(value, high))


def _in(value: _Any, options: tuple[str, ...]) -> _Any:
    return None if value is None else value in options


def _not_in(value: _Any, options: tuple[str, ...]) -> _Any:
    return None if value is None else value not in options


def _includes_any(values: _Any, options: tuple[str, ...]) -> _Any:
    return None if values is None else any(o in values for o in options)


def _includes_all(values: _Any, options: tuple[str, ...]) -> _Any:
    return None if values is None else all(o in values for o in options)


def _in_open(value: _Any, options: _Any, listed: _Any) -> _Any:
    """``in`` on an open enum (等): a value not listed may be one of the options: unknown."""
    if value is None:
        return None
    if value in options:
        return True
    return False if value in listed else None


def _not_in_open(value: _Any, options: _Any, listed: _Any) -> _Any:
    return _not(_in_open(value, options, listed))


def _includes_any_open(values: _Any, options: _Any, listed: _Any) -> _Any:
    """``includes any`` on a set of an open enum (等): no option held, but a value not listed,
    which may be one of them: unknown."""
    if values is None:
        return None
    if any(o in values for o in options):
        return True
    return False if all(v in listed for v in values) else None


def _period_end(start: _dt.date, amount: int, unit: str) -> _dt.date:
    """The last day of a period counted from an event (民法典 第二百零一、二百零二条): in days or
    weeks, that many days after it; in months or years, the corresponding day of the last month, or
    that month's last day when it has none (2020-02-29 + 1年 → 2021-02-28)."""
    if unit in ("days", "weeks"):
        return start + _dt.timedelta(days=amount * (7 if unit == "weeks" else 1))
    index = start.month - 1 + amount * (12 if unit == "years" else 1)
    year, month = start.year + index // 12, index % 12 + 1
    last = (_dt.date(year + month // 12, month % 12 + 1, 1) - _dt.timedelta(days=1)).day
    return _dt.date(year, month, min(start.day, last))


def _year_of(event: _Any, as_of: _Any) -> _Any:
    """``year of 认定日期``: the calendar year of ``as_of`` counted from the event's (its own is 1);
    0 before the event has happened."""
    if event is None or as_of is None:
        return None
    return 0 if as_of < event else as_of.year - event.year + 1


def _within(event: _Any, amount: int, unit: str, as_of: _Any) -> _Any:
    """``成立日期 within 3年`` on ``as_of``: the event has happened and its period has not ended."""
    if event is None or as_of is None:
        return None
    try:
        end = _period_end(event, amount, unit)
    except (OverflowError, ValueError):  # past year 9999: the period has not ended
        return event <= as_of
    return event <= as_of <= end


def _truth(value: _Any) -> _Any:
    return None if value is None else bool(value)


def _record(trace: dict[int, _Any], index: int, value: _Any) -> _Any:
    trace[index] = value
    return value


# -- outcome assembly

_MINOR_UNIT_DIGITS = {"JPY": 0}


#: Room for every digit of a product of two facts' or constants' numbers (the default keeps 28).
_WIDE = _Context(prec=120)


def _quantize(amount: _D, currency: str) -> _D:
    digits = _MINOR_UNIT_DIGITS.get(currency, 2)
    # precision for every digit of the result: a huge amount must not overflow the default 28
    context = _Context(prec=max(28, amount.adjusted() + digits + 2))
    return amount.quantize(_D(1).scaleb(-digits), rounding=_ROUND_HALF_UP, context=context)


def _money(amount: _Any, currency: _Any) -> _Any:
    return None if amount is None else {"amount": amount, "currency": currency}


def _in_period(period: _Any, as_of: _dt.date) -> bool:
    """Whether ``as_of`` falls in a period; either end may be open (None)."""
    if period is None:
        return True
    start, end = period
    return (start is None or start <= as_of) and (end is None or as_of <= end)


def _status(condition: _Any, in_period: bool, yes: str, no: str) -> str:
    if not in_period:
        return "not_in_force"
    if condition is False:
        return no
    if condition is None:
        return "unknown"
    return yes


def _conditions(rule: dict[str, _Any], trace: dict[int, _Any]) -> list[dict[str, _Any]]:
    return [
        {
            "test": ATOMS[index][0],
            "value": trace.get(index),
            "via": via,
            "definition": ATOMS[index][2],
            "at": ATOMS[index][1],
            "negated": index in rule["negated"],
        }
        for index, via in rule["atoms"]
    ]


def _missing(rule: dict[str, _Any], facts: dict[str, _Any]) -> list[str]:
    return [name for name in rule["needs"] if facts.get(name) is None]


def _unlisted(rule: dict[str, _Any], facts: dict[str, _Any]) -> list[dict[str, _Any]]:
    """The facts of open enums (等) the rule reads that hold values not listed: why a test on them
    is unknown although the fact is known."""
    found = []
    for name in rule["needs"]:
        info = FACTS.get(name) or next(  # an item's fact: in its list's fields
            (t["fields"][name] for t in FACTS.values() if name in (t.get("fields") or {})), None
        )
        value = facts.get(name)
        if info is None or not info.get("open") or value is None:
            continue
        values = sorted(value) if isinstance(value, frozenset) else [value]
        others = [v for v in values if v not in info["values"]]
        if others:
            found.append({"fact": name, "values": others})
    return found


def _period_out(period: _Any) -> _Any:
    return None if period is None else {"start": period[0], "end": period[1]}


def _capped(amount: _Any, cap: _Any) -> _Any:
    return cap if amount is not None and cap is not None and amount > cap else amount


_UNKNOWN_CAP = object()


def _cap(rule: dict[str, _Any], facts: dict[str, _Any]) -> _Any:
    """The least of a benefit's caps for this enterprise: the amount written (as written) and the
    facts named (``cap 地方财政贡献``, each rounded half up to the minor unit); None when it has
    none, ``_UNKNOWN_CAP`` when a fact it is capped by is unknown."""
    cap = rule["cap"]
    for name in rule["cap_facts"]:
        value = facts.get(name)
        if value is None:
            return _UNKNOWN_CAP
        value = _quantize(value, rule["currency"])
        if cap is None or value < cap:
            cap = value
    return cap


def _rated_base(rule: dict[str, _Any], facts: dict[str, _Any]) -> _Any:
    """What a rate applies to: its base fact, or the part of it above the threshold
    (``of 销售额 above 上年销售额``: 同比超出部分, never below 0); None when unknown."""
    if rule["rate_base"] is None:
        return None
    base = facts.get(rule["rate_base"])
    threshold = rule["rate_above"]
    if rule["rate_above_fact"] is not None:
        threshold = facts.get(rule["rate_above_fact"])
        if threshold is None:
            return None
    if base is None or threshold is None:
        return base
    excess = _WIDE.subtract(base, threshold)
    return excess if excess > 0 else _D(0)


def _benefit_range(rule: dict[str, _Any], facts: dict[str, _Any]) -> _Any:
    """A range's (or a floor's) ends for an eligible enterprise, each capped: (low, high), high None
    when only the cap bounds it and there is none; None when the rate's base (or a cap) is unknown."""
    cap = _cap(rule, facts)
    if cap is _UNKNOWN_CAP:
        return None
    if rule["rate"] is not None:
        base = _rated_base(rule, facts)
        if base is None:
            return None
        ends = [rule["rate"], rule["rate_high"]]
        low, high = (
            None
            if rate is None
            else _quantize(_WIDE.divide(_WIDE.multiply(base, rate), 100), rule["currency"])
            for rate in ends
        )
    else:
        low, high = rule["amount"], rule["amount_high"]
    return _capped(low, cap), _capped(high, cap) if high is not None else cap


def _in_band(band: dict[str, _Any], value: _Any) -> bool:
    low, high = band["low"], band["high"]
    if low is not None and (value < low or (band["low_open"] and value == low)):
        return False
    return high is None or value < high or (not band["high_open"] and value == high)


def _tiers_value(tiers: dict[str, _Any], facts: dict[str, _Any], as_of: _Any) -> _Any:
    """The value a schedule's bands are of: its fact's, or for ``tiers by year of D`` the year of
    ``as_of`` counted from D's (1 in D's own year)."""
    if tiers["year_of"]:
        return _year_of(facts.get(tiers["fact"]), as_of)
    return facts.get(tiers["fact"])


def _tier(rule: dict[str, _Any], facts: dict[str, _Any], as_of: _Any = None) -> _Any:
    """How a tiered benefit's amount is reached, for an enterprise whose tiers' fact is known: the
    band it falls in (``tiers by``), or each band's part and what it pays (``marginal tiers``)."""
    tiers = rule["tiers"]
    value = _tiers_value(tiers, facts, as_of)
    if value is None:
        return None
    if not tiers["marginal"]:
        band = next((b for b in tiers["bands"] if _in_band(b, value)), None)
        return {"band": None if band is None else band["text"], "parts": None}
    parts = [
        {"band": band["text"], "part": part, "rate": band["rate"]}
        for band, part in _marginal_parts(tiers, value)
    ]
    return {"band": None, "parts": parts}


def _marginal_parts(tiers: dict[str, _Any], value: _Any) -> list[tuple[dict[str, _Any], _Any]]:
    """Each band that holds part of ``value``, with that part (a band open below starts at 0)."""
    parts = []
    for band in tiers["bands"]:
        low = band["low"] if band["low"] is not None else 0
        top = value if band["high"] is None or value < band["high"] else band["high"]
        if top > low:  # the part of the value inside this band: a marginal rate pays on it
            parts.append((band, _WIDE.subtract(top, low)))
    return parts


def _schedule(tiers: _Any) -> _Any:
    if tiers is None:
        return None
    return {
        "fact": tiers["fact"],
        "marginal": tiers["marginal"],
        "year_of": tiers["year_of"],
        "bands": [b["text"] for b in tiers["bands"]],
    }


def _tiered_amount(rule: dict[str, _Any], facts: dict[str, _Any], as_of: _Any = None) -> _Any:
    """A tiered benefit's amount before its cap: the band's payment on the whole (``tiers by``), or
    the sum of each band's rate on its part (``marginal tiers``), rounded once; None if unknown or
    in no band."""
    tiers = rule["tiers"]
    value = _tiers_value(tiers, facts, as_of)
    if value is None:
        return None
    if tiers["marginal"]:
        total = _D(0)
        for paying, part in _marginal_parts(tiers, value):
            total = _WIDE.fma(paying["rate"], part, total)
        return _quantize(_WIDE.divide(total, 100), rule["currency"])
    band = next((b for b in tiers["bands"] if _in_band(b, value)), None)
    if band is None:
        return None
    if band["rate"] is not None:
        base = facts.get(band["base"])
        if base is None:
            return None
        return _quantize(_WIDE.divide(_WIDE.multiply(base, band["rate"]), 100), rule["currency"])
    if band["per"] is not None:
        count = facts.get(band["per"])
        if count is None or count < 0:  # a negative count pays nothing computable, as for `per`
            return None
        return _quantize(_WIDE.multiply(band["amount"], _D(count)), rule["currency"])
    return band["amount"]


def _benefit_amount(rule: dict[str, _Any], facts: dict[str, _Any], as_of: _Any = None) -> _Any:
    """What an eligible enterprise receives: the amount, or rate × base, capped; None if not stated
    or not one number (a range: see _benefit_range). ``as_of``: the day an installment schedule
    (``tiers by year of``) is read on."""
    amount = None
    if rule["ranged"]:
        return None
    if rule["tiers"] is not None:
        amount = _tiered_amount(rule, facts, as_of)
    elif rule["amount"] is not None and rule["per"] is not None:
        count = facts.get(rule["per"])
        # a negative count (−3 rooms) pays nothing computable: no amount, as in SQL
        if count is not None and count >= 0:  # exact: the default context would round past 28 digits
            product = _WIDE.multiply(rule["amount"], _D(count))
            amount = _quantize(product, rule["currency"])
    elif rule["amount"] is not None:
        amount = rule["amount"]
    elif rule["rate"] is not None and rule["rate_base"] is not None:
        base = _rated_base(rule, facts)
        if base is not None:
            amount = _quantize(_WIDE.divide(_WIDE.multiply(base, rule["rate"]), 100), rule["currency"])
    if amount is not None and rule["minimum"] is not None and amount < rule["minimum"]:
        amount = rule["minimum"]  # 最低: at least this (a cap still limits it)
    cap = _cap(rule, facts)
    if cap is _UNKNOWN_CAP:
        return None  # capped by a fact not given: the amount cannot be told
    if amount is not None and cap is not None and amount > cap:
        amount = cap
    return amount


def _benefit_outcome(
    rule: dict[str, _Any],
    facts: dict[str, _Any],
    as_of: _dt.date,
    condition: _Any,
    trace: dict[int, _Any],
    force: bool = True,
) -> dict[str, _Any]:
    in_period = _in_period(rule["period"], as_of)
    status = _status(condition, force and in_period, "eligible", "not_eligible")
    amount = None
    missing: list[str] = []
    if status in ("eligible", "unknown"):
        missing = _missing(rule, facts)
    ranged = None
    if status == "eligible":
        amount = _money(_benefit_amount(rule, facts, as_of), rule["currency"])
        if rule["ranged"]:
            ends = _benefit_range(rule, facts)
            if ends is not None:
                ranged = {"low": _money(ends[0], rule["currency"]), "high": _money(ends[1], rule["currency"])}
    return {
        "id": rule["id"],
        "label": rule["label"],
        "kind": rule["kind"],
        "commitment": rule["commits"],
        "measure": rule["measure"],
        "status": status,
        "amount": amount,
        "rate": rule["rate"],
        "rate_high": rule["rate_high"],
        "rate_base": rule["rate_base"],
        "ranged": rule["ranged"],
        "range": ranged,
        "amount_low": _money(rule["amount"], rule["currency"]) if rule["ranged"] else None,
        "amount_high": _money(rule["amount_high"], rule["currency"]),
        "per": rule["per"],
        "per_count": facts.get(rule["per"]) if rule["per"] is not None else None,
        "unit_amount": _money(rule["amount"], rule["currency"]) if rule["per"] is not None else None,
        "tiers": _schedule(rule["tiers"]),
        "tier": _tier(rule, facts, as_of) if status == "eligible" and rule["tiers"] is not None else None,
        "superseded_by": None,
        "exclusive": [],
        "cap": _money(rule["cap"], rule["currency"]),
        "minimum": _money(rule["minimum"], rule["currency"]),
        "cap_facts": list(rule["cap_facts"]),
        "each": rule["each"],
        "cap_total": _money(rule["cap_total"], rule["currency"]),
        "cap_total_facts": list(rule["cap_total_facts"]),
        "items": None,  # for a benefit `for each` item: what each item got (see _per_item_outcome)
        "stages": None,  # for a benefit paid in stages: each stage reached or not (see _stage_outcome)
        "total": None,  # … and the whole amount, of which ``amount`` is the part payable
        "rate_above": rule["rate_above_fact"] or _money(rule["rate_above"], rule["currency"]),
        "frequency": rule["frequency"],
        "period": _period_out(rule["period"]),
        "in_period": in_period,
        "condition": rule["condition"],
        "conditions": _conditions(rule, trace),
        "missing_facts": missing,
        "unlisted": _unlisted(rule, facts) if status == "unknown" else [],
        "citations": [{"text": text, "note": note} for text, note in rule["citations"]],
        "agencies": [{"id": ident, "name": name} for ident, name in rule["agencies"]],
        "at": rule["at"],
    }


def _kept(group: dict[str, _Any], members: list[dict[str, _Any]]) -> _Any:
    """Which member an exclusive group keeps, or None when no member loses to another.

    ``first``: the first eligible in the order written (an earlier unknown one may yet take its
    place, but the later eligible ones lose either way). ``highest`` (就高): the eligible one with the
    highest amount, earliest on a tie — only when every member is decided and every eligible one has
    one amount in one currency (else the highest cannot be told). ``one``: the enterprise chooses."""
    eligible = [index for index, outcome in enumerate(members) if outcome["status"] == "eligible"]
    if len(eligible) < 2 or group["keep"] == "one":
        return None
    if group["keep"] == "first":
        return eligible[0]
    if any(outcome["status"] == "unknown" for outcome in members):
        return None
    amounts = [members[i]["amount"] for i in eligible]
    if any(a is None for a in amounts) or len({a["currency"] for a in amounts}) != 1:
        return None
    best = eligible[0]
    for index in eligible[1:]:
        if members[index]["amount"]["amount"] > members[best]["amount"]["amount"]:
            best = index
    return best


def _not_cumulated(benefits: list[dict[str, _Any]]) -> None:
    """Non-cumulation (不重复享受): in each exclusive group the eligible benefits other than the one
    kept are ``superseded`` — not received, no amount — and every member says which group it is in.
    Each group is applied to the benefits' own outcomes."""
    losers: dict[int, str] = {}
    for group in EXCLUSIVES:
        members = [benefits[i] for i in group["members"]]
        kept = _kept(group, members)
        for position, (index, outcome) in enumerate(zip(group["members"], members, strict=True)):
            outcome["exclusive"].append(
                {
                    "group": group["id"],
                    "label": group["label"],
                    "keep": group["keep"],
                    "with": [m["id"] for m in members if m is not outcome],
                    "kept": None if kept is None else members[kept]["id"],
                    "citations": [{"text": text, "note": note} for text, note in group["citations"]],
                }
            )
            if kept is not None and position != kept and outcome["status"] == "eligible":
                losers.setdefault(index, members[kept]["id"])
    for index, winner in losers.items():
        outcome = benefits[index]
        outcome.update(status="superseded", superseded_by=winner, amount=None, range=None, tier=None)


def _items_decision(decide_one: _Any, facts: dict[str, _Any], as_of: _Any, each: str) -> _Any:
    """A benefit decided per item (``for each``): True if some item qualifies, None if none does
    but some might, False if none can (no items). Items unknown: False only if the enterprise's
    own facts already rule it out (``decide_one`` without any item's facts), else None."""
    items = facts.get(each)
    if items is None:
        return False if decide_one(facts, as_of) is False else None
    found: _Any = False
    for item in items:
        value = decide_one({**facts, **item}, as_of)
        if value is True:
            return True
        if value is None:
            found = None
    return found


def _decide_items(decide_all: _Any, facts: dict[str, _Any], as_of: _Any = None) -> _Any:
    """``decide`` for a policy with benefits decided per item: each such benefit's condition
    over its items (:func:`_items_decision`), the others as ``decide_all`` gives them."""
    benefits, duties = decide_all(facts, as_of)
    benefits = list(benefits)
    for index, each in EACH:

        def one(item_facts: dict[str, _Any], day: _Any, index: int = index) -> _Any:
            return decide_all(item_facts, day)[0][index]

        benefits[index] = _items_decision(one, facts, as_of, each)
    return tuple(benefits), duties


def _sum_amounts(amounts: list[_Any], cap: _Any) -> _Any:
    """The sum of items' amounts, at most ``cap`` (``cap total``); None if one is unknown."""
    if any(a is None for a in amounts):
        return None
    total = _D(0)
    for amount in amounts:
        total = _WIDE.add(total, amount)
    return cap if cap is not None and total > cap else total


def _per_item_outcome(
    rule: dict[str, _Any],
    index: int,
    facts: dict[str, _Any],
    as_of: _dt.date,
    condition: _Any,
    trace: dict[int, _Any],
    force: bool,
) -> dict[str, _Any]:
    """A benefit ``for each`` item of a list: each item decided and paid with its own facts beside
    the enterprise's; the enterprise receives the sum (at most ``cap total``). Eligible if some
    item is, unknown if none is but some might be (or the items are unknown), else not eligible."""
    outcome = _benefit_outcome(rule, facts, as_of, condition, trace, force)
    items = facts.get(rule["each"])
    if outcome["status"] == "not_in_force":
        return outcome
    if items is None:  # which items the enterprise has is not known
        if outcome["status"] in ("eligible", "unknown"):
            fields = FACTS[rule["each"]]["fields"]
            missing = [rule["each"], *(f for f in outcome["missing_facts"] if f not in fields)]
            outcome.update(status="unknown", amount=None, range=None, tier=None, missing_facts=missing)
        return outcome
    results = []
    for item in items:
        item_trace: dict[int, _Any] = {}
        merged = {**facts, **item}
        conditions, _ = _decide(merged, item_trace, as_of)
        results.append(_benefit_outcome(rule, merged, as_of, conditions[index], item_trace, force))
    statuses = [r["status"] for r in results]
    status = "eligible" if "eligible" in statuses else "unknown" if "unknown" in statuses else "not_eligible"
    decisive = next((r for r in results if r["status"] == status), None)
    eligible = [r for r in results if r["status"] == "eligible"]
    amount = None
    cap = _cap({**rule, "cap": rule["cap_total"], "cap_facts": rule["cap_total_facts"]}, facts)
    known = [r["amount"] and r["amount"]["amount"] for r in eligible]
    undecided = status == "eligible" and "unknown" in statuses
    # items still undecided can only add: the known ones may already reach the total's cap
    if cap is _UNKNOWN_CAP:  # capped in all by a fact not given: the sum cannot be told
        pass
    elif undecided and cap is not None and None not in known and _sum_amounts(known, None) >= cap:
        amount = _money(cap, rule["currency"])
    elif status == "eligible" and "unknown" not in statuses:  # (a range per item is refused by check)
        total = _sum_amounts([r["amount"] and r["amount"]["amount"] for r in eligible], cap)
        amount = _money(total, rule["currency"])
    needed: list[str] = []  # what would decide the undecided items, or price the eligible ones
    for result in results:
        needed.extend(f for f in result["missing_facts"] if f not in needed)
    if cap is _UNKNOWN_CAP:  # the enterprise's fact capping the sum
        needed.extend(f for f in rule["cap_total_facts"] if facts.get(f) is None and f not in needed)
    outcome.update(
        status=status,
        amount=amount,
        range=None,
        tier=None,
        per_count=None,
        conditions=decisive["conditions"] if decisive is not None else outcome["conditions"],
        missing_facts=needed if status in ("eligible", "unknown") else [],
        unlisted=[u for r in results for u in r["unlisted"]],
        items=[
            {
                "item": number,
                "status": result["status"],
                "amount": result["amount"],
                "tier": result["tier"],
                "per_count": result["per_count"],
                "conditions": result["conditions"],
                "missing_facts": result["missing_facts"],
                "unlisted": result["unlisted"],  # an item's open-list values not listed (等)
            }
            for number, result in enumerate(results, 1)
        ],
    )
    return outcome


def _stage_outcome(
    group: dict[str, _Any], outcome: dict[str, _Any], facts: dict[str, _Any], as_of: _Any
) -> None:
    """A benefit paid in stages (分阶段兑现): ``total`` is its whole amount, ``amount`` the part payable
    on ``as_of`` — the sum of the shares of the stages reached, rounded once to the minor unit —,
    unknown while a stage is undecided. Each stage says whether it is reached."""
    reached = [globals()[stage["decide"]](facts, as_of) for stage in group["stages"]]
    outcome["stages"] = [
        {"group": group["id"], "share": stage["share"], "condition": stage["condition"], "reached": value}
        for stage, value in zip(group["stages"], reached, strict=True)
    ]
    if outcome["status"] != "eligible" or outcome["amount"] is None:
        return
    total = outcome["amount"]
    outcome["total"] = total
    if None in reached:
        outcome["amount"] = None
        return
    share = _D(0)
    for stage, value in zip(group["stages"], reached, strict=True):
        if value:
            share = _WIDE.add(share, stage["share"])
    paid = _quantize(_WIDE.divide(_WIDE.multiply(total["amount"], share), 100), total["currency"])
    outcome["amount"] = {"amount": paid, "currency": total["currency"]}


def _duty_outcome(
    rule: dict[str, _Any],
    facts: dict[str, _Any],
    as_of: _dt.date,
    condition: _Any,
    trace: dict[int, _Any],
    force: bool = True,
) -> dict[str, _Any]:
    in_period = _in_period(rule["period"], as_of)
    status = _status(condition, force and in_period, "applies", "does_not_apply")
    return {
        "id": rule["id"],
        "label": rule["label"],
        "measure": rule["measure"],
        "status": status,
        "levels": [{"label": label, "op": op, "value": value} for label, op, value in rule["levels"]],
        "obligation": rule["enterprise"],
        "sanctions": list(rule["sanctions"]),
        "period": _period_out(rule["period"]),
        "in_period": in_period,
        "condition": rule["condition"],
        "conditions": _conditions(rule, trace),
        "missing_facts": _missing(rule, facts) if status == "unknown" else [],
        "unlisted": _unlisted(rule, facts) if status == "unknown" else [],
        "citations": [{"text": text, "note": note} for text, note in rule["citations"]],
        "agencies": [{"id": ident, "name": name} for ident, name in rule["agencies"]],
        "at": rule["at"],
    }


def evaluate(
    facts: _Any, as_of: _Any = None, adopted: bool = False, allow_float: bool = False
) -> dict[str, _Any]:
    """The outcome of every benefit and duty for an enterprise described by ``facts``.

    ``facts`` maps fact names to values, read by ``read_facts`` (see ``FACTS`` and the facts
    contract): a missing fact is unknown, a fact that does not fit raises ``FactsError``; floats
    only with ``allow_float``. ``as_of`` is the date of evaluation (default: today). Outside a
    rule's period (by default the document's validity) the rule is ``not_in_force``; so is every
    rule of a draft, which has no force, unless ``adopted`` asks to evaluate the draft as if it
    were adopted as written.
    """
    return _evaluate(read_facts(facts, FACTS, allow_float), as_of, adopted)


def _evaluate(facts: dict[str, _Any], as_of: _Any = None, adopted: bool = False) -> dict[str, _Any]:
    """``evaluate`` for facts already read (exact values, as ``read_facts`` returns them)."""
    if as_of is None:
        as_of = _dt.date.today()
    force = POLICY.get("status") != "draft" or bool(adopted)
    trace: dict[int, _Any] = {}
    benefit_conditions, duty_conditions = _decide(facts, trace, as_of)
    benefits = [
        _benefit_outcome(rule, facts, as_of, condition, trace, force)
        if rule["each"] is None
        else _per_item_outcome(rule, index, facts, as_of, condition, trace, force)
        for index, (rule, condition) in enumerate(zip(BENEFITS, benefit_conditions, strict=True))
    ]
    _not_cumulated(benefits)
    for group in STAGED:
        for index in group["members"]:
            _stage_outcome(group, benefits[index], facts, as_of)
    return {
        "policy": POLICY,
        "as_of": as_of,
        "adopted": bool(adopted) and POLICY.get("status") == "draft",
        "in_force": force and _in_period(POLICY.get("validity"), as_of),
        "benefits": benefits,
        "duties": [
            _duty_outcome(rule, facts, as_of, condition, trace, force)
            for rule, condition in zip(DUTIES, duty_conditions, strict=True)
        ],
    }


def to_json(value: _Any) -> _Any:
    """A JSON-ready copy of an outcome: Decimals and dates become strings."""
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, _D):
        return format(value, "f")
    if isinstance(value, _dt.date):
        return value.isoformat()
    return value


# Filled in by the compiler for each policy:
POLICY: dict[str, _Any] = {}
FACTS: dict[str, dict[str, _Any]] = {}
ATOMS: tuple[tuple[str, str, _Any], ...] = ()
BENEFITS: tuple[dict[str, _Any], ...] = ()
DUTIES: tuple[dict[str, _Any], ...] = ()
EXCLUSIVES: tuple[dict[str, _Any], ...] = ()
EACH: tuple[tuple[int, str], ...] = ()
STAGED: tuple[dict[str, _Any], ...] = ()


def _decide(
    facts: dict[str, _Any], trace: dict[int, _Any], as_of: _Any = None
) -> tuple[tuple[_Any, ...], tuple[_Any, ...]]:
    raise NotImplementedError("generated per policy by policy_dsl.compile")


def _decide_flat(facts: _Any, as_of: _Any = None) -> tuple[tuple[_Any, ...], tuple[_Any, ...]]:
    raise NotImplementedError("generated per policy by policy_dsl.compile")


def read_facts(facts: _Any, table: _Any = None, allow_float: bool = False) -> dict[str, _Any]:
    raise NotImplementedError("policy_dsl.intake.read_facts, spliced in by policy_dsl.compile")
