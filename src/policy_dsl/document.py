"""The structure of a Chinese policy document: title, status, units at every level, sentences.

Entry point: :func:`read_document`. It needs no encoding: it reads the prose the way drafters lay
it out. A heading opens a *unit*; the forms real texts use are

========  ==========================  =======================================
style     written                     usually
========  ==========================  =======================================
``章``    第一章 / 第1章               chapter
``节``    第一节                       section
``条``    第一条 / 第10条 / 第 1 0 条  article (a run-in body follows)
``一、``  一、 / 二 、                 chapter, or part
``（一）`` （一） / (一)                measure, standalone or run-in
``1.``    1. / 1、 / 1．               item
``（1）`` （1） / (1)                  item
``①``     ① … ⑳                       item
========  ==========================  =======================================

A document may use any subset, nested in any order: the first style met is the top level, a style
not yet open below the current unit nests under it, and a style already open closes the units
below it (the way Markdown readers nest headings). A heading is *standalone* (``（一）保障外贸``)
or *run-in*: its title ends with 。 or ： and the body follows on the same line
(``（二）新产品研发支持。对企业……``); an article's body follows its number (``第7条 鼓励……。对……``).
White space inside a number (``第 1 0 条``, ``二 、``) is tolerated, as PDF copies have it.

``（责任单位：…）`` closes a unit with its responsible units, lead first. Every unit keeps its
line numbers so the checker can report coverage and the diff can align versions. For the diff the
document is also seen as *chapters* and *measures*: the top level when it groups other units, and
the level below it (every 第N条 article where the text has articles); items fold into their measure.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

import attrs

_CN_DIGITS = "零〇一二三四五六七八九两"
_CN_NUMERAL = "零〇一二三四五六七八九十百千两"
_NUM = rf"[{_CN_NUMERAL}\d][{_CN_NUMERAL}\d\s]*?"

#: Heading styles, most specific first: (style, pattern). Group 1 is the number.
_HEADINGS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("章", re.compile(rf"^第\s*({_NUM})\s*章")),
    ("节", re.compile(rf"^第\s*({_NUM})\s*节")),
    ("条", re.compile(rf"^第\s*({_NUM})\s*条")),
    ("一、", re.compile(rf"^([{_CN_NUMERAL}][{_CN_NUMERAL}\s]*?)\s*、")),
    ("（一）", re.compile(rf"^[（(]\s*([{_CN_NUMERAL}][{_CN_NUMERAL}\s]*?)\s*[）)]")),
    ("（1）", re.compile(r"^[（(]\s*(\d+)\s*[）)]")),
    ("1.", re.compile(r"^(\d{1,3})\s*[.．、](?![\d.．])")),
    ("①", re.compile(r"^([\u2460-\u2473])")),
)
#: Styles that group other units rather than state rules: the diff reads them as chapters.
CHAPTER_STYLES = frozenset({"章", "节", "一、"})
#: Styles of items: folded into their measure in the diff's view.
ITEM_STYLES = frozenset({"1.", "（1）", "①"})

_UNITS = re.compile(r"[（(]责任单位[：:](.+?)[）)]\s*$")
_STATUS = re.compile(r"^\s*[（(]([^（）()]{0,24}(?:稿|试行|暂行|修订|征求意见)[^（）()]{0,24})[）)]\s*$")
_COLLECTIVE = re.compile(r"^(.*?)[（(]以下(?:统)?简?称(.+?)[）)]$")
_RUN_IN_END = re.compile(r"[。：:]")


def chinese_number(text: str) -> int | None:
    """The value of a number written in Chinese or Arabic numerals (十一 → 11, 一百零五 → 105, 1 0 → 10)."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    if not text or len(text) > 12:  # no document numbers its parts beyond 12 digits
        return None
    if text.isdigit():
        return int(text)
    if "\u2460" <= text <= "\u2473" and len(text) == 1:
        return ord(text) - 0x2460 + 1
    if len(text) > 1 and all(ch in _CN_DIGITS for ch in text):  # 二〇二三: digit by digit
        return int("".join(str(max(_CN_DIGITS.index(ch) - 1, 0)) if ch != "两" else "2" for ch in text))
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = 2 if ch == "两" else max(_CN_DIGITS.index(ch) - 1, 0)
        elif ch in "十百千":
            scale = {"十": 10, "百": 100, "千": 1000}[ch]
            section += (1 if digit is None else digit) * scale
            digit = None
        else:
            return None
    return total + section + (digit or 0)


def normalize_label(text: str) -> str:
    """A heading label as shown in reports: white space dropped, ASCII brackets full width."""
    text = re.sub(r"\s+", "", text)
    return text.replace("(", "（").replace(")", "）").replace("．", ".")


@attrs.frozen
class UnitKey:
    """What identifies a unit's number whatever the notation: 第十条 and 第10条 are one key."""

    style: str
    number: int

    def __str__(self) -> str:
        return f"{self.style}:{self.number}"


def heading_key(label: str) -> UnitKey | None:
    """The key of a heading label written in an encoding (``第5条``, ``（六）``, ``二、``, ``1.``)."""
    label = label.strip()
    if not re.search("[\u2460-\u2473]", label):  # NFKC would turn ① into 1
        label = unicodedata.normalize("NFKC", label)
    for style, pattern in _HEADINGS:
        match = pattern.match(label)
        if match and not label[match.end() :].strip():
            number = chinese_number(match.group(1))
            if number is not None:
                return UnitKey(style, number)
    return None


@attrs.frozen
class Sentence:
    """One sentence of a unit's body, ending in 。, ； or the end of its line."""

    text: str
    line: int


@attrs.frozen
class ResponsibleUnit:
    """A unit named in a （责任单位：…） line. ``full`` is the wording before （以下统称…）, if any."""

    name: str
    full: str | None = None


@attrs.frozen
class DocumentUnit:
    """A unit of the text at any level: chapter, article, measure or item, with its own body."""

    style: str
    number: int
    label: str  # as written, white space dropped: 第10条, （六）, 二、, 1.
    title: str  # "" when the heading has none (articles, items)
    line: int
    level: int
    sentences: tuple[Sentence, ...]  # the body directly in this unit (a run-in body included)
    children: tuple[DocumentUnit, ...]
    units: tuple[ResponsibleUnit, ...] = ()
    units_text: str | None = None
    units_line: int | None = None

    @property
    def key(self) -> UnitKey:
        return UnitKey(self.style, self.number)

    @property
    def heading(self) -> str:
        return self.label + self.title

    def walk(self) -> Iterator[DocumentUnit]:
        yield self
        for child in self.children:
            yield from child.walk()

    def all_sentences(self) -> Iterator[Sentence]:
        """Every sentence of the unit and its sub-units, in text order (headings of sub-units too;
        a paragraph of the unit after its items comes after them)."""
        found: list[Sentence] = list(self.sentences)
        for child in self.children:
            if child.title:
                found.append(Sentence(child.heading, child.line))
            for index, sentence in enumerate(child.all_sentences()):
                if index == 0 and not child.title:
                    found.append(Sentence(child.label + sentence.text, sentence.line))
                else:
                    found.append(sentence)
        yield from sorted(found, key=lambda sentence: sentence.line)  # stable: a line's order kept

    @property
    def last_line(self) -> int:
        lines = [self.line, self.units_line or 0, *(s.line for s in self.sentences)]
        lines.extend(child.last_line for child in self.children)
        return max(lines)


@attrs.frozen
class DocumentMeasure:
    """The diff's view of a unit at the measure level, its items folded into its body."""

    number: str  # the label: （六）, 第10条
    title: str
    line: int
    chapter: str | None  # the label of its chapter: 二、, 第二章
    sentences: tuple[Sentence, ...]
    units: tuple[ResponsibleUnit, ...]
    units_text: str | None
    units_line: int | None

    @property
    def body(self) -> str:
        return "".join(s.text for s in self.sentences)


@attrs.frozen
class DocumentChapter:
    number: str  # the label: 二、, 第二章
    title: str
    line: int


@attrs.frozen
class Document:
    title: str
    status: str | None
    preamble: tuple[Sentence, ...]
    units: tuple[DocumentUnit, ...]  # the top level
    chapters: tuple[DocumentChapter, ...]
    measures: tuple[DocumentMeasure, ...]
    lines: tuple[str, ...] = ()

    def measure(self, number: str) -> DocumentMeasure | None:
        for measure in self.measures:
            if measure.number == number or measure.number == normalize_label(number):
                return measure
        return None

    def walk(self) -> Iterator[DocumentUnit]:
        for unit in self.units:
            yield from unit.walk()

    def sentences(self) -> Iterator[tuple[DocumentUnit | None, Sentence]]:
        """Every sentence with the innermost unit holding it (None: the preamble)."""
        for sentence in self.preamble:
            yield None, sentence
        for unit in self.walk():
            for sentence in unit.sentences:
                yield unit, sentence

    def styles(self) -> tuple[str, ...]:
        """The heading styles found, in the order they first occur."""
        seen: dict[str, None] = {}
        for unit in self.walk():
            seen.setdefault(unit.style, None)
        return tuple(seen)


def split_sentences(text: str, line: int) -> list[Sentence]:
    """Sentences of one line of prose: split after 。 ； ！ ？, quotes kept whole."""
    parts = re.split(r"(?<=[。；！？])", text)
    return [Sentence(p.strip(), line) for p in parts if p.strip()]


def split_units(text: str) -> tuple[ResponsibleUnit, ...]:
    """The units of a （责任单位：…） line, in order; ``A、B（以下统称C）`` after a comma is one unit C."""
    units: list[ResponsibleUnit] = []
    for part in re.split(r"[，,]", text):
        part = part.strip()
        if not part:
            continue
        collective = _COLLECTIVE.match(part)
        if collective:
            units.append(ResponsibleUnit(collective.group(2).strip(), collective.group(1).strip()))
            continue
        units.extend(ResponsibleUnit(name.strip()) for name in part.split("、") if name.strip())
    return tuple(units)


@attrs.frozen
class Heading:
    """A heading found at the start of a line: its style, number, label, title and any run-in body."""

    style: str
    number: int
    label: str
    title: str
    body: str


def match_heading(line: str) -> Heading | None:
    """The heading a line of prose opens with, if it opens with one."""
    for style, pattern in _HEADINGS:
        match = pattern.match(line)
        if not match:
            continue
        number = chinese_number(match.group(1))
        if number is None:
            continue
        rest = line[match.end() :].strip()
        if style == "一、" and re.match(rf"[{_CN_NUMERAL}]+、", rest):
            return None  # 一、二、三类企业…: a list of numerals, not a heading
        label = normalize_label(match.group(0))
        title, body = _title_and_body(style, rest)
        return Heading(style, number, label, title, body)
    return None


def _title_and_body(style: str, rest: str) -> tuple[str, str]:
    if not rest:
        return "", ""
    if not re.search(r"[。；：:！？，,]", rest) and len(rest) <= 40:
        # a standalone heading: 保障外贸企业生产经营稳定 (an article's title, if it has one, too)
        return (rest, "") if style != "条" or len(rest) <= 20 else ("", rest)
    end = _RUN_IN_END.search(rest)
    if end is not None:
        candidate = rest[: end.start()]
        after = rest[end.end() :].strip()
        plain = 0 < len(candidate) <= 24 and not re.search(r"[，,；\d]", candidate)
        if plain and after:
            return candidate, after  # run-in: 新产品研发支持。对企业……
        if plain and not after and len(candidate) <= 16 and not re.search(r"给予|对|按|^[在凡经]", candidate):
            return candidate, ""  # a heading line ended by 。: （一）固定资产投资支持。
    return "", rest


@attrs.define
class _Open:
    style: str
    number: int
    label: str
    title: str
    line: int
    level: int
    sentences: list[Sentence] = attrs.Factory(list)
    children: list[DocumentUnit] = attrs.Factory(list)
    units: tuple[ResponsibleUnit, ...] = ()
    units_text: str | None = None
    units_line: int | None = None

    def finish(self) -> DocumentUnit:
        return DocumentUnit(
            self.style,
            self.number,
            self.label,
            self.title,
            self.line,
            self.level,
            tuple(self.sentences),
            tuple(self.children),
            self.units,
            self.units_text,
            self.units_line,
        )


def read_document(text: str) -> Document:
    """The structure of a policy document's text."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    title = ""
    status: str | None = None
    preamble: list[Sentence] = []
    top: list[DocumentUnit] = []
    stack: list[_Open] = []

    def close_to(depth: int) -> None:
        while len(stack) > depth:
            done = stack.pop().finish()
            (stack[-1].children if stack else top).append(done)

    cleaned = [raw.strip().lstrip("\ufeff").strip() for raw in lines]
    headings = [match_heading(line) if line else None for line in cleaned]
    # the style of the next heading after each line (an item's paragraphs end where it is not an item)
    next_style: dict[int, str | None] = {}
    upcoming: str | None = None
    for index in range(len(lines), 0, -1):
        next_style[index] = upcoming
        found = headings[index - 1]
        if found is not None:
            upcoming = found.style
    for index, line in enumerate(cleaned, start=1):
        if not line:
            continue
        if not title:
            title = line
            continue
        status_match = _STATUS.match(line)
        if status is None and not top and not stack and status_match:
            status = status_match.group(1)
            continue
        units = _UNITS.search(line)
        heading = None if units and units.start() == 0 else headings[index - 1]
        if heading is not None:
            open_styles = [u.style for u in stack]
            if heading.style in open_styles:
                close_to(open_styles.index(heading.style))
            stack.append(
                _Open(heading.style, heading.number, heading.label, heading.title, index, len(stack) + 1)
            )
            body = heading.body
        else:
            body = line
        if heading is None and stack and stack[-1].style in ITEM_STYLES and stack[-1].line < index:
            # an unnumbered paragraph after an item that already has its body, where the next heading
            # closes the item (a unit above it, or the end), belongs to the unit holding the items
            # (「企业固定资产投资额以…为准」 after the last of items 1.–4.); the first paragraph under a
            # title-only item (「3.酒店建设。」) is the item's body, and one followed by the next item
            # (「2.」) or by a sub-item is the item's next paragraph
            item = stack[-1]
            upcoming_style = next_style[index]
            above = [u.style for u in stack[:-1]]
            closing = upcoming_style is None or upcoming_style in above
            if item.sentences and item.sentences[-1].line < index and closing:
                close_to(
                    max(i for i, u in enumerate(stack) if u.style not in ITEM_STYLES) + 1
                    if any(u.style not in ITEM_STYLES for u in stack)
                    else 0
                )
        if not stack:
            preamble.extend(split_sentences(body, index))
            continue
        current = stack[-1]
        units = _UNITS.search(body)
        if units:
            # the article if there is one (its items may be （一）…), else the nearest non-item unit
            owner = next((u for u in reversed(stack) if u.style == "条"), None) or next(
                (u for u in reversed(stack) if u.style not in ITEM_STYLES), current
            )
            owner.units = split_units(units.group(1))
            owner.units_text = units.group(0).strip()
            owner.units_line = index
            body = body[: units.start()]
        current.sentences.extend(split_sentences(body, index))
    close_to(0)
    chapters, measures = _diff_view(tuple(top))
    return Document(title, status, tuple(preamble), tuple(top), chapters, measures, tuple(lines))


def _diff_view(
    top: tuple[DocumentUnit, ...],
) -> tuple[tuple[DocumentChapter, ...], tuple[DocumentMeasure, ...]]:
    """Chapters and measures for the diff: a grouping top level is chapters, the level below measures.

    A chapter style that groups units anywhere (一、 over （一）) makes every unit of that style a
    chapter, so 一、财政支持 with only a paragraph pairs with 一、政策支持 over 第1条; the paragraph
    of a chapter (its own text, before its first unit) is a measure labelled by the chapter."""
    has_articles = any(u.style == "条" for unit in top for u in unit.walk())
    grouping = {u.style for unit in top for u in unit.walk() if u.children and u.style in CHAPTER_STYLES}
    chapters: list[DocumentChapter] = []
    measures: list[DocumentMeasure] = []

    def as_measure(unit: DocumentUnit, chapter: DocumentUnit | None, own: bool = False) -> DocumentMeasure:
        sentences = unit.sentences if own else tuple(unit.all_sentences())
        return DocumentMeasure(
            unit.label,
            unit.title,
            unit.line,
            chapter.label if chapter else None,
            tuple(sentences),
            unit.units,
            unit.units_text,
            unit.units_line,
        )

    def open_chapter(unit: DocumentUnit) -> None:
        chapters.append(DocumentChapter(unit.label, unit.title, unit.line))
        if unit.sentences or unit.units_text:
            measures.append(as_measure(unit, unit, own=True))

    def visit(unit: DocumentUnit, chapter: DocumentUnit | None) -> None:
        if has_articles:
            if unit.style == "条":
                measures.append(as_measure(unit, chapter))
                return
            if chapter is None and unit.style in CHAPTER_STYLES:
                open_chapter(unit)
                chapter = unit
            for child in unit.children:
                visit(child, chapter)
            return
        if chapter is None and unit.style in grouping:
            open_chapter(unit)
            for child in unit.children:
                measures.append(as_measure(child, unit))
            return
        measures.append(as_measure(unit, chapter))

    for unit in top:
        visit(unit, None)
    return tuple(chapters), tuple(measures)
