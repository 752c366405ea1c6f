"""Nothing a policy file says is ever executed: its strings are data, its names are only keys.

The policy below hides Python in every string a user controls (labels, titles, citations,
notes, agency names, the file name) and names its facts, definitions, rules, enums and agencies
after builtins, Python keywords and the identifiers of the generated code. Compiled, exported and
evaluated, it must behave as plain data: the strings come back verbatim, the sentinel file is
never created, and in the generated source every policy string is an ``ast.Constant``.
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib.util
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy_dsl import loads
from policy_dsl.check import CheckedPolicy, check
from policy_dsl.compile import compile_policy, module_source
from policy_dsl.parse import parse

#: The file name itself carries quotes, braces, a comment sign and a backslash.
FILE_NAME = 'in\\j"""\'{x}#.policy'


def payloads(sentinel: Path) -> dict[str, str]:
    """Strings that would run ``touch sentinel`` if any of them ever became code."""
    cmd = f"touch {sentinel}"
    return {
        "title": f"\"\"\"; __import__('os').system('{cmd}') #",
        "issuer": f'\'); __import__("os").system("{cmd}"); (\'',
        "agency": f"\\\"; import os; os.system('{cmd}') #\\",
        "alias": f"{{__import__('os').system('{cmd}')}}",
        "agency_note": f"\nimport os\nos.system('{cmd}')\n# ",
        "fact_label": f"\\'; exec(\"__import__('os').system('{cmd}')\") #",
        "fact_description": f"'''+__import__('os').system('{cmd}')+'''",
        "definition_label": f"{{0.__class__.__mro__}} {{cmd!r}} %s %(x)s eval('{cmd}')",
        # A heading of the source text is one short line, so this one cannot name the sentinel's path.
        "measure_title": "措施\"]; __import__('os').system('echo pwned'); x=[\"",
        "benefit_label": f'"""\n__import__(\'os\').system(\'{cmd}\')\n"""',
        "citation": f"对__import__('os').system('{cmd}')给予补贴。",
        "note": f"// \\u0000 \\\\ \\n {cmd} \u0000 \u2028 \ufeff",
        "duty_label": f"lambda: __import__('os').system('{cmd}')",
        "level": f'f\'{{__import__("os").system("{cmd}")}}\'',
        "rule_citation": f"# {cmd}\n''' \\",
    }


def q(text: str) -> str:
    """A string literal of the policy language (JSON escapes: \\n, \\", \\\\, \\uXXXX)."""
    return json.dumps(text, ensure_ascii=False)


def policy_text(p: dict[str, str]) -> str:
    return f"""
policy {q(p["title"])} {{
    issuer {q(p["issuer"])}
    status draft
    source "source.txt"
}}

agency os {q(p["agency"])} {{
    aliases {q(p["alias"])}
    note {q(p["agency_note"])}
}}

enum eval {{ get, trace, None "{{None}}" }}

fact __import__: bool {{
    label {q(p["fact_label"])}
    description {q(p["fact_description"])}
}}
fact get: money CNY
fact trace: eval
fact d0: integer
fact _decide: set of eval
fact import: date
fact lambda: duration days
fact True: percent

definition b0 {q(p["definition_label"])} {{
    means __import__ and get >= 100万元
    cite {q(p["citation"])} note {q(p["note"])}
}}

definition evaluate {{
    means b0 or trace in {{get, None}}
    cite {q(p["citation"])}
}}

measure （一） {q(p["measure_title"])} {{
    agencies os
    cite {q(p["citation"])} note {q(p["note"])}

    benefit u0 {q(p["benefit_label"])} {{
        kind subsidy
        when evaluate and d0 > 1
        rate 50% of get
        cap 10万元
        cite {q(p["rule_citation"])} note {q(p["note"])}
    }}

    benefit _record {q(p["title"])} {{
        kind other
        when not import between 2022-01-01 and 2022-12-31 and lambda < 5天 and True >= 1%
        amount 5元
        cite {q(p["citation"])}
    }}

    duty facts {q(p["duty_label"])} {{
        when _decide includes any {{get, trace}}
        level {q(p["level"])} <= 3天
        cite {q(p["rule_citation"])}
    }}
}}
"""


def write_policy(directory: Path, sentinel: Path) -> tuple[Path, dict[str, str]]:
    p = payloads(sentinel)
    lines = ["注入测试文件", "（一）" + p["measure_title"], p["citation"], p["rule_citation"]]
    source = "\n".join(lines) + "\n"
    (directory / "source.txt").write_text(source, encoding="utf-8")
    path = directory / FILE_NAME
    path.write_text(policy_text(p), encoding="utf-8")
    return path, p


FACTS: dict[str, Any] = {
    "__import__": True,
    "get": Decimal("2000000"),
    "trace": "get",
    "d0": 2,
    "_decide": frozenset({"trace"}),
    "import": dt.date(2023, 1, 1),
    "lambda": 3,
    "True": Decimal("1"),
}


@pytest.fixture
def injected(tmp_path: Path) -> tuple[CheckedPolicy, dict[str, str], Path]:
    sentinel = tmp_path / "pwned"
    path, p = write_policy(tmp_path, sentinel)
    checked = check(parse(path.read_text(encoding="utf-8"), str(path)), str(path))
    return checked, p, sentinel


#: Strings the compiled policy does not need, so it need not carry them.
NOT_EMBEDDED = {"alias", "agency_note"}


def policy_strings(p: dict[str, str]) -> list[str]:
    return [*(text for key, text in p.items() if key not in NOT_EMBEDDED), FILE_NAME]


def assert_only_constants(source: str, strings: list[str], sentinel: Path) -> None:
    """Blank every string constant: what remains (the code) holds no trace of the policy's strings."""
    tree = ast.parse(source)
    constants = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    for text in strings:
        assert any(text in c for c in constants), f"{text!r} is not kept as a string constant"

    class Blank(ast.NodeTransformer):
        def visit_Constant(self, node: ast.Constant) -> ast.Constant:
            return ast.Constant("") if isinstance(node.value, str) else node

    code = ast.unparse(Blank().visit(tree))
    for marker in (str(sentinel), "system", "__import__", "touch", "pwned", "exec(", "__class__"):
        assert marker not in code, f"{marker!r} appears in the generated code outside a string constant"


def assert_verbatim(outcome: dict[str, Any], p: dict[str, str]) -> None:
    benefits = {b["id"]: b for b in outcome["benefits"]}
    duties = {d["id"]: d for d in outcome["duties"]}
    assert set(benefits) == {"u0", "_record"} and set(duties) == {"facts"}
    assert outcome["policy"]["title"] == p["title"]
    assert outcome["policy"]["issuer"] == p["issuer"]
    assert benefits["u0"]["label"] == p["benefit_label"]
    assert benefits["u0"]["measure"]["title"] == p["measure_title"]
    assert benefits["u0"]["citations"] == [{"text": p["rule_citation"], "note": p["note"]}]
    assert benefits["u0"]["agencies"] == [{"id": "os", "name": p["agency"]}]
    assert benefits["_record"]["label"] == p["title"]
    assert benefits["_record"]["citations"] == [{"text": p["citation"], "note": None}]
    assert duties["facts"]["label"] == p["duty_label"]
    assert duties["facts"]["levels"][0]["label"] == p["level"]
    assert duties["facts"]["citations"] == [{"text": p["rule_citation"], "note": None}]
    via = {c["via"] for c in benefits["u0"]["conditions"]}
    assert {"b0", "evaluate"} <= via


def assert_plain_data_behaviour(outcome: dict[str, Any]) -> None:
    """The names are ordinary names: the rules decide exactly as written."""
    benefits = {b["id"]: b for b in outcome["benefits"]}
    duties = {d["id"]: d for d in outcome["duties"]}
    u0 = benefits["u0"]
    assert u0["status"] == "eligible"  # b0: __import__ and get >= 100万元; d0 = 2 > 1
    assert u0["amount"] == {"amount": Decimal("100000.00"), "currency": "CNY"}  # 50% of 200万, capped at 10万
    assert benefits["_record"]["status"] == "eligible"  # 2023-01-01 is outside 2022; 3天 < 5天; 1% >= 1%
    assert benefits["_record"]["amount"] == {"amount": 5, "currency": "CNY"}
    assert duties["facts"]["status"] == "applies"  # _decide includes trace


def test_injection_is_inert_in_process(injected: tuple[CheckedPolicy, dict[str, str], Path]) -> None:
    checked, p, sentinel = injected
    compiled = compile_policy(checked)
    outcome = compiled.evaluate(dict(FACTS), dt.date(2023, 1, 1), True)
    json.dumps(compiled.namespace["to_json"](outcome), ensure_ascii=False)
    assert not sentinel.exists()
    assert_verbatim(outcome, p)
    assert_plain_data_behaviour(outcome)
    assert_only_constants(compiled.source, policy_strings(p), sentinel)


def test_injection_is_inert_in_the_exported_module(
    injected: tuple[CheckedPolicy, dict[str, str], Path], tmp_path: Path
) -> None:
    checked, p, sentinel = injected
    source = module_source(checked)
    assert_only_constants(source, policy_strings(p), sentinel)
    module_path = tmp_path / "exported_policy.py"
    module_path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("exported_policy", module_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    outcome = module.evaluate(dict(FACTS), dt.date(2023, 1, 1), True)
    assert not sentinel.exists()
    assert_verbatim(outcome, p)
    assert_plain_data_behaviour(outcome)
    assert module.FACTS["__import__"]["label"] == p["fact_label"]
    assert module.FACTS["__import__"]["description"] == p["fact_description"]


def test_injection_is_inert_through_the_library(tmp_path: Path) -> None:
    """The front door: ``loads`` with facts in the document's notation, then the text report."""
    sentinel = tmp_path / "pwned"
    path, p = write_policy(tmp_path, sentinel)
    policy = loads(path.read_text(encoding="utf-8"), str(path))
    facts = {**FACTS, "get": "200万元", "import": "2023-01-01", "_decide": ["trace"], "True": "1%"}
    outcome = policy.evaluate(facts, as_of=dt.date(2023, 1, 1), adopted=True)
    outcome.to_text(verbose=True)
    json.dumps(outcome.to_json(), ensure_ascii=False)
    assert outcome.benefit("u0").label == p["benefit_label"]
    assert outcome.benefit("u0").status == "eligible"
    assert not sentinel.exists()


#: Builtins, Python keywords and the generated module's own identifiers, as policy names.
CODE_NAMES = (
    *("__import__", "eval", "os", "get", "trace", "_decide", "evaluate", "facts", "d0", "b0", "u0"),
    *("_D", "_dt", "_and", "_record", "_truth", "ATOMS", "BENEFITS", "POLICY", "to_json", "None", "import"),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
    st.sampled_from(CODE_NAMES),
)
def test_any_label_comes_back_verbatim(tmp_path: Path, label: str, name: str) -> None:
    """Any label, under any of the generated code's own names, is returned exactly as written."""
    directory = tmp_path / f"case{abs(hash((label, name)))}"
    directory.mkdir(exist_ok=True)
    (directory / "source.txt").write_text("测试文件\n（一）措施\n给予补贴。\n", encoding="utf-8")
    text = (
        f'policy {q(label)} {{ source "source.txt" }}\n'
        f"fact {name}: bool {{ label {q(label)} }}\n"
        f'measure （一） "措施" {{\n    cite "给予补贴。"\n'
        f"    benefit {name}_b {q(label)} {{\n"
        f'        kind subsidy when {name} cite "给予补贴。" note {q(label)}\n    }}\n}}\n'
    )
    path = directory / "p.policy"
    checked = check(parse(text, str(path)), str(path))
    outcome = compile_policy(checked).evaluate({name: True}, dt.date(2023, 1, 1), True)
    (benefit,) = outcome["benefits"]
    assert benefit["label"] == label
    assert benefit["citations"] == [{"text": "给予补贴。", "note": label}]
    assert benefit["status"] == "eligible"
    assert outcome["policy"]["title"] == label
    assert_only_constants(module_source(checked), [label], directory / "pwned")
