"""Validating the facts an application supplies: names, types, units, currencies, enum values.

Entry point: :func:`validate_facts`. Every problem is collected and reported at once as a
:class:`~policy_dsl.errors.FactsError`. Values become the exact runtime representation
(money → Decimal amount in the declared currency, dates → ``datetime.date``, sets → frozenset).
Floats are refused: they cannot hold 0.1 or most amounts exactly.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from policy_dsl.check import CheckedPolicy
from policy_dsl.errors import Diagnostic, FactsError, did_you_mean
from policy_dsl.source import SourceFile, SourcePosition
from policy_dsl.types import Type
from policy_dsl.values import (
    CURRENCY_WORDS,
    DURATION_UNITS,
    Duration,
    Money,
    Percent,
    ValueSyntaxError,
    parse_date,
    parse_duration,
    parse_money,
    parse_number,
    parse_percent,
)


class _Bad(Exception):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def validate_facts(
    checked: CheckedPolicy, facts: Mapping[str, Any], source: SourceFile | None = None
) -> dict[str, Any]:
    """The facts in runtime form; ``source`` (a JSON file's text) lets errors point into it."""
    if not isinstance(facts, Mapping):
        raise FactsError(
            [Diagnostic("facts must be an object mapping fact names to values", _locate(source, None))]
        )
    diagnostics: list[Diagnostic] = []
    result: dict[str, Any] = {}
    for name, value in facts.items():
        info = checked.facts.get(name)
        if info is None:
            diagnostics.append(
                Diagnostic(
                    f"unknown fact `{name}`",
                    _locate(source, name),
                    hint=did_you_mean(name, checked.facts)
                    or "the policy's facts are listed by `policy schema`",
                )
            )
            continue
        if value is None:
            continue  # explicitly unknown
        try:
            result[name] = _convert(info.type, value, checked)
        except _Bad as bad:
            diagnostics.append(Diagnostic(f"fact `{name}`: {bad}", _locate(source, name), hint=bad.hint))
    if diagnostics:
        raise FactsError(diagnostics)
    return result


def _locate(source: SourceFile | None, name: str | None) -> SourcePosition | None:
    if source is None:
        return None
    if name is None:
        return SourcePosition(source, 1, 1, 1, 2)
    for needle in (json.dumps(name, ensure_ascii=False), json.dumps(name)):
        index = source.text.find(needle)
        if index >= 0:
            line = source.text.count("\n", 0, index) + 1
            column = index - (source.text.rfind("\n", 0, index) + 1) + 1
            return SourcePosition(source, line, column, line, column + len(needle))
    return SourcePosition(source, 0, 0, 0, 0)


def _no_float(value: Any) -> None:
    if isinstance(value, float):
        raise _Bad(
            f"{value!r} is a float, which cannot hold amounts exactly",
            hint='pass a string such as "5000000.25" or a Decimal',
        )


def _decimal(value: Any) -> Decimal:
    _no_float(value)
    if isinstance(value, bool):
        raise _Bad(f"expected a number, got {value!r}")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(parse_number(value))
        except ValueSyntaxError:
            pass
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            pass
    raise _Bad(f"expected a number, got {value!r}")


def _money(value: Any, currency: str) -> Decimal:
    _no_float(value)
    if isinstance(value, Mapping):
        if set(value) != {"amount", "currency"}:
            raise _Bad('money is written {"amount": "…", "currency": "USD"}')
        got = CURRENCY_WORDS.get(str(value["currency"]))
        if got != currency:
            raise _Bad(f"expected an amount in {currency}, got {value['currency']}", hint=_fx_hint())
        return _decimal(value["amount"])
    if isinstance(value, Money):
        if value.currency != currency:
            raise _Bad(f"expected an amount in {currency}, got {value.currency}", hint=_fx_hint())
        return value.amount
    if isinstance(value, str):
        try:
            money = parse_money(value)
        except ValueSyntaxError:
            return _decimal(value)
        if money.currency != currency:
            raise _Bad(f"expected an amount in {currency}, got {value!r}", hint=_fx_hint())
        return money.amount
    return _decimal(value)


def _fx_hint() -> str:
    return "the policy fixes no exchange rate: convert the amount before you supply it"


def _convert(type_: Type, value: Any, checked: CheckedPolicy) -> Any:
    converter = _CONVERTERS[type_.kind]
    return converter(type_, value, checked)


def _bool(type_: Type, value: Any, checked: CheckedPolicy) -> bool:
    if isinstance(value, bool):
        return value
    raise _Bad(f"expected true or false, got {value!r}")


def _integer(type_: Type, value: Any, checked: CheckedPolicy) -> int:
    number = _decimal(value)
    if number != number.to_integral_value():
        raise _Bad(f"expected a whole number, got {value!r}")
    return int(number)


def _decimal_fact(type_: Type, value: Any, checked: CheckedPolicy) -> Decimal:
    return _decimal(value)


def _money_fact(type_: Type, value: Any, checked: CheckedPolicy) -> Decimal:
    return _money(value, type_.param or "")


def _percent(type_: Type, value: Any, checked: CheckedPolicy) -> Decimal:
    _no_float(value)
    if isinstance(value, Percent):
        return value.value
    if isinstance(value, str) and value.strip().endswith(("%", "％")):
        try:
            return parse_percent(value).value
        except ValueSyntaxError as exc:
            raise _Bad(str(exc)) from None
    return _decimal(value)


def _date(type_: Type, value: Any, checked: CheckedPolicy) -> dt.date:
    if isinstance(value, dt.datetime):
        raise _Bad("expected a date, got a date and time", hint="pass value.date()")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return parse_date(value)
        except ValueSyntaxError as exc:
            raise _Bad(str(exc)) from None
    raise _Bad(f'expected a date such as "2022-06-20", got {value!r}')


def _duration(type_: Type, value: Any, checked: CheckedPolicy) -> int:
    unit = type_.param or ""
    _no_float(value)
    found: Duration | None = None
    if isinstance(value, Duration):
        found = value
    elif isinstance(value, str) and not value.strip().isdigit():
        try:
            found = parse_duration(value)
        except ValueSyntaxError as exc:
            raise _Bad(str(exc)) from None
    elif isinstance(value, Mapping):
        try:
            found = Duration(int(value["value"]), DURATION_UNITS[str(value["unit"])])
        except (KeyError, TypeError, ValueError):
            raise _Bad('a duration is written {"value": 3, "unit": "working_days"} or "3个工作日"') from None
    if found is not None:
        if found.unit != unit:
            raise _Bad(f"expected a duration in {unit}, got {found.unit}")
        return found.amount
    return _integer(type_, value, checked)


def _enum_values(type_: Type, checked: CheckedPolicy) -> list[str]:
    return [v.name for v in checked.enums[type_.param or ""].values]


def _enum(type_: Type, value: Any, checked: CheckedPolicy) -> str:
    values = _enum_values(type_, checked)
    if not isinstance(value, str):
        raise _Bad(f"expected one of {', '.join(values)}, got {value!r}")
    if value not in values:
        raise _Bad(
            f"`{value}` is not a value of {type_.param}",
            hint=did_you_mean(value, values) or "its values are " + ", ".join(values),
        )
    return value


def _set(type_: Type, value: Any, checked: CheckedPolicy) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise _Bad(f"expected a list of values of {type_.param}, got {value!r}")
    items = [_enum(type_, item, checked) for item in value]
    return frozenset(items)


_CONVERTERS: dict[str, Callable[[Type, Any, CheckedPolicy], Any]] = {
    "bool": _bool,
    "integer": _integer,
    "decimal": _decimal_fact,
    "money": _money_fact,
    "percent": _percent,
    "date": _date,
    "duration": _duration,
    "enum": _enum,
    "set": _set,
}
