"""Citation integrity: every rule's quotes are in the source, once, in its own unit, and say what it says.

Entry point: :func:`verify_citations`. The checker hands it each place that cites the text (a
rule, a unit, the header) with the span of the document that place encodes; it returns every
problem found:

- a citation that does not occur in the source is an error (with the closest sentence as a hint);
- a citation that occurs more than once is an error unless it occurs once inside the citing
  unit (the unit narrows it) — otherwise quote more words;
- a rule citing text outside its own unit is a warning, unless the rule is a cross-reference
  (``follows``) and the text lies in the unit it follows;
- every quantity in a rule's quotes — money, percent, a count with its unit, a date, a duration —
  must be one of the rule's constants, or waived on the rule (``waive "…" because "…"``), so an
  encoding copied from an earlier version with only its quotes updated cannot pass.

:func:`quantities` is shared with ``policy-diff``, which warns when the quantities a rule cites
changed between versions while the rule did not.
"""

from __future__ import annotations

import bisect
import datetime as dt
import difflib
import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

import attrs

from policy_dsl import model as m
from policy_dsl.document import chinese_number
from policy_dsl.errors import Diagnostic
from policy_dsl.format import format_value
from policy_dsl.source import SourceFile, SourcePosition
from policy_dsl.values import CURRENCY_WORDS, DURATION_UNITS, EXACT, MULTIPLIERS, Duration, Money, Percent


def normalize_text(text: str) -> str:
    """Compare citations after folding full-width/half-width forms and dropping all white space."""
    folded = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", "", folded)


# ---------------------------------------------------------------- quantities

_CN = "零〇一二三四五六七八九十百千两"
_NUM = r"(?P<num>\d+(?:\.\d+)?)"
_MONEY = re.compile(_NUM + r"(?P<mult>[万亿])?(?P<cur>美元|人民币|元|欧元|日元|港元)")
_MONEY_CN_MULT = re.compile(_NUM + r"(?P<mult>千万|百万|十万)(?P<cur>美元|元)")
_PERCENT = re.compile(_NUM + r"[%％]")
_DATE = re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日")
_YEAR = re.compile(r"(?<!\d)(?P<y>\d{4})年(?:\d{1,2}月(?!\d{1,2}日))?")
_DURATION = re.compile(
    r"(?<!\d)(?P<num>\d{1,3}|[" + _CN + r"]+)(?P<unit>个工作日|个月|周年|年|天|日)(?!以来|度|底|末|初)"
)
_COUNT_UNITS = r"(?P<unit>平方米|批次|亩|人|户|家|个|张|项|间|米|㎡|床|场|次|批|块|名)"
_COUNT = re.compile(_NUM + r"(?P<mult>[万亿])?" + _COUNT_UNITS)
#: Chinese numerals with a unit: 一万元, 三万人.
_CN_AMOUNT = re.compile(
    r"(?<![" + _CN + r"])(?P<num>[" + _CN + r"]+)(?P<mult>[万亿])(?P<unit>元|美元|人|人次)"
)
#: The first number of a range that writes its unit once: 100—500亩, 5-20%.
_RANGE = re.compile(
    r"(?<![\d.])(?P<num>\d+(?:\.\d+)?)\s*[—–\-~～至到]\s*\d+(?:\.\d+)?\s*(?P<mult>[万亿])?\s*"
    r"(?P<unit>美元|元|[%％]|平方米|批次|亩|人|户|家|个|张|项|间|米|㎡|床|场|次|批|块|名)"
)


@attrs.frozen
class Quantity:
    """A quantity written in a text: its words as written and its exact value."""

    text: str
    value: object


def quantities(text: str) -> tuple[Quantity, ...]:
    """Every quantity a sentence states: money, percent, dates, durations, counts with their unit."""
    return _quantities(text)


@functools.lru_cache(maxsize=4096)
def _quantities(text: str) -> tuple[Quantity, ...]:
    text = unicodedata.normalize("NFKC", text)
    found: list[Quantity] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    def add(match: re.Match[str], value: object) -> None:
        if free(match.start(), match.end()):
            taken.append((match.start(), match.end()))
            found.append(Quantity(match.group(0), value))

    for match in _DATE.finditer(text):
        try:
            add(match, dt.date(int(match["y"]), int(match["m"]), int(match["d"])))
        except ValueError:
            continue
    for match in _YEAR.finditer(text):
        add(match, ("year", int(match["y"])))
    for match in _MONEY_CN_MULT.finditer(text):
        scale = {"千万": 10**7, "百万": 10**6, "十万": 10**5}[match["mult"]]
        add(match, Money(Decimal(match["num"]) * scale, CURRENCY_WORDS[match["cur"]]))
    for match in _MONEY.finditer(text):
        amount = EXACT.multiply(Decimal(match["num"]), Decimal(MULTIPLIERS.get(match["mult"] or "", 1)))
        add(match, Money(amount, CURRENCY_WORDS[match["cur"]]))
    for match in _PERCENT.finditer(text):
        add(match, Percent(Decimal(match["num"])))
    for match in _CN_AMOUNT.finditer(text):
        number = chinese_number(match["num"])
        if number is None:
            continue
        amount = EXACT.multiply(Decimal(number), Decimal(MULTIPLIERS[match["mult"]]))
        if match["unit"] in ("元", "美元"):
            add(match, Money(amount, CURRENCY_WORDS[match["unit"]]))
        else:
            add(match, amount)
    for match in _RANGE.finditer(text):
        amount = EXACT.multiply(Decimal(match["num"]), Decimal(MULTIPLIERS.get(match["mult"] or "", 1)))
        unit = match["unit"]
        value: object
        if unit in ("%", "％"):
            value = Percent(Decimal(match["num"]))
        elif unit in ("元", "美元"):
            value = Money(amount, CURRENCY_WORDS[unit])
        else:
            value = amount
        start, end = match.start("num"), match.end("num")
        if free(start, end):
            taken.append((start, end))
            found.append(Quantity(match["num"] + (match["mult"] or "") + unit, value))
    for match in _DURATION.finditer(text):
        number = chinese_number(match["num"])
        if number is None or (match["unit"] == "日" and not match["num"].isdigit()):
            continue
        if match["num"] in ("百", "千", "万"):
            continue  # 百年老店: an idiom, not a period
        if number >= 1000 and match["unit"] == "年":  # 二〇二三年: a year, not a period
            add(match, ("year", number))
            continue
        unit = "years" if match["unit"] == "周年" else DURATION_UNITS[match["unit"]]
        add(match, Duration(number, unit))
    for match in _COUNT.finditer(text):
        add(match, Decimal(match["num"]) * MULTIPLIERS.get(match["mult"] or "", 1))
    order = {q.text: i for i, q in enumerate(found)}
    found.sort(key=lambda q: text.find(q.text) if q.text in text else order[q.text])
    return tuple(found)


def comparable(value: object) -> object:
    """The form two constants are compared in: money by amount and currency, numbers by value."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal):
        return Decimal(value).normalize(EXACT)
    if isinstance(value, Money):
        return ("money", value.amount.normalize(EXACT), value.currency)
    if isinstance(value, Percent):
        return ("percent", Decimal(value.value).normalize(EXACT))
    if isinstance(value, Duration):
        return ("duration", value.amount, value.unit)
    return value


def constants(node: m.Node) -> set[object]:
    """Every constant written in a rule (conditions, amount, rate, cap, period, levels, goals)."""
    found: set[object] = set()
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, m.Literal):
            found.add(comparable(item.value))
            if isinstance(item.value, Duration) and item.value.unit == "years":
                found.add(("duration", item.value.amount * 12, "months"))
            if isinstance(item.value, dt.date):
                found.add(("year", item.value.year))
        elif attrs.has(type(item)):
            found.update(_years_counted(item))
            if isinstance(item, m.Staged):  # 「3个阶段」: the number of stages
                found.add(comparable(Decimal(len(item.stages))))
            for field in attrs.fields(type(item)):  # type: ignore[arg-type]
                if field.name in ("pos", "citations", "waivers", "label"):
                    continue
                stack.append(getattr(item, field.name))
        elif isinstance(item, tuple):
            stack.extend(item)
    return found


def _years_counted(node: object) -> set[object]:
    """``year of 认定日期 between 1 and 5`` encodes 「连续5年」: a count compared with ``year of`` is
    a number of years too; so are an installment schedule's years and the lengths of its bands
    (``year 2`` is 「第二年」, ``from 3 to 5`` is 「后3年」)."""
    if isinstance(node, m.Tiers) and node.year_of:
        years: set[object] = set()
        for tier in node.tiers:
            low = tier.low.value if tier.low is not None else None
            high = tier.high.value if tier.high is not None else None
            years.update(comparable(Duration(v, "years")) for v in (low, high) if type(v) is int)
            if type(low) is int and type(high) is int:
                width = high - low + 1 - tier.low_open - tier.high_open
                years.add(comparable(Duration(width, "years")))
        return years
    if isinstance(node, m.Comparison):
        pairs = [(node.left, node.right), (node.right, node.left)]
    elif isinstance(node, m.Between):
        pairs = [(node.subject, node.low), (node.subject, node.high)]
    else:
        return set()
    return {
        comparable(Duration(other.value, "years"))
        for side, other in pairs
        if isinstance(side, m.YearOf)
        and isinstance(other, m.Literal)
        and isinstance(other.value, int)
        and not isinstance(other.value, bool)
    }


def _known(quantity: Quantity, known: set[object]) -> bool:
    value = comparable(quantity.value)
    return value in known


# ---------------------------------------------------------------- where citations land


@attrs.frozen
class Span:
    """A stretch of the folded source text: a unit's, from its heading to its last sentence."""

    label: str
    start: int
    end: int

    def holds(self, start: int, end: int) -> bool:
        return self.start <= start and end <= self.end


@attrs.frozen
class Site:
    """A place that cites the source: a rule, a unit, or the header, with what it may cite."""

    node: m.Node
    what: str  # "benefit `小微企业信保保费补贴`", "unit 第5条"
    citations: tuple[m.Citation, ...]
    span: Span | None  # its own unit; None: the whole document
    also: tuple[Span, ...] = ()  # units a cross-reference may quote
    waivers: tuple[m.Waiver, ...] = ()
    known: frozenset[object] | None = None  # None: no quantity check (units, the header's own)


class FoldedSource:
    """The source text folded for comparison, with the map back to its lines."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        chars: list[str] = []
        lines: list[int] = []
        for number, line in enumerate(source.text.split("\n"), start=1):
            folded = normalize_text(line)
            chars.append(folded)
            lines.append(number)
        self.text = "".join(chars)
        self.line_starts: list[int] = []
        self.line_numbers = lines
        offset = 0
        for folded in chars:
            self.line_starts.append(offset)
            offset += len(folded)

    def line_of(self, offset: int) -> int:
        index = bisect.bisect_right(self.line_starts, offset) - 1
        # several empty lines fold to one offset: the last line starting there holds the text
        return self.line_numbers[max(index, 0)]

    def offset_of_line(self, line: int) -> int:
        return self.line_starts[line - 1] if 0 < line <= len(self.line_starts) else len(self.text)

    def occurrences(self, needle: str) -> list[int]:
        found: list[int] = []
        start = self.text.find(needle) if needle else -1
        while start >= 0:
            found.append(start)
            start = self.text.find(needle, start + 1)
        return found


def verify_citations(
    source: FoldedSource, sites: Iterable[Site], units: Sequence[Span] = (), quiet: Iterable[m.Node] = ()
) -> list[Diagnostic]:
    """Every problem with the citations of ``sites``: errors, and warnings for cross-unit quotes.

    ``units`` are the spans of the text's units (to name where a stray quote lies); the quantities
    of ``quiet`` sites are not checked (they already have an error: no cascade)."""
    quiet_ids = {id(node) for node in quiet}
    problems: list[Diagnostic] = []
    sentences: list[str] | None = None
    for site in sites:
        present: list[m.Citation] = []  # the quotes found in the source: their quantities are checked
        for citation in site.citations:
            needle = normalize_text(citation.text.value)
            if not needle:
                problems.append(Diagnostic("empty citation", citation.text.pos))
                continue
            found = source.occurrences(needle)
            if not found:
                if sentences is None:
                    sentences = _sentences(source.source.text)
                problems.append(
                    Diagnostic(
                        "citation does not occur in the source text",
                        citation.text.pos,
                        hint=closest_sentence(citation.text.value, sentences),
                    )
                )
                continue
            present.append(citation)
            inside = [o for o in found if site.span is None or site.span.holds(o, o + len(needle))]
            if len(found) > 1 and len(inside) != 1:
                lines = ", ".join(str(source.line_of(o)) for o in found[:6])
                problems.append(
                    Diagnostic(
                        f"this citation occurs {len(found)} times in the source (lines {lines}), "
                        "so it does not say which sentence the rule encodes",
                        citation.text.pos,
                        hint="quote more words of the sentence you mean, "
                        "or place the rule in the unit that holds it",
                    )
                )
                continue
            where = inside[0] if inside else found[0]
            if site.span is not None and not inside:
                allowed = any(span.holds(where, where + len(needle)) for span in site.also)
                if not allowed:
                    line = source.line_of(where)
                    holders = [u for u in units if u.holds(where, where + len(needle))]
                    place = min(holders, key=lambda u: u.end - u.start).label if holders else f"line {line}"
                    problems.append(
                        Diagnostic(
                            f"{site.what} in {site.span.label} cites text of {place} (line {line}), "
                            "outside its unit",
                            citation.text.pos,
                            hint="move the rule to the unit that holds the text; if it is a "
                            "cross-reference (按第N条执行), say so with `follows`",
                            severity="warning",
                        )
                    )
        if site.known is not None and id(site.node) not in quiet_ids:
            problems.extend(_stale_quantities(attrs.evolve(site, citations=tuple(present))))
    return problems


def _stale_quantities(site: Site) -> Iterator[Diagnostic]:
    assert site.known is not None
    waived = {normalize_text(w.quantity.value) for w in site.waivers}
    waived_values = {comparable(q.value) for w in site.waivers for q in quantities(w.quantity.value)}
    used: set[str] = set()
    for citation in site.citations:
        for quantity in quantities(citation.text.value):
            if _known(quantity, set(site.known)):
                continue
            folded = normalize_text(quantity.text)
            if folded in waived or comparable(quantity.value) in waived_values:
                used.add(folded)
                continue
            stale = _uncited_like(quantity.value, site)
            if stale:
                hint = (
                    f"the rule has {'、'.join(stale)}, which no citation states: if the encoding is "
                    f"stale, update it to {quantity.text}; if the rule deliberately leaves "
                    f'{quantity.text} out: waive "{quantity.text}" because "…"'
                )
            else:
                hint = (
                    "encode it, or if the rule deliberately leaves it out: "
                    f'waive "{quantity.text}" because "…"'
                )
            yield Diagnostic(
                f"the citation says {quantity.text}, which is none of the constants of {site.what}",
                _within(citation.text.pos, citation.text.value, quantity.text),
                hint=hint,
            )
    cited = {normalize_text(q.text) for c in site.citations for q in quantities(c.text.value)}
    cited_values = {comparable(q.value) for c in site.citations for q in quantities(c.text.value)}
    for waiver in site.waivers:
        folded = normalize_text(waiver.quantity.value)
        parsed = [comparable(q.value) for q in quantities(waiver.quantity.value)]
        if folded not in cited and not any(value in cited_values for value in parsed):
            yield Diagnostic(
                f"`{waiver.quantity.value}` is waived but none of the citations of {site.what} states it",
                waiver.quantity.pos,
                hint="drop the waiver, or quote the sentence that states the quantity",
            )


def _uncited_like(value: object, site: Site) -> list[str]:
    """Constants of the rule of the same kind as ``value`` that no citation states (500万美元 where
    the quote says 300万美元): the sign of an encoding copied from another version."""
    cited = {comparable(q.value) for c in site.citations for q in quantities(c.text.value)}
    shown: list[str] = []
    for literal in _literals(site.node):
        other = literal.value
        same_kind = (
            (isinstance(value, Money) and isinstance(other, Money) and value.currency == other.currency)
            or (isinstance(value, Percent) and isinstance(other, Percent))
            or (isinstance(value, Duration) and isinstance(other, Duration) and value.unit == other.unit)
        )
        if same_kind and comparable(other) not in cited:
            text = format_value(other)
            if text not in shown:
                shown.append(text)
    return shown


def _literals(node: object) -> Iterator[m.Literal]:
    if isinstance(node, m.Literal):
        yield node
    elif attrs.has(type(node)):
        for field in attrs.fields(type(node)):  # type: ignore[arg-type]
            if field.name not in ("pos", "citations", "waivers", "label"):
                yield from _literals(getattr(node, field.name))
    elif isinstance(node, tuple):
        for item in node:
            yield from _literals(item)


def _within(pos: SourcePosition, quoted: str, part: str) -> SourcePosition:
    """The position of ``part`` inside a string literal at ``pos`` (one line), for a tighter caret."""
    index = quoted.find(part)
    if index < 0 or pos.line != pos.end_line:
        return pos
    start = pos.column + 1 + index
    return SourcePosition(pos.file, pos.line, start, pos.line, start + len(part))


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[。；！？\n])", text)
    return [p.strip() for p in parts if p.strip()]


@functools.lru_cache(maxsize=4)
def _normalized(sentences: tuple[str, ...]) -> tuple[str, ...]:
    """Each sentence normalized, once for all the citations a check compares with them."""
    return tuple(normalize_text(sentence) for sentence in sentences)


def closest_sentence(text: str, sentences: Sequence[str]) -> str | None:
    """A hint naming the source sentence most like ``text``; never the identical string."""
    wanted = normalize_text(text)
    best: tuple[float, str] | None = None
    # the citation is the matcher's second sequence, indexed once; each sentence is the first (the
    # longest common block has the same size either way round)
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(wanted)
    for sentence, norm in zip(sentences, _normalized(tuple(sentences)), strict=True):
        if norm == wanted:
            continue
        if best is not None and min(len(norm), len(wanted)) / max(len(wanted), 1) <= best[0]:
            continue  # cannot beat the best: a common block is no longer than either text
        matcher.set_seq1(norm)
        ratio = matcher.find_longest_match(0, len(norm), 0, len(wanted)).size / max(len(wanted), 1)
        if best is None or ratio > best[0]:
            best = (ratio, sentence)
    if best is None or best[0] < 0.4:
        return None
    shown = best[1] if len(best[1]) <= 80 else best[1][:80] + "…"
    return f"the closest sentence in the source is: {shown}"
