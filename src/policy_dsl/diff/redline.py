"""Text diffs of Chinese policy prose that a drafter can read. Entry point: :func:`redline`.

diff-match-patch compares characters, and a character diff of Chinese reads badly
(十万 → 十二万 shows an inserted 二; 5000万美元 → 3000万美元 an inserted 3). So the texts are
first cut into tokens — amounts, numbers, dates, durations, percentages and agency names stay
whole, everything else is one character — each token is mapped to one private-use character
(the ``diff_linesToChars`` trick), the mapped strings are diffed with no time limit
(deterministic), and the result is mapped back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import diff_match_patch

EQUAL = 0
INSERT = 1
DELETE = -1

#: One segment of a redline: (operation, text), operation one of EQUAL, INSERT, DELETE.
Segment = tuple[int, str]

_QUANTITY = re.compile(
    r"\d{4}年\d{1,2}月\d{1,2}日"
    r"|\d{4}-\d{1,2}-\d{1,2}"
    r"|\d+(?:\.\d+)?\s*[万亿]?\s*(?:美元|人民币|元|欧元|日元|港元|USD|CNY|RMB|EUR|JPY|HKD)"
    r"|\d+(?:\.\d+)?\s*[%％]"
    r"|\d+\s*(?:个工作日|个月|工作日|天|周)"
    r"|\d+(?:\.\d+)?[万亿]?"
    r"|[〇零一二三四五六七八九十百千万亿两]{2,}(?:美元|元|个工作日|个月|天|年)?"
)


def tokenize(text: str, phrases: Iterable[str] = ()) -> list[str]:
    """Cut ``text`` into tokens: quantities and the given phrases (agency names…) whole, else characters."""
    ordered = sorted({p for p in phrases if len(p) > 1}, key=len, reverse=True)
    phrase_pattern = "|".join(re.escape(p) for p in ordered)
    pattern = re.compile(f"(?:{phrase_pattern})|{_QUANTITY.pattern}" if phrase_pattern else _QUANTITY.pattern)
    tokens: list[str] = []
    index = 0
    for match in pattern.finditer(text):
        tokens.extend(text[index : match.start()])
        tokens.append(match.group(0))
        index = match.end()
    tokens.extend(text[index:])
    return tokens


def _encode(tokens: Sequence[str], table: dict[str, str], back: list[str]) -> str:
    out = []
    for token in tokens:
        code = table.get(token)
        if code is None:
            code = chr(0xF0000 + len(back))  # supplementary private use area: never in real text
            table[token] = code
            back.append(token)
        out.append(code)
    return "".join(out)


def redline(old: str, new: str, phrases: Iterable[str] = ()) -> tuple[Segment, ...]:
    """The diff of ``old`` and ``new`` as segments, with quantities and ``phrases`` kept whole."""
    phrases = tuple(phrases)
    table: dict[str, str] = {}
    back: list[str] = []
    a = _encode(tokenize(old, phrases), table, back)
    b = _encode(tokenize(new, phrases), table, back)
    engine = diff_match_patch.diff_match_patch()
    engine.Diff_Timeout = 0  # deterministic: never give up and return delete-all / insert-all
    diffs = engine.diff_main(a, b, False)
    engine.diff_cleanupSemantic(diffs)
    segments: list[Segment] = []
    for op, text in diffs:
        decoded = "".join(back[ord(ch) - 0xF0000] for ch in text)
        if segments and segments[-1][0] == op:
            segments[-1] = (op, segments[-1][1] + decoded)
        else:
            segments.append((op, decoded))
    return tuple(segments)


def changed(segments: Iterable[Segment]) -> bool:
    return any(op != EQUAL for op, _ in segments)


def quantities(text: str) -> list[str]:
    """The quantities (amounts, dates, rates, durations, numbers) a text states, in order."""
    return [re.sub(r"\s+", "", m.group(0)) for m in _QUANTITY.finditer(text)]
