"""The fast ``decide(facts)`` (no trace) gives the same conditions as the explained evaluation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import policy_dsl
from policy_dsl.compile import compile_policy

DRAFT = Path(__file__).resolve().parent.parent / "policies" / "cq-foreign-trade-2022" / "draft.policy"
POLICY = policy_dsl.load(DRAFT)
COMPILED = compile_policy(POLICY.checked)
MONEY = [
    Decimal(x) for x in ("0", "4999999.99", "5000000", "5000000.01", "49999999.99", "50000000", "50000000.01")
]


def _value(kind: str, param: str | None) -> st.SearchStrategy[Any]:
    if kind == "bool":
        return st.booleans()
    if kind == "money":
        return st.sampled_from(MONEY)
    if kind in {"integer", "duration"}:
        return st.integers(min_value=0, max_value=10)
    if kind in {"decimal", "percent"}:
        return st.decimals(min_value=0, max_value=200, places=2)
    if kind == "date":
        return st.dates(min_value=dt.date(2022, 1, 1), max_value=dt.date(2024, 1, 1))
    if kind == "list":  # a list of items: each an object of the item's facts
        fields = POLICY.checked.items[param or ""].facts
        item = st.fixed_dictionaries(
            {}, optional={f: _value(info.type.kind, info.type.param) for f, info in fields.items()}
        )
        return st.lists(item, max_size=3)
    enum = POLICY.checked.enums[param or ""]
    values = [v.name for v in enum.values] + (["未列出的机构"] if enum.open else [])  # 等: one not listed
    if kind == "enum":
        return st.sampled_from(values)
    return st.frozensets(st.sampled_from(values))


FACTS = st.fixed_dictionaries(
    {},
    optional={name: _value(info.type.kind, info.type.param) for name, info in POLICY.checked.facts.items()},
)


@settings(max_examples=300, deadline=None)
@given(FACTS)
def test_fast_decide_matches_the_traced_conditions(facts: dict[str, Any]) -> None:
    fast = COMPILED.decide(facts)
    namespace = COMPILED.namespace

    def traced_decide(values: dict[str, Any], as_of: Any = None) -> Any:
        return namespace["_decide"](values, {}, as_of)

    # a benefit decided per item (`for each`) is decided over the items by the same runtime code
    traced = namespace["_decide_items"](traced_decide, facts) if namespace["EACH"] else traced_decide(facts)
    assert fast == traced


def test_standalone_module_has_decide(tmp_path: Path) -> None:
    source = POLICY.module_source()
    namespace: dict[str, Any] = {}
    exec(compile(source, str(tmp_path / "m.py"), "exec"), namespace)  # our own generated module
    facts = {"出口额": Decimal("4800000"), "投保短期出口信用保险": True}
    assert namespace["decide"](facts) == COMPILED.decide(facts)
