"""The policy model: frozen attrs nodes, one class per grammar alias, each with its source position.

Positions never take part in equality (``parse(fmt(m)) == m`` compares content only).
Rewrites use :func:`attrs.evolve`. Walk the tree with :class:`policy_dsl.visitor.Visitor`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, TypeAlias

import attrs

from policy_dsl.source import NOWHERE, SourcePosition
from policy_dsl.values import Duration, Money, Percent


def _pos() -> SourcePosition:
    return attrs.field(default=NOWHERE, eq=False, repr=False, kw_only=True)


def _tuple() -> Any:
    return attrs.field(converter=tuple, default=())


class Node:
    """Base of every AST node."""

    pos: SourcePosition


# ---------------------------------------------------------------- small pieces


@attrs.frozen
class Text(Node):
    """A string as written in the policy (a label, a citation, a path)."""

    value: str
    pos: SourcePosition = _pos()


@attrs.frozen
class Name(Node):
    """An identifier where it is used: a reference to a fact, definition, enum value or agency."""

    text: str
    pos: SourcePosition = _pos()


LiteralValue: TypeAlias = bool | int | Decimal | Money | Percent | Duration | dt.date


@attrs.frozen
class Literal(Node):
    """A constant. ``chinese`` remembers the notation (万, 美元, 年…) so the formatter keeps it."""

    value: LiteralValue
    chinese: bool = attrs.field(default=False, eq=False)
    #: Money written with an ISO code (500万 USD) rather than a currency word (500万美元).
    code: bool = attrs.field(default=False, eq=False)
    pos: SourcePosition = _pos()


@attrs.frozen
class Citation(Node):
    """The exact words of the source text a rule encodes, and what the encoder noted about them."""

    text: Text
    note: Text | None = None
    pos: SourcePosition = _pos()


@attrs.frozen
class Waiver(Node):
    """``waive "2年" because "…"``: a quantity of the cited text the rule deliberately leaves out."""

    quantity: Text
    reason: Text
    pos: SourcePosition = _pos()


@attrs.frozen
class Period(Node):
    """From ``start`` to ``end``, both days included (自A至B)."""

    start: Literal
    end: Literal
    pos: SourcePosition = _pos()


# ---------------------------------------------------------------- conditions


@attrs.frozen
class Reference(Node):
    """A fact or definition used in a condition."""

    name: str
    pos: SourcePosition = _pos()


Operand: TypeAlias = "Reference | Literal"


@attrs.frozen
class Comparison(Node):
    left: Reference | Literal | YearOf
    op: str
    right: Reference | Literal | YearOf
    pos: SourcePosition = _pos()


@attrs.frozen
class Membership(Node):
    """``subject in {a, b}`` (or ``not in`` when ``negated``)."""

    subject: Reference | Literal
    values: tuple[Name, ...] = _tuple()
    negated: bool = False
    pos: SourcePosition = _pos()


@attrs.frozen
class Includes(Node):
    """A set-valued fact includes one value (``mode="one"``), any of, or all of the values."""

    subject: Reference | Literal
    mode: str
    values: tuple[Name, ...] = _tuple()
    pos: SourcePosition = _pos()


@attrs.frozen
class Between(Node):
    """``subject between low and high``, both ends included."""

    subject: Reference | Literal | YearOf
    low: Reference | Literal
    high: Reference | Literal
    pos: SourcePosition = _pos()


@attrs.frozen
class YearOf(Node):
    """``year of 认定日期``: which calendar year the day of evaluation is, counted from the date's
    own year as the first (自认定当年起): 1 in that year from the date on, 2 the next; 0 before the date."""

    subject: Reference
    pos: SourcePosition = _pos()


@attrs.frozen
class Within(Node):
    """``成立日期 within 3年``: on the day of evaluation, the period of ``length`` counted from the
    date (民法典 第二百零一、二百零二条) has begun and not yet ended — 成立不满3年, 完成后3年内."""

    subject: Reference | Literal
    length: Literal
    pos: SourcePosition = _pos()


@attrs.frozen
class Not(Node):
    operand: Condition
    pos: SourcePosition = _pos()


@attrs.frozen
class And(Node):
    operands: tuple[Condition, ...] = _tuple()
    pos: SourcePosition = _pos()


@attrs.frozen
class Or(Node):
    operands: tuple[Condition, ...] = _tuple()
    pos: SourcePosition = _pos()


Condition: TypeAlias = (
    "Reference | Literal | Comparison | Membership | Includes | Between | Within | Not | And | Or"
)


# ---------------------------------------------------------------- declarations


@attrs.frozen
class PolicyHeader(Node):
    title: Text
    issuer: Text | None = None
    jurisdiction: Text | None = None
    version: Text | None = None
    status: Name | None = None
    date: Literal | None = None
    implements: Text | None = None
    source: Text | None = None
    #: When the document takes effect: a date, or Name("publication") for 自发布之日起施行.
    effective: Literal | Name | None = None
    #: 有效期 N 年: a duration counted from the effective date (民法典 第二百零一、二百零二条).
    valid: Literal | None = None
    #: The last day in force (有效期至…), when the text names it.
    until: Literal | None = None
    #: The documents this version repeals or supersedes (titles or 文号, as the text names them).
    repeals: tuple[Text, ...] = _tuple()
    #: Which text prevails in a conflict: ``higher`` (上级文件优先) or ``this``.
    precedence: Name | None = None
    #: The document's level: ``national``, ``provincial``, ``city`` or ``county`` (上级/下级 in a library).
    level: Name | None = None
    #: Where another document rewards the same thing: ``highest`` (就高不重复), in a library.
    keep: Name | None = None
    citations: tuple[Citation, ...] = _tuple()
    pos: SourcePosition = _pos()


@attrs.frozen
class UseRegistry(Node):
    """``use "chongqing.agencies"``: import the agencies declared in a registry file."""

    path: Text
    pos: SourcePosition = _pos()


@attrs.frozen
class Agency(Node):
    id: str
    name: Text
    aliases: tuple[Text, ...] = _tuple()
    notes: tuple[Text, ...] = _tuple()
    pos: SourcePosition = _pos()


@attrs.frozen
class EnumValue(Node):
    name: str
    label: Text | None = None
    pos: SourcePosition = _pos()


@attrs.frozen
class EnumDecl(Node):
    """``enum 出口企业分类 { 一类, 二类 }``; ``open enum`` (等) lists examples, not every value."""

    name: str
    values: tuple[EnumValue, ...] = _tuple()
    open: bool = False
    pos: SourcePosition = _pos()


@attrs.frozen
class TypeRef(Node):
    """A fact's declared type. ``param`` is the currency, duration unit or enum name where one applies."""

    kind: str
    param: str | None = None
    pos: SourcePosition = _pos()


@attrs.frozen
class FactDecl(Node):
    name: str
    type: TypeRef
    label: Text | None = None
    description: Text | None = None
    #: Yes/no facts that must be true when this one holds a value that counts (see check.holds).
    implies: tuple[Name, ...] = _tuple()
    pos: SourcePosition = _pos()


@attrs.frozen
class ItemsDecl(Node):
    """``items 获批品种 "…" { fact 品种出口额: money USD … }``: a list fact whose items each have
    the facts declared inside (a product, project or person the enterprise has)."""

    name: str
    label: Text | None = None
    facts: tuple[FactDecl, ...] = _tuple()
    pos: SourcePosition = _pos()


@attrs.frozen
class Definition(Node):
    """A named reusable condition (中型外贸企业 := 出口额 ≤ 5000万美元 …)."""

    name: str
    label: Text | None = None
    means: Condition | None = None
    citations: tuple[Citation, ...] = _tuple()
    waivers: tuple[Waiver, ...] = _tuple()
    pos: SourcePosition = _pos()


@attrs.frozen
class Rate(Node):
    """``rate 100% of 保费``: a percentage, optionally of a money fact it applies to. A range
    ``rate 5% to 20% of 投资`` has ``high``; a floor ``rate >= 10% of 成本`` (不低于) has ``floor``."""

    rate: Literal
    base: Name | None = None
    high: Literal | None = None
    floor: bool = False
    #: ``of 销售额 above 上年销售额`` / ``above 1亿元``: the rate applies to the part of the base
    #: above this (超出部分, 同比超出部分), nothing below it
    above: Literal | Name | None = None
    pos: SourcePosition = _pos()


@attrs.frozen
class Tier(Node):
    """One band of a tiered schedule: the values of the schedule's fact it covers, and what it pays.

    ``from 1000万元 to 5000万元: rate 70% of 地方财政贡献``: ``low`` / ``high`` are the band's ends
    (either may be absent: open below or above); ``low_open`` / ``high_open`` say an end is
    excluded (``above`` 超过, ``below`` 不满). It pays an ``amount`` (per unit of the ``per`` fact, if
    given) or a ``rate`` (of the ``base`` fact; in a marginal schedule, of the part in the band)."""

    low: Literal | None = None
    low_open: bool = False
    high: Literal | None = None
    high_open: bool = False
    amount: Literal | None = None
    per: Name | None = None
    rate: Literal | None = None
    base: Name | None = None
    pos: SourcePosition = _pos()


@attrs.frozen
class Tiers(Node):
    """A tiered schedule (分档): ``tiers by FACT`` pays as the band the fact falls in says (the whole
    amount at that band's rate); ``marginal tiers of FACT`` adds each band's rate on the part of the
    fact inside the band (超过部分按…)."""

    fact: Name
    marginal: bool = False
    tiers: tuple[Tier, ...] = _tuple()
    #: ``tiers by year of 认定日期``: the bands are years counted from the date fact's own year (1),
    #: as ``year of`` counts them — an installment schedule (第一年5万元、第二年3万元…, 前2年80%、后3年50%)
    year_of: bool = False
    pos: SourcePosition = _pos()


@attrs.frozen
class Benefit(Node):
    """What an enterprise can receive: kind, eligibility, amount / rate / cap, frequency, period."""

    name: str
    label: Text | None = None
    kind: Name | None = None
    #: What the text commits to (see check.COMMITMENTS): entitled, may_receive, priority, …
    commits: Name | None = None
    #: ``follows 技改奖励``: a cross-reference (按第5条执行); the fields written here replace its own.
    follows: Name | None = None
    when: Condition | None = None
    amount: Literal | None = None
    #: ``amount 10万元 to 100万元``: the high end of a range (``amount`` is the low end), decided case by case
    amount_high: Literal | None = None
    #: ``amount >= 10万元`` (不低于): at least ``amount``, no upper end but the cap
    amount_floor: bool = False
    #: ``amount 100元 per 种植面积``: the amount is per unit of this count or measure fact (元/亩, 元/人)
    per: Name | None = None
    rate: Rate | None = None
    #: ``tiers by 投资 { … }`` / ``marginal tiers of 销售额 { … }``: the amount by band (分档)
    tiers: Tiers | None = None
    cap: Literal | None = None
    #: ``min 10万元`` (最低10万元): a computed amount (rate, per unit, tiers) is at least this; a cap
    #: still limits it
    minimum: Literal | None = None
    #: ``cap 年度地方财政贡献`` (不超过其…): money facts that also cap the amount (the least applies)
    cap_facts: tuple[Name, ...] = _tuple()
    #: ``for each 获批品种``: decided and paid per item of this list (单品种, 按项目); ``cap`` is per item
    each: Name | None = None
    #: ``cap total 500万元``: at most this for all the enterprise's items together (单个企业最高…)
    cap_total: Literal | None = None
    #: ``cap total 年度地方财政贡献``: enterprise facts that also cap the items' sum (the least applies)
    cap_total_facts: tuple[Name, ...] = _tuple()
    frequency: Name | None = None
    period: Period | None = None
    agencies: tuple[Name, ...] = _tuple()
    citations: tuple[Citation, ...] = _tuple()
    waivers: tuple[Waiver, ...] = _tuple()
    pos: SourcePosition = _pos()


@attrs.frozen
class Metric(Node):
    """A measurable commitment: a service level of a duty or the goal of a target."""

    label: Text
    op: str
    value: Literal
    pos: SourcePosition = _pos()


@attrs.frozen
class Duty(Node):
    """What agencies must do, for whom, and how well (service levels); or, written ``obligation``
    (``enterprise``), what the enterprise must do or bear, with the ``sanctions`` the text states."""

    name: str
    label: Text | None = None
    follows: Name | None = None
    when: Condition | None = None
    levels: tuple[Metric, ...] = _tuple()
    period: Period | None = None
    agencies: tuple[Name, ...] = _tuple()
    citations: tuple[Citation, ...] = _tuple()
    waivers: tuple[Waiver, ...] = _tuple()
    #: an obligation of the enterprise (企业应当…), not of the agencies
    enterprise: bool = False
    #: ``sanction "按协议追回奖励"``: what follows for the enterprise, as the text says it
    sanctions: tuple[Text, ...] = _tuple()
    pos: SourcePosition = _pos()


@attrs.frozen
class Target(Node):
    """A quantitative goal the policy sets itself (2022年支持一般贸易出口不低于70亿美元)."""

    name: str
    label: Text | None = None
    goals: tuple[Metric, ...] = _tuple()
    period: Period | None = None
    agencies: tuple[Name, ...] = _tuple()
    citations: tuple[Citation, ...] = _tuple()
    waivers: tuple[Waiver, ...] = _tuple()
    pos: SourcePosition = _pos()


@attrs.frozen
class Exclusive(Node):
    """Non-cumulation (不重复享受): of the ``members`` (benefits) an enterprise keeps one, as ``keep``
    says — ``highest`` (就高不重复), ``first`` (in the order written) or ``one`` (its choice)."""

    name: str
    label: Text | None = None
    members: tuple[Name, ...] = _tuple()
    keep: Name | None = None
    citations: tuple[Citation, ...] = _tuple()
    waivers: tuple[Waiver, ...] = _tuple()
    pos: SourcePosition = _pos()


@attrs.frozen
class Stage(Node):
    """``stage 30% when 主体封闭``: the share of the amount paid once the condition holds."""

    share: Literal
    when: Condition
    pos: SourcePosition = _pos()


@attrs.frozen
class Staged(Node):
    """Staged payment (分阶段兑现): the ``members``' amounts are paid in ``stages`` as milestones are
    reached; on a day, what is payable is the sum of the shares of the stages reached."""

    name: str
    label: Text | None = None
    members: tuple[Name, ...] = _tuple()
    stages: tuple[Stage, ...] = _tuple()
    citations: tuple[Citation, ...] = _tuple()
    waivers: tuple[Waiver, ...] = _tuple()
    pos: SourcePosition = _pos()


Rule: TypeAlias = Definition | Benefit | Duty | Target | Exclusive | Staged


#: The words a unit block may start with; the encoder's name for the level, not checked against it.
UNIT_KINDS = ("chapter", "article", "measure", "item")


@attrs.frozen
class Unit(Node):
    """A unit of the document the rules sit in, numbered as the text numbers it.

    A chapter (二、, 第二章), an article (第5条), a measure （六） or an item (1., （1）, ①); units nest
    as the text nests them. The document itself is the unit of kind ``document`` (number ``""``)
    that holds the rules written outside any block.
    """

    kind: str
    number: str
    title: Text | None = None
    agencies: tuple[Name, ...] = _tuple()
    citations: tuple[Citation, ...] = _tuple()
    rules: tuple[Rule, ...] = _tuple()
    units: tuple[Unit, ...] = _tuple()
    pos: SourcePosition = _pos()

    @property
    def label(self) -> str:
        """How reports name the unit: its number with white space dropped, or 全文 for the document."""
        return re.sub(r"\s+", "", self.number) if self.kind != "document" else "全文"

    def walk(self) -> Iterator[Unit]:
        yield self
        for unit in self.units:
            yield from unit.walk()


@attrs.frozen
class Comment(Node):
    """A ``//`` comment, kept so the formatter never drops what a user wrote."""

    text: str
    pos: SourcePosition = _pos()


@attrs.frozen
class Area(Node):
    """An area an enterprise may be in, with the areas inside it (吉林省 { 通化市 { 柳河县 } })."""

    name: str
    inside: tuple[Area, ...] = _tuple()
    pos: SourcePosition = _pos()

    def walk(self, around: tuple[str, ...] = ()) -> Iterator[tuple[Area, tuple[str, ...]]]:
        """Each area with the names of the areas around it, outermost first."""
        yield self, around
        for area in self.inside:
            yield from area.walk((*around, self.name))


@attrs.frozen
class Areas(Node):
    """``areas 所在地 { … }``: the fact giving an enterprise's area, and the areas it may name."""

    fact: Name
    areas: tuple[Area, ...] = _tuple()
    pos: SourcePosition = _pos()


@attrs.frozen
class LibraryPolicy(Node):
    """``policy "new.policy" replaces "old.policy"``: a policy of the library, and those it replaces
    (repeals, or a later version of) from the day it takes effect."""

    path: Text
    replaces: tuple[Text, ...] = _tuple()
    pos: SourcePosition = _pos()


@attrs.frozen
class SameMember(Node):
    path: Text
    benefit: Name
    pos: SourcePosition = _pos()


@attrs.frozen
class Same(Node):
    """``same 驰名商标 { "a.policy" 奖励A  "b.policy" 奖励B }``: benefits of different documents that
    reward the same thing (同一内容); the documents' ``keep``/``precedence`` settle which one applies."""

    name: str
    label: Text | None = None
    members: tuple[SameMember, ...] = _tuple()
    pos: SourcePosition = _pos()


@attrs.frozen
class Library(Node):
    """The index of a library of policies (``library "…" { … }``)."""

    title: Text
    uses: tuple[Text, ...] = _tuple()
    areas: tuple[Areas, ...] = _tuple()
    policies: tuple[LibraryPolicy, ...] = _tuple()
    same: tuple[Same, ...] = _tuple()
    notes: tuple[Text, ...] = _tuple()
    pos: SourcePosition = _pos()


Item: TypeAlias = (
    PolicyHeader | Library | UseRegistry | Agency | EnumDecl | FactDecl | ItemsDecl | Rule | Unit
)


@attrs.frozen
class PolicyFile(Node):
    """One parsed file: its items in source order and its comments."""

    items: tuple[Item, ...] = _tuple()
    comments: tuple[Comment, ...] = attrs.field(default=(), eq=False)
    pos: SourcePosition = _pos()

    @property
    def header(self) -> PolicyHeader | None:
        for item in self.items:
            if isinstance(item, PolicyHeader):
                return item
        return None

    def units(self) -> tuple[Unit, ...]:
        """Every unit, outermost first, in text order."""
        return tuple(unit for item in self.items if isinstance(item, Unit) for unit in item.walk())

    def document_unit(self) -> Unit:
        """The document as a unit: the rules written outside any block."""
        rules = tuple(
            item
            for item in self.items
            if isinstance(item, Definition | Benefit | Duty | Target | Exclusive | Staged)
        )
        return Unit("document", "", rules=rules, pos=self.pos)
