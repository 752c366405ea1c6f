"""Differential test: in-process evaluation and the standalone module give the same outcomes.

``compile_policy(checked).evaluate`` runs the tree compiled in process; ``module_source(checked)``
is what ``policy compile -o module.py`` writes. For the draft and for generated policies that
check, both are run on the same facts (each present or absent, values at, just below and just
above every literal of the policy) and the same dates (around every period's ends).
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib.util
import itertools
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import strategies as s
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy_dsl import model as m
from policy_dsl.check import CheckedPolicy, check
from policy_dsl.compile import CompiledPolicy, compile_policy, module_source
from policy_dsl.facts import validate_facts
from policy_dsl.parse import parse

ROOT = Path(__file__).resolve().parent.parent
DRAFT = ROOT / "policies" / "cq-foreign-trade-2022" / "draft.policy"

_counter = itertools.count()


def import_module_text(source: str, directory: Path) -> ModuleType:
    """Import ``source`` from a file, as a user of ``policy compile -o`` would."""
    name = f"generated_policy_{next(_counter)}"
    path = directory / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_standalone(source: str) -> None:
    """The module imports only the standard library: nothing from policy_dsl."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            assert not any(a.name.split(".")[0] == "policy_dsl" for a in node.names), ast.unparse(node)
        elif isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] != "policy_dsl", ast.unparse(node)
    assert "import policy_dsl" not in source and "from policy_dsl" not in source


def literals_by_fact(checked: CheckedPolicy) -> dict[str, list[Any]]:
    """Every literal of the policy, offered to every fact (``boundary_values`` keeps those that fit)."""
    found = s.literal_values(checked.file)
    return {name: found for name in checked.all_facts}


def fact_types(checked: CheckedPolicy) -> dict[str, m.TypeRef]:
    return {name: m.TypeRef(info.type.kind, info.type.param) for name, info in checked.facts.items()}


def enum_values(checked: CheckedPolicy) -> dict[str, tuple[str, ...]]:
    return s.enum_values_of(checked)


class Backends:
    """One checked policy, compiled in process and written out as a module."""

    def __init__(self, checked: CheckedPolicy, directory: Path) -> None:
        self.checked = checked
        self.compiled: CompiledPolicy = compile_policy(checked)
        self.source = module_source(checked)
        assert_standalone(self.source)
        self.module = import_module_text(self.source, directory)

    def facts(self) -> st.SearchStrategy[dict[str, Any]]:
        items = {
            name: {f: m.TypeRef(i.type.kind, i.type.param) for f, i in info.facts.items()}
            for name, info in self.checked.items.items()
        }
        return s.fact_sets(
            fact_types(self.checked), enum_values(self.checked), literals_by_fact(self.checked), items
        ).map(lambda facts: s.consistent(self.checked, facts))

    def dates(self) -> st.SearchStrategy[dt.date]:
        return s.as_of_dates(s.rule_periods(self.checked))

    def assert_agree(self, facts: dict[str, Any], as_of: dt.date) -> None:
        values = validate_facts(self.checked, facts)
        in_process = self.compiled.evaluate(dict(values), as_of, True)
        standalone = self.module.evaluate(dict(values), as_of, True)
        assert in_process == standalone
        assert self.module.to_json(standalone) == self.compiled.namespace["to_json"](in_process)


_draft_backends: Backends | None = None
_draft_dir = tempfile.TemporaryDirectory(prefix="policy-backends-")


def draft_backends() -> Backends:
    global _draft_backends
    if _draft_backends is None:
        checked = check(parse(DRAFT.read_text(encoding="utf-8"), str(DRAFT)), str(DRAFT))
        _draft_backends = Backends(checked, Path(_draft_dir.name))
    return _draft_backends


def test_exported_module_is_the_code_run_in_process() -> None:
    backends = draft_backends()
    assert backends.compiled.source.rstrip("\n") == backends.source.rstrip("\n")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_draft_backends_agree(data: st.DataObject) -> None:
    backends = draft_backends()
    facts = data.draw(backends.facts(), label="facts")
    as_of = data.draw(backends.dates(), label="as_of")
    backends.assert_agree(facts, as_of)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
@given(s.checked_policies(), st.data())
def test_generated_policies_backends_agree(policy: s.GeneratedPolicy, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory(prefix="policy-backends-") as tmp:
        directory = Path(tmp)
        (directory / "source.txt").write_text(policy.source_text, encoding="utf-8")
        path = directory / "generated.policy"
        path.write_text(policy.text, encoding="utf-8")
        checked = check(parse(policy.text, str(path)), str(path))
        backends = Backends(checked, directory)
        for _ in range(5):
            facts = data.draw(backends.facts(), label="facts")
            as_of = data.draw(backends.dates(), label="as_of")
            backends.assert_agree(facts, as_of)
