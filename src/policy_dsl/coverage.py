"""Coverage: how much of the source text an encoding accounts for. Entry point: :func:`measure_coverage`.

Every sentence of the document, at every level (preamble, chapters, articles, measures, items),
is counted as cited when some citation of the encoding covers part of it; the units of every
heading style are counted as encoded when a unit block stands for them; a （责任单位：…） line is
encoded when its agencies match and a citation quotes it. Uncited sentences that grant something
concrete (给予 / 补贴 / 奖励 / 支持 … with a number or a binding word) are listed apart: they are
the likeliest rules an encoder left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs

from policy_dsl import model as m
from policy_dsl.citations import FoldedSource, normalize_text
from policy_dsl.document import Document, DocumentUnit


@attrs.frozen
class UncitedSentence:
    measure: str  # the label of the innermost unit holding it (全文 for the preamble)
    text: str
    line: int


#: Words that make a clause grant or promise something to an enterprise.
GRANT_WORDS = re.compile(r"给予|补贴|补助|奖励|资助|贴息|减免|免收|免征|返还|支持|鼓励|优先|兑现")
#: What makes a grant clause concrete: a quantity, or a binding word.
_CONCRETE = re.compile(r"\d|[一二三四五六七八九十两]年|应当|必须|不得|予以|一次性")


@attrs.frozen
class Coverage:
    """How much of the source text the encoding accounts for, so a reviewer sees what was left out."""

    units_in_source: tuple[str, ...]
    units_encoded: tuple[str, ...]
    unit_lines_in_source: tuple[str, ...]
    unit_lines_encoded: tuple[str, ...]
    sentences_total: int
    uncited: tuple[UncitedSentence, ...]
    grant_clauses: tuple[UncitedSentence, ...] = ()  # uncited clauses that grant something concrete
    styles: tuple[tuple[str, int, int], ...] = ()  # per heading style: (style, encoded, in source)

    def summary(self) -> str:
        cited = self.sentences_total - len(self.uncited)
        levels = ", ".join(f"{style} {done}/{total}" for style, done, total in self.styles)
        return (
            f"coverage: units {len(self.units_encoded)}/{len(self.units_in_source)}"
            + (f" ({levels})" if levels else "")
            + f", responsible-unit lines {len(self.unit_lines_encoded)}/{len(self.unit_lines_in_source)}, "
            f"sentences cited {cited}/{self.sentences_total}, "
            f"uncited grant clauses {len(self.grant_clauses)}"
        )

    def report(self) -> str:
        lines = [self.summary()]
        missing = [n for n in self.units_in_source if n not in self.units_encoded]
        if missing:
            lines.append("  units not encoded: " + " ".join(missing))
        unmatched = [n for n in self.unit_lines_in_source if n not in self.unit_lines_encoded]
        if unmatched:
            lines.append("  responsible-unit lines not encoded: " + " ".join(unmatched))
        if self.grant_clauses:
            lines.append(
                f"  clauses that grant something concrete but no rule cites ({len(self.grant_clauses)}):"
            )
            for sentence in self.grant_clauses:
                lines.append(f"    {sentence.measure} line {sentence.line}: {sentence.text}")
        if self.uncited:
            lines.append(f"  sentences no citation covers ({len(self.uncited)}), judged not to be rules:")
            for sentence in self.uncited:
                lines.append(f"    {sentence.measure} line {sentence.line}: {sentence.text}")
        return "\n".join(lines)


def measure_coverage(
    structure: Document,
    folded: FoldedSource,
    covered: bytearray,
    encoded: Iterable[DocumentUnit],
    unit_line_encoded: Iterable[DocumentUnit],
) -> Coverage:
    """The coverage of ``structure``: ``covered`` flags the characters some citation quotes
    (:func:`covered_text`); ``encoded`` are the text's units a unit block stands for,
    ``unit_line_encoded`` those whose （责任单位：…） line the encoding matches."""
    text = folded.text
    encoded_ids = {id(unit) for unit in encoded}
    line_ids = {id(unit) for unit in unit_line_encoded}
    uncited: list[UncitedSentence] = []
    grants: list[UncitedSentence] = []
    total = 0
    for doc_unit, sentence in structure.sentences():
        needle = normalize_text(sentence.text)
        found = text.find(needle, folded.offset_of_line(sentence.line)) if needle else -1
        if found < 0:
            continue
        total += 1
        if not any(covered[found : found + len(needle)]):
            where = doc_unit.label if doc_unit is not None else "全文"
            uncited.append(UncitedSentence(where, sentence.text, sentence.line))
            for clause in re.split(r"(?<=[；;。])|(?<=[，,])(?=对)", sentence.text):
                if GRANT_WORDS.search(clause) and _CONCRETE.search(clause):
                    grants.append(UncitedSentence(where, sentence.text, sentence.line))
                    break
    styles: dict[str, list[int]] = {}
    for doc_unit in structure.walk():
        counts = styles.setdefault(doc_unit.style, [0, 0])
        counts[1] += 1
        counts[0] += id(doc_unit) in encoded_ids
    units = list(structure.walk())
    return Coverage(
        units_in_source=tuple(u.label for u in units),
        units_encoded=tuple(u.label for u in units if id(u) in encoded_ids),
        unit_lines_in_source=tuple(u.label for u in units if u.units_text is not None),
        unit_lines_encoded=tuple(u.label for u in units if u.units_text is not None and id(u) in line_ids),
        sentences_total=total,
        uncited=tuple(uncited),
        grant_clauses=tuple(grants),
        styles=tuple((style, done, all_) for style, (done, all_) in styles.items()),
    )


def covered_text(folded: FoldedSource, citations: Iterable[m.Citation]) -> bytearray:
    """A flag per character of the folded source: whether some citation quotes it."""
    covered = bytearray(len(folded.text))
    for citation in citations:
        needle = normalize_text(citation.text.value)
        for start in folded.occurrences(needle):
            covered[start : start + len(needle)] = b"\x01" * len(needle)
    return covered
