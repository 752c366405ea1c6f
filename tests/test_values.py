"""Literal notations: the document's own (5000万美元, 2022年6月20日, 3个工作日) and plain ones."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policy_dsl.format import format_value
from policy_dsl.values import (
    Duration,
    Money,
    Percent,
    ValueSyntaxError,
    parse_date,
    parse_duration,
    parse_money,
    parse_number,
    parse_percent,
    parse_value,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5000万美元", Money(Decimal(50_000_000), "USD")),
        ("500万 USD", Money(Decimal(5_000_000), "USD")),
        ("100万元", Money(Decimal(1_000_000), "CNY")),
        ("70亿美元", Money(Decimal(7_000_000_000), "USD")),
        ("12.5万元", Money(Decimal(125_000), "CNY")),
        ("5000000.25 USD", Money(Decimal("5000000.25"), "USD")),
        ("USD 5000000", Money(Decimal(5_000_000), "USD")),
        ("300 人民币", Money(Decimal(300), "CNY")),
        ("1 RMB", Money(Decimal(1), "CNY")),
    ],
)
def test_money_notations(text: str, expected: Money) -> None:
    assert parse_money(text) == expected


def test_money_is_exact_not_float() -> None:
    amount = parse_money("5000000.01 USD").amount
    assert isinstance(amount, Decimal)
    assert amount - Decimal("5000000") == Decimal("0.01")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022年6月20日", dt.date(2022, 6, 20)),
        ("2022-06-20", dt.date(2022, 6, 20)),
        ("2023年6月30日", dt.date(2023, 6, 30)),
    ],
)
def test_dates(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


def test_impossible_date_is_an_error() -> None:
    with pytest.raises(ValueSyntaxError, match="no such date"):
        parse_date("2022-02-30")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3个工作日", Duration(3, "working_days")),
        ("3 working days", Duration(3, "working_days")),
        ("30天", Duration(30, "days")),
        ("6个月", Duration(6, "months")),
        ("1 year", Duration(1, "years")),
    ],
)
def test_durations(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected


def test_percent_and_numbers() -> None:
    assert parse_percent("100%") == Percent(Decimal(100))
    assert parse_percent("12.5％") == Percent(Decimal("12.5"))
    assert parse_number("1万") == 10_000
    assert parse_number("2.5") == Decimal("2.5")
    assert isinstance(parse_number("3"), int)


def test_parse_value_picks_the_most_specific_notation() -> None:
    assert parse_value("2022-06-20") == dt.date(2022, 6, 20)
    assert parse_value("5000万美元") == Money(Decimal(50_000_000), "USD")
    assert parse_value("3个工作日") == Duration(3, "working_days")
    assert parse_value("42") == 42


@pytest.mark.parametrize(
    ("value", "chinese", "text"),
    [
        (Money(Decimal(50_000_000), "USD"), True, "5000万美元"),
        (Money(Decimal(7_000_000_000), "USD"), True, "70亿美元"),
        (Money(Decimal("12345.68"), "CNY"), True, "12345.68元"),
        (Money(Decimal(50_000_000), "USD"), False, "50000000 USD"),
        (dt.date(2022, 6, 20), True, "2022年6月20日"),
        (dt.date(2022, 6, 20), False, "2022-06-20"),
        (Duration(3, "working_days"), True, "3个工作日"),
        (Duration(1, "days"), False, "1 day"),
    ],
)
def test_values_print_in_the_notation_they_were_written_in(value: object, chinese: bool, text: str) -> None:
    assert format_value(value, chinese) == text
    assert parse_value(text) == value


_WIDE = __import__("decimal").Context(prec=200)


@given(
    digits=st.text("0123456789", min_size=1, max_size=30).filter(lambda d: d.lstrip("0")),
    point=st.integers(0, 30),
    mult=st.sampled_from(["", "万", "亿"]),
    unit=st.sampled_from(["", "元", "美元", "%"]),
)
def test_every_digit_of_a_literal_survives_reading_and_writing(
    digits: str, point: int, mult: str, unit: str
) -> None:
    """Up to MAX_DIGITS (30) digits: no step rounds to the default context's 28 (fmt found it)."""
    whole, fraction = (
        digits[: len(digits) - min(point, len(digits) - 1)],
        digits[len(digits) - min(point, len(digits) - 1) :],
    )
    number = whole + (f".{fraction}" if fraction else "")
    if unit == "%" and mult:
        mult = ""
    value = parse_value(number + mult + unit)
    exact = _WIDE.multiply(Decimal(number), Decimal({"": 1, "万": 10**4, "亿": 10**8}[mult]))
    amount = (
        value.amount if isinstance(value, Money) else value.value if isinstance(value, Percent) else value
    )
    assert Decimal(amount) == exact
    assert parse_value(format_value(value)) == value
    # as fmt writes it: plain where the text was plain (at most 30 digits, then)
    assert parse_value(format_value(value, chinese=bool(mult))) == value
