"""Stage 3: :class:`~policy_dsl.check.CheckedPolicy` → Python. Entry point: :func:`compile_policy`.

One code generator builds a Python :mod:`ast` module: the source of :mod:`policy_dsl.runtime`
followed by the policy's data (constants) and one generated function, ``_decide``, that
computes every condition with three-valued logic. The same tree is ``compile()``-d for
in-process evaluation and ``ast.unparse()``-d for ``policy compile -o module.py``.

Security: text from a policy file only ever becomes an :class:`ast.Constant` (a string
value); every identifier in the generated code is made here. Nothing a policy says is
executed.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import importlib.resources
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from policy_dsl import model as m
from policy_dsl.check import CheckedPolicy, RuleInfo, references
from policy_dsl.format import format_condition, format_literal
from policy_dsl.values import Duration, Money, Percent
from policy_dsl.visitor import Visitor

_OP_FUNCTIONS = {"<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge", "==": "_eq", "!=": "_ne"}
_PLACEHOLDERS = {"POLICY", "ATOMS", "BENEFITS", "DUTIES", "_decide"}


@attrs.frozen(eq=False)
class CompiledPolicy:
    """A policy compiled to Python: its live namespace, and (on demand) the standalone module's source."""

    checked: CheckedPolicy
    namespace: dict[str, Any]
    generator: _Generator | None = attrs.field(default=None, repr=False)

    @property
    def source(self) -> str:
        """The same code as a standalone module's text (built when asked: unparsing takes time)."""
        return module_source(self.checked)

    @property
    def decide(self) -> Callable[[dict[str, Any]], tuple[tuple[Any, ...], tuple[Any, ...]]]:
        """``decide(facts)`` → (benefit conditions, duty conditions): True, False or None each; no
        explanation and no period (the caller checks the date), for fast population runs."""
        if "decide" not in self.namespace:  # generated on first use: evaluation does not need it
            assert self.generator is not None
            known = len(self.generator.constant_values)
            fast = self.generator.fast_decide()
            added = self.generator.constant_statements()[known:]
            tree = ast.fix_missing_locations(ast.Module(body=[*added, fast], type_ignores=[]))
            exec(compile(tree, f"<policy {Path(self.checked.path).name}>", "exec"), self.namespace)
        function: Callable[[dict[str, Any]], tuple[tuple[Any, ...], tuple[Any, ...]]] = self.namespace[
            "decide"
        ]
        return function

    def rule_decider(self, kind: str, index: int) -> Callable[[dict[str, Any]], Any]:
        """``decide(facts)`` for one rule only (``kind`` "benefit" or "duty", its index): its condition
        (True / False / None) computing just the definitions it uses, for the diff's many evaluations
        of one rule at a time. Generated on first use and kept in the namespace."""
        name = f"decide_{kind}_{index}"
        if name not in self.namespace:
            assert self.generator is not None
            known = len(self.generator.constant_values)
            function = self.generator.fast_decide_one(kind, index, name)
            added = self.generator.constant_statements()[known:]
            tree = ast.fix_missing_locations(ast.Module(body=[*added, function], type_ignores=[]))
            exec(compile(tree, f"<policy {Path(self.checked.path).name}>", "exec"), self.namespace)
        decider: Callable[[dict[str, Any]], Any] = self.namespace[name]
        return decider

    def rule_fingerprint(self, kind: str, index: int) -> str:
        """What decides one rule's condition, as text two versions can compare: the code of its
        :meth:`rule_decider` with every constant written out by value (sets sorted) and no name,
        index or docstring. Equal texts compute the same condition for every set of facts."""
        assert self.generator is not None
        function = self.generator.fast_decide_one(kind, index, "decide")
        values = dict(self.generator.constant_values)  # with those the function just added
        function.body = function.body[1:]  # the docstring names the rule's index

        class _Inline(ast.NodeTransformer):
            def visit_Name(self, node: ast.Name) -> ast.expr:
                if node.id not in values:
                    return node
                value = values[node.id]
                shown = sorted(map(repr, value)) if isinstance(value, frozenset) else value
                return ast.Constant(f"{type(value).__name__}:{shown!r}")

        tree = ast.fix_missing_locations(ast.Module(body=[_Inline().visit(function)], type_ignores=[]))
        return ast.unparse(tree)

    @property
    def evaluate(self) -> Callable[..., dict[str, Any]]:
        """``evaluate(facts, as_of)`` → the raw outcome (see :mod:`policy_dsl.runtime`)."""
        function: Callable[..., dict[str, Any]] = self.namespace["evaluate"]
        return function


def compile_policy(checked: CheckedPolicy) -> CompiledPolicy:
    """Compile a checked policy into a live Python module.

    The code — the runtime and the generated ``_decide`` — is compiled from the same AST the
    standalone module is unparsed from; the policy's data (labels, citations, constants) goes into
    the namespace as the very values the standalone module's literals rebuild.
    """
    generator = _Generator(checked)
    functions = [generator.decide()]  # the fast ``decide`` is generated when first asked for
    body = [*generator.constant_statements(), *functions]
    tree = ast.fix_missing_locations(ast.Module(body=body, type_ignores=[]))
    filename = f"<policy {Path(checked.path).name}>"
    code = compile(tree, filename, "exec")
    namespace: dict[str, Any] = {"__name__": "policy_dsl_compiled", "__builtins__": __builtins__}
    # The runtime is the same for every policy: compiled once per process, run in each namespace.
    exec(_runtime_code(), namespace)
    exec(code, namespace)  # the tree holds only our runtime and generated names; no policy text
    namespace.update(generator.data_values())
    return CompiledPolicy(checked, namespace, generator)


def module_source(checked: CheckedPolicy) -> str:
    """The source of a standalone Python module with no dependency on policy_dsl."""
    return ast.unparse(module_ast(checked)) + "\n"


# ---------------------------------------------------------------- module assembly


@functools.cache
def _runtime_text() -> str:
    return importlib.resources.files("policy_dsl").joinpath("runtime.py").read_text(encoding="utf-8")


@functools.cache
def _runtime_code() -> Any:
    """The runtime's code object, as the standalone module holds it (same statements)."""
    tree = ast.fix_missing_locations(ast.Module(body=_runtime_ast(), type_ignores=[]))
    return compile(tree, "<policy_dsl runtime>", "exec")


def _runtime_ast() -> list[ast.stmt]:
    body = ast.parse(_runtime_text()).body
    kept: list[ast.stmt] = []
    for index, stmt in enumerate(body):
        if index == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # the runtime's own docstring
        if isinstance(stmt, ast.FunctionDef) and stmt.name in _PLACEHOLDERS:
            continue
        if isinstance(stmt, ast.AnnAssign | ast.Assign):
            targets = [stmt.target] if isinstance(stmt, ast.AnnAssign) else stmt.targets
            if any(isinstance(t, ast.Name) and t.id in _PLACEHOLDERS for t in targets):
                continue
        kept.append(stmt)
    return kept


def module_ast(checked: CheckedPolicy) -> ast.Module:
    generator = _Generator(checked)
    docstring = (
        f"Generated by policy_dsl from {Path(checked.path).name}: {checked.title}.\n\n"
        "Do not edit; regenerate with `policy compile`. This module needs only the standard library.\n"
        "Call evaluate(facts, as_of) with exact values (see FACTS); to_json() makes the result JSON-ready."
    )
    body: list[ast.stmt] = [ast.Expr(ast.Constant(docstring)), *_runtime_ast()]
    body.extend(generator.data())
    decide = generator.decide()
    fast = generator.fast_decide()
    body.extend(generator.constant_statements())
    body.extend([decide, fast])
    tree = ast.Module(body=body, type_ignores=[])
    return ast.fix_missing_locations(tree)


def value_ast(value: object) -> ast.expr:
    """An expression that rebuilds ``value``; strings become constants, never code."""
    if value is None or isinstance(value, bool | int | str):
        return ast.Constant(value)
    if isinstance(value, Decimal):
        return ast.Call(ast.Name("_D", ast.Load()), [ast.Constant(format(value, "f"))], [])
    if isinstance(value, dt.date):
        date_func = ast.Attribute(ast.Name("_dt", ast.Load()), "date", ast.Load())
        return ast.Call(
            date_func, [ast.Constant(value.year), ast.Constant(value.month), ast.Constant(value.day)], []
        )
    if isinstance(value, tuple):
        return ast.Tuple([value_ast(v) for v in value], ast.Load())
    if isinstance(value, frozenset):
        items = ast.Tuple([value_ast(v) for v in sorted(value)], ast.Load())
        return ast.Call(ast.Name("frozenset", ast.Load()), [items], [])
    if isinstance(value, list):
        return ast.List([value_ast(v) for v in value], ast.Load())
    if isinstance(value, dict):
        return ast.Dict([value_ast(k) for k in value], [value_ast(v) for v in value.values()])
    raise TypeError(f"cannot embed {value!r}")  # pragma: no cover


def runtime_value(value: object) -> object:
    """The runtime representation of a literal: money → its amount, percent → its number…"""
    if isinstance(value, Money):
        return value.amount
    if isinstance(value, Percent):
        return value.value
    if isinstance(value, Duration):
        return value.amount
    return value


def _assign(name: str, value: ast.expr) -> ast.stmt:
    return ast.Assign([ast.Name(name, ast.Store())], value)


def _call(function: str, *args: ast.expr) -> ast.expr:
    return ast.Call(ast.Name(function, ast.Load()), list(args), [])


# ---------------------------------------------------------------- the generator


class _Generator:
    def __init__(self, checked: CheckedPolicy) -> None:
        self.checked = checked
        self.atoms: list[tuple[str, str, str | None]] = []
        self.statements: list[ast.stmt] = []
        self.definition_vars: dict[str, str] = {}
        self.definition_atom: dict[str, int] = {}
        self.definition_leaves: dict[str, list[tuple[int, str | None]]] = {}
        self.rule_leaves: dict[str, list[tuple[int, str | None]]] = {}
        #: the atoms that hold under an odd number of `not`s: a false one satisfies the condition
        self.definition_negated: dict[str, set[int]] = {}
        self.rule_negated: dict[str, set[int]] = {}
        self.constants: dict[tuple[str, str], str] = {}
        self.constant_values: list[tuple[str, object]] = []
        self.filename = Path(checked.path).name
        for name, definition in checked.definitions.items():
            self.compile_definition(name, definition)
        self.benefit_vars = [self.compile_rule(i, "b", info) for i, info in enumerate(checked.benefits)]
        self.duty_vars = [self.compile_rule(i, "u", info) for i, info in enumerate(checked.duties)]

    def constant(self, value: object) -> ast.expr:
        """A module-level name for a constant the conditions compare with, built once at import."""
        if value is None or isinstance(value, bool | int | str):
            return ast.Constant(value)
        key = (type(value).__name__, repr(value))
        name = self.constants.get(key)
        if name is None:
            name = f"_K{len(self.constants)}"
            self.constants[key] = name
            self.constant_values.append((name, value))
        return ast.Name(name, ast.Load())

    def constant_statements(self) -> list[ast.stmt]:
        return [_assign(name, value_ast(value)) for name, value in self.constant_values]

    def at(self, node: m.Node) -> str:
        return f"{self.filename}:{node.pos.line}:{node.pos.column}"

    def new_atom(self, text: str, node: m.Node, owner: str | None) -> int:
        self.atoms.append((text, self.at(node), owner))
        return len(self.atoms) - 1

    def compile_definition(self, name: str, definition: m.Definition) -> None:
        assert definition.means is not None
        leaves: list[tuple[int, str | None]] = []
        compiler = _ExpressionCompiler(self, leaves, name)
        expr = compiler.visit(definition.means)
        self.definition_negated[name] = compiler.negated
        label = (
            f"{name}（{definition.label.value}）"
            if definition.label and definition.label.value != name
            else name
        )
        atom = self.new_atom(label, definition, name)
        var = f"d{len(self.definition_vars)}"
        self.statements.append(
            _assign(var, _call("_record", ast.Name("trace", ast.Load()), ast.Constant(atom), expr))
        )
        self.definition_vars[name] = var
        self.definition_atom[name] = atom
        self.definition_leaves[name] = [(index, via or name) for index, via in leaves]

    def compile_rule(self, index: int, prefix: str, info: RuleInfo) -> str:
        var = f"{prefix}{index}"
        rule = info.rule
        when = rule.when if isinstance(rule, m.Benefit | m.Duty) else None
        negated: set[int] = set()
        if when is None:
            expr: ast.expr = ast.Constant(True)
            leaves: list[tuple[int, str | None]] = []
        else:
            leaves = []
            compiler = _ExpressionCompiler(self, leaves, None)
            expr = compiler.visit(when)
            negated = compiler.negated
        self.statements.append(_assign(var, expr))
        self.rule_leaves[var] = leaves
        self.rule_negated[var] = negated
        return var

    # -- data
    def rule_data(self, info: RuleInfo, var: str) -> dict[str, Any]:
        rule = info.rule
        unit = info.unit
        when = rule.when if isinstance(rule, m.Benefit | m.Duty) else None
        needs = self.needed_facts(when)
        registry = self.checked.agencies.agencies
        data: dict[str, Any] = {
            "id": rule.name,
            "label": rule.label.value if rule.label else rule.name,
            "measure": {
                "number": unit.label,
                "title": unit.title.value if unit.title else "",
                "chapter": info.chapter.label if info.chapter else None,
            },
            "period": info.period,
            "own_period": rule.period is not None,  # else the document's validity (or none)
            "condition": format_condition(when) if when is not None else None,
            "atoms": tuple(self.rule_leaves[var]),
            "negated": frozenset(self.rule_negated[var]),
            "citations": tuple((c.text.value, c.note.value if c.note else None) for c in rule.citations),
            "agencies": tuple((a, registry[a].name.value) for a in info.agencies),
            "at": self.at(rule),
        }
        if isinstance(rule, m.Benefit):
            currency = None
            for lit in (rule.amount, rule.cap):
                if lit is not None and isinstance(lit.value, Money):
                    currency = lit.value.currency
            base = rule.rate.base.text if rule.rate and rule.rate.base else None
            if base is not None:
                currency = self.checked.facts[base].type.param
                if base not in needs:
                    needs = (*needs, base)
            data.update(
                kind=rule.kind.text if rule.kind else None,
                currency=currency,
                amount=runtime_value(rule.amount.value) if rule.amount else None,
                rate=runtime_value(rule.rate.rate.value) if rule.rate else None,
                rate_base=base,
                cap=runtime_value(rule.cap.value) if rule.cap else None,
                frequency=rule.frequency.text if rule.frequency else None,
            )
        elif isinstance(rule, m.Duty):
            data["levels"] = tuple((lv.label.value, lv.op, format_literal(lv.value)) for lv in rule.levels)
        data["needs"] = needs
        return data

    def needed_facts(self, condition: m.Node | None) -> tuple[str, ...]:
        found: list[str] = []

        def walk(node: m.Node) -> None:
            for name in references(node):
                if name in self.checked.facts and name not in found:
                    found.append(name)
                definition = self.checked.definitions.get(name)
                if definition is not None and definition.means is not None:
                    walk(definition.means)

        if condition is not None:
            walk(condition)
        return tuple(found)

    def data_values(self) -> dict[str, Any]:
        """The policy's data: POLICY, FACTS, ATOMS, BENEFITS, DUTIES."""
        header = self.checked.header
        policy = {
            "title": header.title.value,
            "version": header.version.value if header.version else None,
            "status": header.status.text if header.status else None,
            "jurisdiction": header.jurisdiction.value if header.jurisdiction else None,
            "issuer": header.issuer.value if header.issuer else None,
            "implements": header.implements.value if header.implements else None,
            "date": header.date.value if header.date else None,
            "source": header.source.value if header.source else None,
            "file": self.filename,
            "validity": self.checked.validity.period,
            "repeals": self.checked.validity.repeals,
            "precedence": self.checked.validity.precedence,
        }
        facts = {}
        for name, info in self.checked.facts.items():
            enum = (
                self.checked.enums.get(info.type.param or "") if info.type.kind in {"enum", "set"} else None
            )
            facts[name] = {
                "type": info.type.kind,
                "unit": info.type.param if info.type.kind in {"money", "duration"} else None,
                "values": tuple(v.name for v in enum.values) if enum else None,
                "label": info.decl.label.value if info.decl.label else name,
                "description": info.decl.description.value if info.decl.description else None,
            }
        benefits = tuple(
            self.rule_data(i, v) for i, v in zip(self.checked.benefits, self.benefit_vars, strict=True)
        )
        duties = tuple(self.rule_data(i, v) for i, v in zip(self.checked.duties, self.duty_vars, strict=True))
        return {
            "POLICY": policy,
            "FACTS": facts,
            "ATOMS": tuple(self.atoms),
            "BENEFITS": benefits,
            "DUTIES": duties,
        }

    def data(self) -> list[ast.stmt]:
        """The policy's data as assignments of literals, for the standalone module."""
        return [_assign(name, value_ast(value)) for name, value in self.data_values().items()]

    def decide(self) -> ast.FunctionDef:
        args = ast.arguments(
            posonlyargs=[],
            args=[ast.arg("facts"), ast.arg("trace")],
            kwonlyargs=[],
            kw_defaults=[],
            defaults=[],
        )
        result = ast.Tuple(
            [
                ast.Tuple([ast.Name(v, ast.Load()) for v in self.benefit_vars], ast.Load()),
                ast.Tuple([ast.Name(v, ast.Load()) for v in self.duty_vars], ast.Load()),
            ],
            ast.Load(),
        )
        getter = _assign("get", ast.Attribute(ast.Name("facts", ast.Load()), "get", ast.Load()))
        body = [getter, *self.statements, ast.Return(result)]
        return ast.FunctionDef(name="_decide", args=args, body=body, decorator_list=[], returns=None)

    def fast_decide(self) -> ast.FunctionDef:
        """``decide(facts)``: every benefit's and duty's condition (True / False / None), no trace.

        Straight-line code with the three-valued logic written out, for callers that need the
        decisions of many enterprises and not their explanations.
        """
        fast = _FastCompiler(self)
        for name, definition in self.checked.definitions.items():
            assert definition.means is not None
            fast.definition_vars[name] = fast.compile(definition.means)
        benefits = [fast.compile_rule(info.rule) for info in self.checked.benefits]
        duties = [fast.compile_rule(info.rule) for info in self.checked.duties]
        result = ast.Tuple(
            [ast.Tuple([*benefits], ast.Load()), ast.Tuple([*duties], ast.Load())],
            ast.Load(),
        )
        args = ast.arguments(
            posonlyargs=[], args=[ast.arg("facts")], kwonlyargs=[], kw_defaults=[], defaults=[]
        )
        getter = _assign("get", ast.Attribute(ast.Name("facts", ast.Load()), "get", ast.Load()))
        doc = ast.Expr(
            ast.Constant("Every benefit's and duty's condition for ``facts``: True, False or None.")
        )
        body: list[ast.stmt] = [doc, getter, *fast.statements, ast.Return(result)]
        return ast.FunctionDef(name="decide", args=args, body=body, decorator_list=[], returns=None)

    def fast_decide_one(self, kind: str, index: int, name: str) -> ast.FunctionDef:
        """Like :meth:`fast_decide` for one rule: only the definitions its condition uses."""
        from policy_dsl.check import references

        infos = self.checked.benefits if kind == "benefit" else self.checked.duties
        rule = infos[index].rule
        when = rule.when if isinstance(rule, m.Benefit | m.Duty) else None
        needed: set[str] = set()
        pending = references(when) if when is not None else []
        while pending:
            ref = pending.pop()
            definition = self.checked.definitions.get(ref)
            if definition is not None and ref not in needed:
                needed.add(ref)
                pending.extend(references(definition.means) if definition.means is not None else [])
        fast = _FastCompiler(self)
        for ref, definition in self.checked.definitions.items():  # in dependency order
            if ref in needed and definition.means is not None:
                fast.definition_vars[ref] = fast.compile(definition.means)
        result = fast.compile_rule(rule)
        return _fast_function(name, f"The condition of {kind} {index} for ``facts``.", fast, result)


def _fast_function(name: str, doc: str, fast: _FastCompiler, result: ast.expr) -> ast.FunctionDef:
    args = ast.arguments(posonlyargs=[], args=[ast.arg("facts")], kwonlyargs=[], kw_defaults=[], defaults=[])
    getter = _assign("get", ast.Attribute(ast.Name("facts", ast.Load()), "get", ast.Load()))
    body: list[ast.stmt] = [ast.Expr(ast.Constant(doc)), getter, *fast.statements, ast.Return(result)]
    return ast.FunctionDef(name=name, args=args, body=body, decorator_list=[], returns=None)


class _ExpressionCompiler(Visitor):
    """A condition → a Python expression over ``get`` (the facts) and the runtime helpers."""

    def __init__(
        self, generator: _Generator, leaves: list[tuple[int, str | None]], owner: str | None
    ) -> None:
        self.generator = generator
        self.leaves = leaves
        self.owner = owner
        self.negative = False  # inside an odd number of `not`s
        self.negated: set[int] = set()

    def leaf(self, node: m.Node, expr: ast.expr) -> ast.expr:
        atom = self.generator.new_atom(format_condition(node), node, self.owner)
        self.leaves.append((atom, None))
        if self.negative:
            self.negated.add(atom)
        return _call("_record", ast.Name("trace", ast.Load()), ast.Constant(atom), expr)

    def operand(self, node: m.Node) -> ast.expr:
        if isinstance(node, m.Reference):
            return _call("get", ast.Constant(node.name))
        assert isinstance(node, m.Literal)
        return self.generator.constant(runtime_value(node.value))

    def visit_Reference(self, node: m.Reference) -> ast.expr:
        generator = self.generator
        if node.name in generator.definition_vars:
            atom = generator.definition_atom[node.name]
            if self.negative:
                self.negated.add(atom)
            inner = generator.definition_negated[node.name]
            for index, _ in generator.definition_leaves[node.name]:
                if (index in inner) != self.negative:
                    self.negated.add(index)
            if (atom, None) not in self.leaves:
                self.leaves.append((atom, None))
                for leaf in generator.definition_leaves[node.name]:
                    if leaf not in self.leaves:
                        self.leaves.append(leaf)
            return ast.Name(generator.definition_vars[node.name], ast.Load())
        return self.leaf(node, _call("_truth", self.operand(node)))

    def visit_Literal(self, node: m.Literal) -> ast.expr:
        return ast.Constant(bool(node.value))

    def visit_Comparison(self, node: m.Comparison) -> ast.expr:
        return self.leaf(
            node, _call(_OP_FUNCTIONS[node.op], self.operand(node.left), self.operand(node.right))
        )

    def visit_Between(self, node: m.Between) -> ast.expr:
        args = (self.operand(node.subject), self.operand(node.low), self.operand(node.high))
        return self.leaf(node, _call("_between", *args))

    def visit_Membership(self, node: m.Membership) -> ast.expr:
        options = self.generator.constant(frozenset(v.text for v in node.values))
        function = "_not_in" if node.negated else "_in"
        return self.leaf(node, _call(function, self.operand(node.subject), options))

    def visit_Includes(self, node: m.Includes) -> ast.expr:
        options = self.generator.constant(tuple(v.text for v in node.values))
        function = "_includes_all" if node.mode == "all" else "_includes_any"
        return self.leaf(node, _call(function, self.operand(node.subject), options))

    def visit_Not(self, node: m.Not) -> ast.expr:
        self.negative = not self.negative
        try:
            return _call("_not", self.visit(node.operand))
        finally:
            self.negative = not self.negative

    def visit_And(self, node: m.And) -> ast.expr:
        return _call("_and", *(self.visit(op) for op in node.operands))

    def visit_Or(self, node: m.Or) -> ast.expr:
        return _call("_or", *(self.visit(op) for op in node.operands))


def _name(identifier: str) -> ast.Name:
    return ast.Name(identifier, ast.Load())


def _is(value: ast.expr, constant: bool | None) -> ast.expr:
    return ast.Compare(value, [ast.Is()], [ast.Constant(constant)])


def _any_of(tests: list[ast.expr]) -> ast.expr:
    return tests[0] if len(tests) == 1 else ast.BoolOp(ast.Or(), tests)


def _if(test: ast.expr, then: ast.expr, otherwise: ast.expr) -> ast.expr:
    return ast.IfExp(test, then, otherwise)


_COMPARE_OPS: dict[str, type[ast.cmpop]] = {
    "<": ast.Lt,
    "<=": ast.LtE,
    ">": ast.Gt,
    ">=": ast.GtE,
    "==": ast.Eq,
    "!=": ast.NotEq,
}


class _FastCompiler(Visitor):
    """A condition → straight-line statements leaving its value (True / False / None) in a local."""

    def __init__(self, generator: _Generator) -> None:
        self.generator = generator
        self.statements: list[ast.stmt] = []
        self.facts: dict[str, str] = {}
        self.definition_vars: dict[str, ast.expr] = {}
        self.count = 0

    def fresh(self, value: ast.expr) -> ast.expr:
        name = f"t{self.count}"
        self.count += 1
        self.statements.append(_assign(name, value))
        return _name(name)

    def fact(self, name: str) -> ast.expr:
        if name not in self.facts:
            local = f"f{len(self.facts)}"
            self.facts[name] = local
            self.statements.append(_assign(local, _call("get", ast.Constant(name))))
        return _name(self.facts[name])

    def operand(self, node: m.Node) -> tuple[ast.expr, bool]:
        """The operand and whether it may be None."""
        if isinstance(node, m.Reference):
            return self.fact(node.name), True
        assert isinstance(node, m.Literal)
        return self.generator.constant(runtime_value(node.value)), False

    def guarded(self, operands: list[tuple[ast.expr, bool]], value: ast.expr) -> ast.expr:
        unknown = [_is(expr, None) for expr, nullable in operands if nullable]
        return self.fresh(_if(_any_of(unknown), ast.Constant(None), value) if unknown else value)

    def compile(self, condition: m.Node) -> ast.expr:
        result: ast.expr = self.visit(condition)
        return result

    def compile_rule(self, rule: m.Node) -> ast.expr:
        when = getattr(rule, "when", None)
        return ast.Constant(True) if when is None else self.compile(when)

    def visit_Reference(self, node: m.Reference) -> ast.expr:
        if node.name in self.definition_vars:
            return self.definition_vars[node.name]
        value = self.fact(node.name)
        return self.fresh(_if(_is(value, None), ast.Constant(None), _call("bool", value)))

    def visit_Literal(self, node: m.Literal) -> ast.expr:
        return ast.Constant(bool(node.value))

    def visit_Comparison(self, node: m.Comparison) -> ast.expr:
        left, right = self.operand(node.left), self.operand(node.right)
        test = ast.Compare(left[0], [_COMPARE_OPS[node.op]()], [right[0]])
        return self.guarded([left, right], test)

    def visit_Between(self, node: m.Between) -> ast.expr:
        subject, low, high = self.operand(node.subject), self.operand(node.low), self.operand(node.high)
        above = self.guarded([low, subject], ast.Compare(low[0], [ast.LtE()], [subject[0]]))
        below = self.guarded([subject, high], ast.Compare(subject[0], [ast.LtE()], [high[0]]))
        return self.both([above, below])

    def visit_Membership(self, node: m.Membership) -> ast.expr:
        subject = self.operand(node.subject)
        options = self.generator.constant(frozenset(v.text for v in node.values))
        test = ast.Compare(subject[0], [ast.NotIn() if node.negated else ast.In()], [options])
        return self.guarded([subject], test)

    def visit_Includes(self, node: m.Includes) -> ast.expr:
        subject = self.operand(node.subject)
        options = self.generator.constant(frozenset(v.text for v in node.values))
        if node.mode == "all":
            test: ast.expr = ast.Compare(options, [ast.LtE()], [_call("frozenset", subject[0])])
        else:
            disjoint = ast.Call(ast.Attribute(options, "isdisjoint", ast.Load()), [subject[0]], [])
            test = ast.UnaryOp(ast.Not(), disjoint)
        return self.guarded([subject], test)

    def visit_Not(self, node: m.Not) -> ast.expr:
        value = self.visit(node.operand)
        return self.fresh(_if(_is(value, None), ast.Constant(None), ast.UnaryOp(ast.Not(), value)))

    def both(self, values: list[ast.expr]) -> ast.expr:
        """Kleene's and: any False decides; else any None leaves it unknown."""
        return self.fresh(
            _if(
                _any_of([_is(v, False) for v in values]),
                ast.Constant(False),
                _if(_any_of([_is(v, None) for v in values]), ast.Constant(None), ast.Constant(True)),
            )
        )

    def visit_And(self, node: m.And) -> ast.expr:
        return self.both([self.visit(op) for op in node.operands])

    def visit_Or(self, node: m.Or) -> ast.expr:
        values = [self.visit(op) for op in node.operands]
        return self.fresh(
            _if(
                _any_of([_is(v, True) for v in values]),
                ast.Constant(True),
                _if(_any_of([_is(v, None) for v in values]), ast.Constant(None), ast.Constant(False)),
            )
        )
