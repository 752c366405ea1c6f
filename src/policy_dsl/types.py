"""The types of facts and expressions, and which operations they allow."""

from __future__ import annotations

import attrs


@attrs.frozen
class Type:
    """``kind`` is one of bool, integer, decimal, money, percent, date, duration, enum, set.

    ``param`` is the currency (money), the unit (duration) or the enum's name (enum, set).
    """

    kind: str
    param: str | None = None

    def __str__(self) -> str:
        if self.kind == "set":
            return f"set of {self.param}"
        if self.kind == "enum":
            return f"enum {self.param}"
        if self.param:
            return f"{self.kind} {self.param}"
        return self.kind

    @property
    def numeric(self) -> bool:
        return self.kind in {"integer", "decimal"}

    @property
    def ordered(self) -> bool:
        return self.kind in {"integer", "decimal", "money", "percent", "date", "duration"}


BOOL = Type("bool")
INTEGER = Type("integer")
DECIMAL = Type("decimal")
PERCENT = Type("percent")
DATE = Type("date")
#: Stands for an expression whose type could not be found; it matches anything so one error is not repeated.
UNKNOWN = Type("unknown")


def money(currency: str) -> Type:
    return Type("money", currency)


def duration(unit: str) -> Type:
    return Type("duration", unit)


def comparable(a: Type, b: Type) -> bool:
    """Whether values of ``a`` and ``b`` can be compared with == and !=."""
    if UNKNOWN in (a, b):
        return True
    if a.numeric and b.numeric:
        return True
    return a == b


def mismatch_hint(a: Type, b: Type) -> str | None:
    """Why two types do not compare, in the user's terms."""
    if a.kind == b.kind == "money":
        return f"amounts in {a.param} and {b.param} cannot be compared; the policy fixes no exchange rate"
    if a.kind == b.kind == "duration":
        return f"{a.param} and {b.param} are different units; write the limit in {a.param}"
    if {a.kind, b.kind} == {"money", "integer"} or {a.kind, b.kind} == {"money", "decimal"}:
        return "give the number a currency, e.g. 5000万美元"
    if {a.kind, b.kind} == {"percent", "integer"} or {a.kind, b.kind} == {"percent", "decimal"}:
        return "write the number as a percentage, e.g. 100%"
    return None
