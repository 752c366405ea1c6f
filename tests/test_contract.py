"""One facts contract: `policy eval` (validate_facts), `policy schema`, the standalone module.

The schema's patterns are made from the tables the reader uses, so:

- every text drawn from a schema pattern is accepted by ``validate_facts`` (a date's pattern also
  admits impossible days, which the reader refuses as "no such date");
- every value drawn from the notations (full-width digits, every spelling of each currency and unit
  of time, objects, numbers) or from near misses (other currencies, negatives, stray text) is
  accepted by ``validate_facts`` exactly when it conforms to the schema;
- the standalone module reads every value as ``validate_facts`` does: the same value or the same
  messages (a differential test over every fact of the shipped policies and of every kind);
- a facts file that gives a key twice is an error naming the key and its line.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_backends_agree import assert_standalone, import_module_text

import policy_dsl
from policy_dsl import intake
from policy_dsl.check import CheckedPolicy
from policy_dsl.compile import module_source
from policy_dsl.errors import FactsError, PolicyLoadError, did_you_mean
from policy_dsl.facts import validate_facts
from policy_dsl.policy import read_json
from policy_dsl.source import SourceFile
from policy_dsl.views import facts_schema

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "policies").glob("*/*.policy"))

#: A fact of every kind, money in every currency, a duration in every unit.
EVERY_KIND = """policy "合同" { source "s.txt" }
enum 类别 { 一类, 二类, 三类 }
fact 布尔: bool
fact 整数: integer
fact 小数: decimal
fact 美元额: money USD
fact 人民币额: money CNY
fact 欧元额: money EUR
fact 日元额: money JPY
fact 港元额: money HKD
fact 比例: percent
fact 日期: date
fact 工作日数: duration working_days
fact 天数: duration days
fact 周数: duration weeks
fact 月数: duration months
fact 年数: duration years
fact 分类: 类别
fact 多类: set of 类别
measure （一） "措施" { cite "给予补贴。" }
"""


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory: pytest.TempPathFactory) -> policy_dsl.Policy:
    directory = tmp_path_factory.mktemp("contract")
    (directory / "s.txt").write_text("标题\n（一）措施\n给予补贴。\n", encoding="utf-8")
    (directory / "p.policy").write_text(EVERY_KIND, encoding="utf-8")
    return policy_dsl.load(directory / "p.policy")


# ---------------------------------------------------------------- a JSON Schema check, by re.fullmatch


def conforms(schema: dict[str, Any], value: Any) -> bool:
    """Whether a JSON value (as read_json gives it: numbers int or Decimal) fits ``schema``: the
    parts of JSON Schema 2020-12 that `policy schema` uses."""
    if "anyOf" in schema and not any(conforms(s, value) for s in schema["anyOf"]):
        return False
    if "oneOf" in schema and sum(conforms(s, value) for s in schema["oneOf"]) != 1:
        return False
    if "enum" in schema and not any(value == v and type(value) is type(v) for v in schema["enum"]):
        return False
    kinds = schema.get("type")
    is_number = isinstance(value, int | Decimal) and not isinstance(value, bool)
    if kinds is not None:
        ok = {
            "boolean": isinstance(value, bool),
            "integer": is_number and (isinstance(value, int) or value == value.to_integral_value()),
            "number": is_number,
            "string": isinstance(value, str),
            "object": isinstance(value, dict),
            "array": isinstance(value, list),
            "null": value is None,
        }
        if not any(ok[kind] for kind in ([kinds] if isinstance(kinds, str) else kinds)):
            return False
    if "minimum" in schema and is_number and value < schema["minimum"]:
        return False
    if "exclusiveMaximum" in schema and is_number and value >= schema["exclusiveMaximum"]:
        return False
    if "exclusiveMinimum" in schema and is_number and value <= schema["exclusiveMinimum"]:
        return False
    if "pattern" in schema and isinstance(value, str) and re.fullmatch(schema["pattern"], value) is None:
        return False
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        if any(key not in value for key in schema.get("required", ())):
            return False
        if schema.get("additionalProperties") is False and any(key not in properties for key in value):
            return False
        if any(key in value and not conforms(sub, value[key]) for key, sub in properties.items()):
            return False
    if isinstance(value, list):
        if "items" in schema and not all(conforms(schema["items"], item) for item in value):
            return False
        if schema.get("uniqueItems") and len({json.dumps(v, default=str) for v in value}) != len(value):
            return False
    return True


def read(checked: CheckedPolicy, name: str, value: Any, allow_float: bool = False) -> Any:
    """``("ok", value)`` or ``("error", [(message, hint)…])``, as validate_facts reads one fact."""
    try:
        return ("ok", validate_facts(checked, {name: value}, allow_float=allow_float).get(name))
    except FactsError as error:
        return ("error", [(d.message, d.hint) for d in error.diagnostics])


def read_standalone(module: ModuleType, name: str, value: Any, allow_float: bool = False) -> Any:
    try:
        return ("ok", module.read_facts({name: value}, allow_float=allow_float).get(name))
    except module.FactsError as error:
        assert isinstance(error, ValueError)
        return ("error", [(message, hint) for _, message, hint in error.problems])


# ---------------------------------------------------------------- strategies of notations

DIGIT = st.sampled_from("0123456789").flatmap(
    lambda d: st.sampled_from([d, chr(ord(d) - ord("0") + ord("０"))])
)
SPACE = st.text(st.sampled_from(" \t\u3000"), max_size=2)


def digits(min_size: int = 1, max_size: int = 6) -> st.SearchStrategy[str]:
    return st.lists(DIGIT, min_size=min_size, max_size=max_size).map("".join)


@st.composite
def number_text(draw: st.DrawFn, sign: bool = True, mult: bool = True) -> str:
    text = draw(digits())
    if draw(st.booleans()):
        text += "." + draw(digits(1, 9))
    if mult and draw(st.booleans()):
        text += draw(SPACE) + draw(st.sampled_from(["万", "亿"]))
    if sign and draw(st.booleans()):
        text = draw(st.sampled_from(["-", "－", "+"])) + text
    return draw(SPACE) + text + draw(SPACE)


@st.composite
def money_text(draw: st.DrawFn, currency: str) -> str:
    words = intake.currency_words(currency)
    word = draw(st.sampled_from([*words, *intake.CURRENCY_WORDS]))  # its own spellings, and others
    amount = draw(number_text())
    form = draw(st.integers(0, 2))
    if form == 0:
        return amount + draw(SPACE) + word
    if form == 1:
        return draw(SPACE) + word + draw(SPACE) + amount.strip()
    return amount


@st.composite
def duration_text(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from(list(intake.DURATION_UNITS)))
    return draw(number_text(mult=False)) + draw(SPACE) + word


DATE_TEXT = st.builds(
    lambda y, m, d, chinese: f"{y}年{m}月{d}日" if chinese else f"{y}-{m}-{d}",
    digits(4, 4),
    digits(1, 2),
    digits(1, 2),
    st.booleans(),
)
NUMBERS = st.one_of(
    st.integers(-(10**12), 10**12),
    st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9),
)
STRAY = st.text(st.sampled_from("0123456789０５.-万亿元美%％年月日天 USDCNYab"), max_size=8)


def values_for(info: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values in the notations, near misses and other types, for a fact of the facts table."""
    kind, unit, enum = info["type"], info["unit"], info["values"]
    common: list[st.SearchStrategy[Any]] = [NUMBERS, STRAY, st.booleans(), number_text(), st.none()]
    if kind == "money":
        amount = st.one_of(NUMBERS, number_text(mult=True), STRAY)
        currency = st.sampled_from([*intake.CURRENCY_WORDS, "GBP", 5])
        common += [
            money_text(unit),
            st.fixed_dictionaries({"amount": amount, "currency": currency}),
            st.fixed_dictionaries({"amount": amount}),
        ]
    elif kind == "percent":
        common += [
            st.builds(lambda n, p: n + p, number_text(mult=False), st.sampled_from(["%", "％", "", "%%"]))
        ]
    elif kind == "date":
        common += [DATE_TEXT, st.dates().map(dt.date.isoformat)]
    elif kind == "duration":
        value = st.one_of(
            st.integers(-5, 500), digits(), STRAY, st.decimals(places=1, min_value=0, max_value=9)
        )
        common += [
            duration_text(),
            st.fixed_dictionaries(
                {"value": value, "unit": st.sampled_from([*intake.DURATION_UNITS, "小时"])}
            ),
        ]
    elif kind in {"enum", "set"}:
        item = st.one_of(st.sampled_from(enum), st.text(max_size=3), st.sampled_from([v + "x" for v in enum]))
        common += [item, st.lists(item, max_size=4)]
    return st.one_of(common)


def policies() -> list[CheckedPolicy]:
    return [policy_dsl.load(path).checked for path in SHIPPED]


SHIPPED_CHECKED = policies()

# ---------------------------------------------------------------- schema → eval


def string_patterns(schema: dict[str, Any]) -> list[str]:
    """Every string pattern of a fact's schema (not those inside objects: drawn whole below)."""
    found = [schema["pattern"]] if "pattern" in schema else []
    for sub in schema.get("anyOf", ()):
        found += string_patterns(sub)
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_text_the_schema_allows_is_read(every_kind: policy_dsl.Policy, data: st.DataObject) -> None:
    checked = every_kind.checked
    schema = facts_schema(checked)["properties"]
    name = data.draw(st.sampled_from([n for n in checked.facts if string_patterns(schema[n])]))
    pattern = data.draw(st.sampled_from(string_patterns(schema[name])))
    text = data.draw(st.from_regex(pattern, fullmatch=True), label="text")
    outcome, detail = read(checked, name, text)
    if checked.facts[name].type.kind == "date" and outcome == "error":
        assert "no such date" in detail[0][0]  # the calendar, which no pattern checks
        return
    assert outcome == "ok", (name, text, detail)


# ---------------------------------------------------------------- eval ⇔ schema


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_eval_accepts_exactly_what_the_schema_allows(
    every_kind: policy_dsl.Policy, data: st.DataObject
) -> None:
    checked = every_kind.checked
    table = policy_dsl.facts.fact_table(checked)
    schema = facts_schema(checked)
    name = data.draw(st.sampled_from(list(checked.facts)))
    value = data.draw(values_for(table[name]), label="value")
    outcome, detail = read(checked, name, value)
    allowed = conforms(schema, {name: value})
    if allowed and outcome == "error":
        assert checked.facts[name].type.kind == "date" and "no such date" in detail[0][0], (
            name,
            value,
            detail,
        )
        return
    assert allowed == (outcome == "ok"), (name, value, detail, allowed)


def test_the_money_pattern_names_only_the_facts_currency(every_kind: policy_dsl.Policy) -> None:
    schema = facts_schema(every_kind.checked)
    usd = schema["properties"]["美元额"]
    assert not conforms(schema, {"美元额": "5 CNY"}) and not conforms(schema, {"美元额": "500万元"})
    assert conforms(schema, {"美元额": "５００万美元"}) and conforms(schema, {"美元额": "USD　500万"})
    assert read(every_kind.checked, "美元额", "５００万美元") == ("ok", Decimal(5_000_000))
    assert usd["anyOf"][2]["properties"]["currency"]["enum"] == ["美元", "USD"]


def test_a_negative_amount_has_its_own_message(every_kind: policy_dsl.Policy) -> None:
    checked = every_kind.checked
    for value in ("-1美元", "-1", -1, Decimal("-0.5"), {"amount": "-1", "currency": "USD"}):
        outcome, detail = read(checked, "美元额", value)
        assert outcome == "error" and "amounts cannot be negative" in detail[0][0], (value, detail)
    assert read(checked, "天数", "-3天")[1][0][0].startswith("fact `天数`: durations cannot be negative")
    assert read(checked, "小数", "-2.5") == ("ok", Decimal("-2.5"))  # a decimal may be negative


def test_floats_are_refused_unless_asked_for_and_then_read_as_written(every_kind: policy_dsl.Policy) -> None:
    checked = every_kind.checked
    outcome, detail = read(checked, "美元额", 0.1)
    assert outcome == "error" and "float" in detail[0][0]
    assert read(checked, "美元额", 0.1, allow_float=True) == ("ok", Decimal("0.1"))
    assert read(checked, "比例", 12.5, allow_float=True) == ("ok", Decimal("12.5"))
    assert read(checked, "整数", 3.0, allow_float=True) == ("ok", 3)
    assert read(checked, "美元额", float("nan"), allow_float=True)[0] == "error"


def test_intake_did_you_mean_is_the_librarys() -> None:
    names = ["出口额", "出口企业分类", "短期出口信用保险保费", "是外贸企业", "FDA", "EMA"]
    for typo in ["出口頟", "出口企业", "保费", "FDB", "xyz", "是外贸", "EM"]:
        assert intake.did_you_mean(typo, names) == did_you_mean(typo, names)


# ---------------------------------------------------------------- the standalone module reads the same


@pytest.fixture(scope="module")
def modules(every_kind: policy_dsl.Policy, tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    directory = tmp_path_factory.mktemp("contract-modules")
    out = []
    for checked in [every_kind.checked, *SHIPPED_CHECKED]:
        source = module_source(checked)
        assert_standalone(source)
        out.append((checked, import_module_text(source, directory)))
    return out


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_standalone_module_reads_facts_as_the_library_does(modules: list[Any], data: st.DataObject) -> None:
    checked, module = data.draw(st.sampled_from(modules))
    table = module.FACTS
    name = data.draw(st.sampled_from([*table, "出口頟", "unknown"]))
    info = table.get(name, {"type": "bool", "unit": None, "values": None})
    value = data.draw(st.one_of(values_for(info), st.floats(), st.none()), label="value")
    allow_float = data.draw(st.booleans())
    library = read(checked, name, value, allow_float)
    standalone = read_standalone(module, name, value, allow_float)
    assert library == standalone
    if library[0] == "ok" and library[1] is not None:
        assert type(library[1]) is type(standalone[1])


def test_standalone_module_refuses_bad_facts_naming_them(modules: list[Any]) -> None:
    _, module = next((c, m) for c, m in modules if c.path.endswith("draft.policy"))
    day = dt.date(2022, 7, 1)
    cases = {
        "出口额": ("2000万元", "expected an amount in USD"),  # was a TypeError deep in _decide
        "短期出口信用保险保费": (1500.5, "float"),  # was a TypeError after the conditions passed
        "出口企业分类": ("一类企业", "is not a value of 出口企业类别"),  # was silently not eligible
        "出口頟": (1, "unknown fact `出口頟`"),
    }
    for name, (value, message) in cases.items():
        with pytest.raises(module.FactsError) as caught:
            module.evaluate({name: value, "是外贸企业": True}, day, True)
        ((fact, text, _),) = caught.value.problems
        assert isinstance(caught.value, ValueError)
        assert fact == name and message in text and f"`{name}`" in text, text
    with pytest.raises(module.FactsError) as caught:
        module.evaluate({"出口企业分类": "一类企业", "出口頟": 1})
    assert [p[2] for p in caught.value.problems] == ["did you mean `一类`?", "did you mean `出口额`?"]
    allowed = module.evaluate({"短期出口信用保险保费": 1500.5, "投保短期出口信用保险": True}, day, True, True)
    assert allowed == module.evaluate(
        {"短期出口信用保险保费": "1500.5", "投保短期出口信用保险": True}, day, True
    )
    assert "FactsError" in module.__doc__ and "allow_float" in module.__doc__
    assert "出口额: money USD" in module.__doc__


# ---------------------------------------------------------------- facts files


def test_a_key_given_twice_is_an_error_naming_it_and_its_line() -> None:
    text = '{\n  "出口额": "1美元",\n  "x": {"a": 1, "b": [{"a": 2}, "a"]},\n  "出口额": "2美元"\n}\n'
    with pytest.raises(PolicyLoadError) as caught:
        read_json(SourceFile("facts.json", text), "facts")
    (diagnostic,) = caught.value.diagnostics
    assert "`出口额` is given twice" in diagnostic.message and "first on line 2" in diagnostic.message
    assert diagnostic.pos is not None and (diagnostic.pos.line, diagnostic.pos.column) == (4, 3)
    assert read_json(SourceFile("ok.json", '{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]}'), "facts")


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}\n}  "b": 3\n}',  # the reader stops in the first object; the rest is not JSON
        '{"a": 1, "a": 2}]]]',
        '{"\\u0061": 1, "a": 2}',  # the same key, written two ways
    ],
)
def test_a_key_given_twice_before_text_that_is_not_json(text: str) -> None:
    """Found by the fuzz campaign: the duplicate key's scan met closing brackets with nothing open."""
    with pytest.raises(PolicyLoadError) as caught:
        read_json(SourceFile("facts.json", text), "facts")
    assert "given twice in one object" in caught.value.render()


def test_nan_in_a_facts_file_is_not_json() -> None:
    with pytest.raises(PolicyLoadError, match="NaN is not a JSON number"):
        read_json(SourceFile("facts.json", '{"出口额": NaN}'), "facts")


# ---------------------------------------------------------------- implied facts

IMPLIES = """policy "合同" { source "s.txt" }
enum 类别 { 一类, 二类 }
fact 是外贸企业: bool
fact 是出口企业: bool
fact 出口额: money USD { implies 是外贸企业, 是出口企业 }
fact 出口企业分类: 类别 { implies 是出口企业 }
fact 经营品类: set of 类别 { implies 是外贸企业 }
fact 员工人数: integer { implies 是外贸企业 }
measure （一） "措施" { cite "给予补贴。" }
"""


@pytest.fixture(scope="module")
def implying(tmp_path_factory: pytest.TempPathFactory) -> policy_dsl.Policy:
    directory = tmp_path_factory.mktemp("implies")
    (directory / "s.txt").write_text("标题\n（一）措施\n给予补贴。\n", encoding="utf-8")
    (directory / "p.policy").write_text(IMPLIES, encoding="utf-8")
    return policy_dsl.load(directory / "p.policy")


@pytest.mark.parametrize(
    ("facts", "contradicted"),
    [
        ({"出口额": "100万美元", "是外贸企业": False}, ["是外贸企业"]),
        ({"出口额": "100万美元", "是外贸企业": False, "是出口企业": False}, ["是外贸企业", "是出口企业"]),
        ({"出口额": "0.01美元", "是出口企业": False}, ["是出口企业"]),
        ({"出口额": "0美元", "是外贸企业": False, "是出口企业": False}, []),  # zero does not count
        ({"出口额": "100万美元"}, []),  # an implied fact left out stays unknown, no problem
        ({"出口额": "100万美元", "是外贸企业": True, "是出口企业": True}, []),
        ({"出口企业分类": "一类", "是出口企业": False}, ["是出口企业"]),
        ({"经营品类": [], "是外贸企业": False}, []),  # an empty set does not count
        ({"经营品类": ["二类"], "是外贸企业": False}, ["是外贸企业"]),
        ({"员工人数": 0, "是外贸企业": False}, []),
        ({"员工人数": -3, "是外贸企业": False}, []),
        ({"员工人数": 3, "是外贸企业": False}, ["是外贸企业"]),
        ({"出口额": None, "是外贸企业": False}, []),
    ],
)
def test_contradicted_implications_are_errors_in_every_reader(
    implying: policy_dsl.Policy,
    facts: dict[str, Any],
    contradicted: list[str],
    tmp_path: Path,
) -> None:
    module = import_module_text(module_source(implying.checked), tmp_path)
    try:
        validate_facts(implying.checked, facts)
        library: list[str] = []
    except FactsError as error:
        library = [d.message for d in error.diagnostics]
    try:
        module.read_facts(facts)
        standalone: list[str] = []
    except module.FactsError as error:
        standalone = [message for _, message, _ in error.problems]
    assert library == standalone
    named = [re.findall(r"^fact `([^`]+)` is false", message) for message in library]
    assert [name for names in named for name in names] == contradicted
    if contradicted:
        assert "implies it is true" in library[0]
        with pytest.raises(FactsError):
            implying.evaluate(facts, as_of=dt.date(2022, 7, 1))


# ---------------------------------------------------------------- the population path

POPULATION_POLICY = """policy "合同" { source "s.txt" }
enum 类别 { 一类, 二类 }
fact 美元额: money USD
fact 天数: duration days
fact 分类: 类别
fact 多类: set of 类别
measure （一） "措施" {
    cite "给予补贴。"
    benefit 补贴 "补贴" {
        kind subsidy
        when 美元额 > 1美元 and 天数 > 1 days and 分类 in {一类} and 多类 includes 二类
        cite "给予补贴。"
    }
}
"""


@pytest.fixture(scope="module")
def population_policy(tmp_path_factory: pytest.TempPathFactory) -> policy_dsl.Policy:
    directory = tmp_path_factory.mktemp("population")
    (directory / "s.txt").write_text("标题\n（一）措施\n给予补贴。\n", encoding="utf-8")
    (directory / "p.policy").write_text(POPULATION_POLICY, encoding="utf-8")
    return policy_dsl.load(directory / "p.policy")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("1,-5,3,一类,二类", "fact `美元额`: amounts cannot be negative, got -5"),
        ("1,5,-3,一类,二类", "fact `天数`: durations cannot be negative, got -3"),
        ("1,5,3,五类,二类", "fact `分类`: unknown value 五类; one of 一类, 二类"),
        ("1,5,3,一类,二类;三类", "fact `多类`: unknown value 三类; one of 一类, 二类"),
        ("1,5,3,一类,二类", None),
        ("1,,,,", None),
    ],
)
def test_the_population_path_refuses_what_eval_refuses(
    population_policy: policy_dsl.Policy, tmp_path: Path, row: str, message: str | None
) -> None:
    from policy_dsl.table import evaluate_file

    path = tmp_path / "population.csv"
    path.write_text("id,美元额,天数,分类,多类\n" + row + "\n", encoding="utf-8")
    facts = dict(zip(["美元额", "天数", "分类", "多类"], row.split(",")[1:], strict=True))
    as_facts = {k: (v.split(";") if k == "多类" else v) for k, v in facts.items() if v}
    if message is None:
        rows, _ = evaluate_file(population_policy.checked, str(path), None, dt.date(2022, 7, 1))
        assert rows == 1
        validate_facts(population_policy.checked, as_facts)
        return
    with pytest.raises(PolicyLoadError) as caught:
        evaluate_file(population_policy.checked, str(path), None, dt.date(2022, 7, 1))
    assert message in str(caught.value)
    with pytest.raises(FactsError) as refused:  # and eval refuses the same enterprise
        validate_facts(population_policy.checked, as_facts)
    assert message.split(":")[0] in str(refused.value)


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (10**38 - 1, True),
        (10**38, False),
        (-(10**38), False),
        (Decimal("1E+999999"), False),
        ("9" * 30, True),
        ("9" * 31, False),
        ("9" * 30 + "亿", True),
    ],
)
def test_numbers_are_bounded_alike_in_the_reader_and_the_schema(
    every_kind: policy_dsl.Policy, value: Any, accepted: bool
) -> None:
    """Past 10^38 no backend's DECIMAL holds a number (and 1E+999999 overflowed a rate)."""
    checked = every_kind.checked
    outcome, detail = read(checked, "小数", value)
    assert (outcome == "ok") == accepted, detail
    assert conforms(facts_schema(checked), {"小数": value}) == accepted
    if not accepted and not isinstance(value, str):
        assert "too large" in detail[0][0]


def test_a_list_of_too_many_items_and_too_many_problems_are_bounded() -> None:
    """A facts object that would cost a search per problem (a request body of 40,000 bad items) is
    answered quickly: a list holds at most intake.MAX_ITEMS items, and at most 100 problems are
    located one by one, the rest counted."""
    import policy_dsl
    from policy_dsl import intake
    from policy_dsl.errors import FactsError
    from policy_dsl.source import SourceFile

    policy = policy_dsl.load(Path(__file__).parent.parent / "policies/cq-foreign-trade-2022/draft.policy")
    with pytest.raises(FactsError) as error:
        policy.evaluate({"医药产品": [{}] * (intake.MAX_ITEMS + 1)})
    assert [d.message for d in error.value.diagnostics] == [
        f"fact `医药产品`: {intake.MAX_ITEMS + 1} items; at most {intake.MAX_ITEMS}"
    ]
    facts = {"医药产品": [{"未知": 1}] * 150}
    text = json.dumps(facts, ensure_ascii=False)
    with pytest.raises(FactsError) as error:
        policy.evaluate(facts, source=SourceFile("facts.json", text))
    assert len(error.value.diagnostics) == 100 and error.value.unlisted == 50
    assert error.value.render().endswith("… and 50 more problems, not listed\n\n150 errors")
