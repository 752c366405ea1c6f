"""Hypothesis strategies for policy_dsl: models as the parser builds them, checked policies, facts, mutations.

Two families live here:

* ``policy_files()`` and its parts generate any :class:`~policy_dsl.model.PolicyFile` the parser
  could produce (not necessarily one that checks): And/Or have two or more operands, integral
  numbers are ``int`` and the others ``Decimal``, amounts are never negative, names are never
  keywords. They drive the round trip ``parse(fmt(m)) == m``.
* ``checked_policies()`` generates a small policy that *checks*: well-typed conditions over
  declared facts, citations and headings present in a source text generated beside it. It
  drives the differential test (in-process evaluation vs the standalone module).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import strategies as st

from policy_dsl import model as m
from policy_dsl.check import BENEFIT_KINDS, COMMITMENTS, CheckedPolicy, _one_amount, _year_limit
from policy_dsl.compile import runtime_value
from policy_dsl.errors import PolicyError
from policy_dsl.parse import KEYWORDS, parse
from policy_dsl.values import MINOR_UNIT_DIGITS, Duration, Money, Percent

RESERVED = frozenset(KEYWORDS)

CURRENCIES = ("USD", "CNY", "EUR", "JPY", "HKD")
DURATION_UNITS = ("working_days", "days", "weeks", "months", "years")
COMPARISON_OPS = ("<", "<=", ">", ">=", "==", "!=")

# ---------------------------------------------------------------- names

_LATIN_START = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
_CJK = "出口额企业小微中型外贸保费税率补贴奖励认定类别注册机构天日年月元美周一二三四"
_OTHER_LETTERS = "éßΩжñ"
_DIGITS = "0123456789"

#: Valid names that look like something else: units, currencies, keywords glued to a name,
#: Python builtins and the identifiers of the generated code.
TRICKY_NAMES = (
    "USD",
    "RMB",
    "元",
    "美元",
    "天",
    "日",
    "年",
    "工作日",
    "days",
    "working_days",
    "notin",
    "not出口额",
    "and中型",
    "in_",
    "trueish",
    "_",
    "__import__",
    "eval",
    "os",
    "get",
    "trace",
    "facts",
    "evaluate",
    "_decide",
    "_record",
    "d0",
    "b0",
    "u0",
    "POLICY",
    "一",
)


@st.composite
def _generated_name(draw: st.DrawFn) -> str:
    first = draw(st.sampled_from(_LATIN_START + _CJK + _OTHER_LETTERS))
    rest = draw(st.text(alphabet=_LATIN_START + _CJK + _OTHER_LETTERS + _DIGITS, max_size=6))
    return first + rest


@functools.cache
def is_name(text: str) -> bool:
    """Whether the parser reads ``text`` as one name where a declaration and a condition expect one."""
    if text in RESERVED:
        return False
    try:
        policy = parse(f"fact {text}: bool\ndefinition d {{ means x == 1 and {text} }}\n")
    except PolicyError:
        return False
    fact, definition = policy.items
    return (
        isinstance(fact, m.FactDecl)
        and fact.name == text
        and isinstance(definition, m.Definition)
        and isinstance(definition.means, m.And)
        and definition.means.operands[1] == m.Reference(text)
    )


def names() -> st.SearchStrategy[str]:
    """An identifier of the language: Chinese or Latin, never a keyword."""
    return st.one_of(st.sampled_from(TRICKY_NAMES), _generated_name()).filter(is_name)


# ---------------------------------------------------------------- strings

#: Strings that stress quoting: quotes, backslashes, escapes, newlines, braces, comments, unicode.
TRICKY_STRINGS = (
    "",
    '"',
    '""',
    '"""',
    "\\",
    "\\n",
    '\\"',
    "a\nb",
    "\r\n\t",
    "\x00\x1f\x7f",
    "{}",
    "{x!r}",
    "// not a comment",
    "/* nor this */",
    "# nor this",
    'cite "x" }',
    "出口额≤5000万美元",
    "“全角引号”，（全角括号）｛｝",
    "\u2028\u2029\ufeff",
    "😀 emoji",
    "é\u0301",
    "__import__('os').system('echo pwned')",
)


def texts(max_size: int = 20) -> st.SearchStrategy[str]:
    """Any string a policy may hold (everything but lone surrogates, which no file can encode)."""
    return st.one_of(
        st.sampled_from(TRICKY_STRINGS),
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=max_size),
        st.lists(st.sampled_from(TRICKY_STRINGS), min_size=2, max_size=4).map("".join),
    )


def text_nodes() -> st.SearchStrategy[m.Text]:
    return texts().map(m.Text)


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


# ---------------------------------------------------------------- literals


@st.composite
def fractional_decimals(draw: st.DrawFn, max_whole: int = 10**9, max_places: int = 4) -> Decimal:
    """A non-integral, non-negative Decimal with at most ``max_places`` decimals."""
    whole = draw(st.integers(0, max_whole))
    places = draw(st.integers(1, max_places))
    fraction = draw(st.integers(1, 10**places - 1))
    return Decimal(whole) + Decimal(fraction).scaleb(-places)


def round_amounts() -> st.SearchStrategy[int]:
    """Amounts as policies write them: 500万, 5000万, 1.5亿…"""
    return st.builds(
        lambda digits, mult: digits * mult,
        st.integers(1, 9999),
        st.sampled_from((1, 10, 100, 1000, 10**4, 10**5, 10**8)),
    )


def whole_numbers(max_value: int = 10**12) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(0, max_value), round_amounts())


def amounts() -> st.SearchStrategy[Decimal]:
    """A non-negative money amount: whole (as the parser gives it, ``Decimal(int)``) or with cents."""
    return st.one_of(
        whole_numbers(10**13).map(Decimal),
        fractional_decimals(max_whole=10**11),
    )


def money_values(currency: str | None = None) -> st.SearchStrategy[Money]:
    currencies = st.just(currency) if currency else st.sampled_from(CURRENCIES)
    return st.builds(Money, amounts(), currencies)


def percent_values() -> st.SearchStrategy[Percent]:
    return st.builds(
        Percent,
        st.one_of(st.integers(0, 1000).map(Decimal), fractional_decimals(max_whole=1000, max_places=3)),
    )


def duration_values(unit: str | None = None) -> st.SearchStrategy[Duration]:
    units = st.just(unit) if unit else st.sampled_from(DURATION_UNITS)
    return st.builds(Duration, st.integers(0, 400), units)


def dates(min_year: int = 1000) -> st.SearchStrategy[dt.date]:
    """Dates the literal notation can write with four-digit years."""
    return st.one_of(
        st.dates(dt.date(min_year, 1, 1), dt.date(9999, 12, 31)),
        st.dates(dt.date(2020, 1, 1), dt.date(2025, 12, 31)),
    )


def numbers() -> st.SearchStrategy[int | Decimal]:
    """A NUMBER literal's value: int when integral, Decimal otherwise (as ``normalize_number`` gives)."""
    return st.one_of(whole_numbers(), fractional_decimals())


def _literal(
    values: st.SearchStrategy[Any], chinese: st.SearchStrategy[bool]
) -> st.SearchStrategy[m.Literal]:
    return st.builds(m.Literal, values, chinese)


def money_literals(currency: str | None = None) -> st.SearchStrategy[m.Literal]:
    return _literal(money_values(currency), st.booleans())


def percent_literals() -> st.SearchStrategy[m.Literal]:
    # The parser only flags CJK notation as Chinese; ％ is full-width punctuation, not CJK.
    return _literal(percent_values(), st.just(False))


def duration_literals(unit: str | None = None) -> st.SearchStrategy[m.Literal]:
    return _literal(duration_values(unit), st.booleans())


def date_literals(min_year: int = 1000) -> st.SearchStrategy[m.Literal]:
    return _literal(dates(min_year), st.booleans())


def number_literals() -> st.SearchStrategy[m.Literal]:
    return st.one_of(
        _literal(whole_numbers(), st.booleans()),
        _literal(fractional_decimals(), st.booleans()),
    )


def value_literals(min_year: int = 1000) -> st.SearchStrategy[m.Literal]:
    """Any literal that may stand as an operand (every kind but true/false)."""
    return st.one_of(
        money_literals(),
        percent_literals(),
        duration_literals(),
        date_literals(min_year),
        number_literals(),
    )


def bool_literals() -> st.SearchStrategy[m.Literal]:
    return st.booleans().map(m.Literal)


# ---------------------------------------------------------------- conditions


def references() -> st.SearchStrategy[m.Reference]:
    return names().map(m.Reference)


def operands() -> st.SearchStrategy[m.Reference | m.Literal | m.YearOf]:
    return st.one_of(references(), value_literals(), references().map(m.YearOf))


def name_nodes() -> st.SearchStrategy[m.Name]:
    return names().map(m.Name)


def _value_lists() -> st.SearchStrategy[tuple[m.Name, ...]]:
    return st.lists(name_nodes(), min_size=1, max_size=3).map(tuple)


def _includes() -> st.SearchStrategy[m.Includes]:
    one = st.builds(m.Includes, operands(), st.just("one"), name_nodes().map(lambda n: (n,)))
    many = st.builds(m.Includes, operands(), st.sampled_from(("any", "all")), _value_lists())
    return st.one_of(one, many)


def atoms(with_bool_literals: bool = True) -> st.SearchStrategy[m.Node]:
    """The conditions that are not and/or/not."""
    choices = [
        references(),
        st.builds(m.Comparison, operands(), st.sampled_from(COMPARISON_OPS), operands()),
        st.builds(m.Membership, operands(), _value_lists(), st.booleans()),
        _includes(),
        st.builds(m.Between, operands(), operands(), operands()),
        st.builds(m.Within, operands(), value_literals()),
    ]
    if with_bool_literals:
        choices.append(bool_literals())
    return st.one_of(choices)


def conditions(with_bool_literals: bool = True, max_leaves: int = 8) -> st.SearchStrategy[m.Node]:
    """Conditions nested with and/or/not, as the parser builds them (and/or have ≥ 2 operands)."""

    def extend(children: st.SearchStrategy[m.Node]) -> st.SearchStrategy[m.Node]:
        many = st.lists(children, min_size=2, max_size=3).map(tuple)
        return st.one_of(children.map(m.Not), many.map(m.And), many.map(m.Or))

    return st.recursive(atoms(with_bool_literals), extend, max_leaves=max_leaves)


# ---------------------------------------------------------------- declarations and rules


def citations() -> st.SearchStrategy[m.Citation]:
    return st.builds(m.Citation, text_nodes(), optional(text_nodes()))


def _citation_lists() -> st.SearchStrategy[tuple[m.Citation, ...]]:
    return st.lists(citations(), max_size=2).map(tuple)


def periods() -> st.SearchStrategy[m.Period]:
    return st.builds(m.Period, date_literals(), date_literals())


def agency_refs() -> st.SearchStrategy[tuple[m.Name, ...]]:
    """``agencies`` lists: bare names, or quoted strings that need not be names."""
    ref = st.one_of(name_nodes(), texts(8).map(m.Name))
    return st.lists(ref, max_size=3).map(tuple)


def headers() -> st.SearchStrategy[m.PolicyHeader]:
    return st.builds(
        m.PolicyHeader,
        title=text_nodes(),
        issuer=optional(text_nodes()),
        jurisdiction=optional(text_nodes()),
        version=optional(text_nodes()),
        status=optional(st.sampled_from(("draft", "final")).map(m.Name)),
        date=optional(date_literals()),
        implements=optional(text_nodes()),
        source=optional(text_nodes()),
        effective=optional(st.one_of(date_literals(), st.just(m.Name("publication")))),
        valid=optional(
            st.builds(m.Literal, st.integers(1, 9).map(lambda n: Duration(n, "years")), st.booleans())
        ),
        until=optional(date_literals()),
        repeals=st.lists(text_nodes(), max_size=2).map(tuple),
        precedence=optional(st.sampled_from(("higher", "this")).map(m.Name)),
        citations=_citation_lists(),
    )


def waivers() -> st.SearchStrategy[tuple[m.Waiver, ...]]:
    return st.lists(st.builds(m.Waiver, text_nodes(), text_nodes()), max_size=2).map(tuple)


def agencies() -> st.SearchStrategy[m.Agency]:
    return st.builds(
        m.Agency,
        names(),
        text_nodes(),
        st.lists(text_nodes(), max_size=3).map(tuple),
        st.lists(text_nodes(), max_size=2).map(tuple),
    )


def enums() -> st.SearchStrategy[m.EnumDecl]:
    value = st.builds(m.EnumValue, names(), optional(text_nodes()))
    return st.builds(m.EnumDecl, names(), st.lists(value, min_size=1, max_size=8).map(tuple), st.booleans())


def type_refs() -> st.SearchStrategy[m.TypeRef]:
    return st.one_of(
        st.sampled_from(("bool", "integer", "decimal", "percent", "date")).map(m.TypeRef),
        st.sampled_from(CURRENCIES).map(lambda c: m.TypeRef("money", c)),
        st.sampled_from(DURATION_UNITS).map(lambda u: m.TypeRef("duration", u)),
        names().map(lambda n: m.TypeRef("set", n)),
        names().map(lambda n: m.TypeRef("enum", n)),
    )


def facts() -> st.SearchStrategy[m.FactDecl]:
    return st.builds(
        m.FactDecl,
        names(),
        type_refs(),
        optional(text_nodes()),
        optional(text_nodes()),
        st.lists(name_nodes(), max_size=3).map(tuple),
    )


def definitions(with_bool_literals: bool = True) -> st.SearchStrategy[m.Definition]:
    return st.builds(
        m.Definition,
        names(),
        optional(text_nodes()),
        optional(conditions(with_bool_literals)),
        _citation_lists(),
        waivers(),
    )


@st.composite
def any_tier(draw: st.DrawFn) -> m.Tier:
    """A band as the parser builds it (not necessarily one that checks): at least one end, and an
    amount (with or without `per`) or a rate (with or without `of`)."""
    ends = draw(st.sampled_from(("low", "high", "both")))
    low = draw(value_literals()) if ends != "high" else None
    high = draw(value_literals()) if ends != "low" else None
    pay: dict[str, Any]
    if draw(st.booleans()):
        pay = {"amount": draw(value_literals()), "per": draw(optional(name_nodes()))}
    else:
        pay = {"rate": draw(value_literals()), "base": draw(optional(name_nodes()))}
    low_open = draw(st.booleans()) if low is not None else False
    high_open = draw(st.booleans()) if high is not None else False
    return m.Tier(low, low_open, high, high_open, **pay)


def any_tiers() -> st.SearchStrategy[m.Tiers]:
    return st.builds(
        m.Tiers, name_nodes(), st.booleans(), st.lists(any_tier(), min_size=1, max_size=3).map(tuple)
    )


def benefits(with_bool_literals: bool = True) -> st.SearchStrategy[m.Benefit]:
    return st.builds(
        m.Benefit,
        names(),
        optional(text_nodes()),
        kind=optional(name_nodes()),
        commits=optional(name_nodes()),
        follows=optional(name_nodes()),
        when=optional(conditions(with_bool_literals)),
        amount=optional(value_literals()),
        rate=optional(
            st.builds(
                m.Rate,
                value_literals(),
                name_nodes(),
                above=optional(st.one_of(value_literals(), name_nodes())),
            )
            | st.builds(m.Rate, value_literals())
        ),
        tiers=optional(any_tiers()),
        cap_facts=st.lists(name_nodes(), max_size=2).map(tuple),
        cap=optional(value_literals()),
        frequency=optional(st.sampled_from(("once", "recurring")).map(m.Name)),
        period=optional(periods()),
        agencies=agency_refs(),
        citations=_citation_lists(),
        waivers=waivers(),
    )


def metrics() -> st.SearchStrategy[m.Metric]:
    return st.builds(m.Metric, text_nodes(), st.sampled_from(COMPARISON_OPS), value_literals())


def duties(with_bool_literals: bool = True) -> st.SearchStrategy[m.Duty]:
    return st.builds(
        m.Duty,
        names(),
        optional(text_nodes()),
        follows=optional(name_nodes()),
        when=optional(conditions(with_bool_literals)),
        levels=st.lists(metrics(), max_size=2).map(tuple),
        period=optional(periods()),
        agencies=agency_refs(),
        citations=_citation_lists(),
        waivers=waivers(),
        enterprise=st.booleans(),  # `obligation`: the enterprise's, with sanctions
        sanctions=st.lists(text_nodes(), max_size=2).map(tuple),
    ).map(lambda d: d if d.enterprise else attrs.evolve(d, sanctions=()))


def targets() -> st.SearchStrategy[m.Target]:
    return st.builds(
        m.Target,
        names(),
        optional(text_nodes()),
        goals=st.lists(metrics(), max_size=2).map(tuple),
        period=optional(periods()),
        agencies=agency_refs(),
        citations=_citation_lists(),
        waivers=waivers(),
    )


_CN_NUMERALS = "一二三四五六七八九十百零〇"
_UNIT_NUMBERS = st.one_of(
    st.text(_CN_NUMERALS, min_size=1, max_size=3).map(lambda n: f"{n}、"),
    st.text(_CN_NUMERALS + "0123456789", min_size=1, max_size=3).map(lambda n: f"第{n}条"),
    st.text(_CN_NUMERALS, min_size=1, max_size=3).map(lambda n: f"第{n}章"),
    st.text(_CN_NUMERALS, min_size=1, max_size=3).map(lambda n: f"（{n}）"),
    st.integers(1, 99).map(lambda n: f"{n}."),
    st.integers(1, 99).map(lambda n: f"（{n}）"),
    st.sampled_from("①②③④⑤⑳"),
)


def exclusives() -> st.SearchStrategy[m.Exclusive]:
    return st.builds(
        m.Exclusive,
        names(),
        optional(text_nodes()),
        members=st.lists(name_nodes(), max_size=4).map(tuple),
        keep=optional(name_nodes()),
        citations=_citation_lists(),
        waivers=waivers(),
    )


def rules(with_bool_literals: bool = True) -> st.SearchStrategy[m.Node]:
    return st.one_of(
        definitions(with_bool_literals),
        benefits(with_bool_literals),
        duties(with_bool_literals),
        targets(),
        exclusives(),
    )


def units(with_bool_literals: bool = True, depth: int = 2) -> st.SearchStrategy[m.Unit]:
    """Units at any level, numbered in every form the grammar takes, nested up to ``depth``."""
    children = (
        st.lists(units(with_bool_literals, depth - 1), max_size=2).map(tuple) if depth > 1 else st.just(())
    )
    return st.builds(
        m.Unit,
        st.sampled_from(m.UNIT_KINDS),
        _UNIT_NUMBERS,
        optional(text_nodes()),
        agencies=agency_refs(),
        citations=_citation_lists(),
        rules=st.lists(rules(with_bool_literals), max_size=3).map(tuple),
        units=children,
    )


def items(with_bool_literals: bool = True) -> st.SearchStrategy[m.Node]:
    return st.one_of(
        headers(),
        text_nodes().map(m.UseRegistry),
        agencies(),
        enums(),
        facts(),
        rules(with_bool_literals),
        units(with_bool_literals),
    )


def policy_files(with_bool_literals: bool = True, max_items: int = 6) -> st.SearchStrategy[m.PolicyFile]:
    """A whole file as the parser could build it (it need not pass ``check``)."""
    return st.lists(items(with_bool_literals), max_size=max_items).map(lambda xs: m.PolicyFile(tuple(xs)))


# ---------------------------------------------------------------- policies that check

#: Sentences of the generated source text; every citation quotes one of them.
SENTENCES = (
    "对小微外贸企业投保短期出口信用保险给予保费100%补贴。",
    "将中型和小微外贸企业的认定标准分别放宽至出口额5000万美元和500万美元以下。",
    "税务部门办理一类、二类出口企业正常出口退税平均时间压缩在3个工作日内。",
    "给予最高100万元一次性奖励。",
    "2022年支持一般贸易出口不低于70亿美元。",
    "支持企业开拓国际市场，提供公共服务。",  # no quantity: a citation any rule may carry
)
#: The sentence with no quantity in it (citation integrity asks a rule to encode every quantity it quotes).
PLAIN_SENTENCE = SENTENCES[5]


class GeneratedPolicy:
    """A policy that checks, the source text its citations quote, and its facts' types."""

    def __init__(
        self,
        text: str,
        source_text: str,
        facts: dict[str, m.TypeRef],
        enums: dict[str, tuple[str, ...]],
        model: m.PolicyFile,
    ) -> None:
        self.text = text
        self.source_text = source_text
        self.facts = facts
        self.enums = enums
        self.model = model

    def __repr__(self) -> str:
        # Hypothesis prints this for a failing example: the policy text is what a reader needs.
        return f"GeneratedPolicy(text={self.text!r})"


def _literal_for(ref: m.TypeRef) -> st.SearchStrategy[m.Literal]:
    kind = ref.kind
    if kind == "integer":
        return _literal(st.integers(0, 10**6), st.booleans())
    if kind == "decimal":
        return number_literals()
    if kind == "money":
        return money_literals(ref.param)
    if kind == "percent":
        return percent_literals()
    if kind == "date":
        return _literal(st.dates(dt.date(2020, 1, 1), dt.date(2025, 12, 31)), st.booleans())
    if kind == "duration":
        return duration_literals(ref.param)
    raise AssertionError(kind)  # pragma: no cover


_ORDERED = ("integer", "decimal", "money", "percent", "date", "duration")


@st.composite
def typed_conditions(
    draw: st.DrawFn,
    fact_types: dict[str, m.TypeRef],
    enum_values: dict[str, tuple[str, ...]],
    definition_names: tuple[str, ...],
    depth: int = 2,
) -> m.Node:
    """A condition that type-checks against ``fact_types``; it may use the definitions named."""
    if depth > 0 and draw(st.integers(0, 2)) == 0:
        shape = draw(st.sampled_from(("and", "or", "not")))
        if shape == "not":
            return m.Not(draw(typed_conditions(fact_types, enum_values, definition_names, depth - 1)))
        parts = draw(
            st.lists(
                typed_conditions(fact_types, enum_values, definition_names, depth - 1), min_size=2, max_size=3
            )
        )
        return (m.And if shape == "and" else m.Or)(tuple(parts))
    choices: list[tuple[str, m.TypeRef | None]] = [(name, None) for name in definition_names]
    choices.extend(fact_types.items())
    name, ref = draw(st.sampled_from(choices))
    if ref is None or ref.kind == "bool":
        return m.Reference(name)
    subject = m.Reference(name)
    if ref.kind in {"enum", "set"}:
        values = enum_values[ref.param or ""]
        picked = tuple(m.Name(v) for v in draw(st.lists(st.sampled_from(values), min_size=1, max_size=3)))
        if ref.kind == "enum":
            return m.Membership(subject, picked, draw(st.booleans()))
        mode = draw(st.sampled_from(("one", "any", "all")))
        return m.Includes(subject, mode, picked[:1] if mode == "one" else picked)
    assert ref.kind in _ORDERED
    if ref.kind == "date" and draw(st.integers(0, 3)) == 0:  # the year counted from the date (自认定当年起)
        count = m.Literal(draw(st.integers(0, 6)))
        if draw(st.booleans()):
            return m.Between(m.YearOf(subject), count, m.Literal(count.value + draw(st.integers(0, 4))))
        return m.Comparison(m.YearOf(subject), draw(st.sampled_from(COMPARISON_OPS)), count)
    if ref.kind == "date" and draw(st.integers(0, 2)) == 0:  # a period counted from the date (成立不满3年)
        unit = draw(st.sampled_from(("days", "weeks", "months", "years")))
        length = Duration(draw(st.integers(0, 40)), unit)
        return m.Within(subject, m.Literal(length, draw(st.booleans())))
    # Compare with a literal or with another fact of the same type, on either side.
    same = [n for n, r in fact_types.items() if r == ref and n != name]
    other: m.Node = draw(_literal_for(ref))
    if same and draw(st.booleans()):
        other = m.Reference(draw(st.sampled_from(same)))
    if draw(st.integers(0, 3)) == 0:
        low, high = sorted((draw(_literal_for(ref)), draw(_literal_for(ref))), key=lambda lit: lit.value)
        return m.Between(subject, low, high)
    op = draw(st.sampled_from(COMPARISON_OPS))
    if draw(st.booleans()):
        return m.Comparison(other, op, subject)
    return m.Comparison(subject, op, other)


_FACT_KINDS = ("bool", "integer", "decimal", "money", "percent", "date", "duration", "enum", "set")


@st.composite
def checked_policies(draw: st.DrawFn, source_name: str = "source.txt") -> GeneratedPolicy:
    """A small policy that passes ``check`` once its source text is written beside it."""
    # distinct ignoring case too: the checker refuses `z` beside `Z` (SQL engines cannot tell them apart)
    pool = draw(st.lists(names(), min_size=20, max_size=20, unique_by=str.casefold))
    pool_iter = iter(pool)

    def fresh() -> str:
        return next(pool_iter)

    enum_values: dict[str, tuple[str, ...]] = {}
    enum_decls: list[m.EnumDecl] = []
    for _ in range(draw(st.integers(1, 2))):
        enum_name = fresh()
        values = tuple(draw(st.lists(names(), min_size=1, max_size=4, unique=True)))
        enum_values[enum_name] = values
        enum_decls.append(m.EnumDecl(enum_name, tuple(m.EnumValue(v) for v in values), draw(st.booleans())))

    fact_types: dict[str, m.TypeRef] = {}
    kinds = draw(st.lists(st.sampled_from(_FACT_KINDS), min_size=2, max_size=6))
    kinds.append("money")  # a base for rates
    for kind in kinds:
        if kind == "money":
            ref = m.TypeRef("money", draw(st.sampled_from(CURRENCIES)))
        elif kind == "duration":
            ref = m.TypeRef("duration", draw(st.sampled_from(DURATION_UNITS)))
        elif kind in {"enum", "set"}:
            ref = m.TypeRef(kind, draw(st.sampled_from(sorted(enum_values))))
        else:
            ref = m.TypeRef(kind)
        fact_types[fresh()] = ref
    fact_decls = [
        m.FactDecl(name, ref, label=draw(optional(st.sampled_from(TRICKY_STRINGS).map(m.Text))))
        for name, ref in fact_types.items()
    ]

    cite = st.builds(m.Citation, st.sampled_from(SENTENCES).map(m.Text), optional(text_nodes()))
    cites = st.lists(cite, min_size=1, max_size=2).map(tuple)

    definition_names: list[str] = []
    definitions_: list[m.Definition] = []
    for _ in range(draw(st.integers(0, 2))):
        means = draw(typed_conditions(fact_types, enum_values, tuple(definition_names)))
        name = fresh()
        definitions_.append(
            _waive_cited_quantities(m.Definition(name, draw(optional(text_nodes())), means, draw(cites)))
        )
        definition_names.append(name)

    when = optional(typed_conditions(fact_types, enum_values, tuple(definition_names)))
    period = optional(
        st.builds(
            lambda a, b, ca, cb: m.Period(m.Literal(min(a, b), ca), m.Literal(max(a, b), cb)),
            st.dates(dt.date(2021, 1, 1), dt.date(2024, 12, 31)),
            st.dates(dt.date(2021, 1, 1), dt.date(2024, 12, 31)),
            st.booleans(),
            st.booleans(),
        )
    )
    money_facts = [n for n, r in fact_types.items() if r.kind == "money"]
    count_facts = [n for n, r in fact_types.items() if r.kind in {"integer", "decimal"}]

    rules: list[m.Node] = []
    for _ in range(draw(st.integers(1, 3))):
        base = draw(st.sampled_from(money_facts))
        currency = fact_types[base].param
        pays = (
            "none",
            "amount",
            "rate",
            "rate_of",
            "amount_range",
            "amount_floor",
            "rate_range",
            "rate_floor",
            "tiers",
            "marginal",
        )
        date_facts = [n for n, r in fact_types.items() if r.kind == "date"]
        pay = draw(
            st.sampled_from(
                (*pays, *(("per",) if count_facts else ()), *(("installments",) if date_facts else ()))
            )
        )
        tiers = (
            draw(_tiers(fact_types, base, count_facts, marginal=pay == "marginal"))
            if pay in {"tiers", "marginal"}
            else None
        )
        rule_when = draw(when)
        if pay == "installments":  # tiers by year of a date: years 1, 2, … within the condition's limit
            dated = draw(st.sampled_from(date_facts))
            atoms = rule_when.operands if isinstance(rule_when, m.And) else (rule_when,)
            limits = [_year_limit(a, dated) for a in atoms if a is not None]
            last = min([v for v in limits if v is not None], default=7)
            if last >= 1:
                tiers = draw(_installments(fact_types, dated, base, count_facts, last))
                years = m.Between(m.YearOf(m.Reference(dated)), m.Literal(1), m.Literal(last))
                rule_when = years if rule_when is None else m.And((rule_when, years))  # 连续N年
        amount = draw(money_literals(currency)) if pay in {"amount", "amount_range", "amount_floor"} else None
        amount_high = None
        if pay == "amount_range":  # low to high, the low end first
            amount_high = draw(money_literals(currency))
            assert amount is not None
            if amount_high.value < amount.value:
                amount, amount_high = amount_high, amount
        if pay == "per":  # a price per unit: at most check.MAX_PER_DIGITS digits
            price = st.one_of(st.integers(0, 10**6).map(Decimal), fractional_decimals(max_whole=10**5))
            amount = draw(_literal(st.builds(Money, price, st.just(currency)), st.booleans()))
        per = m.Name(draw(st.sampled_from(count_facts))) if pay == "per" else None
        rate = None
        same = [n for n in money_facts if fact_types[n].param == currency]  # facts in the base's currency
        if pay in {"rate", "rate_of"}:
            above: m.Literal | m.Name | None = None
            if pay == "rate_of" and draw(st.booleans()):  # 超出部分: above an amount or another fact
                above = draw(st.one_of(money_literals(currency), st.sampled_from(same).map(m.Name)))
            rate = m.Rate(draw(percent_literals()), m.Name(base) if pay == "rate_of" else None, above=above)
        elif pay == "rate_range":
            ends = sorted([draw(percent_literals()), draw(percent_literals())], key=lambda lit: lit.value)
            rate = m.Rate(ends[0], m.Name(base), high=ends[1])
        elif pay == "rate_floor":
            rate = m.Rate(draw(percent_literals()), m.Name(base), floor=True)
        cap = draw(optional(money_literals(currency)))
        computed = tiers is not None or per is not None or (rate is not None and pay == "rate_of")
        minimum = draw(optional(money_literals(currency))) if computed else None  # 最低
        if minimum is not None and cap is not None and minimum.value > cap.value:
            minimum, cap = cap, minimum
        if tiers is not None and cap is not None:  # no band's fixed amount above the cap (a check error)
            fixed = [t.amount.value for t in tiers.tiers if t.amount is not None and t.per is None]
            if any(value.amount > cap.value.amount for value in fixed):
                cap = None
        if per is None and amount is not None and cap is not None and amount.value > cap.value:
            amount, cap = cap, amount  # a fixed amount (or a range's low end) above its cap is a check error
            if amount_high is not None and amount_high.value < amount.value:
                amount_high = cap
        rules.append(
            m.Benefit(
                fresh(),
                draw(optional(text_nodes())),
                kind=m.Name(draw(st.sampled_from(BENEFIT_KINDS))),
                commits=draw(optional(st.sampled_from(COMMITMENTS).map(m.Name))),
                when=rule_when,
                amount=amount,
                amount_high=amount_high,
                amount_floor=pay == "amount_floor",
                per=per,
                rate=rate,
                tiers=tiers,
                cap=cap,
                minimum=minimum,
                # 不超过其…: a money fact in the same currency caps it too
                cap_facts=tuple(draw(st.lists(st.sampled_from(same).map(m.Name), max_size=2, unique=True))),
                frequency=draw(optional(st.sampled_from(("once", "recurring")).map(m.Name))),
                period=draw(period),
                citations=draw(cites),
            )
        )
    for _ in range(draw(st.integers(0, 2))):
        level_value = st.one_of(duration_literals(), percent_literals(), money_literals(), number_literals())
        level = st.builds(m.Metric, text_nodes(), st.sampled_from(COMPARISON_OPS), level_value)
        rules.append(
            m.Duty(
                fresh(),
                draw(optional(text_nodes())),
                when=draw(when),
                levels=tuple(draw(st.lists(level, max_size=2))),
                period=draw(period),
                citations=draw(cites),
                enterprise=draw(st.booleans()),  # an obligation of the enterprise (企业应当…)
            )
        )

    benefit_names = [r.name for r in rules if isinstance(r, m.Benefit)]
    if len(benefit_names) >= 2 and draw(st.booleans()):  # non-cumulation (不重复享受) of some of them
        members = draw(st.lists(st.sampled_from(benefit_names), min_size=2, max_size=3, unique=True))
        keep = draw(st.sampled_from(("highest", "first", "one")))
        rules.append(
            m.Exclusive(fresh(), None, tuple(m.Name(n) for n in members), m.Name(keep), citations=draw(cites))
        )
    amounted = [r.name for r in rules if isinstance(r, m.Benefit) and _one_amount(r)]
    if amounted and draw(st.booleans()):  # paid in stages (分阶段兑现) as milestones are reached
        members = draw(st.lists(st.sampled_from(amounted), min_size=1, max_size=2, unique=True))
        count = draw(st.integers(1, 3))
        cuts = sorted(draw(st.lists(st.integers(1, 99), min_size=count - 1, max_size=count - 1, unique=True)))
        shares = [b - a for a, b in itertools.pairwise([0, *cuts, 100])]
        stages = tuple(
            m.Stage(
                m.Literal(Percent(Decimal(share))),
                draw(typed_conditions(fact_types, enum_values, tuple(definition_names))),
            )
            for share in shares
        )
        rules.append(
            m.Staged(fresh(), None, tuple(m.Name(n) for n in members), stages, citations=draw(cites))
        )
    rules = [_waive_cited_quantities(rule) for rule in rules]
    agency_id = fresh()
    agency = m.Agency(agency_id, m.Text(draw(texts(8))))
    measure = m.Unit(
        "measure",
        "（一）",
        m.Text("生成的措施"),
        agencies=(m.Name(agency_id),),
        citations=draw(cites),
        rules=tuple(rules),
    )
    header = m.PolicyHeader(m.Text(draw(texts(10))), status=m.Name("final"), source=m.Text(source_name))
    model = m.PolicyFile((header, agency, *enum_decls, *fact_decls, *definitions_, measure))

    from policy_dsl.format import fmt

    source_text = "生成的政策\n\n（一）生成的措施\n\n" + "\n".join(SENTENCES) + "\n"
    return GeneratedPolicy(fmt(model), source_text, fact_types, enum_values, model)


def _band_pay(draw: st.DrawFn, currency: str | None, base: str, count_facts: list[str]) -> dict[str, Any]:
    """What a band pays: a fixed amount, a rate of ``base``, or an amount per unit of a count."""
    kind = draw(st.sampled_from(("amount", "rate", *(("per",) if count_facts else ()))))
    if kind == "amount":
        return {"amount": draw(money_literals(currency))}
    if kind == "rate":
        return {"rate": draw(percent_literals()), "base": m.Name(base)}
    price = st.one_of(st.integers(0, 10**6).map(Decimal), fractional_decimals(max_whole=10**5))
    return {
        "amount": draw(_literal(st.builds(Money, price, st.just(currency)), st.booleans())),
        "per": m.Name(draw(st.sampled_from(count_facts))),
    }


@st.composite
def _installments(
    draw: st.DrawFn,
    fact_types: dict[str, m.TypeRef],
    dated: str,
    base: str,
    count_facts: list[str],
    last: int,
) -> m.Tiers:
    """An installment schedule (``tiers by year of dated``): bands of years from 1 to at most
    ``last`` (the condition's limit), single years or runs, with gaps and a run open above
    sometimes; each pays an amount, an amount per count or a rate of ``base``."""
    currency = fact_types[base].param
    ends = sorted(draw(st.lists(st.integers(1, last), min_size=1, max_size=4, unique=True)))
    bands: list[m.Tier] = []
    start = 1
    for end in ends:
        if draw(st.integers(0, 4)) == 0:
            start = end + 1  # a gap: no installment in these years
            continue
        low = m.Literal(start)
        high: m.Literal | None = m.Literal(end)
        bands.append(m.Tier(low, False, high, False, **_band_pay(draw, currency, base, count_facts)))
        start = end + 1
    if not bands:
        bands.append(m.Tier(m.Literal(1), False, m.Literal(1), False, amount=draw(money_literals(currency))))
    return m.Tiers(m.Name(dated), False, tuple(bands), year_of=True)


@st.composite
def _tiers(
    draw: st.DrawFn, fact_types: dict[str, m.TypeRef], base: str, count_facts: list[str], marginal: bool
) -> m.Tiers:
    """A tiered schedule that checks: bands of one fact, lowest first, not overlapping (a shared end
    belongs to one band only), with gaps sometimes, open below or above sometimes; each band pays a
    fixed amount, an amount per unit of a count, or a rate of ``base`` (all in ``base``'s currency).
    Marginal: bands of ``base`` itself, each paying a rate on its part."""
    currency = fact_types[base].param
    if marginal:
        fact = base
    else:
        banded = [n for n, r in fact_types.items() if r.kind in {"money", "integer", "decimal", "percent"}]
        fact = draw(st.sampled_from(banded))
    ref = fact_types[fact]
    ends = draw(st.lists(_literal_for(ref), min_size=1, max_size=4, unique_by=lambda lit: lit.value))
    ends.sort(
        key=lambda lit: (
            lit.value.amount
            if isinstance(lit.value, Money)
            else lit.value.value
            if isinstance(lit.value, Percent)
            else lit.value
        )
    )
    bands: list[m.Tier] = []
    pairs: list[tuple[m.Literal | None, m.Literal | None]] = []
    if draw(st.booleans()):
        pairs.append((None, ends[0]))  # open below
    pairs.extend(itertools.pairwise(ends))
    if draw(st.booleans()) or not pairs:
        pairs.append((ends[-1], None))  # open above
    high_closed = False  # whether the band before ended at its high end, inclusive
    previous_high: m.Literal | None = None
    for low, high in pairs:
        if bands and draw(st.integers(0, 4)) == 0:
            high_closed = False  # a gap: this band is left out
            previous_high = high
            continue
        low_open = draw(st.booleans()) if low is not None else False
        if low is not None and previous_high is not None and low.value == previous_high.value and high_closed:
            low_open = True  # the shared end is the lower band's
        high_open = draw(st.booleans()) if high is not None else False
        if low is not None and high is not None and low.value == high.value:
            low_open = high_open = False
        if marginal:
            pay: dict[str, Any] = {"rate": draw(percent_literals())}
        else:
            pay = _band_pay(draw, currency, base, count_facts)
        bands.append(m.Tier(low, low_open, high, high_open, **pay))
        high_closed = high is not None and not high_open
        previous_high = high
    return m.Tiers(m.Name(fact), marginal, tuple(bands))


#: A value no generated enum lists (names are identifiers): an open enum's (等) value not listed.
UNLISTED_VALUE = "未列出 的值"


def enum_values_of(checked: Any) -> dict[str, tuple[str, ...]]:
    """Each enum's values for generated facts: the listed ones, and for an open enum (等) one more."""
    return {
        name: tuple(v.name for v in decl.values) + ((UNLISTED_VALUE,) if decl.open else ())
        for name, decl in checked.enums.items()
    }


def _waive_cited_quantities(rule: Any) -> Any:
    """The generated rules cite sentences at random: waive every quantity they quote, so the
    citation-integrity check (tested on its own) does not reject them."""
    from policy_dsl.citations import quantities

    found = [q.text for c in rule.citations for q in quantities(c.text.value)]
    waived = tuple(m.Waiver(m.Text(text), m.Text("generated")) for text in dict.fromkeys(found))
    return attrs.evolve(rule, waivers=waived)


# ---------------------------------------------------------------- facts at the boundaries


def _minor_unit(ref: m.TypeRef) -> Any:
    if ref.kind == "money":
        return Decimal(1).scaleb(-MINOR_UNIT_DIGITS.get(ref.param or "", 2))
    if ref.kind in {"decimal", "percent"}:
        return Decimal("0.01")
    if ref.kind == "date":
        return dt.timedelta(days=1)
    return 1


def literal_values(node: m.Node) -> list[Any]:
    """Every literal value in a model subtree, in runtime form (money → its amount…)."""
    from policy_dsl.visitor import Visitor

    found: list[Any] = []

    class Collect(Visitor):
        def visit_Literal(self, literal: m.Literal) -> None:
            found.append(runtime_value(literal.value))

    Collect().visit(node)
    return found


FINEST = Decimal("1E-10")


def boundary_values(ref: m.TypeRef, literals: list[Any]) -> list[Any]:
    """Each literal of the fact's type, one minor unit below it and one above (and 0.0001 and
    10⁻¹⁰ either side, for money, decimals and percentages)."""
    step = _minor_unit(ref)
    out: list[Any] = []
    for value in literals:
        if ref.kind in {"integer", "duration"} and isinstance(value, int) and not isinstance(value, bool):
            out += [value - 1, value, value + 1]
        elif ref.kind in {"decimal", "money", "percent"} and isinstance(value, int | Decimal):
            if isinstance(value, bool):
                continue
            value = Decimal(value)
            out += [value - step, value, value + step, value - Decimal("0.0001"), value + Decimal("0.0001")]
            # finer than any minor unit: the finest step the SQL backend's DECIMAL(38, 10) facts keep
            out += [value - FINEST, value + FINEST]
        elif ref.kind == "date" and isinstance(value, dt.date):
            out += [d for d in (value - step, value, value + step) if dt.date.min < d < dt.date.max]
    if ref.kind == "integer":
        out = [v for v in out if isinstance(v, int)]
    if ref.kind in {"money", "decimal", "percent", "duration", "integer"}:
        out = [v for v in out if v >= 0] or out
    return out


def fact_value_strategy(
    ref: m.TypeRef, enum_values: dict[str, tuple[str, ...]], literals: list[Any]
) -> st.SearchStrategy[Any]:
    """A value for a fact of type ``ref``: boundary-heavy, or any value of the type."""
    kind = ref.kind
    if kind == "bool":
        return st.booleans()
    if kind == "enum":
        return st.sampled_from(enum_values[ref.param or ""])
    if kind == "set":
        return st.frozensets(st.sampled_from(enum_values[ref.param or ""]))
    if kind == "integer":
        anything: st.SearchStrategy[Any] = st.integers(0, 10**7)
    elif kind == "decimal":
        anything = st.one_of(st.integers(0, 10**7).map(Decimal), fractional_decimals(10**7))
    elif kind == "money":
        anything = amounts()
    elif kind == "percent":
        anything = percent_values().map(lambda p: p.value)
    elif kind == "date":
        anything = st.dates(dt.date(2020, 1, 1), dt.date(2025, 12, 31))
    elif kind == "duration":
        anything = st.integers(0, 400)
    else:  # pragma: no cover
        raise AssertionError(kind)
    edges = boundary_values(ref, literals)
    if edges:
        return st.one_of(st.sampled_from(edges), anything)
    return anything


@st.composite
def fact_sets(
    draw: st.DrawFn,
    fact_types: dict[str, m.TypeRef],
    enum_values: dict[str, tuple[str, ...]],
    literals_by_fact: dict[str, list[Any]],
    items: dict[str, dict[str, m.TypeRef]] | None = None,
) -> dict[str, Any]:
    """Facts in runtime form; each fact is present or absent; a list of items (``items``: each
    list's item fact types) 0 to 3 items, each of their facts present or absent."""
    facts_: dict[str, Any] = {}
    for name, ref in fact_types.items():
        if ref.kind == "list":
            if draw(st.booleans()):
                fields = (items or {})[ref.param or ""]
                item = st.fixed_dictionaries(
                    {},
                    optional={
                        f: fact_value_strategy(t, enum_values, literals_by_fact.get(f, []))
                        for f, t in fields.items()
                    },
                )
                facts_[name] = tuple(draw(st.lists(item, max_size=3)))
            continue
        if draw(st.booleans()):
            facts_[name] = draw(fact_value_strategy(ref, enum_values, literals_by_fact.get(name, [])))
    return facts_


def rule_periods(checked: CheckedPolicy) -> list[tuple[dt.date, dt.date]]:
    """Every rule's period (benefits, duties, targets), as (first day, last day)."""
    out = []
    for info in (*checked.benefits, *checked.duties, *checked.targets):
        period = info.rule.period
        if period is not None:
            out.append((period.start.value, period.end.value))
    return out


def as_of_dates(periods_: list[tuple[dt.date, dt.date]]) -> st.SearchStrategy[dt.date]:
    """Evaluation dates, often at a period's first or last day or one day outside it."""
    edges = sorted({d + dt.timedelta(days=k) for p in periods_ for d in p for k in (-1, 0, 1)})
    anything = st.dates(dt.date(2020, 1, 1), dt.date(2025, 12, 31))
    return st.one_of(st.sampled_from(edges), anything) if edges else anything


# ---------------------------------------------------------------- text mutations

#: What a hurried editor might type into a policy file.
INSERTIONS = (
    "出",
    "口",
    "额",
    "万",
    "亿",
    "美元",
    "年",
    "月",
    "日",
    "个工作日",
    "，",
    "：",
    "“",
    "”",
    "｛",
    "｝",
    "（",
    "）",
    "＝",
    "％",
    "、",
    '"',
    "'",
    "\\",
    '\\"',
    "\\u12",
    "{",
    "}",
    "(",
    ")",
    ",",
    ":",
    "=",
    "<=",
    "≤",
    "//",
    "\n",
    "\t",
    " ",
    "0",
    "9",
    "2022-13-45",
    "2022年2月30日",
    "99999999999999999999999999999999万亿美元",
    "0.",
    ".5",
    "not",
    "and",
    "or",
    "in",
    "includes",
    "between",
    "true",
    "cite",
    "note",
    "means",
    "when",
    "benefit",
    "measure",
    "chapter",
    "（十三）",
    "四、",
    "\u200b",
    "\ufeff",
    "\r",
    "\x00",
)


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """``text`` after a few random edits: deletions, insertions, duplications, swaps, token shuffles."""
    import re

    for _ in range(draw(st.integers(1, 4))):
        size = len(text)
        op = draw(st.sampled_from(("delete", "insert", "duplicate", "swap", "token_swap", "token_copy")))
        i = draw(st.integers(0, size))
        j = min(size, i + draw(st.integers(0, 12)))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "insert":
            piece = draw(st.one_of(st.sampled_from(INSERTIONS), st.text(min_size=1, max_size=3)))
            text = text[:i] + piece + text[i:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif op == "swap":
            k = draw(st.integers(0, size))
            a, b = sorted((i, k))
            if a < b and j <= size:
                text = text[:a] + text[b : b + 1] + text[a + 1 : b] + text[a : a + 1] + text[b + 1 :]
        else:
            tokens = re.findall(r"\s+|\w+|[^\w\s]", text)
            if len(tokens) < 2:
                continue
            a = draw(st.integers(0, len(tokens) - 1))
            b = draw(st.integers(0, len(tokens) - 1))
            if op == "token_swap":
                tokens[a], tokens[b] = tokens[b], tokens[a]
            else:
                tokens.insert(a, tokens[b])
            text = "".join(tokens)
    return text


def consistent(checked: CheckedPolicy, facts: dict[str, Any]) -> dict[str, Any]:
    """``facts`` made to agree with the policy's ``implies``: a yes/no fact that a counting value
    implies is set true (the readers refuse facts that contradict an implication)."""
    from policy_dsl import intake
    from policy_dsl.facts import fact_table

    table = fact_table(checked)
    read = intake.read_facts({k: v for k, v in facts.items() if k not in _implied(table)}, table)
    fixed = dict(facts)
    for name, value in read.items():
        for implied in table[name]["implies"]:
            if fixed.get(implied) is False and intake.counts(value):
                fixed[implied] = True
    return fixed


def _implied(table: dict[str, dict[str, Any]]) -> set[str]:
    return {implied for info in table.values() for implied in info["implies"]}
