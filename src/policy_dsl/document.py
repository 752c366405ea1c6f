"""The structure of a Chinese policy document: title, status, chapters, measures, sentences, units.

Entry point: :func:`read_document`. It needs no encoding: it reads the prose the way a
drafter lays it out — ``一、`` opens a chapter, ``（一）`` a measure, ``（责任单位：…）`` closes
a measure with its responsible units, lead first — and keeps every line number so the
checker can report coverage and the diff can align versions.
"""

from __future__ import annotations

import re

import attrs

_CHAPTER = re.compile(r"^\s*([一二三四五六七八九十百零〇]+)、\s*(.+?)\s*$")
_MEASURE = re.compile(r"^\s*[（(]([一二三四五六七八九十百零〇]+)[）)]\s*(.+?)\s*$")
_UNITS = re.compile(r"[（(]责任单位[：:](.+?)[）)]\s*$")
_STATUS = re.compile(r"^\s*[（(]([^（）()]{0,24}(?:稿|试行|暂行|修订|征求意见)[^（）()]{0,24})[）)]\s*$")
_COLLECTIVE = re.compile(r"^(.*?)[（(]以下(?:统)?简?称(.+?)[）)]$")


@attrs.frozen
class Sentence:
    """One sentence of a measure's body, ending in 。, ； or the end of its line."""

    text: str
    line: int


@attrs.frozen
class ResponsibleUnit:
    """A unit named in a （责任单位：…） line. ``full`` is the wording before （以下统称…）, if any."""

    name: str
    full: str | None = None


@attrs.frozen
class DocumentMeasure:
    number: str
    title: str
    line: int
    chapter: str | None
    sentences: tuple[Sentence, ...]
    units: tuple[ResponsibleUnit, ...]
    units_text: str | None
    units_line: int | None

    @property
    def body(self) -> str:
        return "".join(s.text for s in self.sentences)


@attrs.frozen
class DocumentChapter:
    number: str
    title: str
    line: int


@attrs.frozen
class Document:
    title: str
    status: str | None
    preamble: tuple[Sentence, ...]
    chapters: tuple[DocumentChapter, ...]
    measures: tuple[DocumentMeasure, ...]

    def measure(self, number: str) -> DocumentMeasure | None:
        for measure in self.measures:
            if measure.number == number:
                return measure
        return None


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


@attrs.define
class _MeasureDraft:
    number: str
    title: str
    line: int
    chapter: str | None
    sentences: list[Sentence] = attrs.Factory(list)
    units: tuple[ResponsibleUnit, ...] = ()
    units_text: str | None = None
    units_line: int | None = None

    def finish(self) -> DocumentMeasure:
        return DocumentMeasure(
            self.number,
            self.title,
            self.line,
            self.chapter,
            tuple(self.sentences),
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
    chapters: list[DocumentChapter] = []
    measures: list[DocumentMeasure] = []
    current: _MeasureDraft | None = None
    chapter_number: str | None = None

    for index, raw in enumerate(lines, start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line:
            continue
        if not title:
            title = line
            continue
        status_match = _STATUS.match(line)
        if status is None and not chapters and not measures and current is None and status_match:
            status = status_match.group(1)
            continue
        chapter = _CHAPTER.match(line)
        if chapter and len(line) <= 40 and not line.endswith(("。", "；")):
            if current is not None:
                measures.append(current.finish())
                current = None
            chapter_number = chapter.group(1)
            chapters.append(DocumentChapter(chapter_number, chapter.group(2), index))
            continue
        measure = _MEASURE.match(line)
        if measure and len(line) <= 60 and not line.endswith(("。", "；")) and not _UNITS.search(line):
            if current is not None:
                measures.append(current.finish())
            current = _MeasureDraft(measure.group(1), measure.group(2), index, chapter_number)
            continue
        if current is None:
            preamble.extend(split_sentences(line, index))
            continue
        units = _UNITS.search(line)
        body = line
        if units:
            current.units = split_units(units.group(1))
            current.units_text = units.group(0).strip()
            current.units_line = index
            body = line[: units.start()]
        current.sentences.extend(split_sentences(body, index))
    if current is not None:
        measures.append(current.finish())
    return Document(title, status, tuple(preamble), tuple(chapters), tuple(measures))
