"""Exact values with units: money, percentages, durations, and the literal notations that write them.

The document's own notation is accepted everywhere a literal goes: ``5000万美元``,
``500万 USD``, ``100万元``, ``70亿美元``, ``100%``, ``2022年6月20日``, ``2022-06-20``,
``3个工作日``. 万 = 10⁴, 亿 = 10⁸. Amounts are :class:`~decimal.Decimal`, never floats.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Context, Decimal, InvalidOperation
from typing import Any

import attrs

# The tables of currency words, units of time and 万 / 亿 are the facts contract's: one place.
from policy_dsl.intake import CURRENCY_WORDS as CURRENCY_WORDS
from policy_dsl.intake import DURATION_UNITS as DURATION_UNITS
from policy_dsl.intake import MULTIPLIERS as MULTIPLIERS

#: How each currency is written back in the document's notation.
CURRENCY_CHINESE: dict[str, str] = {"USD": "美元", "CNY": "元", "EUR": "欧元", "JPY": "日元", "HKD": "港元"}
#: Digits after the decimal point in each currency's minor unit.
MINOR_UNIT_DIGITS: dict[str, int] = {"USD": 2, "CNY": 2, "EUR": 2, "JPY": 0, "HKD": 2}

DURATION_CHINESE: dict[str, str] = {
    "working_days": "个工作日",
    "days": "天",
    "weeks": "周",
    "months": "个月",
    "years": "年",
}


class ValueSyntaxError(ValueError):
    """A literal that does not follow any accepted notation."""


@attrs.frozen(order=True)
class Money:
    """An exact amount of one currency."""

    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return format_money(self, chinese=True)


@attrs.frozen(order=True)
class Percent:
    """A percentage: ``Percent(Decimal(100))`` is 100%."""

    value: Decimal

    def __str__(self) -> str:
        return f"{format_decimal(self.value)}%"


@attrs.frozen(order=True)
class Duration:
    """A length of time in one unit: days, working days, weeks, months or years."""

    amount: int
    unit: str

    def __str__(self) -> str:
        return format_duration(self, chinese=True)


Value = bool | int | Decimal | Money | Percent | Duration | dt.date


_NUMBER = r"(?P<num>\d+(?:\.\d+)?)\s*(?P<mult>[万亿])?"
_CURRENCIES = "|".join(sorted(CURRENCY_WORDS, key=len, reverse=True))
_CODES = "|".join(word for word in CURRENCY_WORDS if word.isascii())
_MONEY_RE = re.compile(_NUMBER + r"\s*(?P<cur>" + _CURRENCIES + r")\s*$")
_CODE_FIRST_RE = re.compile(r"^\s*(?P<cur>" + _CODES + r")\s*(?P<num>\d+(?:\.\d+)?)\s*(?P<mult>[万亿])?\s*$")
_PERCENT_RE = re.compile(r"^\s*(?P<num>\d+(?:\.\d+)?)\s*[%％]\s*$")
_DURATION_WORDS = (
    r"个工作日|工作日|个月|天|日|年|周|working[ \t]+days?|working_days|days?|weeks?|months?|years?"
)
_DURATION_RE = re.compile(r"^\s*(?P<num>\d+)\s*(?P<unit>" + _DURATION_WORDS + r")\s*$")
_NUMBER_RE = re.compile(r"^\s*" + _NUMBER + r"\s*$")
_ISO_DATE_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
_CN_DATE_RE = re.compile(r"^\s*(\d{4})年(\d{1,2})月(\d{1,2})日\s*$")


#: The most digits a number in a policy may have: more than any amount, rate or count needs, and
#: few enough that every later stage (SQL DECIMAL(38), Python's int/str conversion) handles it.
MAX_DIGITS = 30
#: Arithmetic on literals with room for every digit they may have: the default context keeps 28,
#: so `*` by 亿, `normalize` and `/` would round a literal of MAX_DIGITS digits.
EXACT = Context(prec=4 * MAX_DIGITS)


def _digits_checked(num: str) -> str:
    if sum(ch.isdigit() for ch in num) > MAX_DIGITS:
        raise ValueSyntaxError(f"a number of more than {MAX_DIGITS} digits: {num[:12]}…")
    return num


def _scaled(num: str, mult: str | None) -> Decimal:
    value = Decimal(_digits_checked(num))
    if mult:
        value = EXACT.multiply(value, Decimal(MULTIPLIERS[mult]))
    return value


def normalize_number(value: Decimal) -> int | Decimal:
    """An integral Decimal becomes an int; others stay Decimal."""
    if value == value.to_integral_value():
        return int(value)
    return value


def parse_money(text: str) -> Money:
    match = _MONEY_RE.match(text.strip()) or _CODE_FIRST_RE.match(text)
    if not match:
        raise ValueSyntaxError(f"not an amount of money: {text!r} (write e.g. 5000万美元 or 500万 USD)")
    amount = _scaled(match["num"], match["mult"])
    return Money(Decimal(normalize_number(amount)), CURRENCY_WORDS[match["cur"]])


def parse_percent(text: str) -> Percent:
    match = _PERCENT_RE.match(text)
    if not match:
        raise ValueSyntaxError(f"not a percentage: {text!r} (write e.g. 100%)")
    return Percent(Decimal(_digits_checked(match["num"])))


def parse_duration(text: str) -> Duration:
    match = _DURATION_RE.match(text)
    if not match:
        raise ValueSyntaxError(f"not a duration: {text!r} (write e.g. 3个工作日 or 30 days)")
    unit = re.sub(r"[ \t]+", " ", match["unit"])
    return Duration(int(_digits_checked(match["num"])), DURATION_UNITS[unit])


def parse_number(text: str) -> int | Decimal:
    match = _NUMBER_RE.match(text)
    if not match:
        raise ValueSyntaxError(f"not a number: {text!r}")
    return normalize_number(_scaled(match["num"], match["mult"]))


def parse_date(text: str) -> dt.date:
    match = _ISO_DATE_RE.match(text) or _CN_DATE_RE.match(text)
    if not match:
        raise ValueSyntaxError(f"not a date: {text!r} (write e.g. 2022-06-20 or 2022年6月20日)")
    year, month, day = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise ValueSyntaxError(f"no such date: {text.strip()} ({exc})") from None


def is_chinese_notation(text: str) -> bool:
    """True when a literal was written with Chinese units (万, 美元, 年…), so the formatter keeps them."""
    return bool(re.search(r"[\u4e00-\u9fff]", text))


def parse_value(text: str) -> Value:
    """Parse any literal notation, trying the most specific first."""
    for parser in (parse_date, parse_money, parse_percent, parse_duration, parse_number):
        try:
            return parser(text)
        except ValueSyntaxError:
            continue
    raise ValueSyntaxError(f"not a value in any accepted notation: {text!r}")


# ---------------------------------------------------------------- formatting


def decimal_digits(value: Decimal) -> tuple[int, int]:
    """The smallest DECIMAL(precision, scale) that holds ``value`` exactly (100 → (3, 0), 0.5 → (2, 1))."""
    normal = value.normalize(EXACT)
    scale = max(0, -int(normal.as_tuple().exponent))
    return max(1, normal.adjusted() + 1) + scale, scale


def format_decimal(value: Decimal | int) -> str:
    """Plain decimal notation with no exponent and no trailing zeros, every digit kept."""
    if isinstance(value, int):
        return str(value)
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(EXACT), "f")


def format_amount_chinese(amount: Decimal | int) -> str:
    """``50000000`` → ``5000万``; ``7000000000`` → ``70亿``; small amounts stay plain."""
    value = Decimal(amount)
    for word, mult in (("亿", 10**8), ("万", 10**4)):
        if value >= mult:
            scaled = EXACT.divide(value, Decimal(mult))
            text = format_decimal(scaled)
            fraction = text.partition(".")[2]
            if len(fraction) <= 2 and scaled == Decimal(text):
                return text + word
    return format_decimal(value)


def format_money(money: Money, chinese: bool) -> str:
    if chinese and money.currency in CURRENCY_CHINESE:
        return format_amount_chinese(money.amount) + CURRENCY_CHINESE[money.currency]
    return f"{format_decimal(money.amount)} {money.currency}"


def format_duration(duration: Duration, chinese: bool) -> str:
    if chinese:
        return f"{duration.amount}{DURATION_CHINESE[duration.unit]}"
    unit = duration.unit.replace("_", " ")
    if duration.amount == 1:
        unit = unit[:-1]
    return f"{duration.amount} {unit}"


def format_date(value: dt.date, chinese: bool) -> str:
    if chinese:
        return f"{value.year:04d}年{value.month}月{value.day}日"
    return value.isoformat()


def parse_decimal_text(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueSyntaxError(f"not a number: {text!r}") from None


def runtime_value(value: object) -> Any:
    """The runtime representation of a literal: money → its amount, percent → its number, a
    duration → its count; anything else as it is."""
    if isinstance(value, Money):
        return value.amount
    if isinstance(value, Percent):
        return value.value
    if isinstance(value, Duration):
        return value.amount
    return value
