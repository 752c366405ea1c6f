"""Mutators: every edit the campaign makes to a text, a value or a file, driven by one ``random.Random``.

Each function takes the generator first and returns a new value; nothing here reads the clock or
the environment, so a seed gives the same inputs on every machine.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

# ---------------------------------------------------------------- vocabularies

#: Characters that break naive code: CJK (wide), full-width forms, controls, bidi, BOM, surrogates'
#: neighbours, line and paragraph separators, combining marks.
NASTY_CHARS: tuple[str, ...] = (
    "\x00",
    "\x01",
    "\x07",
    "\x08",
    "\t",
    "\x0b",
    "\x0c",
    "\r",
    "\r\n",
    "\x1b",
    "\x7f",
    "\x85",
    "\xa0",
    "\u2028",
    "\u2029",
    "\u200b",
    "\u200d",
    "\u202e",
    "\u2066",
    "\ufeff",
    "\ufffd",
    "\uffff",
    "\U0001f600",
    "\U00020000",
    "\u0301",
    "\u3000",
    "中",
    "条",
    "第",
    "、",
    "（",
    "）",
    "：",
    "；",
    "。",
    "“",
    "”",
    "「",
    "」",
    "％",
    "０",
    "９",
    "万",
    "亿",
    "元",
    "美元",
    "〇",
    "①",
    "⑳",
    "㈠",
    "Ⅻ",
    '"',
    "\\",
    "{",
    "}",
    "(",
    ")",
    "//",
    "/*",
    "*/",
    "#",
    "'",
    "`",
    "$",
    "%",
    "\n",
)

#: Numbers at and beyond every limit: huge, tiny, negative, exponent forms, full-width, Chinese units.
NASTY_NUMBERS: tuple[str, ...] = (
    "0",
    "-1",
    "-0",
    "00",
    "1e999999",
    "1E+999999999",
    "1e-999999",
    "9" * 40,
    "9" * 400,
    "9" * 5000,
    "0." + "0" * 60 + "1",
    "12345678901234567890.123456789",
    "１２３",
    "١٢٣",
    "1_000",
    "0x10",
    "NaN",
    "Infinity",
    "-Infinity",
    "sNaN",
    "99999999999999999999亿",
    "1.5",
    ".5",
    "5.",
    "1,000",
    "三千",
    "一千亿",
    "零",
    "2^64",
    str(2**63),
    str(2**64 + 1),
    str(-(2**63) - 1),
)

#: Dates and unit numbers that cannot exist, or only at the edge of what a date type holds.
NASTY_DATES: tuple[str, ...] = (
    "2023-02-30",
    "2023-02-29",
    "2024-02-29",
    "2023-13-01",
    "2023-00-10",
    "2023-04-31",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "-2023-01-01",
    "2023-1-1",
    "2023/02/30",
    "2022年2月30日",
    "2022年13月1日",
    "2022年0月0日",
    "二〇二二年二月三十日",
    "99999年1月1日",
    "1970-01-01T00:00:00",
    "2023-02-28 25:00",
)

NASTY_UNITS: tuple[str, ...] = (
    "第0条",
    "第00条",
    "第99999999999999999999条",
    "第一千零一条",
    "第〇条",
    "第零条",
    "第-1条",
    "第1.5条",
    "〇、",
    "零、",
    "一万亿、",
    "（〇）",
    "（零）",
    "(0)",
    "0.",
    "00.",
    "99999999999999999999.",
    "⓪",
    "（0）",
    "第0章",
    "第0节",
    "第9999章",
)

NASTY_TEXTS: tuple[str, ...] = (
    "",
    " ",
    "中" * 300,
    "\x00" * 5,
    "true",
    "null",
    "None",
    "__import__('os')",
    "'); DROP TABLE facts; --",
    '"; drop table facts; --',
    "${x}",
    "%s%s%s%n",
    "\u202e反向",
    "二类",
    "一类",
    "是",
    "否",
    "a;b;;c",
    ";",
    "\n",
    "\\u0000",
    "𠀀𠀁",
)

#: Words of the language, for token substitutions that keep the text close to the grammar.
KEYWORDS: tuple[str, ...] = (
    "policy",
    "status",
    "draft",
    "final",
    "source",
    "date",
    "effective",
    "publication",
    "valid",
    "repeals",
    "precedence",
    "higher",
    "use",
    "fact",
    "money",
    "bool",
    "integer",
    "decimal",
    "percent",
    "duration",
    "enum",
    "set",
    "of",
    "label",
    "definition",
    "means",
    "cite",
    "waive",
    "because",
    "chapter",
    "measure",
    "article",
    "item",
    "benefit",
    "duty",
    "target",
    "kind",
    "when",
    "rate",
    "amount",
    "cap",
    "period",
    "from",
    "to",
    "follows",
    "agencies",
    "agency",
    "alias",
    "and",
    "or",
    "not",
    "in",
    "includes",
    "any",
    "all",
    "between",
    "true",
    "false",
    "<=",
    ">=",
    "<",
    ">",
    "==",
    "!=",
    "{",
    "}",
    "(",
    ")",
    ",",
    ":",
    '"',
    "100%",
    "0%",
    "500万美元",
    "300万元",
    "3年",
    "3个工作日",
    "USD",
    "CNY",
    "EUR",
)


# ---------------------------------------------------------------- small helpers


def pick(rng: random.Random, options: tuple[str, ...] | list[str]) -> str:
    return options[rng.randrange(len(options))]


def nasty_string(rng: random.Random) -> str:
    group = rng.randrange(5)
    if group == 0:
        return pick(rng, NASTY_NUMBERS)
    if group == 1:
        return pick(rng, NASTY_DATES)
    if group == 2:
        return pick(rng, NASTY_UNITS)
    if group == 3:
        return pick(rng, NASTY_TEXTS)
    return "".join(pick(rng, NASTY_CHARS) for _ in range(rng.randint(1, 4)))


def random_unicode(rng: random.Random, size: int) -> str:
    out = []
    for _ in range(size):
        band = rng.randrange(4)
        if band == 0:
            code = rng.randrange(0x20, 0x7F)
        elif band == 1:
            code = rng.randrange(0x4E00, 0x9FFF)
        elif band == 2:
            code = rng.randrange(0, 0x20)
        else:
            code = rng.randrange(0x80, 0x10FFFF)
            if 0xD800 <= code <= 0xDFFF:
                code = 0xFFFD
        out.append(chr(code))
    return "".join(out)


_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{4}年\d{1,2}月\d{1,2}日")
_UNIT = re.compile(
    r"第[0-9一二三四五六七八九十百千零〇]+[条章节]|[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）"
)
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def _span(rng: random.Random, size: int, longest: int = 16) -> tuple[int, int]:
    i = rng.randint(0, size)
    return i, min(size, i + rng.randint(0, longest))


def _line_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    for line in text.splitlines(keepends=True):
        spans.append((start, start + len(line)))
        start += len(line)
    return spans


def _replace_match(rng: random.Random, text: str, pattern: re.Pattern[str], replacement: str) -> str:
    found = list(pattern.finditer(text))
    if not found:
        return text
    match = found[rng.randrange(len(found))]
    return text[: match.start()] + replacement + text[match.end() :]


# ---------------------------------------------------------------- text mutations


def char_insert(rng: random.Random, text: str) -> str:
    """Insert CJK, control or delimiter characters at a random place."""
    i = rng.randint(0, len(text))
    piece = (
        "".join(pick(rng, NASTY_CHARS) for _ in range(rng.randint(1, 3)))
        if rng.random() < 0.7
        else random_unicode(rng, rng.randint(1, 6))
    )
    return text[:i] + piece + text[i:]


def char_delete(rng: random.Random, text: str) -> str:
    i, j = _span(rng, len(text))
    return text[:i] + text[j:]


def char_duplicate(rng: random.Random, text: str) -> str:
    i, j = _span(rng, len(text), 40)
    return text[:j] + text[i:j] + text[j:]


def char_swap(rng: random.Random, text: str) -> str:
    if len(text) < 2:
        return text
    a, b = sorted(rng.sample(range(len(text)), 2))
    return text[:a] + text[b] + text[a + 1 : b] + text[a] + text[b + 1 :]


def token_mutation(rng: random.Random, text: str) -> str:
    """Delete, duplicate, swap or replace a token (a keyword, a nasty literal, another token)."""
    tokens = _TOKEN.findall(text)
    if not tokens:
        return text
    a = rng.randrange(len(tokens))
    op = rng.randrange(5)
    if op == 0:
        del tokens[a]
    elif op == 1:
        tokens.insert(a, tokens[rng.randrange(len(tokens))])
    elif op == 2:
        b = rng.randrange(len(tokens))
        tokens[a], tokens[b] = tokens[b], tokens[a]
    elif op == 3:
        tokens[a] = pick(rng, KEYWORDS)
    else:
        tokens.insert(a, " " + pick(rng, KEYWORDS) + " ")
    return "".join(tokens)


def line_mutation(rng: random.Random, text: str) -> str:
    """Structure: delete, duplicate or move a run of lines (a block, a rule, a citation)."""
    spans = _line_spans(text)
    if not spans:
        return text
    a = rng.randrange(len(spans))
    b = min(len(spans), a + rng.randint(1, 12))
    block = text[spans[a][0] : spans[b - 1][1]]
    rest = text[: spans[a][0]] + text[spans[b - 1][1] :]
    op = rng.randrange(3)
    if op == 0:
        return rest
    if op == 1:
        return text[: spans[b - 1][1]] + block + text[spans[b - 1][1] :]
    where = _line_spans(rest)
    at = where[rng.randrange(len(where))][0] if where else 0
    return rest[:at] + block + rest[at:]


def brace_block_mutation(rng: random.Random, text: str) -> str:
    """Structure: delete or duplicate a whole ``{ … }`` block, or drop one brace."""
    opens = [i for i, ch in enumerate(text) if ch == "{"]
    if not opens:
        return text
    start = opens[rng.randrange(len(opens))]
    depth = 0
    end = None
    for k in range(start, len(text)):
        if text[k] == "{":
            depth += 1
        elif text[k] == "}":
            depth -= 1
            if depth == 0:
                end = k + 1
                break
    if end is None:
        return text
    line_start = text.rfind("\n", 0, start) + 1
    op = rng.randrange(4)
    if op == 0:
        return text[:line_start] + text[end:]
    if op == 1:
        return text[:end] + "\n" + text[line_start:end] + text[end:]
    if op == 2:
        return text[:start] + text[start + 1 :]
    return text[: end - 1] + text[end:]


def truncate(rng: random.Random, text: str) -> str:
    return text[: rng.randint(0, len(text))]


def number_mutation(rng: random.Random, text: str) -> str:
    return _replace_match(rng, text, _NUMBER, pick(rng, NASTY_NUMBERS))


def date_mutation(rng: random.Random, text: str) -> str:
    if _DATE.search(text) and rng.random() < 0.7:
        return _replace_match(rng, text, _DATE, pick(rng, NASTY_DATES))
    return _replace_match(rng, text, _UNIT, pick(rng, NASTY_UNITS))


def string_mutation(rng: random.Random, text: str) -> str:
    """Replace the inside of a string literal: empty, nasty, an escape, unterminated."""
    found = list(_STRING.finditer(text))
    if not found:
        return text
    match = found[rng.randrange(len(found))]
    inner = rng.choice(
        [
            "",
            nasty_string(rng),
            "\\u0000",
            "\\ud800",
            "\\U0010ffff",
            "\\x",
            "\\",
            match.group()[1:-1] * rng.randint(2, 50),
            random_unicode(rng, rng.randint(1, 8)),
        ]
    )
    closing = '"' if rng.random() < 0.9 else ""
    return text[: match.start()] + '"' + inner + closing + text[match.end() :]


def deep_nesting(rng: random.Random, text: str) -> str:
    """Wrap a condition in thousands of parentheses or ``not``s, or chain it with ``and``."""
    found = [m for m in re.finditer(r"(when|means) ([^\n]+)", text)]
    depth = rng.choice([50, 500, 1000, 3000, 10000, 30000])
    if not found:
        i = rng.randint(0, len(text))
        return text[:i] + "(" * depth + text[i:]
    match = found[rng.randrange(len(found))]
    condition = match.group(2)
    style = rng.randrange(4)
    if style == 0:
        new = "(" * depth + condition + ")" * depth
    elif style == 1:
        new = "not " * min(depth, 5000) + "(" + condition + ")"
    elif style == 2:
        new = " and ".join(["(" + condition + ")"] * min(depth, 3000))
    else:
        new = "(" * depth + condition  # unbalanced
    return text[: match.start(2)] + new + text[match.end(2) :]


def huge_repeat(rng: random.Random, text: str) -> str:
    """A line repeated thousands of times (a fact declared 5,000 times, a citation list…)."""
    spans = _line_spans(text)
    if not spans:
        return text
    a, b = spans[rng.randrange(len(spans))]
    return text[:b] + text[a:b] * rng.choice([100, 1000, 5000]) + text[b:]


TEXT_MUTATORS: tuple[Callable[[random.Random, str], str], ...] = (
    char_insert,
    char_delete,
    char_duplicate,
    char_swap,
    token_mutation,
    token_mutation,
    line_mutation,
    brace_block_mutation,
    truncate,
    number_mutation,
    number_mutation,
    date_mutation,
    date_mutation,
    string_mutation,
    deep_nesting,
    huge_repeat,
)

#: Edits that keep a valid file valid more often: for policy-diff pairs, which need two that load.
MILD_MUTATORS: tuple[Callable[[random.Random, str], str], ...] = (
    number_mutation,
    token_mutation,
    line_mutation,
    date_mutation,
)


def mutate_text(rng: random.Random, text: str, mild: bool = False) -> str:
    mutators = MILD_MUTATORS if mild else TEXT_MUTATORS
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4])):
        text = mutators[rng.randrange(len(mutators))](rng, text)
    return text


# ---------------------------------------------------------------- byte mutations


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    """Flip, insert, delete bytes; a BOM, invalid UTF-8, a GB18030 re-encoding, a UTF-16 one."""
    buf = bytearray(data)
    op = rng.randrange(8)
    if op == 0 and buf:
        i = rng.randrange(len(buf))
        buf[i] ^= 1 << rng.randrange(8)
    elif op == 1:
        i = rng.randint(0, len(buf))
        buf[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
    elif op == 2 and buf:
        i = rng.randrange(len(buf))
        del buf[i : i + rng.randint(1, 4)]
    elif op == 3:
        buf[0:0] = rng.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf\xef\xbb\xbf"])
    elif op == 4:
        i = rng.randint(0, len(buf))
        buf[i:i] = rng.choice([b"\xc3", b"\xe4\xb8", b"\xf0\x9f", b"\xed\xa0\x80", b"\x80", b"\xff", b"\x00"])
    elif op == 5:
        try:
            return data.decode("utf-8").encode("gb18030")
        except (UnicodeDecodeError, UnicodeEncodeError):
            return bytes(buf)
    elif op == 6:
        try:
            return data.decode("utf-8").encode(rng.choice(["utf-16", "utf-16-le", "utf-32"]))
        except (UnicodeDecodeError, UnicodeEncodeError):
            return bytes(buf)
    else:
        cut = rng.randint(0, len(buf))
        return bytes(buf[:cut])  # truncated, maybe inside a multi-byte character
    return bytes(buf)


def mutate_file(rng: random.Random, data: bytes, mild: bool = False) -> bytes:
    """A text file after text mutations (mostly) or byte mutations."""
    if not mild and rng.random() < 0.2:
        return mutate_bytes(rng, data)
    text = data.decode("utf-8")
    text = mutate_text(rng, text, mild)
    return text.encode("utf-8", "surrogatepass")


# ---------------------------------------------------------------- values (facts, cells)

_DEEP_SHAPES = ("list", "dict")
DEEP_MARK = "@@deep:"
_DEEP = re.compile(r'"@@deep:(list|dict):(\d+)@@"')


def deep_json(text: str) -> str:
    """Replace each deep-value mark in JSON text by that many nested arrays or objects."""

    def nested(match: re.Match[str]) -> str:
        depth = int(match.group(2))
        if match.group(1) == "list":
            return "[" * depth + "1" + "]" * depth
        return '{"value": ' * depth + "1" + "}" * depth

    return _DEEP.sub(nested, text)


def undeep(value: Any) -> Any:
    """A deep-value mark as a Python value (at most 200 levels, so a reproducer can hold it)."""
    if isinstance(value, str) and value.startswith(DEEP_MARK):
        shape, depth = value[len(DEEP_MARK) : -2].split(":")
        nested: Any = 1
        for _ in range(min(int(depth), 200)):
            nested = [nested] if shape == "list" else {"value": nested}
        return nested
    return value


def nasty_value(rng: random.Random) -> Any:
    """A JSON value that no fact type should accept quietly, or that sits at a type's edge."""
    kind = rng.randrange(12)
    if kind == 0:
        return nasty_string(rng)
    if kind == 1:
        return rng.choice([0, -1, 1, 2**31, 2**63, -(2**63), 10**30, 10**300, -(10**300)])
    if kind == 2:
        return Decimal(rng.choice(["0.1", "1E+400", "-1E-400", "1.0000000000000000000001", "1e3", "-0.0"]))
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return rng.choice([[], [None], ["二类"], ["二类", "二类"], [1, 2], [[["x"]]], ["a", "b", "c"] * 100])
    if kind == 5:
        return rng.choice(
            [
                {},
                {"amount": "1", "currency": "USD"},
                {"amount": "1"},
                {"amount": 1e300, "currency": "CNY"},
                {"amount": "NaN", "currency": "USD"},
                {"amount": "Infinity", "currency": "CNY"},
                {"amount": None, "currency": None},
                {"value": 3, "unit": "working_days"},
                {"value": "3", "unit": "years"},
                {"value": 10**30, "unit": "days"},
                {"value": "NaN", "unit": "days"},
                {"value": None, "unit": None},
                {"value": [], "unit": {}},
            ]
        )
    if kind == 6:  # JSON text nested this deep (see ``deep_json``): json.dumps would recurse
        return f"{DEEP_MARK}{pick(rng, _DEEP_SHAPES)}:{rng.choice([10, 100, 1000, 5000, 50000])}@@"
    if kind == 7:
        return pick(rng, NASTY_DATES)
    if kind == 8:
        return pick(rng, NASTY_NUMBERS) + pick(
            rng, ("", "元", "美元", "万元", "万美元", "%", "％", "年", "个工作日")
        )
    if kind == 9:
        return random_unicode(rng, rng.randint(0, 12))
    if kind == 10:
        return "-" + rng.choice(["1", "1美元", "300万元", "5%", "3年"])
    return rng.choice(["１２３万美元", "500万美元", "20000元", "50%", "３年", "2022年6月20日", "二类"])


def python_nasty_value(rng: random.Random) -> Any:
    """A value only the Python API can pass: floats, NaN and infinite Decimals, dates, sets, bytes."""
    return rng.choice(
        [
            1.5,
            float("nan"),
            float("inf"),
            -0.0,
            Decimal("NaN"),
            Decimal("sNaN"),
            Decimal("Infinity"),
            Decimal("-Infinity"),
            Decimal("1E+999999"),
            Decimal("-1E-999999"),
            10**5000,
            dt.date(1, 1, 1),
            dt.date(9999, 12, 31),
            dt.datetime(2022, 7, 1, 12, 0),
            frozenset({"二类"}),
            {"二类", "一类"},
            ("二类",),
            b"bytes",
            bytearray(b"x"),
            object,
            range(3),
            1 + 2j,
        ]
    )


def mutate_json_text(rng: random.Random, text: str) -> str:
    """JSON text edits json.dumps cannot make: duplicate keys, bare NaN, huge literals, deep nesting."""
    op = rng.randrange(8)
    if op == 0:
        match = list(re.finditer(r'\n(\s*"[^"\n]*": [^\n]*?),?\n', text))
        if match:
            line = match[rng.randrange(len(match))].group(1).rstrip(",")
            return text.replace("{", "{\n" + line + ",", 1)  # the same key twice
        return text
    if op == 1:
        return _replace_match(
            rng,
            text,
            re.compile(r"\btrue\b|\bfalse\b|\d+|\"[^\"]*\""),
            rng.choice(["NaN", "Infinity", "-Infinity"]),
        )
    if op == 2:
        return _replace_match(
            rng,
            text,
            re.compile(r"\btrue\b|\bfalse\b|\"[^\"]*\"(?!:)"),
            rng.choice(
                ["1e999999999", "-1e-999999999", "9" * rng.choice([100, 4300, 4301, 100000]), "1.5e308"]
            ),
        )
    if op == 3:
        depth = rng.choice([100, 1000, 10000, 100000])
        return _replace_match(rng, text, re.compile(r"\btrue\b|\bfalse\b"), "[" * depth + "1" + "]" * depth)
    if op == 4:
        return "[" * rng.choice([10, 10000, 200000])
    if op == 5:
        return _replace_match(rng, text, re.compile(r"\"[^\"]*\"(?!:)"), '"\\ud800"')
    if op == 6:
        return rng.choice(["", "null", "[]", '"facts"', "1", "{}", "[{}]", "{" * 3])
    return mutate_text(rng, text)
