"""Document structure, validity, cross-references, the one decoder and citation integrity.

Five sections, each against the behaviour a user sees:

1. reading a Chinese policy text into units (document.py): every heading form, nesting, the
   diff's chapters/measures view, responsible units, line numbers; generated documents;
2. when a policy is in force (check.py ``period_end`` / ``Validity``) through load, evaluate, the
   standalone module and ``policy eval``;
3. cross-references (``follows``): resolution, evaluation, ``policy explain``, the errors;
4. one decoder: GB18030, CRLF and BOM give the same results as UTF-8; undecodable bytes are a
   clear error (exit 2) for ``check``, ``eval`` and ``policy-diff``;
5. citation integrity (citations.py): quantities, duplicates, stale encodings, waivers, and
   cross-unit citations as warnings.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

import policy_dsl
from policy_dsl.check import Validity, period_end
from policy_dsl.citations import quantities
from policy_dsl.cli import policy, policy_diff
from policy_dsl.document import (
    Document,
    DocumentUnit,
    UnitKey,
    chinese_number,
    heading_key,
    match_heading,
    read_document,
)
from policy_dsl.errors import Diagnostic
from policy_dsl.facts import validate_facts
from policy_dsl.model import Reference
from policy_dsl.values import Duration, Money, Percent

D = dt.date


def tree(document: Document) -> list[tuple[object, ...]]:
    """The units of a document as nested (label, title, [children]) — what a reader sees."""

    def one(unit: DocumentUnit) -> tuple[object, ...]:
        return (unit.label, unit.title, [one(child) for child in unit.children])

    return [one(unit) for unit in document.units]


def bodies(unit: DocumentUnit) -> list[str]:
    return [sentence.text for sentence in unit.sentences]


def write_policy(tmp_path: Path, source: str, policy_text: str) -> Path:
    """A source text ``s.txt`` and a policy ``p.policy`` beside it (UTF-8); the policy's path."""
    (tmp_path / "s.txt").write_text(source, encoding="utf-8")
    path = tmp_path / "p.policy"
    path.write_text(policy_text, encoding="utf-8")
    return path


def check_problems(path: Path) -> list[Diagnostic]:
    """The diagnostics of a policy that must fail its check."""
    with pytest.raises(policy_dsl.PolicyCheckError) as caught:
        policy_dsl.load(path)
    return list(caught.value.diagnostics)


def messages(problems: list[Diagnostic]) -> list[str]:
    return [problem.message for problem in problems]


def header(status: str = "final", extra: str = "") -> str:
    return f'policy "示例办法" {{\n    status {status}\n    source "s.txt"\n{extra}}}\n'


# ================================================================ 1. document structure

# ---------------------------------------------------------------- single headings


@pytest.mark.parametrize(
    ("line", "style", "number", "label"),
    [
        ("第1条", "条", 1, "第1条"),
        ("第10条", "条", 10, "第10条"),
        ("第 1 0 条", "条", 10, "第10条"),
        ("第十条", "条", 10, "第十条"),
        ("第二十三条", "条", 23, "第二十三条"),
        ("第一百零五条", "条", 105, "第一百零五条"),
        ("第 一 百 零 五 条", "条", 105, "第一百零五条"),
        ("第一章 总则", "章", 1, "第一章"),
        ("第12章 附则", "章", 12, "第12章"),
        ("第二节 资金管理", "节", 2, "第二节"),
        ("一、总体要求", "一、", 1, "一、"),
        ("二 、保障措施", "一、", 2, "二、"),
        ("十一、其他", "一、", 11, "十一、"),
        ("（一）保障外贸", "（一）", 1, "（一）"),
        ("(一)保障外贸", "（一）", 1, "（一）"),
        ("（ 十 二 ）保障外贸", "（一）", 12, "（十二）"),
        ("1.投资奖励", "1.", 1, "1."),
        ("1、投资奖励", "1.", 1, "1、"),
        ("1．投资奖励", "1.", 1, "1."),
        ("12. 投资奖励", "1.", 12, "12."),
        ("（1）投资奖励", "（1）", 1, "（1）"),
        ("(3)投资奖励", "（1）", 3, "（3）"),
        ("① 投资奖励", "①", 1, "①"),
        ("⑳投资奖励", "①", 20, "⑳"),
    ],
)
def test_every_heading_form_is_recognised(line: str, style: str, number: int, label: str) -> None:
    """Chinese and Arabic numerals, full- and half-width brackets, white space inside the number."""
    heading = match_heading(line)
    assert heading is not None
    assert (heading.style, heading.number, heading.label) == (style, number, label)


@pytest.mark.parametrize(
    ("line", "title", "body"),
    [
        ("（一）保障外贸企业生产经营稳定", "保障外贸企业生产经营稳定", ""),
        ("（二）新产品研发支持。对企业研发新产品给予补助。", "新产品研发支持", "对企业研发新产品给予补助。"),
        ("（三）申报条件：企业应当依法登记。", "申报条件", "企业应当依法登记。"),
        ("（三）申报条件:企业应当依法登记。", "申报条件", "企业应当依法登记。"),
        ("（一）固定资产投资支持。", "固定资产投资支持", ""),
        ("一、总体要求。到年底外贸规模稳中有增。", "总体要求", "到年底外贸规模稳中有增。"),
        (
            "第7条 鼓励企业产品研发。对企业取得专利的给予奖励。",
            "鼓励企业产品研发",
            "对企业取得专利的给予奖励。",
        ),
        ("第二十三条 对企业给予奖励。", "", "对企业给予奖励。"),
        ("1. 对投资1000万元以上的，奖励10万元。", "", "对投资1000万元以上的，奖励10万元。"),
        ("（一）对小微企业给予保费补贴。", "", "对小微企业给予保费补贴。"),
        ("（二）2022年支持出口。对企业给予补贴。", "", "2022年支持出口。对企业给予补贴。"),
    ],
)
def test_standalone_run_in_and_full_stop_titles(line: str, title: str, body: str) -> None:
    """A title ended by 。 or ： with a body after it is run-in; a sentence is not a title."""
    heading = match_heading(line)
    assert heading is not None
    assert (heading.title, heading.body) == (title, body)


@pytest.mark.parametrize(
    "line",
    [
        "2022年支持一般贸易出口不低于70亿美元。",
        "1.5倍补助标准另行规定。",
        "3.2万元以下的部分全额补贴。",
        "100%补贴保费。",
        "12月底前完成申报。",
        "10、20万元两档奖励。",
        "（2022年）第一批名单。",
        "（责任单位：市商务委）",
        "对小微企业给予保费补贴。",
    ],
)
def test_body_lines_starting_with_a_number_are_not_headings(line: str) -> None:
    assert match_heading(line) is None
    document = read_document(f"标题\n（一）支持出口\n{line}\n")
    assert [unit.label for unit in document.walk()] == ["（一）"]
    if not line.startswith("（责任单位"):
        assert bodies(document.units[0]) == [line]


# ---------------------------------------------------------------- chinese_number / heading_key


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("十", 10),
        ("十一", 11),
        ("二十三", 23),
        ("一百零五", 105),
        ("一百一十", 110),
        ("两百", 200),
        ("九百九十九", 999),
        ("1 0", 10),
        ("１２", 12),
        ("③", 3),
        ("", None),
        ("十x", None),
    ],
)
def test_chinese_number(text: str, value: int | None) -> None:
    assert chinese_number(text) == value


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("第5条", UnitKey("条", 5)),
        ("第五条", UnitKey("条", 5)),
        ("第 1 0 条", UnitKey("条", 10)),
        ("第二章", UnitKey("章", 2)),
        ("第一节", UnitKey("节", 1)),
        ("二、", UnitKey("一、", 2)),
        ("（六）", UnitKey("（一）", 6)),
        ("(六)", UnitKey("（一）", 6)),
        ("1.", UnitKey("1.", 1)),
        ("1、", UnitKey("1.", 1)),
        ("（1）", UnitKey("（1）", 1)),
        ("第5条 鼓励", None),
        ("五", None),
    ],
)
def test_heading_key_one_key_whatever_the_notation(label: str, key: UnitKey | None) -> None:
    assert heading_key(label) == key


CIRCLED_SOURCE = """示例办法
第1条 支持措施如下：
① 对小微企业给予5万元补贴。
② 对中型企业给予10万元补贴。
"""


def test_circled_items_can_be_encoded(tmp_path: Path) -> None:
    policy_text = header() + (
        "fact 小微: bool\n"
        "article 第1条 {\n"
        "    item ① {\n"
        '        benefit 补贴 { kind subsidy  when 小微  amount 5万元  cite "对小微企业给予5万元补贴" }\n'
        "    }\n"
        "}\n"
    )
    loaded = policy_dsl.load(write_policy(tmp_path, CIRCLED_SOURCE, policy_text))
    assert loaded.checked.rule("补贴") is not None


# ---------------------------------------------------------------- whole documents

MEASURES_TEXT = """关于支持产业发展的意见
（征求意见稿）

为支持产业发展，制定本意见。
一、支持措施
（一）固定资产投资支持。
对新建项目给予奖励。
1. 投资1000万元以上的，奖励10万元。

2. 投资5000万元以上的，奖励50万元。
（责任单位：县发改局、县财政局）
（二）新产品研发支持。对企业研发给予补助。
2022年支持企业100家。
1.5倍补助标准另行规定。
二、保障措施
（一）加强组织领导
建立工作专班。（责任单位：县政府办）
三、其他
本意见由县发改局负责解释。
"""


def test_chapters_measures_and_items_nest() -> None:
    """一、 > （一） > 1.: 一、 units are chapters, （一） measures, items fold into their measure."""
    document = read_document(MEASURES_TEXT)
    assert document.title == "关于支持产业发展的意见"
    assert document.status == "征求意见稿"
    assert [(s.text, s.line) for s in document.preamble] == [("为支持产业发展，制定本意见。", 4)]
    assert tree(document) == [
        (
            "一、",
            "支持措施",
            [
                ("（一）", "固定资产投资支持", [("1.", "", []), ("2.", "", [])]),
                ("（二）", "新产品研发支持", []),
            ],
        ),
        ("二、", "保障措施", [("（一）", "加强组织领导", [])]),
        ("三、", "其他", []),
    ]
    assert [(u.label, u.level) for u in document.walk()][:4] == [
        ("一、", 1),
        ("（一）", 2),
        ("1.", 3),
        ("2.", 3),
    ]
    # 一、 groups units, so every 一、 is a chapter; one with only a paragraph is also the measure
    # that holds that paragraph (a revision may put units under it: the chapters still pair)
    assert [(c.number, c.title, c.line) for c in document.chapters] == [
        ("一、", "支持措施", 5),
        ("二、", "保障措施", 15),
        ("三、", "其他", 18),
    ]
    assert [(m.number, m.chapter) for m in document.measures] == [
        ("（一）", "一、"),
        ("（二）", "一、"),
        ("（一）", "二、"),
        ("三、", "三、"),
    ]
    first = document.measures[0]
    assert (
        first.body
        == "对新建项目给予奖励。1.投资1000万元以上的，奖励10万元。2.投资5000万元以上的，奖励50万元。"
    )
    second = document.measures[1]
    assert second.body == "对企业研发给予补助。2022年支持企业100家。1.5倍补助标准另行规定。"


def test_responsible_units_belong_to_the_measure_not_the_item() -> None:
    document = read_document(MEASURES_TEXT)
    chapter = document.units[0]
    measure, items = chapter.children[0], chapter.children[0].children
    assert [u.name for u in measure.units] == ["县发改局", "县财政局"]
    assert measure.units_text == "（责任单位：县发改局、县财政局）"
    assert measure.units_line == 11
    assert all(item.units == () for item in items)
    assert "责任单位" not in "".join(bodies(items[-1]))
    # run-in after the body on the same line
    organising = document.units[1].children[0]
    assert bodies(organising) == ["建立工作专班。"]
    assert [u.name for u in organising.units] == ["县政府办"]
    assert document.measure("(一)") is document.measures[0]


def test_line_numbers_count_every_line_blank_ones_too() -> None:
    document = read_document(MEASURES_TEXT.replace("\n", "\r\n"))
    lines = {unit.label + unit.title: unit.line for unit in document.walk()}
    assert lines["一、支持措施"] == 5
    assert lines["（一）固定资产投资支持"] == 6
    assert lines["2."] == 10  # after the blank line 9
    assert lines["（二）新产品研发支持"] == 12
    two = document.units[0].children[1]
    assert [(s.text, s.line) for s in two.sentences] == [
        ("对企业研发给予补助。", 12),
        ("2022年支持企业100家。", 13),
        ("1.5倍补助标准另行规定。", 14),
    ]
    assert document.units[0].last_line == 14


def test_a_style_reappearing_closes_the_deeper_units() -> None:
    text = "标题\n一、甲\n（一）乙\n1. 丙丁。\n（1）戊己。\n（二）庚\n2. 辛壬。\n二、癸\n1. 子丑。\n"
    document = read_document(text)
    assert tree(document) == [
        (
            "一、",
            "甲",
            [
                ("（一）", "乙", [("1.", "丙丁", [("（1）", "戊己", [])])]),
                ("（二）", "庚", [("2.", "辛壬", [])]),
            ],
        ),
        ("二、", "癸", [("1.", "子丑", [])]),
    ]


ARTICLES_TEXT = """实施意见
一、政策支持
第1条 设立重点产业发展引导资金，列入县财政预算。
二、支持范围
第2条 对新上项目给予奖励，具体如下：
（一）投资1000万元以上的，奖励10万元；
（二）投资5000万元以上的，奖励50万元。
（责任单位：县发改局）
第 1 0 条 鼓励企业研发。对企业取得专利的给予奖励。
"""


def test_with_articles_the_measures_are_the_articles() -> None:
    """一、 > 第N条 > （一）: the diff sees the articles as measures, their （一） items folded in."""
    document = read_document(ARTICLES_TEXT)
    assert tree(document) == [
        ("一、", "政策支持", [("第1条", "", [])]),
        (
            "二、",
            "支持范围",
            [("第2条", "", [("（一）", "", []), ("（二）", "", [])]), ("第10条", "鼓励企业研发", [])],
        ),
    ]
    assert [c.number for c in document.chapters] == ["一、", "二、"]
    assert [(m.number, m.chapter) for m in document.measures] == [
        ("第1条", "一、"),
        ("第2条", "二、"),
        ("第10条", "二、"),
    ]
    article = document.measure("第2条")
    assert article is not None
    assert article.body == (
        "对新上项目给予奖励，具体如下：（一）投资1000万元以上的，奖励10万元；（二）投资5000万元以上的，奖励50万元。"
    )
    ten = document.measure("第 1 0 条")
    assert ten is not None and ten.title == "鼓励企业研发" and ten.body == "对企业取得专利的给予奖励。"
    assert ten.line == 9


def test_responsible_units_after_an_articles_items_belong_to_the_article() -> None:
    document = read_document(ARTICLES_TEXT)
    article = document.measure("第2条")
    assert article is not None
    assert ([u.name for u in article.units], article.units_line) == (["县发改局"], 8)
    assert all(item.units == () for item in document.units[1].children[0].children)


def test_articles_under_measures_are_still_the_measures() -> None:
    """一、 > （一） > 第N条 (the layout of the Liuhe text): articles are measures, （一） is neither."""
    text = (
        "意见\n一、支持范围\n（一）固定资产投资奖励\n第2条 对新上项目给予奖励。\n"
        "（二）绩效奖励\n第3条 对新建项目给予奖励。\n"
    )
    document = read_document(text)
    assert [c.number for c in document.chapters] == ["一、"]
    assert [(m.number, m.chapter, m.body) for m in document.measures] == [
        ("第2条", "一、", "对新上项目给予奖励。"),
        ("第3条", "一、", "对新建项目给予奖励。"),
    ]


def test_chapters_sections_articles_and_items() -> None:
    text = (
        "办法\n第一章 总则\n第一条 为了规范资金管理，制定本办法。\n第二章 支持措施\n第一节 资金\n"
        "第三条 对企业给予补助：\n（1）新建项目补助10万元；\n① 当年兑现；\n（2）技改项目补助5万元。\n"
        "第二节 服务\n第四条 优化审批服务，压缩办理时限。\n"
    )
    document = read_document(text)
    assert tree(document) == [
        ("第一章", "总则", [("第一条", "", [])]),
        (
            "第二章",
            "支持措施",
            [
                ("第一节", "资金", [("第三条", "", [("（1）", "", [("①", "", [])]), ("（2）", "", [])])]),
                ("第二节", "服务", [("第四条", "", [])]),
            ],
        ),
    ]
    assert [c.number for c in document.chapters] == ["第一章", "第二章"]
    assert [(m.number, m.chapter) for m in document.measures] == [
        ("第一条", "第一章"),
        ("第三条", "第二章"),
        ("第四条", "第二章"),
    ]
    assert (
        document.measures[1].body
        == "对企业给予补助：（1）新建项目补助10万元；①当年兑现；（2）技改项目补助5万元。"
    )


LONG_RUN_IN = (
    "一、指导思想。以新时代中国特色社会主义思想为指导，全面贯彻党的二十大精神，坚持稳中求进工作总基调，"
    "推动外贸保稳提质。到2025年，全市外贸规模稳中有增。"
)


def test_run_in_chapter_with_a_long_body_is_a_heading() -> None:
    heading = match_heading(LONG_RUN_IN)
    assert heading is not None and heading.title == "指导思想"
    document = read_document("实施意见\n" + LONG_RUN_IN + "\n（一）加强领导\n建立专班。\n")
    assert [u.label for u in document.units] == ["一、"]


# ---------------------------------------------------------------- generated documents

_CN_DIGITS = "一二三四五六七八九"


def to_chinese(number: int) -> str:
    """1..999 as drafters write them: 十, 十五, 二十, 一百, 一百零五, 一百一十."""
    hundreds, rest = divmod(number, 100)
    tens, ones = divmod(rest, 10)
    out = ""
    if hundreds:
        out += _CN_DIGITS[hundreds - 1] + "百"
        if rest and not tens:
            out += "零"
    if tens:
        out += ("" if tens == 1 and not hundreds else _CN_DIGITS[tens - 1]) + "十"
    if ones:
        out += _CN_DIGITS[ones - 1]
    return out


@st.composite
def spaced(draw: st.DrawFn, text: str) -> str:
    """``text`` with white space between some characters, as PDF copies have it."""
    gaps = draw(st.lists(st.sampled_from(["", "", " "]), min_size=len(text), max_size=len(text)))
    return "".join(ch + gap for ch, gap in zip(text, gaps, strict=True)).rstrip()


def test_chinese_number_inverts_the_writer_for_every_number_to_999() -> None:
    wrong = [n for n in range(1, 1000) if chinese_number(to_chinese(n)) != n]
    assert wrong == []
    assert to_chinese(105) == "一百零五" and to_chinese(110) == "一百一十" and to_chinese(10) == "十"


@given(st.integers(1, 999), st.data())
def test_chinese_number_reads_spaced_and_arabic_numerals(number: int, data: st.DataObject) -> None:
    written = to_chinese(number)
    assert chinese_number(written) == number
    assert chinese_number(data.draw(spaced(written))) == number
    assert chinese_number(str(number)) == number


STYLES = ("章", "节", "条", "一、", "（一）", "1.", "（1）", "①")
LARGEST = {"章": 999, "节": 999, "条": 999, "一、": 99, "（一）": 99, "1.": 999, "（1）": 999, "①": 20}
# no numerals, brackets, 第, or the words that make a short line a sentence (对, 按, 给予, 在…)
TITLE_CHARS = "企业发展项目资金服务建设创新产业园区推动保障加强人才引进开放合作贸易物流金融"
BODY_CHARS = TITLE_CHARS + "给予奖励补贴支持对按规定执行"


@attrs.frozen
class Spec:
    """A unit as generated: the line that opens it, and what reading it must give."""

    style: str
    number: int
    label: str  # as a report shows it
    title: str
    heading_line: str
    run_in: tuple[str, ...]  # sentences on the heading line
    body: tuple[tuple[str, ...], ...]  # the following lines, each its sentences
    children: tuple[Spec, ...]


def chars(alphabet: str, low: int, high: int) -> st.SearchStrategy[str]:
    return st.text(st.sampled_from(alphabet), min_size=low, max_size=high)


@st.composite
def sentences(draw: st.DrawFn) -> str:
    """A clause with a comma (so it never reads as a title), ended by 。."""
    return draw(chars(BODY_CHARS, 1, 8)) + "，" + draw(chars(BODY_CHARS, 1, 8)) + "。"


@st.composite
def labels(draw: st.DrawFn, style: str, number: int) -> tuple[str, str]:
    """The label as written (any notation) and as a report shows it."""
    if style in ("章", "节", "条"):
        numeral = draw(st.sampled_from([to_chinese(number), str(number)]))
        written = "第" + draw(st.sampled_from(["", " "])) + draw(spaced(numeral))
        return written + draw(st.sampled_from(["", " "])) + style, f"第{numeral}{style}"
    if style == "一、":
        numeral = to_chinese(number)
        return draw(spaced(numeral)) + draw(st.sampled_from(["", " "])) + "、", f"{numeral}、"
    if style == "（一）":
        numeral = to_chinese(number)
        open_, close = draw(st.sampled_from(["（）", "()", "(）"]))
        return f"{open_}{draw(spaced(numeral))}{close}", f"（{numeral}）"
    if style == "（1）":
        open_, close = draw(st.sampled_from(["（）", "()"]))
        return f"{open_}{number}{close}", f"（{number}）"
    if style == "1.":
        mark = draw(st.sampled_from([".", "、", "．"]))
        return f"{number}{draw(st.sampled_from(['', ' ']))}{mark}", f"{number}{mark.replace('．', '.')}"
    circled = chr(0x2460 + number - 1)
    return circled, circled


@st.composite
def units(draw: st.DrawFn, chain: tuple[str, ...], depth: int) -> Spec:
    style = chain[depth]
    number = draw(st.integers(1, LARGEST[style]))
    written, label = draw(labels(style, number))
    form = draw(st.sampled_from(["bare", "standalone", "run-in", "full-stop", "inline-body"]))
    title, rest, run_in = "", "", ()
    if form in ("standalone", "run-in", "full-stop"):
        title = draw(chars(TITLE_CHARS, 2, 12))
    if form == "standalone":
        rest = title
    elif form == "full-stop":
        rest = title + "。"
    elif form == "run-in":
        sentence = draw(sentences())
        rest, run_in = title + draw(st.sampled_from(["。", "："])) + sentence, (sentence,)
    elif form == "inline-body":
        sentence = draw(sentences())
        rest, run_in = sentence, (sentence,)
    line = written + draw(st.sampled_from(["", " ", "　"])) + rest
    body = tuple(draw(st.lists(st.lists(sentences(), min_size=1, max_size=2).map(tuple), max_size=2)))
    children: tuple[Spec, ...] = ()
    if depth + 1 < len(chain):
        children = tuple(draw(st.lists(units(chain, depth + 1), max_size=3 if depth == 0 else 2)))
    return Spec(style, number, label, title, line, run_in, body, children)


ITEM_STYLES = ("1.", "（1）", "①")


def _trim_closing_paragraphs(specs: list[Spec]) -> list[Spec]:
    """The text cannot tell a last item's second paragraph from a closing paragraph of the unit
    holding the items; the reader gives it to the unit (tested on its own, below). Generated
    documents keep out of that ambiguity: a last item without sub-items gets no second paragraph."""
    trimmed = []
    for index, spec in enumerate(specs):
        children = tuple(_trim_closing_paragraphs(list(spec.children)))
        body = spec.body
        if spec.style in ITEM_STYLES and index == len(specs) - 1 and not children:
            body = body[: 0 if spec.run_in else 1]
        trimmed.append(attrs.evolve(spec, body=body, children=children))
    return trimmed


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, list[Spec], list[tuple[object, ...]]]:
    """A document from random heading forms: its text, its units, and the reading it must give."""
    depth = draw(st.integers(1, 4))
    chain = tuple(draw(st.permutations(STYLES))[:depth])
    top = draw(st.lists(units(chain, 0), min_size=1, max_size=3))
    lines = ["关于支持产业发展的若干措施"]

    def emit(text: str) -> int:
        lines.extend(draw(st.lists(st.sampled_from(["", "  ", "　"]), max_size=1)))
        lines.append(draw(st.sampled_from(["", "　　"])) + text)
        return len(lines)

    def lay_out(spec: Spec, level: int) -> tuple[object, ...]:
        line = emit(spec.heading_line)
        said = [(s, line) for s in spec.run_in]
        for body_line in spec.body:
            at = emit("".join(body_line))
            said.extend((s, at) for s in body_line)
        children = [lay_out(child, level + 1) for child in spec.children]
        return (spec.style, spec.number, spec.label, spec.title, line, level, said, children)

    top = _trim_closing_paragraphs(top)
    expected = [lay_out(spec, 1) for spec in top]
    return "\n".join(lines) + "\n", top, expected


def reading(document: Document) -> list[tuple[object, ...]]:
    def one(unit: DocumentUnit) -> tuple[object, ...]:
        said = [(s.text, s.line) for s in unit.sentences]
        children = [one(child) for child in unit.children]
        return (unit.style, unit.number, unit.label, unit.title, unit.line, unit.level, said, children)

    return [one(unit) for unit in document.units]


@given(documents())
def test_generated_documents_read_back_with_every_heading_and_its_nesting(
    case: tuple[str, list[Spec], list[tuple[object, ...]]],
) -> None:
    text, _, expected = case
    document = read_document(text)
    assert document.title == "关于支持产业发展的若干措施"
    assert document.preamble == ()
    assert reading(document) == expected
    # the same text with CRLF line endings reads the same
    assert reading(read_document(text.replace("\n", "\r\n"))) == expected


# ================================================================ 2. validity


@pytest.mark.parametrize(
    ("start", "length", "end"),
    [
        (D(2023, 2, 8), Duration(3, "years"), D(2026, 2, 8)),  # 民法典 第二百零二条
        (D(2024, 1, 31), Duration(1, "months"), D(2024, 2, 29)),
        (D(2023, 1, 31), Duration(1, "months"), D(2023, 2, 28)),
        (D(2024, 2, 29), Duration(1, "years"), D(2025, 2, 28)),
        (D(2024, 2, 29), Duration(4, "years"), D(2028, 2, 29)),
        (D(2023, 11, 30), Duration(3, "months"), D(2024, 2, 29)),
        (D(2023, 12, 31), Duration(1, "months"), D(2024, 1, 31)),
        (D(2023, 2, 8), Duration(10, "days"), D(2023, 2, 18)),  # 第二百零一条: from the next day
    ],
)
def test_period_end(start: dt.date, length: Duration, end: dt.date) -> None:
    assert period_end(start, length) == end


@given(st.dates(D(1990, 1, 1), D(2090, 12, 31)), st.integers(1, 30))
def test_a_year_is_twelve_months_and_ends_on_the_corresponding_day(start: dt.date, years: int) -> None:
    end = period_end(start, Duration(years, "years"))
    assert end == period_end(start, Duration(12 * years, "months"))
    assert (end.year, end.month) == (start.year + years, start.month)
    assert end.day == start.day or (start.month, start.day, end.day) == (2, 29, 28)


VALIDITY_SOURCE = """示例办法
第1条 对小微企业给予5万元补贴。
第2条 2023年6月1日至2023年12月31日，对新办企业给予2万元补贴。
第3条 2026年1月1日至2026年12月31日，对搬迁企业给予1万元补贴。
第4条 本办法自发布之日起施行，有效期三年。
"""

VALIDITY_RULES = """fact 小微: bool
fact 新办: bool
fact 搬迁: bool
article 第1条 {
    benefit 小微补贴 { kind subsidy  when 小微  amount 5万元  cite "对小微企业给予5万元补贴" }
}
article 第2条 {
    benefit 新办补贴 {
        kind subsidy
        when 新办
        amount 2万元
        period 2023-06-01 to 2023-12-31
        cite "2023年6月1日至2023年12月31日，对新办企业给予2万元补贴"
    }
}
article 第3条 {
    benefit 搬迁补贴 {
        kind subsidy
        when 搬迁
        amount 1万元
        period 2026-01-01 to 2026-12-31
        cite "2026年1月1日至2026年12月31日，对搬迁企业给予1万元补贴"
    }
}
article 第4条 { cite "本办法自发布之日起施行" }
"""

VALIDITY_HEADER = """    date 2023-02-08
    effective publication
    valid 3年
    cite "本办法自发布之日起施行，有效期三年"
"""

ALL_FACTS = {"小微": True, "新办": True, "搬迁": True}


@pytest.fixture
def valid_policy(tmp_path: Path) -> Path:
    """A final policy in force from its publication, 2023-02-08, for three years."""
    return write_policy(tmp_path, VALIDITY_SOURCE, header("final", VALIDITY_HEADER) + VALIDITY_RULES)


@pytest.fixture
def draft_policy(tmp_path: Path) -> Path:
    return write_policy(tmp_path, VALIDITY_SOURCE, header("draft", VALIDITY_HEADER) + VALIDITY_RULES)


def statuses(path: Path, day: dt.date, adopted: bool = False) -> dict[str, str]:
    outcome = policy_dsl.load(path).evaluate(ALL_FACTS, as_of=day, adopted=adopted)
    return {benefit.id: benefit.status for benefit in outcome.benefits}


def test_validity_is_counted_from_publication(valid_policy: Path) -> None:
    validity = policy_dsl.load(valid_policy).checked.validity
    assert validity == Validity(D(2023, 2, 8), D(2026, 2, 8), False)
    assert validity.describe() == "in force 2023-02-08 to 2026-02-08"


@pytest.mark.parametrize(
    ("day", "status"),
    [
        (D(2023, 2, 7), "not_in_force"),
        (D(2023, 2, 8), "eligible"),
        (D(2026, 2, 8), "eligible"),
        (D(2026, 2, 9), "not_in_force"),
    ],
)
def test_rules_are_in_force_from_the_first_to_the_last_day(
    valid_policy: Path, day: dt.date, status: str
) -> None:
    assert statuses(valid_policy, day)["小微补贴"] == status


@pytest.mark.parametrize(
    ("day", "new", "moving", "small"),
    [
        (D(2023, 5, 31), "not_in_force", "not_in_force", "eligible"),
        (D(2023, 6, 1), "eligible", "not_in_force", "eligible"),
        (D(2023, 12, 31), "eligible", "not_in_force", "eligible"),
        (D(2024, 1, 1), "not_in_force", "not_in_force", "eligible"),
        (D(2026, 1, 15), "not_in_force", "eligible", "eligible"),  # inside both periods
        # after the document's end: 搬迁补贴's own period runs on, but no rule is in force while its
        # document is not (the period is cut to the validity)
        (D(2026, 6, 1), "not_in_force", "not_in_force", "not_in_force"),
    ],
)
def test_a_rules_own_period_applies_within_the_documents_validity(
    valid_policy: Path, day: dt.date, new: str, moving: str, small: str
) -> None:
    found = statuses(valid_policy, day)
    assert (found["新办补贴"], found["搬迁补贴"], found["小微补贴"]) == (new, moving, small)


def test_a_draft_has_no_force_unless_adopted(draft_policy: Path) -> None:
    day = D(2023, 7, 1)
    assert policy_dsl.load(draft_policy).checked.validity.draft
    assert set(statuses(draft_policy, day).values()) == {"not_in_force"}
    adopted = statuses(draft_policy, day, adopted=True)
    assert adopted == {"小微补贴": "eligible", "新办补贴": "eligible", "搬迁补贴": "not_in_force"}
    assert statuses(draft_policy, D(2026, 2, 9), adopted=True)["小微补贴"] == "not_in_force"


@pytest.mark.parametrize(
    ("header_text", "message"),
    [
        (
            "    effective publication\n    valid 3年\n",
            "`effective publication` needs the publication `date` in the header",
        ),
        (
            "    date 2023-02-08\n    valid 3年\n",
            "`valid` counts from the effective date, which the header does not give",
        ),
        (
            "    effective 2023-02-08\n    valid 3年\n    until 2026-02-08\n",
            "give either `valid` or `until`, not both",
        ),
    ],
)
def test_an_incomplete_validity_is_an_error(tmp_path: Path, header_text: str, message: str) -> None:
    source = "示例办法\n第1条 对小微企业给予补贴。\n"
    rules = (
        "fact 小微: bool\n"
        'article 第1条 { benefit 补贴 { kind subsidy  when 小微  cite "对小微企业给予补贴" } }\n'
    )
    problems = check_problems(write_policy(tmp_path, source, header("final", header_text) + rules))
    assert message in messages(problems)


def test_a_missing_publication_date_is_one_error(tmp_path: Path) -> None:
    source = "示例办法\n第1条 对小微企业给予补贴。\n"
    rules = (
        "fact 小微: bool\n"
        'article 第1条 { benefit 补贴 { kind subsidy  when 小微  cite "对小微企业给予补贴" } }\n'
    )
    text = header("final", "    effective publication\n    valid 3年\n") + rules
    problems = check_problems(write_policy(tmp_path, source, text))
    assert messages(problems) == ["`effective publication` needs the publication `date` in the header"]


def load_module(source: str, path: Path) -> ModuleType:
    """The module `source`, written to `path` and imported as `policy compile -o` users would."""
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("status", ["final", "draft"])
def test_the_standalone_module_agrees_on_every_boundary(tmp_path: Path, status: str) -> None:
    loaded = policy_dsl.load(
        write_policy(tmp_path, VALIDITY_SOURCE, header(status, VALIDITY_HEADER) + VALIDITY_RULES)
    )
    source = loaded.module_source()
    imported = vars(load_module(source, tmp_path / "rules_module.py"))
    executed: dict[str, Any] = {"__name__": "rules_exec"}
    exec(compile(source, "rules_exec.py", "exec"), executed)
    facts = validate_facts(loaded.checked, ALL_FACTS)
    days = [D(2023, 2, 7), D(2023, 2, 8), D(2023, 6, 1), D(2024, 1, 1), D(2026, 2, 8), D(2026, 2, 9)]
    seen = set()
    for day in days:
        for adopted in (False, True):
            expected = loaded.evaluate(ALL_FACTS, as_of=day, adopted=adopted).to_json()
            for module in (imported, executed):
                assert module["to_json"](module["evaluate"](facts, day, adopted)) == expected
            seen.update(b["status"] for b in expected["benefits"])
    assert {"eligible", "not_in_force"} <= seen


def test_policy_eval_says_not_in_force(valid_policy: Path, tmp_path: Path) -> None:
    facts = tmp_path / "f.json"
    facts.write_text(json.dumps(ALL_FACTS, ensure_ascii=False), encoding="utf-8")
    runner = CliRunner()
    after = runner.invoke(policy, ["eval", str(valid_policy), "--facts", str(facts), "--as-of", "2026-02-09"])
    assert after.exit_code == 0, after.stderr
    assert "– not in force  小微补贴" in after.stdout
    last = runner.invoke(policy, ["eval", str(valid_policy), "--facts", str(facts), "--as-of", "2026-02-08"])
    assert "✓ eligible      小微补贴" in last.stdout
    check = runner.invoke(policy, ["check", str(valid_policy)])
    assert "validity: in force 2023-02-08 to 2026-02-08" in check.stdout


def test_policy_eval_of_a_draft_and_as_adopted(draft_policy: Path, tmp_path: Path) -> None:
    facts = tmp_path / "f.json"
    facts.write_text(json.dumps(ALL_FACTS, ensure_ascii=False), encoding="utf-8")
    args = ["eval", str(draft_policy), "--facts", str(facts), "--as-of", "2023-07-01"]
    runner = CliRunner()
    draft = runner.invoke(policy, args)
    assert draft.exit_code == 0, draft.stderr
    assert "has no force" in draft.stdout
    assert "– not in force  小微补贴" in draft.stdout
    assert "benefits: 0 eligible, 0 unknown, 0 not eligible, 3 not in force" in draft.stdout
    adopted = runner.invoke(policy, [*args, "--as-adopted"])
    assert adopted.exit_code == 0, adopted.stderr
    assert "as if adopted" in adopted.stdout
    assert "✓ eligible      小微补贴" in adopted.stdout
    assert "– not in force  小微补贴" not in adopted.stdout


# ================================================================ 3. cross-references (follows)

FOLLOWS_SOURCE = """示例办法
第1条 对新引进的总部企业，给予50万元奖励。
第2条 对迁回本县结算的本土企业，按第1条执行。
第3条 对在本县设立研发中心的总部企业，按第1条执行，奖励20万元。
第4条 商务部门应当在10个工作日内办结。
"""

FOLLOWS_RULES = """agency 商务局 "县商务局"
fact 总部企业: bool
fact 迁回结算: bool
fact 研发中心: bool
article 第1条 {
    benefit 总部奖励 "总部企业奖励" {
        kind reward
        when 总部企业
        amount 50万元
        agencies 商务局
        cite "对新引进的总部企业，给予50万元奖励"
    }
}
article 第2条 {
    benefit 迁回奖励 {
        follows 总部奖励
        when 迁回结算
        cite "对迁回本县结算的本土企业，按第1条执行"
    }
}
article 第3条 {
    benefit 研发奖励 "研发中心奖励" {
        follows 总部奖励
        amount 20万元
        cite "对在本县设立研发中心的总部企业，按第1条执行，奖励20万元"
    }
}
article 第4条 {
    duty 限时办结 { level "办结时限" <= 10个工作日  cite "商务部门应当在10个工作日内办结" }
}
"""


@pytest.fixture
def follows_policy(tmp_path: Path) -> Path:
    return write_policy(tmp_path, FOLLOWS_SOURCE, header() + FOLLOWS_RULES)


def test_a_follower_takes_what_it_does_not_state(follows_policy: Path) -> None:
    checked = policy_dsl.load(follows_policy).checked
    moved = checked.rule("迁回奖励")
    assert moved is not None and moved.follows == "总部奖励"
    assert moved.rule.amount is not None and moved.rule.amount.value == Money(Decimal(500000), "CNY")
    assert moved.rule.kind is not None and moved.rule.kind.text == "reward"
    assert moved.agencies == ("商务局",)
    assert moved.written is not None and moved.written.amount is None  # as the encoding wrote it
    # its own condition wins over the one it follows; one it does not state is inherited
    assert isinstance(moved.rule.when, Reference) and moved.rule.when.name == "迁回结算"
    research = checked.rule("研发奖励")
    assert research is not None
    assert research.rule.amount is not None and research.rule.amount.value == Money(Decimal(200000), "CNY")
    assert research.rule.label is not None and research.rule.label.value == "研发中心奖励"
    assert isinstance(research.rule.when, Reference) and research.rule.when.name == "总部企业"
    assert checked.warnings == ()


def test_evaluation_goes_through_the_reference(follows_policy: Path) -> None:
    loaded = policy_dsl.load(follows_policy)
    outcome = loaded.evaluate({"总部企业": False, "迁回结算": True}, as_of=D(2023, 7, 1))
    assert outcome.benefit("总部奖励").status == "not_eligible"
    moved = outcome.benefit("迁回奖励")
    assert moved.status == "eligible"
    assert moved.amount == Money(Decimal(500000), "CNY")
    assert [a.name for a in moved.agencies] == ["县商务局"]
    # 研发奖励 states no condition: it has the one of 总部奖励
    assert outcome.benefit("研发奖励").status == "not_eligible"
    both = loaded.evaluate({"总部企业": True, "迁回结算": False}, as_of=D(2023, 7, 1))
    assert both.benefit("迁回奖励").status == "not_eligible"
    assert both.benefit("研发奖励").amount == Money(Decimal(200000), "CNY")


def test_explain_names_the_followed_rule_and_its_unit(follows_policy: Path, tmp_path: Path) -> None:
    facts = tmp_path / "f.json"
    facts.write_text('{"总部企业": false, "迁回结算": true}', encoding="utf-8")
    result = CliRunner().invoke(
        policy, ["explain", str(follows_policy), "--facts", str(facts), "--as-of", "2023-07-01"]
    )
    assert result.exit_code == 0, result.stderr
    assert (
        "follows 总部奖励 (第1条): the terms of that rule apply here; it states its own when" in result.stdout
    )
    assert (
        "follows 总部奖励 (第1条): the terms of that rule apply here; it states its own amount"
        in result.stdout
    )
    assert "so the enterprise is eligible, for 500000元" in result.stdout


def test_a_cycle_of_references_is_an_error_naming_it(tmp_path: Path) -> None:
    rules = FOLLOWS_RULES.replace("        kind reward\n", "        kind reward\n        follows 迁回奖励\n")
    problems = check_problems(write_policy(tmp_path, FOLLOWS_SOURCE, header() + rules))
    cycles = [m for m in messages(problems) if "cycle" in m]
    assert "rules follow each other in a cycle: 总部奖励 → 迁回奖励 → 总部奖励" in cycles


def test_following_an_unknown_rule_is_an_error(tmp_path: Path) -> None:
    rules = FOLLOWS_RULES.replace("follows 总部奖励\n        when", "follows 总部奖\n        when")
    problems = check_problems(write_policy(tmp_path, FOLLOWS_SOURCE, header() + rules))
    [problem] = [p for p in problems if "follows" in p.message]
    assert problem.message == "`迁回奖励` follows `总部奖`, which is no benefit or duty of this policy"
    assert problem.hint == "did you mean `总部奖励`?"


def test_a_benefit_cannot_follow_a_duty(tmp_path: Path) -> None:
    rules = FOLLOWS_RULES.replace("follows 总部奖励\n        when", "follows 限时办结\n        when")
    problems = check_problems(write_policy(tmp_path, FOLLOWS_SOURCE, header() + rules))
    assert "benefit `迁回奖励` follows `限时办结`, which is a duty" in messages(problems)


def test_a_follower_may_quote_the_unit_it_follows_but_others_may_not(tmp_path: Path) -> None:
    quote = '        cite "对迁回本县结算的本土企业，按第1条执行"\n'
    rules = FOLLOWS_RULES.replace(quote, quote + '        cite "对新引进的总部企业"\n')
    checked = policy_dsl.load(write_policy(tmp_path, FOLLOWS_SOURCE, header() + rules)).checked
    assert checked.warnings == ()
    # the same quote from a rule that does not follow 总部奖励 is a cross-unit citation
    stray = rules.replace(
        "        follows 总部奖励\n        when 迁回结算\n", "        kind reward\n        when 迁回结算\n"
    )
    checked = policy_dsl.load(write_policy(tmp_path, FOLLOWS_SOURCE, header() + stray)).checked
    assert [w.message for w in checked.warnings] == [
        "benefit `迁回奖励` in 第2条 cites text of 第1条 (line 2), outside its unit"
    ]


def test_a_follower_may_quote_the_amount_it_inherits(tmp_path: Path) -> None:
    quote = '        cite "对迁回本县结算的本土企业，按第1条执行"\n'
    rules = FOLLOWS_RULES.replace(quote, quote + '        cite "给予50万元奖励"\n')
    loaded = policy_dsl.load(write_policy(tmp_path, FOLLOWS_SOURCE, header() + rules))
    assert loaded.checked.warnings == ()


# ================================================================ 4. one decoder

ENCODING_SOURCE = """示例办法
（征求意见稿）

一、支持措施
（一）小微企业补贴
对小微企业给予5万元补贴。建立工作专班。
（责任单位：县商务局）
"""

ENCODING_POLICY = """// 示例办法的编码
policy "示例办法" {
    status draft
    source "s.txt"
}
agency 县商务局 "柳河县商务局"
fact 小微: bool
chapter 一、 "支持措施" {
    measure （一） "小微企业补贴" {
        agencies 县商务局
        cite "（责任单位：县商务局）"
        benefit 补贴 "小微企业补贴" { kind subsidy  when 小微  amount 5万元  cite "对小微企业给予5万元补贴" }
    }
}
"""

ENCODINGS = {
    "GB18030, CRLF": lambda text: text.replace("\n", "\r\n").encode("gb18030"),
    "GB18030": lambda text: text.encode("gb18030"),
    "UTF-8 with BOM": lambda text: text.encode("utf-8-sig"),
    "UTF-8 with BOM, CRLF": lambda text: text.replace("\n", "\r\n").encode("utf-8-sig"),
}

UNREADABLE = {
    "binary": (b"\xff\xfe\x00\x00" + "示例".encode("utf-16-le"), "is a binary file, not text"),
    "neither": ("示例办法\n".encode("gb18030") + b"\xff\xff\n", "is neither UTF-8 nor GB18030 text"),
}


def encoding_case(directory: Path, source: bytes, policy_text: bytes = ENCODING_POLICY.encode()) -> Path:
    """The source text, the policy and its facts in ``directory``, as bytes; the policy's path."""
    directory.mkdir()
    (directory / "s.txt").write_bytes(source)
    (directory / "p.policy").write_bytes(policy_text)
    (directory / "f.json").write_text('{"小微": true}', encoding="utf-8")
    return directory / "p.policy"


def normalised(result: Result, directory: Path) -> str:
    return result.stdout.replace(str(directory), "<dir>")


def refused(result: Result, message: str) -> None:
    """A clear error: exit 2, the reason on stderr, no traceback."""
    assert result.exit_code == 2, result.stdout
    assert isinstance(result.exception, SystemExit)
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_check_reads_the_source_text_in_any_encoding_the_same(tmp_path: Path, encoding: str) -> None:
    runner = CliRunner()
    plain = encoding_case(tmp_path / "plain", ENCODING_SOURCE.encode("utf-8"))
    other = encoding_case(tmp_path / "other", ENCODINGS[encoding](ENCODING_SOURCE))
    expected = runner.invoke(policy, ["check", str(plain)])
    found = runner.invoke(policy, ["check", str(other)])
    assert expected.exit_code == found.exit_code == 0, found.stderr
    assert "（一） line 6: 建立工作专班。" in expected.stdout  # line numbers survive CRLF
    lines = normalised(found, tmp_path / "other").splitlines()
    note = f"  source text read as {encoding}"
    assert note in lines
    lines.remove(note)
    assert lines == normalised(expected, tmp_path / "plain").splitlines()
    assert "read as" not in expected.stdout


@pytest.mark.parametrize("kind", list(UNREADABLE))
def test_check_of_an_unreadable_source_text_is_a_clear_error(tmp_path: Path, kind: str) -> None:
    raw, reason = UNREADABLE[kind]
    path = encoding_case(tmp_path / "d", raw)
    result = CliRunner().invoke(policy, ["check", str(path)])
    refused(result, f"source text `s.txt` cannot be read: {reason}")


@pytest.mark.parametrize("kind", list(UNREADABLE))
@pytest.mark.parametrize("command", ["check", "eval"])
def test_an_unreadable_policy_file_is_a_clear_error(tmp_path: Path, kind: str, command: str) -> None:
    raw, reason = UNREADABLE[kind]
    path = encoding_case(tmp_path / "d", ENCODING_SOURCE.encode(), raw)
    args = [command, str(path)] + (["--facts", str(path.parent / "f.json")] if command == "eval" else [])
    refused(CliRunner().invoke(policy, args), f"p.policy: {reason}")


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_eval_reads_a_policy_file_in_any_encoding_the_same(tmp_path: Path, encoding: str) -> None:
    def run(directory: Path) -> Result:
        args = ["eval", "--as-adopted", str(directory / "p.policy"), "--facts", str(directory / "f.json")]
        return CliRunner().invoke(policy, [*args, "--as-of", "2023-07-01", "--format", "json"])

    convert = ENCODINGS[encoding]
    encoding_case(tmp_path / "plain", ENCODING_SOURCE.encode())
    encoding_case(tmp_path / "other", convert(ENCODING_SOURCE), convert(ENCODING_POLICY))
    expected, found = run(tmp_path / "plain"), run(tmp_path / "other")
    assert expected.exit_code == found.exit_code == 0, found.stderr
    data = json.loads(found.stdout)
    assert data == json.loads(expected.stdout)
    assert [b["status"] for b in data["benefits"]] == ["eligible"]


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_policy_diff_of_plain_texts_reads_them_the_same(tmp_path: Path, encoding: str) -> None:
    old, new = tmp_path / "old.txt", tmp_path / "new.txt"
    old.write_bytes(ENCODINGS[encoding](ENCODING_SOURCE))
    new.write_text(ENCODING_SOURCE, encoding="utf-8")
    result = CliRunner().invoke(policy_diff, [str(old), str(new)])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"old.txt ({encoding})" in result.stdout
    assert "no differences" in result.stdout


@pytest.mark.parametrize("kind", list(UNREADABLE))
def test_policy_diff_of_an_unreadable_text_is_a_clear_error(tmp_path: Path, kind: str) -> None:
    raw, reason = UNREADABLE[kind]
    old, new = tmp_path / "old.txt", tmp_path / "new.txt"
    old.write_bytes(raw)
    new.write_text(ENCODING_SOURCE, encoding="utf-8")
    refused(CliRunner().invoke(policy_diff, [str(old), str(new)]), f"old.txt: {reason}")
    refused(CliRunner().invoke(policy_diff, [str(new), str(old)]), f"old.txt: {reason}")


# ================================================================ 5. citation integrity


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("出口额不超过5000万美元的企业", [("5000万美元", Money(Decimal(50_000_000), "USD"))]),
        ("给予保费100%补贴", [("100%", Percent(Decimal(100)))]),
        ("3个工作日内办结", [("3个工作日", Duration(3, "working_days"))]),
        ("自2022年6月20日起施行", [("2022年6月20日", D(2022, 6, 20))]),
        ("有效期三年", [("三年", Duration(3, "years"))]),
        ("面积100亩以上", [("100亩", Decimal(100))]),
        ("2022年支持一般贸易出口", [("2022年", ("year", 2022))]),
        ("奖励1.5亿元", [("1.5亿元", Money(Decimal(150_000_000), "CNY"))]),
        ("连续5年给予80%奖励", [("5年", Duration(5, "years")), ("80%", Percent(Decimal(80)))]),
        ("按1.5倍执行", []),
    ],
)
def test_quantities(text: str, found: list[tuple[str, object]]) -> None:
    assert [(q.text, q.value) for q in quantities(text)] == found


def test_a_year_before_a_month_is_a_year() -> None:
    assert [(q.text, q.value) for q in quantities("自2024年1月起")] == [("2024年1月", ("year", 2024))]


CITATION_SOURCE = """示例办法
第1条 对小微企业给予5万元补贴。
第2条 对中型企业给予5万元补贴。
第3条 出口额不超过300万美元的企业投保出口信用保险的，给予保费100%补贴。
"""

CITATION_FACTS = """fact 小微: bool
fact 中型: bool
fact 出口额: money USD
fact 保费: money CNY
"""

PREMIUM = """article 第3条 {
    benefit 保费补贴 {
        kind premium_subsidy
        when 出口额 <= LIMIT
        rate 100% of 保费
        cite "出口额不超过300万美元的企业投保出口信用保险的，给予保费100%补贴"
    }
}
"""


def citation_policy(tmp_path: Path, rules: str) -> Path:
    return write_policy(tmp_path, CITATION_SOURCE, header() + CITATION_FACTS + rules)


def test_a_repeated_quote_narrowed_by_its_unit_is_fine(tmp_path: Path) -> None:
    rules = (
        'article 第1条 { benefit 小微补贴 { kind subsidy  when 小微  amount 5万元  cite "给予5万元补贴" } }\n'
    )
    checked = policy_dsl.load(citation_policy(tmp_path, rules)).checked
    assert checked.warnings == ()


def test_a_repeated_quote_not_narrowed_is_an_error(tmp_path: Path) -> None:
    rules = 'benefit 补贴 { kind subsidy  when 小微 or 中型  amount 5万元  cite "给予5万元补贴" }\n'
    [problem] = check_problems(citation_policy(tmp_path, rules))
    assert problem.message.startswith("this citation occurs 2 times in the source (lines 2, 3)")
    assert problem.hint is not None and "quote more words" in problem.hint


def test_a_quote_repeated_inside_its_own_unit_is_an_error(tmp_path: Path) -> None:
    source = CITATION_SOURCE.replace(
        "对中型企业给予5万元补贴。", "对小微企业给予5万元补贴。另对小微企业给予5万元补贴。"
    )
    (tmp_path / "s.txt").write_text(source, encoding="utf-8")
    rules = (
        "article 第2条 {\n"
        '    benefit 补贴 { kind subsidy  when 小微  amount 5万元  cite "对小微企业给予5万元补贴" }\n'
        "}\n"
    )
    path = tmp_path / "p.policy"
    path.write_text(header() + CITATION_FACTS + rules, encoding="utf-8")
    assert "this citation occurs 3 times" in check_problems(path)[0].message


def test_the_constants_the_quote_states_pass(tmp_path: Path) -> None:
    checked = policy_dsl.load(citation_policy(tmp_path, PREMIUM.replace("LIMIT", "300万美元"))).checked
    assert checked.warnings == ()


def test_a_stale_encoding_is_an_error_proposing_a_waiver(tmp_path: Path) -> None:
    """Quotes updated to the new text (300万美元) while the rule kept the old threshold (500万美元)."""
    [problem] = check_problems(citation_policy(tmp_path, PREMIUM.replace("LIMIT", "500万美元")))
    assert (
        problem.message == "the citation says 300万美元, which is none of the constants of benefit `保费补贴`"
    )
    assert problem.hint is not None and 'waive "300万美元" because "…"' in problem.hint
    pos = problem.pos
    assert pos is not None and pos.line == 14
    assert pos.file.line(14)[pos.column - 1 : pos.end_column - 1] == "300万美元"  # the caret


def test_a_waived_quantity_passes(tmp_path: Path) -> None:
    rules = PREMIUM.replace("LIMIT", "500万美元").replace(
        "    }\n}", '        waive "300万美元" because "另行规定"\n    }\n}'
    )
    assert policy_dsl.load(citation_policy(tmp_path, rules)).checked.warnings == ()


def test_waiving_a_quantity_no_quote_states_is_an_error(tmp_path: Path) -> None:
    rules = PREMIUM.replace("LIMIT", "300万美元").replace(
        "    }\n}", '        waive "500万美元" because "另行规定"\n    }\n}'
    )
    [problem] = check_problems(citation_policy(tmp_path, rules))
    assert problem.message == (
        "`500万美元` is waived but none of the citations of benefit `保费补贴` states it"
    )


CROSS_UNIT = (
    "article 第1条 {\n"
    '    benefit 补贴 { kind subsidy  when 小微  amount 5万元  cite "对中型企业给予5万元补贴" }\n'
    "}\n"
)


def test_a_cross_unit_citation_is_a_warning(tmp_path: Path) -> None:
    checked = policy_dsl.load(citation_policy(tmp_path, CROSS_UNIT)).checked
    [warning] = checked.warnings
    assert warning.severity == "warning"
    assert warning.message == "benefit `补贴` in 第1条 cites text of 第2条 (line 3), outside its unit"
    assert warning.hint is not None and "follows" in warning.hint


def test_policy_check_prints_warnings_on_stderr_and_passes(tmp_path: Path) -> None:
    path = citation_policy(tmp_path, CROSS_UNIT)
    result = CliRunner().invoke(policy, ["check", str(path)])
    assert result.exit_code == 0, result.stderr
    assert "p.policy: ok" in result.stdout and "1 warning" in result.stdout
    assert "warning: benefit `补贴` in 第1条 cites text of 第2条 (line 3), outside its unit" in result.stderr
    assert "warning" not in result.stdout.replace("1 warning", "")
