"""Example enterprises with expected outcomes, run against a policy. Entry point: :func:`run_cases`.

A cases file is JSON::

    {"policy": "../draft.policy",
     "cases": [{"name": "小微企业：出口额恰为500万美元",
                "as_of": "2022-07-01",
                "facts": {"出口额": "500万美元", "投保短期出口信用保险": true},
                "expect": {"小微企业信保保费补贴": {"status": "eligible", "amount": "20000元"},
                           "差异化降低投保费率": "eligible"},
                "reason": "「…500万美元以下」：以下含本数"}]}

``expect`` maps a benefit or duty id to a status or to ``{"status": …, "amount": …}`` (or
``"range": [low, high]`` for a range decided case by case, ``"total"`` for a staged benefit's whole
amount (its ``amount`` is the part payable on the day), ``"tier": "above 5000万元 to 1亿元"`` for
the band a tiered amount came from, ``null`` for none); rules it does not name are not
checked. A case that names an unknown rule or status is an error, never silently skipped.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import attrs

from policy_dsl.errors import Diagnostic, PolicyError, PolicyLoadError, did_you_mean
from policy_dsl.evaluate import Outcome
from policy_dsl.source import SourceFile, SourcePosition
from policy_dsl.values import Money, ValueSyntaxError, parse_date, parse_money

BENEFIT_STATUSES = ("eligible", "not_eligible", "unknown", "not_in_force", "superseded")
DUTY_STATUSES = ("applies", "does_not_apply", "unknown", "not_in_force")


@attrs.frozen
class CaseResult:
    name: str
    reason: str | None
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


@attrs.frozen
class CaseReport:
    path: str
    results: tuple[CaseResult, ...]

    @property
    def failed(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    def render(self, verbose: bool = False) -> str:
        lines = [f"{self.path}: {len(self.results)} cases"]
        for result in self.results:
            if result.passed:
                if verbose:
                    lines.append(f"  ✓ {result.name}")
                continue
            lines.append(f"  ✗ {result.name}")
            lines.extend(f"      {failure}" for failure in result.failures)
            if result.reason:
                lines.append(f"      reason given: {result.reason}")
        passed = len(self.results) - len(self.failed)
        lines.append(f"{passed} passed, {len(self.failed)} failed")
        return "\n".join(lines) + "\n"


def read_cases(path: str | Path) -> tuple[SourceFile, dict[str, Any]]:
    from policy_dsl.policy import read_json, read_source

    source = read_source(path)
    data = read_json(source, "cases")
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise PolicyLoadError([Diagnostic(f'{source.path}: expected {{"cases": [...]}}')])
    return source, data


def _locate(source: SourceFile, needle: str, after: int = 0) -> SourcePosition:
    index = source.text.find(json.dumps(needle, ensure_ascii=False), after)
    if index < 0:
        return SourcePosition(source, 0, 0, 0, 0)
    line = source.text.count("\n", 0, index) + 1
    column = index - (source.text.rfind("\n", 0, index) + 1) + 1
    return SourcePosition(source, line, column, line, column + len(needle) + 2)


def _case_head(
    source: SourceFile,
    data: dict[str, Any],
    index: int,
    case: Any,
    problems: list[Diagnostic],
    library_case: bool = False,
) -> tuple[str, SourcePosition, dt.date, bool] | None:
    """A case's name, where it is, its day and whether drafts are read as adopted; None (with the
    problem added) for a case without them or without anything to expect."""
    name = str(case.get("name", f"case {index + 1}")) if isinstance(case, dict) else f"case {index + 1}"
    where = _locate(source, name)
    expects = isinstance(case, dict) and isinstance(case.get("expect"), dict) and bool(case["expect"])
    if library_case and isinstance(case, dict) and "ask_next" in case:
        expects = True
    if not expects:
        wanted = "an `expect` object or `ask_next`" if library_case else "an `expect` object"
        problems.append(Diagnostic(f"case `{name}` has no {wanted}", where))
        return None
    try:
        as_of = parse_date(str(case["as_of"])) if "as_of" in case else None
    except ValueSyntaxError as exc:
        problems.append(Diagnostic(f"case `{name}`: {exc}", where))
        return None
    if as_of is None:
        hint = 'add "as_of": "2022-07-01"'
        problems.append(Diagnostic(f"case `{name}` has no `as_of` date", where, hint=hint))
        return None
    return name, where, as_of, bool(case.get("as_adopted", data.get("as_adopted", False)))


def run_cases(policy: Any, path: str | Path) -> CaseReport:
    """Evaluate every case of the file at ``path`` under ``policy`` (a :class:`~policy_dsl.Policy`).

    Raises :class:`~policy_dsl.errors.PolicyError` listing every malformed case at once.
    """
    source, data = read_cases(path)
    benefit_ids = [info.rule.name for info in policy.checked.benefits]
    duty_ids = [info.rule.name for info in policy.checked.duties]
    problems: list[Diagnostic] = []
    results: list[CaseResult] = []
    for index, case in enumerate(data["cases"]):
        head = _case_head(source, data, index, case, problems)
        if head is None:
            continue
        name, where, as_of, adopted = head
        try:
            outcome = policy.evaluate(case.get("facts", {}), as_of=as_of, adopted=adopted)
        except PolicyError as error:
            for diagnostic in error.diagnostics:
                problems.append(
                    Diagnostic(f"case `{name}`: {diagnostic.message}", where, hint=diagnostic.hint)
                )
            continue
        failures: list[str] = []
        for rule, expected in case["expect"].items():
            failures.extend(_compare(name, rule, expected, outcome, benefit_ids, duty_ids, problems, where))
        results.append(CaseResult(name, case.get("reason"), tuple(failures)))
    if problems:
        raise PolicyLoadError(problems)
    return CaseReport(source.path, tuple(results))


def _compare(
    name: str,
    rule: str,
    expected: Any,
    outcome: Outcome,
    benefit_ids: list[str],
    duty_ids: list[str],
    problems: list[Diagnostic],
    where: SourcePosition,
) -> list[str]:
    if isinstance(expected, str):
        expected = {"status": expected}
    if not isinstance(expected, dict) or "status" not in expected:
        problems.append(Diagnostic(f"case `{name}`: expectation for `{rule}` needs a status", where))
        return []
    status = expected["status"]
    if rule in benefit_ids:
        got = outcome.benefit(rule)
        allowed = BENEFIT_STATUSES
    elif rule in duty_ids:
        got_duty = next(d for d in outcome.duties if d.id == rule)
        if status not in DUTY_STATUSES:
            problems.append(Diagnostic(f"case `{name}`: `{status}` is not a duty status", where))
            return []
        if set(expected) - {"status"}:
            problems.append(Diagnostic(f"case `{name}`: a duty expectation has only a status", where))
            return []
        if got_duty.status != status:
            return [f"{rule}: expected {status}, got {got_duty.status}" + _why(got_duty.conditions)]
        return []
    else:
        hint = did_you_mean(rule, [*benefit_ids, *duty_ids])
        problems.append(Diagnostic(f"case `{name}`: no benefit or duty `{rule}`", where, hint=hint))
        return []
    if status not in allowed:
        hint = did_you_mean(str(status), allowed) or "one of " + ", ".join(allowed)
        problems.append(Diagnostic(f"case `{name}`: `{status}` is not a benefit status", where, hint=hint))
        return []
    failures: list[str] = []
    if got.status != status:
        failures.append(f"{rule}: expected {status}, got {got.status}" + _why(got.conditions))
    # `amount`: what the enterprise receives (of a staged benefit, the part payable on the day);
    # `total`: a staged benefit's whole amount
    for key, value in (("amount", got.amount), ("total", got.total)):
        if key not in expected:
            continue
        failures.extend(_money_expectation(name, rule, key, expected[key], value, where, problems))
    if "range" in expected:
        failures.extend(_range_failures(name, rule, expected["range"], got.range, where, problems))
    if "tier" in expected:  # the band a tiered amount came from, as written ("above 5000万元 to 1亿元")
        want_band, band = expected["tier"], got.tier.band if got.tier is not None else None
        if want_band is not None and not isinstance(want_band, str):
            problems.append(
                Diagnostic(f"case `{name}`: `tier` of `{rule}` is a band as written, or null", where)
            )
        elif (band is None) != (want_band is None) or (
            band is not None and want_band is not None and band.partition(":")[0] != want_band
        ):
            shown = band.partition(":")[0] if band is not None else "no tier"
            failures.append(f"{rule}: expected tier {want_band or 'none'}, got {shown}")
    unknown_keys = set(expected) - {"status", "amount", "total", "range", "tier"}
    if unknown_keys:
        problems.append(Diagnostic(f"case `{name}`: unknown expectation keys {sorted(unknown_keys)}", where))
    return failures


def _money_expectation(
    name: str,
    label: str,
    key: str,
    wanted: Any,
    got: Money | None,
    where: SourcePosition,
    problems: list[Diagnostic],
) -> list[str]:
    """``"amount": "20000元"`` (or null: none) against what was got; a malformed amount is a problem."""
    want: Money | None = None
    if wanted is not None:
        try:
            want = parse_money(str(wanted))
        except ValueSyntaxError as exc:
            problems.append(Diagnostic(f"case `{name}`: {exc}", where))
            return []
    if got == want:
        return []
    shown = f"{got.amount} {got.currency}" if got else f"no {key}"
    return [f"{label}: expected {key} {wanted}, got {shown}"]


def _range_failures(
    name: str,
    rule: str,
    wanted: Any,
    got: tuple[Money, Money | None] | None,
    where: SourcePosition,
    problems: list[Diagnostic],
) -> list[str]:
    """``"range": ["50万元", "200万元"]`` (or ``["5万元", null]``: no upper end, or ``null``: none)."""
    want: tuple[Money, Money | None] | None = None
    if wanted is not None:
        if not isinstance(wanted, list) or len(wanted) != 2 or wanted[0] is None:
            problems.append(
                Diagnostic(f"case `{name}`: a range is [low, high] (high null: no upper end)", where)
            )
            return []
        try:
            low = parse_money(str(wanted[0]))
            high = parse_money(str(wanted[1])) if wanted[1] is not None else None
        except ValueSyntaxError as exc:
            problems.append(Diagnostic(f"case `{name}`: {exc}", where))
            return []
        want = (low, high)
    if got != want:

        def shown(ends: tuple[Money, Money | None] | None) -> str:
            if ends is None:
                return "no range"
            top = f"{ends[1].amount} {ends[1].currency}" if ends[1] is not None else "no upper end"
            return f"{ends[0].amount} {ends[0].currency} — {top}"

        return [f"{rule}: expected range {shown(want)}, got {shown(got)}"]
    return []


def _why(conditions: Any) -> str:
    shown = [f"{c.test} = {'unknown' if c.value is None else str(c.value).lower()}" for c in conditions]
    return f" ({'; '.join(shown)})" if shown else ""


#: The statuses of a benefit in a library match: a policy's own, and the library's.
LIBRARY_STATUSES = (*BENEFIT_STATUSES, "repealed", "outside_area")


def run_library_cases(library: Any, path: str | Path) -> CaseReport:
    """Match every case of a library cases file against ``library`` (a :class:`~policy_dsl.library.Library`).

    The file is like a policy's (``as_of``, ``facts``, ``reason``, optional ``as_adopted``) but
    ``expect`` maps a policy id to its benefits' expectations (a status, or ``{"status": …,
    "amount": …, "superseded_by": [policy, benefit], "settled": "keep highest"}`` — how a ``same``
    group settled it: keep highest, one of, precedence higher, stacks), and ``ask_next`` lists the facts the
    match should ask first, in order. Raises :class:`PolicyError` listing every malformed case.
    """
    source, data = read_cases(path)
    problems: list[Diagnostic] = []
    results: list[CaseResult] = []
    for index, case in enumerate(data["cases"]):
        head = _case_head(source, data, index, case, problems, library_case=True)
        if head is None:
            continue
        name, where, as_of, adopted = head
        try:
            match = library.match(case.get("facts", {}), as_of=as_of, adopted=adopted)
        except PolicyError as error:
            problems.extend(
                Diagnostic(f"case `{name}`: {d.message}", where, hint=d.hint) for d in error.diagnostics
            )
            continue
        failures: list[str] = []
        for policy_id, benefits in case.get("expect", {}).items():
            if policy_id not in library.policies:
                hint = did_you_mean(policy_id, library.policies)
                problems.append(
                    Diagnostic(f"case `{name}`: no policy `{policy_id}` in the library", where, hint=hint)
                )
                continue
            if not isinstance(benefits, dict):
                problems.append(
                    Diagnostic(f"case `{name}`: `{policy_id}` maps benefits to expectations", where)
                )
                continue
            for benefit, expected in benefits.items():
                failures.extend(_compare_match(name, policy_id, benefit, expected, match, problems, where))
        if "ask_next" in case:
            wanted = case["ask_next"]
            got = [ask.fact for ask in match.ask_next()][: len(wanted) if isinstance(wanted, list) else 0]
            if not isinstance(wanted, list):
                problems.append(
                    Diagnostic(f"case `{name}`: `ask_next` is a list of facts, first first", where)
                )
            elif got != wanted:
                failures.append(f"ask next: expected {wanted}, got {got}")
        results.append(CaseResult(name, case.get("reason"), tuple(failures)))
    if problems:
        raise PolicyLoadError(problems)
    return CaseReport(source.path, tuple(results))


def _compare_match(
    name: str,
    policy_id: str,
    benefit: str,
    expected: Any,
    match: Any,
    problems: list[Diagnostic],
    where: SourcePosition,
) -> list[str]:
    entry = match.entries.get((policy_id, benefit))
    if entry is None:
        ids = [b for pid, b in match.entries if pid == policy_id]
        hint = did_you_mean(benefit, ids)
        problems.append(
            Diagnostic(f"case `{name}`: `{policy_id}` has no benefit `{benefit}`", where, hint=hint)
        )
        return []
    if isinstance(expected, str):
        expected = {"status": expected}
    if not isinstance(expected, dict) or expected.get("status") not in LIBRARY_STATUSES:
        shown = expected.get("status") if isinstance(expected, dict) else expected
        hint = did_you_mean(str(shown), LIBRARY_STATUSES) or "one of " + ", ".join(LIBRARY_STATUSES)
        problems.append(
            Diagnostic(f"case `{name}`: `{shown}` is not a status ({policy_id} {benefit})", where, hint=hint)
        )
        return []
    unknown_keys = set(expected) - {"status", "amount", "superseded_by", "settled"}
    if unknown_keys:
        problems.append(Diagnostic(f"case `{name}`: unknown expectation keys {sorted(unknown_keys)}", where))
        return []
    label = f"{policy_id} {benefit}"
    failures: list[str] = []
    if entry.status != expected["status"]:
        missing = f" (missing: {', '.join(entry.missing)})" if entry.missing else ""
        failures.append(f"{label}: expected {expected['status']}, got {entry.status}{missing}")
    if "amount" in expected:
        got = entry.amount if entry.status == "eligible" else None
        failures.extend(_money_expectation(name, label, "amount", expected["amount"], got, where, problems))
    if "settled" in expected and entry.settled != expected["settled"]:
        failures.append(f"{label}: expected settled {expected['settled']!r}, got {entry.settled!r}")
    if "superseded_by" in expected:
        want_by = tuple(expected["superseded_by"]) if expected["superseded_by"] is not None else None
        if entry.superseded_by != want_by:
            failures.append(f"{label}: expected superseded by {want_by}, got {entry.superseded_by}")
    return failures
