"""Reading an application's facts: the one facts contract, shared by the library and the standalone module.

This module imports nothing from policy_dsl and only the standard library. ``policy_dsl.facts``
(behind ``policy eval`` and ``Policy.evaluate``) reads facts with it, ``policy schema`` builds its
patterns from it, and ``policy compile`` copies its source into every standalone module beside
the runtime, so the same input gives the same value or the same message everywhere. The
contract is :data:`CONTRACT`.
"""

import datetime as _dt
import difflib as _difflib
import re as _re
from decimal import Context as _Context
from decimal import Decimal as _D
from typing import Any as _Any

CONTRACT = """The facts contract. read_facts(facts, table, allow_float=False) reads the facts an
application supplies by the policy's facts table (FACTS: per fact its type; its unit: the
currency of money, the unit of a duration, the enum of an enum or set; its enum values):

  kind      accepted                                          read as
  bool      True, False                                       bool
  integer   int; Decimal or text of a whole number            int
            ("12", "1.5万")
  decimal   int, Decimal, text ("-2.5", "3万")                 Decimal
  money     int or Decimal >= 0; text in the fact's currency   Decimal, in the fact's currency
            ("500万美元", "5000000", "USD 500万", "500万 USD");
            {"amount": …, "currency": "USD" or "美元"}
  percent   int, Decimal, text ("12.5%", "12.5％", "12.5")     Decimal (100 is 100%)
  date      datetime.date (not a datetime);                   datetime.date
            "2022-06-20", "2022年6月20日"
  duration  int >= 0; text in the fact's unit                  int, in the fact's unit
            ("3个工作日", "30 days", "3");
            {"value": 3, "unit": "个工作日" or "working_days"}
  enum      one of its values, as text (an open enum, 等:      str
            any non-empty text)
  set       list, tuple, set or frozenset of its values,      frozenset
            each at most once
  list      list or tuple of items (`items`), each an object   tuple of dicts
            of the item's facts, read as above; [] for none

Digits may be full-width (５００万美元); 万 is 10^4 and 亿 is 10^8; text may have spaces or tabs
around it. None, like a fact left out, is unknown. Amounts of money and durations cannot be
negative. A float is refused, since it cannot hold 0.1 or most amounts exactly, unless
allow_float=True: then it is read as the shortest decimal that gives the same float,
Decimal(repr(x)) (0.1 is read as Decimal("0.1"), the number the float was written as).
A fact the policy marks as implying yes/no facts (`implies`) must not hold a value that counts
(true, more than zero, any date or enum value, a non-empty set) while one of those is False.
Every problem is reported at once: FactsError (a ValueError) has .problems, one
(fact, message, hint) each, every message naming its fact."""

#: Currency words and codes, mapped to ISO 4217 codes.
CURRENCY_WORDS: dict[str, str] = {
    "美元": "USD",
    "元": "CNY",
    "人民币": "CNY",
    "RMB": "CNY",
    "欧元": "EUR",
    "日元": "JPY",
    "港元": "HKD",
    "USD": "USD",
    "CNY": "CNY",
    "EUR": "EUR",
    "JPY": "JPY",
    "HKD": "HKD",
}
#: Duration unit words, mapped to the canonical unit names.
DURATION_UNITS: dict[str, str] = {
    "个工作日": "working_days",
    "工作日": "working_days",
    "working_days": "working_days",
    "working day": "working_days",
    "working days": "working_days",
    "天": "days",
    "日": "days",
    "day": "days",
    "days": "days",
    "周": "weeks",
    "week": "weeks",
    "weeks": "weeks",
    "个月": "months",
    "月": "months",
    "month": "months",
    "months": "months",
    "年": "years",
    "year": "years",
    "years": "years",
}
#: 万 = 10⁴, 亿 = 10⁸.
MULTIPLIERS: dict[str, int] = {"万": 10**4, "亿": 10**8}

# -- the notations, as patterns both Python's re and JSON Schema (ECMA 262) read the same way:
# no \d or \s (their meaning differs), no named groups; matched whole (re.fullmatch).

DIGIT = "[0-9０-９]"
SPACE = "[ \\t\\u3000]*"
_ZERO = "[0０]"
#: The digits of a whole part: at most 30 (a policy's literals have at most 30 digits too), so
#: with 亿 a value stays under 10^38, what every backend's DECIMAL holds.
_WHOLE = f"{DIGIT}{{1,30}}"
#: Numbers given as numbers (int, Decimal, a JSON number) must be less than this in magnitude.
LIMIT = 10**38
_NUMBER = f"({_WHOLE}(?:\\.{DIGIT}+)?)"
_MULT = "([万亿])?"
_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def _words(words: list[str]) -> str:
    return "|".join(sorted(words, key=lambda w: (-len(w), w)))


def currency_words(currency: str) -> list[str]:
    """Every spelling of ``currency``: its code and words (USD, 美元)."""
    return [word for word, code in CURRENCY_WORDS.items() if code == currency]


def duration_words(unit: str) -> list[str]:
    """Every spelling of a duration ``unit``: 个工作日, working days…"""
    return [word for word, canonical in DURATION_UNITS.items() if canonical == unit]


def money_pattern(currency: str | None) -> str:
    """An amount in ``currency`` (any currency for None): ``500万美元``, ``5000000``, ``USD 500万``."""
    words = currency_words(currency) if currency is not None else list(CURRENCY_WORDS)
    codes = [w for w in words if w.isascii()]
    amount = f"{_NUMBER}{SPACE}{_MULT}"
    code_first = f"({_words(codes)}){SPACE}{amount}" if codes else "(?!)()()()"
    return f"^{SPACE}(?:{code_first}|{amount}{SPACE}({_words(words)})?){SPACE}$"


def amount_pattern(signed: bool) -> str:
    """A number with 万 / 亿, and with a minus sign when ``signed``: ``5000``, ``12.5万``."""
    sign = "(-)?" if signed else "()"
    return f"^{SPACE}{sign}{_NUMBER}{SPACE}{_MULT}{SPACE}$"


def integer_pattern(signed: bool) -> str:
    """A whole number: digits (``12``, ``12.0``), or a fraction 万 or 亿 make whole (``1.5万``)."""
    sign = "-?" if signed else ""
    plain = f"{_WHOLE}(?:\\.{_ZERO}+)?"
    wan = f"{_WHOLE}(?:\\.{DIGIT}{{1,4}}{_ZERO}*)?{SPACE}万"
    yi = f"{_WHOLE}(?:\\.{DIGIT}{{1,8}}{_ZERO}*)?{SPACE}亿"
    return f"^{SPACE}{sign}(?:{plain}|{wan}|{yi}){SPACE}$"


def percent_pattern() -> str:
    """``12.5%``, ``12.5％``, ``12.5``, ``-3%``."""
    return f"^{SPACE}(-)?{_NUMBER}{SPACE}([%％])?{SPACE}$"


def date_pattern() -> str:
    """``2022-06-20``, ``2022年6月20日`` (a real day of the calendar, which no pattern checks)."""
    d = DIGIT
    return (
        f"^{SPACE}(?:({d}{{4}})-({d}{{1,2}})-({d}{{1,2}})|({d}{{4}})年({d}{{1,2}})月({d}{{1,2}})日){SPACE}$"
    )


def duration_pattern(unit: str | None) -> str:
    """A length of time in ``unit`` (any unit for None): ``3个工作日``, ``30 days``."""
    words = duration_words(unit) if unit is not None else list(DURATION_UNITS)
    return f"^{SPACE}({_WHOLE}){SPACE}({_words(words)}){SPACE}$"


def natural_pattern() -> str:
    """Digits only: a duration's number in ``{"value": …, "unit": …}``."""
    return f"^{SPACE}({_WHOLE}){SPACE}$"


_CACHE: dict[str, _Any] = {}


def _re_of(pattern: str) -> _Any:
    compiled = _CACHE.get(pattern)
    if compiled is None:
        compiled = _CACHE[pattern] = _re.compile(pattern)
    return compiled


def _match(pattern: str, text: str) -> _Any:
    return _re_of(pattern).fullmatch(text)


class FactsError(ValueError):
    """Facts that do not fit the policy: ``problems`` holds every ``(fact, message, hint)`` at once."""

    def __init__(self, problems: list[tuple[_Any, str, _Any]]) -> None:
        self.problems = list(problems)
        lines = [message + (f" ({hint})" if hint else "") for _, message, hint in self.problems]
        super().__init__("\n".join(lines))


def _shown(value: _Any) -> str:
    """``repr(value)`` for a message, cut short: an int of 5000 digits cannot even be written out."""
    try:
        text = repr(value)
    except ValueError:  # Python refuses to write out an int of more than 4300 digits
        return "a number too long to show"
    return text if len(text) <= 60 else text[:50] + "…" + text[-9:]


class _Bad(Exception):
    def __init__(self, message: str, hint: _Any = None) -> None:
        super().__init__(message)
        self.hint = hint


def did_you_mean(name: str, candidates: _Any) -> _Any:
    """A hint naming the closest candidate (or the few equally close ones), or None when none is close."""
    pool = sorted(set(candidates))
    close = _difflib.get_close_matches(name, pool, n=3, cutoff=0.5)
    if not close:
        return None

    def score(candidate: str) -> float:
        return _difflib.SequenceMatcher(None, name, candidate).ratio()

    best = score(close[0])
    close = [c for c in close if best - score(c) < 0.05]
    if len(close) == 1:
        return f"did you mean `{close[0]}`?"
    return "did you mean one of " + ", ".join(f"`{c}`" for c in close) + "?"


def read_facts(facts: _Any, table: _Any = None, allow_float: bool = False) -> dict[str, _Any]:
    """The facts in their exact form for the rules; ``table`` is the policy's facts (default ``FACTS``).

    Raises :class:`FactsError` with every unknown fact, wrong type, currency, unit or enum value.
    """
    if table is None:
        table = FACTS
    if not hasattr(facts, "items") or not hasattr(facts, "get"):
        raise FactsError([(None, "facts must be an object mapping fact names to values", None)])
    problems: list[tuple[_Any, str, _Any]] = []
    result: dict[str, _Any] = {}
    for name, value in facts.items():
        info = table.get(name) if isinstance(name, str) else None
        if info is None:
            shown = str(name)
            hint = did_you_mean(shown, table) or "the policy's facts are listed by `policy schema` (FACTS)"
            problems.append((shown, f"unknown fact `{shown}`", hint))
            continue
        if value is None:
            continue  # explicitly unknown
        if info["type"] == "list":
            items = _read_items(name, info, value, allow_float, problems)
            if items is not None:
                result[name] = items
            continue
        try:
            result[name] = read_fact(info, value, allow_float)
        except _Bad as bad:
            problems.append((name, f"fact `{name}`: {bad}", bad.hint))
    if not problems:
        problems.extend(contradictions(result, table))
    if problems:
        raise FactsError(problems)
    return result


#: The most items a list of items (``items 医药产品``) may hold in one set of facts.
MAX_ITEMS = 1000


def _read_items(
    name: str, info: dict[str, _Any], value: _Any, allow_float: bool, problems: list[_Any]
) -> _Any:
    """A list of items: each an object of the item's facts, read as the enterprise's facts are;
    problems are named ``获批品种[2].品种出口额`` (counted from 1). A tuple of dicts, or None."""
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        problems.append(
            (
                name,
                f"fact `{name}`: expected a list of items, got {_shown(value)}",
                "e.g. [{…}, {…}]; [] for none",
            )
        )
        return None
    if len(value) > MAX_ITEMS:
        problems.append(
            (name, f"fact `{name}`: {len(value)} items; at most {MAX_ITEMS}", "split the enterprise's list")
        )
        return None
    items = []
    for index, item in enumerate(value, 1):
        where = f"{name}[{index}]"
        try:
            items.append(read_facts(item, info["fields"], allow_float))
        except FactsError as error:
            for fact, message, hint in error.problems:
                shown = f"{where}.{fact}" if fact is not None else where
                problems.append((shown, f"item {index} of `{name}`: {message}", hint))
    return tuple(items)


def counts(value: _Any) -> bool:
    """Whether a fact's value makes the facts it ``implies`` true: true, more than zero, any date or
    enum value, a non-empty set."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | _D):
        return value > 0
    if isinstance(value, frozenset):
        return bool(value)
    return value is not None


def _written(value: _Any, info: dict[str, _Any]) -> str:
    """A read value as a person writes it: 1000000 USD, 2022-06-20, {一类, 二类}."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _D):
        text = format(value, "f")
        return f"{text} {info['unit']}" if info.get("type") == "money" else text
    if isinstance(value, frozenset):
        return "{" + ", ".join(sorted(value)) + "}"
    if isinstance(value, _dt.date):
        return value.isoformat()
    return _shown(value)


def contradictions(facts: dict[str, _Any], table: _Any) -> list[tuple[_Any, str, _Any]]:
    """Facts that contradict what the policy says one fact implies (``implies`` in its ``fact``):
    ``是外贸企业`` false while ``出口额`` is more than zero. Read facts in, problems out."""
    found: list[tuple[_Any, str, _Any]] = []
    for name, value in facts.items():
        for implied in table[name].get("implies") or ():
            if facts.get(implied) is False and counts(value):
                found.append(
                    (
                        implied,
                        f"fact `{implied}` is false, but `{name}` = {_written(value, table[name])} "
                        "implies it is true",
                        f"the policy says a value of `{name}` makes `{implied}` true; correct one of them",
                    )
                )
    return found


def read_fact(info: dict[str, _Any], value: _Any, allow_float: bool = False) -> _Any:
    """One fact's value (``info`` its entry of the facts table); raises ``_Bad`` with the message."""
    if isinstance(value, float):
        if not allow_float:
            raise _Bad(
                f"{_shown(value)} is a float, which cannot hold amounts exactly",
                hint='pass a string such as "5000000.25" or a Decimal, or allow_float=True',
            )
        if value != value or value in (float("inf"), float("-inf")):
            raise _Bad(f"expected a finite number, got {_shown(value)}")
        value = _D(repr(value))
    return _READERS[info["type"]](info, value, allow_float)


def _digits(text: str) -> str:
    return text.translate(_FULL_WIDTH)


#: Room for every digit a fact's text may have: the default context keeps 28 digits, and
#: 30 digits times 亿 would be rounded.
_EXACT = _Context(prec=120)


def _scaled(number: str, mult: _Any) -> _D:
    """The number a text writes, whole ones as the policy's own literals are (``12.5万`` → 125000)."""
    value = _D(_digits(number))
    if mult:
        value = _EXACT.multiply(value, _D(MULTIPLIERS[mult]))
    return _D(int(value)) if value == value.to_integral_value() else value


def _number(value: _Any, signed: bool, what: str = "amounts") -> _D:
    """A number given as an int or a Decimal, or as text with 万 / 亿."""
    if isinstance(value, bool) or not isinstance(value, int | _D | str):
        raise _Bad(f"expected a number, got {_shown(value)}")
    if isinstance(value, str):
        found = _match(amount_pattern(True), value)
        if found is None:
            raise _Bad(f"expected a number, got {_shown(value)}")
        number = _scaled(found.group(2), found.group(3))
        if found.group(1):
            if not signed:  # even "-0": the schema's pattern for amounts has no sign
                raise _Bad(f"{what} cannot be negative, got {_shown(value)}")
            number = -number
    else:
        number = _D(value)
        if not number.is_finite():
            raise _Bad(f"expected a finite number, got {_shown(value)}")
        if number.copy_abs() >= LIMIT:
            raise _Bad(f"{_shown(value)} is too large: numbers must be less than 10^38 in magnitude")
    if not signed and number < 0:
        raise _Bad(f"{what} cannot be negative, got {_shown(value)}")
    return number


def _bool(info: dict[str, _Any], value: _Any, allow_float: bool) -> bool:
    if isinstance(value, bool):
        return value
    raise _Bad(f"expected true or false, got {_shown(value)}")


def _whole(value: _Any, signed: bool, what: str = "amounts") -> int:
    number = _number(value, signed, what)
    if number != number.to_integral_value():
        raise _Bad(f"expected a whole number, got {_shown(value)}")
    if number.adjusted() >= 4300:  # the digits Python allows an int's text: no 10**999999999
        raise _Bad(f"{_shown(value)} has too many digits")
    return int(number)


def _integer(info: dict[str, _Any], value: _Any, allow_float: bool) -> int:
    return _whole(value, True)


def _decimal(info: dict[str, _Any], value: _Any, allow_float: bool) -> _D:
    return _number(value, True)


def _fx_hint() -> str:
    return "the policy fixes no exchange rate: convert the amount before you supply it"


def _money(info: dict[str, _Any], value: _Any, allow_float: bool) -> _D:
    currency = info["unit"]
    if isinstance(value, dict) or (hasattr(value, "keys") and hasattr(value, "get")):
        if set(value.keys()) != {"amount", "currency"}:
            raise _Bad('money is written {"amount": "…", "currency": "' + currency + '"}')
        got = value.get("currency")
        if not isinstance(got, str) or CURRENCY_WORDS.get(got) != currency:
            raise _Bad(f"expected an amount in {currency}, got {_shown(got)}", hint=_fx_hint())
        amount = value.get("amount")
        if isinstance(amount, float):
            amount = read_fact({"type": "decimal"}, amount, allow_float)
        return _amount(amount)
    if isinstance(value, str):
        found = _match(money_pattern(currency), value)
        if found is not None:
            number = found.group(2) or found.group(4)
            mult = found.group(3) or found.group(5)
            return _scaled(number, mult)
        if _match(money_pattern(None), value) is not None:
            raise _Bad(f"expected an amount in {currency}, got {_shown(value)}", hint=_fx_hint())
        rest = value.strip(" \t\u3000")
        if rest[:1] in ("-", "－", "−") and _match(money_pattern(None), rest[1:]) is not None:
            raise _Bad(f"amounts cannot be negative, got {_shown(value)}")
        example = "500万" + ("美元" if currency == "USD" else "元" if currency == "CNY" else " " + currency)
        raise _Bad(f"expected an amount in {currency} such as {example}, got {_shown(value)}")
    return _amount(value)


def _amount(value: _Any) -> _D:
    return _number(value, False)


def _percent(info: dict[str, _Any], value: _Any, allow_float: bool) -> _D:
    if isinstance(value, str):
        found = _match(percent_pattern(), value)
        if found is None:
            raise _Bad(f"expected a percentage such as 12.5%, got {_shown(value)}")
        number = _scaled(found.group(2), None)
        return -number if found.group(1) else number
    return _number(value, True)


def _date(info: dict[str, _Any], value: _Any, allow_float: bool) -> _dt.date:
    if isinstance(value, _dt.datetime):
        raise _Bad("expected a date, got a date and time", hint="pass value.date()")
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        found = _match(date_pattern(), value)
        if found is not None:
            parts = [g for g in found.groups() if g is not None]
            year, month, day = (int(_digits(g)) for g in parts)
            try:
                return _dt.date(year, month, day)
            except ValueError as exc:
                raise _Bad(f"no such date: {value.strip()} ({exc})") from None
    raise _Bad(f'expected a date such as "2022-06-20" or "2022年6月20日", got {_shown(value)}')


def _duration(info: dict[str, _Any], value: _Any, allow_float: bool) -> int:
    unit = info["unit"]
    example = f'"3{duration_words(unit)[0]}"'
    if isinstance(value, dict) or (hasattr(value, "keys") and hasattr(value, "get")):
        if set(value.keys()) != {"value", "unit"}:
            raise _Bad('a duration is written {"value": 3, "unit": "' + unit + '"} or ' + example)
        got = value.get("unit")
        if not isinstance(got, str) or got not in DURATION_UNITS:
            raise _Bad(
                f"`{_shown(got)}` is not a unit of time", hint="units: " + ", ".join(duration_words(unit))
            )
        if DURATION_UNITS[got] != unit:
            raise _Bad(f"expected a duration in {unit}, got {DURATION_UNITS[got]}")
        number = value.get("value")
        if isinstance(number, float):
            number = read_fact({"type": "decimal"}, number, allow_float)
        if isinstance(number, str):
            found = _match(natural_pattern(), number)
            if found is None:
                raise _Bad(f"expected a whole number of {unit}, got {_shown(number)}")
            return int(_digits(found.group(1)))
        return _whole(number, False, "durations")
    if isinstance(value, str) and _match(integer_pattern(False), value) is None:
        found = _match(duration_pattern(unit), value)
        if found is not None:
            return int(_digits(found.group(1)))
        other = _match(duration_pattern(None), value)
        if other is not None:
            raise _Bad(f"expected a duration in {unit}, got {DURATION_UNITS[other.group(2)]}")
        rest = value.strip(" \t\u3000")
        if rest[:1] in ("-", "－", "−") and (
            _match(duration_pattern(None), rest[1:]) or _match(integer_pattern(False), rest[1:])
        ):
            raise _Bad(f"durations cannot be negative, got {_shown(value)}")
        raise _Bad(f"expected a duration in {unit} such as {example}, got {_shown(value)}")
    return _whole(value, False, "durations")


def _enum(info: dict[str, _Any], value: _Any, allow_float: bool) -> str:
    values = info["values"]
    if not isinstance(value, str):
        raise _Bad(f"expected one of {', '.join(values)}, got {_shown(value)}")
    if info.get("open") and value not in values:
        if not value:  # an open enum (等) takes a value not listed, but not an empty one
            raise _Bad(
                "expected a value, got an empty string", hint="its listed values are " + ", ".join(values)
            )
        return value
    if value not in values:
        raise _Bad(
            f"`{value}` is not a value of {info['unit']}",
            hint=did_you_mean(value, values) or "its values are " + ", ".join(values),
        )
    return value


def _set(info: dict[str, _Any], value: _Any, allow_float: bool) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise _Bad(f"expected a list of values of {info['unit']}, got {_shown(value)}")
    items = [_enum(info, item, allow_float) for item in value]
    for index, item in enumerate(items):
        if item in items[:index]:
            raise _Bad(f"`{item}` is listed twice")
    return frozenset(items)


_READERS: dict[str, _Any] = {
    "bool": _bool,
    "integer": _integer,
    "decimal": _decimal,
    "money": _money,
    "percent": _percent,
    "date": _date,
    "duration": _duration,
    "enum": _enum,
    "set": _set,
}

# Filled in by the compiler for each policy: name → {"type", "unit", "values", "label", "description"}.
FACTS: dict[str, dict[str, _Any]] = {}
