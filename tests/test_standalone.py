"""Generated code as an embedder meets it: tracebacks that point into the policy file, where each
rule of a standalone module comes from, and the lazily built deciders under threads."""

from __future__ import annotations

import ast
import threading
import traceback
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import policy_dsl
from policy_dsl.compile import CompiledPolicy, _Generator, compile_policy, module_ast, module_source

ROOT = Path(__file__).resolve().parent.parent
DRAFT = ROOT / "policies" / "cq-foreign-trade-2022" / "draft.policy"
POLICY = policy_dsl.load(DRAFT)
CHECKED = POLICY.checked


def frames_in(error: BaseException, filename: str) -> list[traceback.FrameSummary]:
    return [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]


def test_a_traceback_through_generated_code_names_the_policy_file_and_line() -> None:
    """Facts that skipped validation fail inside the generated code: the traceback names the
    policy file and the line of the definition the failing test belongs to, and shows it."""
    compiled = compile_policy(CHECKED)
    definition = CHECKED.definitions["小微外贸企业"]
    for function in (compiled.namespace["_decide"], compiled.decide):
        args: tuple[Any, ...] = (
            ({"出口额": "2000万元"}, {}) if function is not compiled.decide else ({"出口额": "x"},)
        )
        with pytest.raises(TypeError) as caught:
            function(*args)
        frames = frames_in(caught.value, CHECKED.path)
        assert frames, traceback.format_exception(caught.value)
        assert frames[-1].lineno == definition.pos.line
        assert "小微外贸企业" in (frames[-1].line or "")  # the policy's own line, read by linecache


def test_every_generated_statement_carries_its_rules_line() -> None:
    generator = _Generator(CHECKED)
    lines = {info.rule.pos.line for info in (*CHECKED.benefits, *CHECKED.duties)}
    lines |= {d.pos.line for d in CHECKED.definitions.values()}
    for function in (generator.decide(), generator.fast_decide()):
        assigned = [s for s in function.body if isinstance(s, ast.Assign) and s.targets[0].id != "get"]  # type: ignore[attr-defined]
        assert assigned and all(s.lineno in lines for s in assigned)
        rule_vars = {f"b{i}": info for i, info in enumerate(CHECKED.benefits)}
        for statement in assigned:
            info = rule_vars.get(statement.targets[0].id)  # type: ignore[attr-defined]
            if info is not None:
                assert statement.lineno == info.rule.pos.line
    # the standalone module says where each rule comes from
    tree = module_ast(CHECKED)
    decide = next(s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name == "_decide")
    doc = ast.get_docstring(decide) or ""
    for index, info in enumerate(CHECKED.benefits):
        at = f"{Path(CHECKED.path).name}:{info.rule.pos.line}:{info.rule.pos.column}"
        assert f"b{index} {info.rule.name} ({at})" in doc
    assert str(ROOT) not in module_source(CHECKED)  # no machine path in what is written out


def fresh() -> CompiledPolicy:
    return compile_policy(CHECKED)


@pytest.mark.parametrize("what", ["decide", "rule_decider"])
def test_first_calls_from_many_threads_build_one_function(what: str, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = fresh()
    assert compiled.generator is not None
    builds = []
    original = (
        type(compiled.generator).fast_decide if what == "decide" else type(compiled.generator).fast_decide_one
    )

    def slow(*args: Any) -> Any:  # a large policy: generation takes a while, threads pile up
        builds.append(1)
        threading.Event().wait(0.05)
        return original(*args)

    monkeypatch.setattr(type(compiled.generator), original.__name__, slow)
    barrier = threading.Barrier(16)
    got: list[Any] = []
    facts = {"出口额": Decimal("4800000"), "投保短期出口信用保险": True, "短期出口信用保险保费": Decimal(100)}

    def call() -> None:
        barrier.wait()
        function = compiled.decide if what == "decide" else compiled.rule_decider("benefit", 0)
        got.append((function, function(facts)))

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 16 and len(builds) == 1
    assert len({id(function) for function, _ in got}) == 1
    reference = fresh()
    expected = reference.decide(facts) if what == "decide" else reference.rule_decider("benefit", 0)(facts)
    assert all(result == expected for _, result in got)


def test_a_rule_decider_after_its_fingerprint() -> None:
    """The fingerprint generates code without running it; the decider built after it still
    defines every constant it uses (an `includes` test's set is a constant of its own)."""
    compiled = fresh()
    index = next(i for i, info in enumerate(CHECKED.benefits) if "产品注册机构" in str(info.rule.when))
    compiled.rule_fingerprint("benefit", index)
    decider = compiled.rule_decider("benefit", index)
    traced = compiled.namespace["_decide"]
    facts = {"产品注册机构": frozenset({"FDA"}), "是生物医药企业": True}
    assert decider(facts) == traced(facts, {})[0][index]
