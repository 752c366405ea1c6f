"""Source files and positions: where every node, citation and error comes from."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import attrs


@attrs.frozen(eq=False)
class SourceFile:
    """The text of one input file, kept so errors can quote the offending line."""

    path: str
    text: str
    #: How the file was stored: "UTF-8", "UTF-8 with BOM", "GB18030", each with ", CRLF" if it had them.
    encoding: str = "UTF-8"
    _split: list[str] | None = attrs.field(default=None, init=False, repr=False)

    @classmethod
    def read(cls, path: str | Path, limit: int | None = None) -> SourceFile:
        """Read and decode a text file; raises :class:`UnreadableText` if it is not text or is
        longer than ``limit`` bytes (default :data:`MAX_DOCUMENT_BYTES`)."""
        raw = read_limited(path, MAX_DOCUMENT_BYTES if limit is None else limit)
        text, encoding = decode_text(raw)
        return cls(str(path), text, encoding)

    def line(self, number: int) -> str:
        """Line ``number`` (1-based) without its line ending, or "" if out of range."""
        lines = self._lines()
        if 1 <= number <= len(lines):
            return lines[number - 1]
        return ""

    def _lines(self) -> list[str]:
        """The text split into lines once (a file with thousands of diagnostics asks thousands of times)."""
        cached = self._split
        if cached is None:
            cached = self.text.split("\n")
            object.__setattr__(self, "_split", cached)
        return cached


#: The longest file of each kind read whole: a policy file (or registry, or facts file) — the
#: largest shipped is 60 KB — and a document's source text. Past them a file is refused at once
#: rather than parsed for minutes; population files are streamed and have no such limit.
MAX_POLICY_BYTES = 1 << 20
MAX_DOCUMENT_BYTES = 1 << 20


def read_limited(path: str | Path, limit: int) -> bytes:
    """The bytes of ``path``, refused (:class:`UnreadableText`) when it holds more than ``limit``."""
    with open(path, "rb") as handle:
        raw = handle.read(limit + 1)
    if len(raw) > limit:
        raise UnreadableText(f"is larger than {limit // (1 << 20)} MiB, the most this kind of file may be")
    return raw


class UnreadableText(ValueError):
    """Bytes that are not text in an encoding policy_dsl reads; the message says why."""


def decode_text(raw: bytes) -> tuple[str, str]:
    """The one decoder for every text policy_dsl reads: policies, source texts, registries, facts.

    UTF-8 with or without a BOM, else GB18030 (which includes GBK and GB2312); CRLF and CR become
    LF. Returns the text and the encoding found, as reports show it.
    """
    if b"\x00" in raw:
        raise UnreadableText("is a binary file, not text")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw, encoding = raw[3:], "UTF-8 with BOM"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnreadableText(f"starts with a UTF-8 BOM but is not UTF-8 (byte {exc.start + 3})") from None
    else:
        try:
            text, encoding = raw.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError as exc:
            try:
                text, encoding = raw.decode("gb18030"), "GB18030"
            except UnicodeDecodeError:
                raise UnreadableText(f"is neither UTF-8 nor GB18030 text (byte {exc.start})") from None
    if "\r\n" in text:
        encoding += ", CRLF"
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


def decode(raw: bytes) -> str:
    """The text of ``raw`` (see :func:`decode_text`)."""
    return decode_text(raw)[0]


@attrs.frozen(eq=False, repr=False)
class SourcePosition:
    """A span in a source file; lines and columns are 1-based, columns count characters."""

    file: SourceFile
    line: int
    column: int
    end_line: int
    end_column: int

    @property
    def path(self) -> str:
        return self.file.path

    def __repr__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"

    def _key(self) -> tuple[str, int, int, int, int]:
        return (self.file.path, self.line, self.column, self.end_line, self.end_column)

    def __eq__(self, other: object) -> bool:
        # By value: the same span of a file of the same name. (Model nodes leave their positions
        # out of their own equality, field by field; see model.py.)
        if not isinstance(other, SourcePosition):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


UNKNOWN_FILE = SourceFile("<unknown>", "")
NOWHERE = SourcePosition(UNKNOWN_FILE, 0, 0, 0, 0)


def display_width(text: str) -> int:
    """Terminal columns taken by ``text``: East Asian wide and full-width characters count 2."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return width
