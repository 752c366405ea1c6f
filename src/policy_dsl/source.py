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

    @classmethod
    def read(cls, path: str | Path) -> SourceFile:
        raw = Path(path).read_bytes()
        return cls(str(path), decode(raw))

    def line(self, number: int) -> str:
        """Line ``number`` (1-based) without its line ending, or "" if out of range."""
        lines = self.text.split("\n")
        if 1 <= number <= len(lines):
            return lines[number - 1]
        return ""


def decode(raw: bytes) -> str:
    """Decode policy text: UTF-8 (a BOM is dropped). CRLF becomes LF."""
    text = raw.decode("utf-8-sig")
    return text.replace("\r\n", "\n").replace("\r", "\n")


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

    def __eq__(self, other: object) -> bool:
        # Positions never take part in node equality; see model.py.
        return isinstance(other, SourcePosition)

    def __hash__(self) -> int:
        return 0


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
