"""Stage 3: :class:`~policy_dsl.check.CheckedPolicy` → Python. Entry point: :func:`compile_policy`.

One code generator builds a Python :mod:`ast` module: the source of :mod:`policy_dsl.intake`
(reading facts) and :mod:`policy_dsl.runtime` followed by the policy's data (constants) and one
generated function, ``_decide``, that computes every condition with three-valued logic. The same
tree is ``compile()``-d for in-process evaluation and ``ast.unparse()``-d for ``policy compile -o
module.py``. Every generated statement carries the line of the policy construct it comes from
(the definition or rule), and in process the code is compiled under the policy's path, so a
traceback through generated code names the policy file and the line of that construct.

Security: text from a policy file only ever becomes an :class:`ast.Constant` (a string
value); every identifier in the generated code is made here. Nothing a policy says is
executed.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import importlib.resources
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from policy_dsl import model as m
from policy_dsl.check import CheckedPolicy, RuleInfo, amount_currency, amount_facts, is_ranged, references
from policy_dsl.facts import fact_table
from policy_dsl.format import format_condition, format_literal, tier_text
from policy_dsl.values import Duration, runtime_value
from policy_dsl.visitor import Visitor

_OP_FUNCTIONS = {"<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge", "==": "_eq", "!=": "_ne"}
#: Names the spliced modules declare only for type checkers: the compiler defines them per policy.
_PLACEHOLDERS = {
    "intake.py": {"FACTS", "CONTRACT"},
    "runtime.py": {
        "POLICY",
        "FACTS",
        "ATOMS",
        "BENEFITS",
        "DUTIES",
        "EXCLUSIVES",
        "EACH",
        "STAGED",
        "_decide",
        "_decide_flat",
        "read_facts",
    },
}


@attrs.frozen(eq=False)
class CompiledPolicy:
    """A policy compiled to Python: its live namespace, and (on demand) the standalone module's source."""

    checked: CheckedPolicy
    namespace: dict[str, Any]
    generator: _Generator | None = attrs.field(default=None, repr=False)
    #: held while a function is generated on first use, so that concurrent first calls build it once
    lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)

    @property
    def source(self) -> str:
        """The same code as a standalone module's text (built when asked: unparsing takes time)."""
        return module_source(self.checked)

    @property
    def decide(self) -> Callable[..., tuple[tuple[Any, ...], tuple[Any, ...]]]:
        """``decide(facts, as_of=None)`` → (benefit conditions, duty conditions): True, False or None
        each; no explanation and no period (the caller checks the date), for fast population runs.
        ``as_of`` is the day a period counted from a date (``within``) is judged on: unknown without."""
        # generated on first use (evaluation does not need it)
        if not self.namespace["EACH"]:
            function: Callable[[dict[str, Any]], tuple[tuple[Any, ...], tuple[Any, ...]]] = self._define(
                "decide", lambda generator: generator.fast_decide()
            )
            return function
        # benefits decided per item: the generated code decides one set of facts; each such benefit
        # is decided over the enterprise's items by its own decider (not the whole policy per item)
        cached: Callable[..., tuple[tuple[Any, ...], tuple[Any, ...]]] | None = self.namespace.get("#decide")
        if cached is not None:
            return cached
        flat = self._define("_decide_flat", lambda generator: generator.fast_decide("_decide_flat"))
        items_decision = self.namespace["_items_decision"]

        def one_rule(index: int) -> Callable[[_Generator], ast.FunctionDef]:
            return lambda generator: generator.fast_decide_one("benefit", index, f"decide_benefit_{index}")

        per_item = [
            (index, each, self._define(f"decide_benefit_{index}", one_rule(index)))
            for index, each in self.namespace["EACH"]
        ]

        def decide(facts: dict[str, Any], as_of: Any = None) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
            benefits, duties = flat(facts, as_of)
            benefits = list(benefits)
            for index, each, one in per_item:
                benefits[index] = items_decision(one, facts, as_of, each)
            return tuple(benefits), duties

        with self.lock:  # threads calling at once on a fresh policy all get the same function
            kept: Callable[..., tuple[tuple[Any, ...], tuple[Any, ...]]] = self.namespace.setdefault(
                "#decide", decide
            )
        return kept

    def _define(self, name: str, build: Callable[[_Generator], ast.FunctionDef]) -> Any:
        """The namespace's function ``name``, generated by ``build`` and compiled on first use.

        Checked twice: without the lock (the usual case: already there) and under it, so that
        threads calling at once on a fresh policy generate and compile it once and all get the
        same function; the generator's state is only changed under the lock.
        """
        function = self.namespace.get(name)
        if function is not None:
            return function
        with self.lock:
            function = self.namespace.get(name)
            if function is None:
                generator = self.generator
                assert generator is not None
                defined = build(generator)
                added = [
                    statement
                    for (constant, _), statement in zip(
                        generator.constant_values, generator.constant_statements(), strict=True
                    )
                    if constant not in self.namespace
                ]
                tree = ast.Module(body=[*added, defined], type_ignores=[])
                exec(compile(tree, self.checked.path, "exec"), self.namespace)
                function = self.namespace[name]
        return function

    def rule_decider(self, kind: str, index: int) -> Callable[..., Any]:
        """``decide(facts, as_of=None)`` for one rule only (``kind`` "benefit" or "duty", its index):
        its condition (True / False / None) computing just the definitions it uses, for the diff's
        many evaluations of one rule at a time. Generated on first use and kept in the namespace.
        A benefit decided per item (``for each``) is decided over the items in ``facts``."""
        name = f"decide_{kind}_{index}"
        decider: Callable[..., Any] = self._define(
            name, lambda generator: generator.fast_decide_one(kind, index, name)
        )
        each = dict(self.namespace["EACH"]).get(index) if kind == "benefit" else None
        if each is None:
            return decider
        items_decision = self.namespace["_items_decision"]

        def over_items(facts: dict[str, Any], as_of: Any = None) -> Any:
            return items_decision(decider, facts, as_of, each)

        return over_items

    def rule_fingerprint(self, kind: str, index: int) -> str:
        """What decides one rule's condition, as text two versions can compare: the code of its
        :meth:`rule_decider` with every constant written out by value (sets sorted) and no name,
        index or docstring. Equal texts compute the same condition for every set of facts."""
        assert self.generator is not None
        with self.lock:  # the generator's constants grow: not while another thread generates
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

        return ast.unparse(ast.Module(body=[_Inline().visit(function)], type_ignores=[]))

    @property
    def evaluate(self) -> Callable[..., dict[str, Any]]:
        """``evaluate(values, as_of, adopted)`` → the raw outcome (see :mod:`policy_dsl.runtime`), for
        values already read (as :func:`~policy_dsl.facts.validate_facts` gives them); the standalone
        module's ``evaluate`` reads its facts first, this one does not read them again."""
        function: Callable[..., dict[str, Any]] = self.namespace["_evaluate"]
        return function


def compile_policy(checked: CheckedPolicy) -> CompiledPolicy:
    """Compile a checked policy into a live Python module.

    The code — the runtime and the generated ``_decide`` — is compiled from the same AST the
    standalone module is unparsed from; the policy's data (labels, citations, constants) goes into
    the namespace as the very values the standalone module's literals rebuild.
    """
    generator = _Generator(checked)
    # the fast ``decide`` is generated when first asked for
    functions = [generator.decide(), *generator.stage_deciders()]
    body = [*generator.constant_statements(), *functions]
    # Compiled under the policy's path: a traceback shows the policy file and the rule's line.
    code = compile(ast.Module(body=body, type_ignores=[]), checked.path, "exec")
    namespace: dict[str, Any] = {"__name__": "policy_dsl_compiled", "__builtins__": __builtins__}
    # The intake and runtime are the same for every policy: compiled once per process, run in each.
    for shared in _shared_code():
        exec(shared, namespace)
    exec(code, namespace)  # the tree holds only our runtime and generated names; no policy text
    namespace.update(generator.data_values())
    return CompiledPolicy(checked, namespace, generator)


def module_source(checked: CheckedPolicy) -> str:
    """The source of a standalone Python module with no dependency on policy_dsl."""
    return ast.unparse(module_ast(checked)) + "\n"


# ---------------------------------------------------------------- module assembly


@functools.cache
def _shared_text(module: str) -> tuple[str, str]:
    """The text of a spliced module (``intake.py``, ``runtime.py``) and the path to report it under."""
    resource = importlib.resources.files("policy_dsl").joinpath(module)
    return resource.read_text(encoding="utf-8"), str(resource)


@functools.cache
def _shared_code() -> tuple[Any, ...]:
    """The intake's and the runtime's code objects, as the standalone module holds them (same
    statements), compiled under their own files so that tracebacks show their lines."""
    codes = []
    for module in _PLACEHOLDERS:
        path = _shared_text(module)[1]
        codes.append(compile(ast.Module(body=_shared_ast(module), type_ignores=[]), path, "exec"))
    return tuple(codes)


def _shared_ast(module: str) -> list[ast.stmt]:
    """The statements of a spliced module, without its docstring and its placeholders."""
    placeholders = _PLACEHOLDERS[module]
    body = ast.parse(_shared_text(module)[0]).body
    kept: list[ast.stmt] = []
    for index, stmt in enumerate(body):
        if index == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # the module's own docstring
        if isinstance(stmt, ast.FunctionDef) and stmt.name in placeholders:
            continue
        if isinstance(stmt, ast.AnnAssign | ast.Assign):
            targets = [stmt.target] if isinstance(stmt, ast.AnnAssign) else stmt.targets
            if any(isinstance(t, ast.Name) and t.id in placeholders for t in targets):
                continue
        kept.append(stmt)
    return kept


def _runtime_ast() -> list[ast.stmt]:
    """What every standalone module holds before its policy: the intake, then the runtime."""
    return [*_shared_ast("intake.py"), *_shared_ast("runtime.py")]


def module_ast(checked: CheckedPolicy) -> ast.Module:
    generator = _Generator(checked)
    docstring = _located(ast.Expr(ast.Constant(module_docstring(checked))), 1)
    data = [_located(statement, 1) for statement in generator.data()]
    decide = generator.decide()
    fast: list[ast.stmt] = [*generator.stage_deciders(), generator.fast_decide()]
    if any(isinstance(i.rule, m.Benefit) and i.rule.each is not None for i in checked.benefits):
        fast = [generator.fast_decide("_decide_flat"), _items_wrapper()]
    body: list[ast.stmt] = [
        docstring,
        *_runtime_ast(),
        *data,
        *generator.constant_statements(),
        decide,
        *fast,
    ]
    return ast.Module(body=body, type_ignores=[])


def _items_wrapper() -> ast.FunctionDef:
    """``decide`` of a policy with benefits decided per item: the generated ``_decide_flat`` for one
    set of facts, applied per item by the runtime's ``_decide_items``."""
    tree = ast.parse(
        "def decide(facts, as_of=None):\n"
        '    """Every benefit\'s and duty\'s condition for ``facts``; a benefit `for each` item'
        ' over its items."""\n'
        "    return _decide_items(_decide_flat, facts, as_of)\n"
    )
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    return _located(function, 1)  # type: ignore[no-any-return]


def module_docstring(checked: CheckedPolicy) -> str:
    """The standalone module's contract: what it accepts, what it returns, what it raises."""
    from policy_dsl import intake

    name = Path(checked.path).name
    facts = "\n".join(
        f"    {fact}: {info.type}"
        + (f" ({info.decl.label.value})" if info.decl.label and info.decl.label.value != fact else "")
        for fact, info in checked.facts.items()
    )
    return (
        f"Generated by policy_dsl from {name}: {checked.title}.\n\n"
        "Do not edit; regenerate with `policy compile`. This module needs only the standard library.\n\n"
        "evaluate(facts, as_of=None, adopted=False, allow_float=False) reads ``facts`` (a mapping of\n"
        "fact names to values; a fact left out, or None, is unknown) with read_facts and returns the\n"
        "outcome of every benefit and duty as a dict of plain values (Decimal amounts, dates);\n"
        "to_json(outcome) makes it JSON-ready. read_facts(facts) raises FactsError, a ValueError whose\n"
        ".problems lists every (fact, message, hint) at once: an unknown fact name, a wrong type, an\n"
        "unknown enum value, an amount in another currency, a negative amount. decide(values) gives\n"
        "only the conditions (True, False or None per benefit and duty) for values read_facts\n"
        "returned.\n\n"
        f"Each rule's `at` (in BENEFITS and DUTIES) is its line and column in {name}; _decide's\n"
        "docstring says which rule each of its variables decides (b<i> is BENEFITS[i], u<i> DUTIES[i]).\n\n"
        f"The facts of this policy (FACTS):\n{facts}\n\n{intake.CONTRACT}"
    )


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


def _assign(name: str, value: ast.expr) -> ast.stmt:
    return ast.Assign([ast.Name(name, ast.Store())], value)


def _located(node: Any, line: int) -> Any:
    """``node`` with every node under it placed on ``line`` of the policy file.

    Set directly, once per generated statement, instead of ``ast.fix_missing_locations`` over the
    whole module (a third of the compile time): the generated code is new, nothing is kept.
    """
    stack = [node]
    while stack:
        item = stack.pop()
        item.lineno = item.end_lineno = line
        item.col_offset = item.end_col_offset = 0
        for field in item._fields:
            value = getattr(item, field, None)
            if isinstance(value, ast.AST):
                if not isinstance(value, ast.expr_context):
                    stack.append(value)
            elif isinstance(value, list):
                stack.extend(v for v in value if isinstance(v, ast.AST))
    return node


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
        #: the policy line each constant was first needed on, and the line being compiled
        self.constant_lines: dict[str, int] = {}
        self.line = 1
        self.filename = Path(checked.path).name
        for name, definition in checked.definitions.items():
            self.compile_definition(name, definition)
        self.benefit_vars = [self.compile_rule(i, "b", info) for i, info in enumerate(checked.benefits)]
        self.duty_vars = [self.compile_rule(i, "u", info) for i, info in enumerate(checked.duties)]

    def open_listed(self, node: m.Node) -> ast.expr | None:
        """For a fact of an open enum (等), or a set of one: its listed values, as a constant."""
        if not isinstance(node, m.Reference):
            return None
        info = self.checked.all_facts.get(node.name)  # an item's fact too
        if info is None or info.type.kind not in ("enum", "set"):
            return None
        enum = self.checked.enums.get(info.type.param or "")
        if enum is None or not enum.open:
            return None
        return self.constant(frozenset(v.name for v in enum.values))

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
            self.constant_lines[name] = self.line
        return ast.Name(name, ast.Load())

    def constant_statements(self) -> list[ast.stmt]:
        return [
            _located(_assign(name, value_ast(value)), self.constant_lines[name])
            for name, value in self.constant_values
        ]

    def at(self, node: m.Node) -> str:
        return f"{self.filename}:{node.pos.line}:{node.pos.column}"

    def new_atom(self, text: str, node: m.Node, owner: str | None) -> int:
        self.atoms.append((text, self.at(node), owner))
        return len(self.atoms) - 1

    def compile_definition(self, name: str, definition: m.Definition) -> None:
        assert definition.means is not None
        self.line = definition.pos.line
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
            _located(
                _assign(var, _call("_record", ast.Name("trace", ast.Load()), ast.Constant(atom), expr)),
                self.line,
            )
        )
        self.definition_vars[name] = var
        self.definition_atom[name] = atom
        self.definition_leaves[name] = [(index, via or name) for index, via in leaves]

    def compile_rule(self, index: int, prefix: str, info: RuleInfo) -> str:
        var = f"{prefix}{index}"
        rule = info.rule
        self.line = rule.pos.line
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
        self.statements.append(_located(_assign(var, expr), self.line))
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
            currency = amount_currency(self.checked.all_facts, rule)
            base = rule.rate.base.text if rule.rate and rule.rate.base else None
            per = rule.per.text if rule.per is not None else None
            needs = (*needs, *(name for name in amount_facts(rule) if name not in needs))
            for group in self.checked.staged:  # what the stages reached depend on
                if rule.name in group.members:
                    for stage in group.rule.stages:
                        needs = (*needs, *(n for n in self.needed_facts(stage.when) if n not in needs))
            tiers = self.tiers_data(rule.tiers) if rule.tiers is not None else None
            above = rule.rate.above if rule.rate is not None else None
            data.update(
                kind=rule.kind.text if rule.kind else None,
                commits=rule.commits.text if rule.commits else "entitled",
                currency=currency,
                amount=runtime_value(rule.amount.value) if rule.amount else None,
                amount_high=runtime_value(rule.amount_high.value) if rule.amount_high else None,
                per=per,
                rate=runtime_value(rule.rate.rate.value) if rule.rate else None,
                rate_high=runtime_value(rule.rate.high.value) if rule.rate and rule.rate.high else None,
                # a range (5%—20%, 10万元—100万元) or a floor (不低于): no single amount, decided case by case
                ranged=is_ranged(rule),
                rate_base=base,
                tiers=tiers,
                cap=runtime_value(rule.cap.value) if rule.cap else None,
                minimum=runtime_value(rule.minimum.value) if rule.minimum else None,
                cap_facts=tuple(n.text for n in rule.cap_facts),
                each=rule.each.text if rule.each is not None else None,
                staged=next((g for g, s in enumerate(self.checked.staged) if rule.name in s.members), None),
                cap_total=runtime_value(rule.cap_total.value) if rule.cap_total else None,
                cap_total_facts=tuple(n.text for n in rule.cap_total_facts),
                rate_above=runtime_value(above.value) if isinstance(above, m.Literal) else None,
                rate_above_fact=above.text if isinstance(above, m.Name) else None,
                frequency=rule.frequency.text if rule.frequency else None,
            )
        elif isinstance(rule, m.Duty):
            data["levels"] = tuple((lv.label.value, lv.op, format_literal(lv.value)) for lv in rule.levels)
            data["enterprise"] = rule.enterprise  # an obligation of the enterprise (企业应当…)
            data["sanctions"] = tuple(s.value for s in rule.sanctions)
        data["needs"] = needs
        return data

    def tiers_data(self, tiers: m.Tiers) -> dict[str, Any]:
        """A tiered schedule as the runtime reads it: the fact, and per band its ends and what it pays."""
        bands = []
        for tier in tiers.tiers:
            base = tier.base.text if tier.base is not None else None
            if tier.rate is not None and base is None and not tiers.marginal and not tiers.year_of:
                base = tiers.fact.text  # `rate 5%` in `tiers by 投资`: of 投资 itself
            bands.append(
                {
                    "low": runtime_value(tier.low.value) if tier.low is not None else None,
                    "low_open": tier.low_open,
                    "high": runtime_value(tier.high.value) if tier.high is not None else None,
                    "high_open": tier.high_open,
                    "amount": runtime_value(tier.amount.value) if tier.amount is not None else None,
                    "per": tier.per.text if tier.per is not None else None,
                    "rate": runtime_value(tier.rate.value) if tier.rate is not None else None,
                    "base": base,
                    "text": tier_text(tier, tiers.year_of),
                }
            )
        return {
            "fact": tiers.fact.text,
            "marginal": tiers.marginal,
            "year_of": tiers.year_of,
            "bands": tuple(bands),
        }

    def needed_facts(self, condition: m.Node | None) -> tuple[str, ...]:
        found: list[str] = []

        def walk(node: m.Node) -> None:
            for name in references(node):
                if name in self.checked.all_facts and name not in found:
                    found.append(name)
                definition = self.checked.definitions.get(name)
                if definition is not None and definition.means is not None:
                    walk(definition.means)

        if condition is not None:
            walk(condition)
        return tuple(found)

    def data_values(self) -> dict[str, Any]:
        """The policy's data: POLICY, FACTS, ATOMS, BENEFITS, DUTIES, EXCLUSIVES, EACH."""
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
        facts = fact_table(self.checked)
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
            "EXCLUSIVES": self.exclusives_data(),
            "STAGED": self.staged_data(),
            # the benefits decided per item (`for each`): (index in BENEFITS, the list of items)
            "EACH": tuple(
                (i, info.rule.each.text)
                for i, info in enumerate(self.checked.benefits)
                if isinstance(info.rule, m.Benefit) and info.rule.each is not None
            ),
        }

    def staged_data(self) -> tuple[dict[str, Any], ...]:
        """The staged payments (分阶段兑现): members as indexes of BENEFITS, and per stage its share,
        its condition as written and the name of the function deciding it."""
        index = {info.rule.name: i for i, info in enumerate(self.checked.benefits)}
        return tuple(
            {
                "id": group.rule.name,
                "label": group.rule.label.value if group.rule.label else group.rule.name,
                "members": tuple(index[name] for name in group.members),
                "stages": tuple(
                    {
                        "share": share,
                        "condition": format_condition(stage.when),
                        "decide": f"_stage_{g}_{k}",
                    }
                    for k, (stage, share) in enumerate(zip(group.rule.stages, group.shares, strict=True))
                ),
                "citations": tuple(
                    (c.text.value, c.note.value if c.note else None) for c in group.rule.citations
                ),
            }
            for g, group in enumerate(self.checked.staged)
        )

    def exclusives_data(self) -> tuple[dict[str, Any], ...]:
        """The exclusive groups (不重复享受): how one is kept, and the members as indexes of BENEFITS."""
        index = {info.rule.name: i for i, info in enumerate(self.checked.benefits)}
        return tuple(
            {
                "id": group.rule.name,
                "label": group.rule.label.value if group.rule.label else group.rule.name,
                "keep": group.keep,
                "members": tuple(index[name] for name in group.members),
                "citations": tuple(
                    (c.text.value, c.note.value if c.note else None) for c in group.rule.citations
                ),
            }
            for group in self.checked.exclusives
        )

    def data(self) -> list[ast.stmt]:
        """The policy's data as assignments of literals, for the standalone module."""
        return [_assign(name, value_ast(value)) for name, value in self.data_values().items()]

    def decide(self) -> ast.FunctionDef:
        args = ast.arguments(
            posonlyargs=[],
            args=[ast.arg("facts"), ast.arg("trace"), ast.arg("as_of")],
            kwonlyargs=[],
            kw_defaults=[],
            defaults=[ast.Constant(None)],  # the day of evaluation, for periods counted from a date
        )
        result = ast.Tuple(
            [
                ast.Tuple([ast.Name(v, ast.Load()) for v in self.benefit_vars], ast.Load()),
                ast.Tuple([ast.Name(v, ast.Load()) for v in self.duty_vars], ast.Load()),
            ],
            ast.Load(),
        )
        where = "; ".join(
            f"{var} {info.rule.name} ({self.at(info.rule)})"
            for infos, names in (
                (self.checked.benefits, self.benefit_vars),
                (self.checked.duties, self.duty_vars),
            )
            for info, var in zip(infos, names, strict=True)
        )
        doc = ast.Expr(ast.Constant(f"Every condition, each test recorded in ``trace``. Rules: {where}."))
        getter = _assign("get", ast.Attribute(ast.Name("facts", ast.Load()), "get", ast.Load()))
        body = [_located(doc, 1), _located(getter, 1), *self.statements, _located(ast.Return(result), 1)]
        return _function_def("_decide", args, body)

    def fast_decide(self, function_name: str = "decide") -> ast.FunctionDef:
        """``decide(facts)``: every benefit's and duty's condition (True / False / None), no trace.

        Straight-line code with the three-valued logic written out, for callers that need the
        decisions of many enterprises and not their explanations.
        """
        fast = _FastCompiler(self)
        for name, definition in self.checked.definitions.items():
            assert definition.means is not None
            fast.at(definition)
            fast.definition_vars[name] = fast.compile(definition.means)
        benefits = [fast.compile_rule(info.rule) for info in self.checked.benefits]
        duties = [fast.compile_rule(info.rule) for info in self.checked.duties]
        result = ast.Tuple(
            [ast.Tuple([*benefits], ast.Load()), ast.Tuple([*duties], ast.Load())],
            ast.Load(),
        )
        args = _facts_and_day()
        getter = _assign("get", ast.Attribute(ast.Name("facts", ast.Load()), "get", ast.Load()))
        doc = ast.Expr(
            ast.Constant(
                "Every benefit's and duty's condition for ``facts`` (on ``as_of``, for a period counted"
                " from a date: unknown without it): True, False or None."
            )
        )
        body: list[ast.stmt] = [
            _located(doc, 1),
            _located(getter, 1),
            *fast.statements,
            _located(ast.Return(result), 1),
        ]
        return _function_def(function_name, args, body)

    def stage_deciders(self) -> list[ast.FunctionDef]:
        """``_stage_<g>_<k>(facts, as_of=None)``: whether stage k of staged payment g is reached."""
        functions = []
        for g, info in enumerate(self.checked.staged):
            for k, stage in enumerate(info.rule.stages):
                doc = f"Whether stage {k + 1} of staged payment {g} is reached (True / False / None)."
                self.line = stage.pos.line
                functions.append(self.fast_condition(f"_stage_{g}_{k}", stage.when, doc, stage))
        return functions

    def fast_with_definitions(self, when: m.Node | None) -> _FastCompiler:
        """A fast compiler that has computed just the definitions ``when`` uses, in dependency order."""
        from policy_dsl.check import references

        needed: set[str] = set()
        pending = references(when) if when is not None else []
        while pending:
            ref = pending.pop()
            definition = self.checked.definitions.get(ref)
            if definition is not None and ref not in needed:
                needed.add(ref)
                pending.extend(references(definition.means) if definition.means is not None else [])
        fast = _FastCompiler(self)
        for ref, definition in self.checked.definitions.items():
            if ref in needed and definition.means is not None:
                fast.at(definition)
                fast.definition_vars[ref] = fast.compile(definition.means)
        return fast

    def fast_condition(self, name: str, when: m.Node | None, doc: str, node: m.Node) -> ast.FunctionDef:
        """A decider of one condition, computing only the definitions it uses."""
        fast = self.fast_with_definitions(when)
        fast.at(node)
        result = fast.compile(when) if when is not None else ast.Constant(True)
        return _fast_function(name, doc, fast, result)

    def fast_decide_one(self, kind: str, index: int, name: str) -> ast.FunctionDef:
        """Like :meth:`fast_decide` for one rule: only the definitions its condition uses."""
        infos = self.checked.benefits if kind == "benefit" else self.checked.duties
        rule = infos[index].rule
        fast = self.fast_with_definitions(rule.when if isinstance(rule, m.Benefit | m.Duty) else None)
        result = fast.compile_rule(rule)
        return _fast_function(name, f"The condition of {kind} {index} for ``facts``.", fast, result)


def _facts_and_day() -> ast.arguments:
    """``(facts, as_of=None)``: the arguments of a generated decider."""
    return ast.arguments(
        posonlyargs=[],
        args=[ast.arg("facts"), ast.arg("as_of")],
        kwonlyargs=[],
        kw_defaults=[],
        defaults=[ast.Constant(None)],
    )


def _fast_function(name: str, doc: str, fast: _FastCompiler, result: ast.expr) -> ast.FunctionDef:
    args = _facts_and_day()
    getter = _assign("get", ast.Attribute(ast.Name("facts", ast.Load()), "get", ast.Load()))
    body: list[ast.stmt] = [
        _located(ast.Expr(ast.Constant(doc)), 1),
        _located(getter, 1),
        *fast.statements,
        _located(ast.Return(result), 1),
    ]
    return _function_def(name, args, body)


def _function_def(name: str, args: ast.arguments, body: list[ast.stmt]) -> ast.FunctionDef:
    """A function of generated statements that already carry their lines."""
    function = ast.FunctionDef(name=name, args=_located(args, 1), body=body, decorator_list=[], returns=None)
    function.lineno = function.end_lineno = 1
    function.col_offset = function.end_col_offset = 0
    return function


class _ExpressionCompiler(Visitor):
    """A condition → a Python expression over ``get`` (the facts) and the runtime helpers."""

    def __init__(
        self, generator: _Generator, leaves: list[tuple[int, str | None]], owner: str | None
    ) -> None:
        self.generator = generator
        self.leaves = leaves
        self.listed = set(leaves)  # what `leaves` holds, for membership tests in constant time
        self.owner = owner
        self.negative = False  # inside an odd number of `not`s
        self.negated: set[int] = set()

    def add_leaf(self, leaf: tuple[int, str | None]) -> None:
        if leaf not in self.listed:
            self.listed.add(leaf)
            self.leaves.append(leaf)

    def leaf(self, node: m.Node, expr: ast.expr) -> ast.expr:
        atom = self.generator.new_atom(format_condition(node), node, self.owner)
        self.add_leaf((atom, None))
        if self.negative:
            self.negated.add(atom)
        return _call("_record", ast.Name("trace", ast.Load()), ast.Constant(atom), expr)

    def operand(self, node: m.Node) -> ast.expr:
        if isinstance(node, m.Reference):
            return _call("get", ast.Constant(node.name))
        if isinstance(node, m.YearOf):  # 自认定当年起第几年, on the day of evaluation
            return _call("_year_of", self.operand(node.subject), ast.Name("as_of", ast.Load()))
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
            if (atom, None) not in self.listed:
                self.add_leaf((atom, None))
                for leaf in generator.definition_leaves[node.name]:
                    self.add_leaf(leaf)
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

    def visit_Within(self, node: m.Within) -> ast.expr:
        length = node.length.value
        assert isinstance(length, Duration)
        args = (ast.Constant(length.amount), ast.Constant(length.unit), ast.Name("as_of", ast.Load()))
        return self.leaf(node, _call("_within", self.operand(node.subject), *args))

    def visit_Membership(self, node: m.Membership) -> ast.expr:
        options = self.generator.constant(frozenset(v.text for v in node.values))
        listed = self.generator.open_listed(node.subject)
        if listed is not None:  # an open enum (等): a value not listed leaves the test unknown
            function = "_not_in_open" if node.negated else "_in_open"
            return self.leaf(node, _call(function, self.operand(node.subject), options, listed))
        function = "_not_in" if node.negated else "_in"
        return self.leaf(node, _call(function, self.operand(node.subject), options))

    def visit_Includes(self, node: m.Includes) -> ast.expr:
        options = self.generator.constant(tuple(v.text for v in node.values))
        listed = self.generator.open_listed(node.subject)
        if listed is not None and node.mode != "all":  # `includes all` asks for listed values: no doubt
            return self.leaf(node, _call("_includes_any_open", self.operand(node.subject), options, listed))
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
        self.line = 1

    def at(self, node: m.Node) -> None:
        """The statements from here on come from ``node`` (a definition or a rule)."""
        self.line = self.generator.line = node.pos.line

    def fresh(self, value: ast.expr) -> ast.expr:
        name = f"t{self.count}"
        self.count += 1
        self.statements.append(_located(_assign(name, value), self.line))
        return _name(name)

    def fact(self, name: str) -> ast.expr:
        if name not in self.facts:
            local = f"f{len(self.facts)}"
            self.facts[name] = local
            self.statements.append(_located(_assign(local, _call("get", ast.Constant(name))), self.line))
        return _name(self.facts[name])

    def operand(self, node: m.Node) -> tuple[ast.expr, bool]:
        """The operand and whether it may be None."""
        if isinstance(node, m.Reference):
            return self.fact(node.name), True
        if isinstance(node, m.YearOf):
            year = _call("_year_of", self.fact(node.subject.name), ast.Name("as_of", ast.Load()))
            return self.fresh(year), True
        assert isinstance(node, m.Literal)
        return self.generator.constant(runtime_value(node.value)), False

    def guarded(self, operands: list[tuple[ast.expr, bool]], value: ast.expr) -> ast.expr:
        unknown = [_is(expr, None) for expr, nullable in operands if nullable]
        return self.fresh(_if(_any_of(unknown), ast.Constant(None), value) if unknown else value)

    def compile(self, condition: m.Node) -> ast.expr:
        result: ast.expr = self.visit(condition)
        return result

    def compile_rule(self, rule: m.Node) -> ast.expr:
        self.at(rule)
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

    def visit_Within(self, node: m.Within) -> ast.expr:
        length = node.length.value
        assert isinstance(length, Duration)
        args = (ast.Constant(length.amount), ast.Constant(length.unit), ast.Name("as_of", ast.Load()))
        return self.fresh(_call("_within", self.operand(node.subject)[0], *args))

    def visit_Between(self, node: m.Between) -> ast.expr:
        subject, low, high = self.operand(node.subject), self.operand(node.low), self.operand(node.high)
        above = self.guarded([low, subject], ast.Compare(low[0], [ast.LtE()], [subject[0]]))
        below = self.guarded([subject, high], ast.Compare(subject[0], [ast.LtE()], [high[0]]))
        return self.both([above, below])

    def visit_Membership(self, node: m.Membership) -> ast.expr:
        subject = self.operand(node.subject)
        options = self.generator.constant(frozenset(v.text for v in node.values))
        listed = self.generator.open_listed(node.subject)
        if listed is not None:  # an open enum (等): the runtime's three-valued test
            function = "_not_in_open" if node.negated else "_in_open"
            return self.fresh(_call(function, subject[0], options, listed))
        test = ast.Compare(subject[0], [ast.NotIn() if node.negated else ast.In()], [options])
        return self.guarded([subject], test)

    def visit_Includes(self, node: m.Includes) -> ast.expr:
        subject = self.operand(node.subject)
        options = self.generator.constant(frozenset(v.text for v in node.values))
        listed = self.generator.open_listed(node.subject)
        if listed is not None and node.mode != "all":
            return self.fresh(_call("_includes_any_open", subject[0], options, listed))
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
