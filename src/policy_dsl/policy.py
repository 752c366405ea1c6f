"""The library's front door: :func:`load` a policy file and :meth:`Policy.evaluate` it.

>>> import datetime, policy_dsl
>>> policy = policy_dsl.load("policies/cq-foreign-trade-2022/draft.policy")
>>> outcome = policy.evaluate({"出口额": "300万美元"}, as_of=datetime.date(2022, 7, 1))
>>> outcome.benefit("差异化降低投保费率").status
'eligible'
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from policy_dsl.check import CheckedPolicy, check
from policy_dsl.compile import CompiledPolicy, compile_policy, module_source
from policy_dsl.errors import Diagnostic, PolicyLoadError
from policy_dsl.evaluate import Outcome, evaluate
from policy_dsl.format import fmt
from policy_dsl.model import PolicyFile
from policy_dsl.parse import parse
from policy_dsl.registry import load_registries
from policy_dsl.source import (
    MAX_POLICY_BYTES,
    SourceFile,
    SourcePosition,
    UnreadableText,
    decode_text,
    read_limited,
)


class Policy:
    """A checked, compiled policy, ready to evaluate."""

    def __init__(self, policy_file: PolicyFile, checked: CheckedPolicy, compiled: CompiledPolicy) -> None:
        self.file = policy_file
        self.checked = checked
        self.compiled = compiled

    @property
    def title(self) -> str:
        return self.checked.title

    @property
    def path(self) -> str:
        return self.checked.path

    def evaluate(
        self,
        facts: Mapping[str, Any],
        as_of: dt.date | None = None,
        source: SourceFile | None = None,
        adopted: bool = False,
    ) -> Outcome:
        """The outcome for an enterprise described by ``facts`` on ``as_of`` (default: today).

        A rule outside its period (by default the document's validity) is ``not_in_force``, and so
        is every rule of a draft unless ``adopted`` asks for the draft as if adopted as written.

        Facts may be given in the document's notation ("5000万美元", "2022年6月20日") or as exact
        Python values (Decimal, date…). Raises :class:`~policy_dsl.errors.FactsError` naming every
        unknown fact, wrong type, unit, currency or enum value at once.
        """
        return evaluate(self.compiled, facts, as_of, source, adopted)

    def evaluate_table(
        self,
        table: Any,
        as_of: dt.date | None = None,
        adopted: bool = False,
        benefits: Sequence[str] = (),
        measures: Sequence[str] = (),
    ) -> Any:
        """Every benefit's status and amount for each row of an Arrow table or pandas DataFrame.

        Runs the policy compiled to SQL in DuckDB, reading the table in place; returns an Arrow
        table with the input's non-fact columns (an ``id``, say), then per benefit a status column
        named by the benefit's id (BOOLEAN, NULL = unknown) and, for a benefit with an amount, an
        ``<id>:amount`` column. Money is exact as Arrow decimals or ``Decimal`` objects; a float
        column is only as exact as its floats. With ``benefits`` (ids) or ``measures`` (labels or
        numbers, see :mod:`policy_dsl.selection`), only those rules are computed, and only the
        columns they read are read.
        """
        from policy_dsl.selection import select_rules
        from policy_dsl.table import evaluate_table

        only = select_rules([self.checked], benefits, measures)
        return evaluate_table(self.checked, table, as_of, adopted=adopted, only=only)

    def sql(
        self,
        dialect: str = "duckdb",
        as_of: dt.date | None = None,
        adopted: bool = False,
        benefits: Sequence[str] = (),
        measures: Sequence[str] = (),
    ) -> str:
        """The policy as one SQL query over a relation ``facts`` (a column per fact, plus ``id``);
        with ``benefits`` or ``measures``, only those rules' columns."""
        from policy_dsl.selection import select_rules
        from policy_dsl.sql import compile_sql

        only = select_rules([self.checked], benefits, measures)
        return compile_sql(self.checked, dialect, as_of=as_of, adopted=adopted, only=only)

    def module_source(self) -> str:
        """A standalone Python module giving the same outcomes, with no import of policy_dsl."""
        return module_source(self.checked)

    def formatted(self) -> str:
        """The policy file in canonical form."""
        return fmt(self.file)


def read_bytes(path: str | Path, what: str = "a policy file", limit: int = MAX_POLICY_BYTES) -> bytes:
    """The bytes of a file a user named; a missing, unreadable, directory or too large path (over
    ``limit`` bytes) is a PolicyLoadError."""
    shown = str(path)
    try:
        return read_limited(path, limit)
    except UnreadableText as exc:
        raise PolicyLoadError([Diagnostic(f"{shown}: {exc}")]) from None
    except FileNotFoundError:
        raise PolicyLoadError([Diagnostic(f"{shown}: no such file")]) from None
    except IsADirectoryError:
        raise PolicyLoadError([Diagnostic(f"{shown}: is a directory, not {what}")]) from None
    except OSError as exc:
        raise PolicyLoadError([Diagnostic(f"{shown}: cannot be read ({exc.strerror})")]) from None


def read_source(path: str | Path) -> SourceFile:
    """Read a text file for the parser, turning I/O and encoding problems into a PolicyLoadError."""
    shown = str(path)
    try:
        text, encoding = decode_text(read_bytes(path))
    except UnreadableText as exc:
        raise PolicyLoadError([Diagnostic(f"{shown}: {exc}", hint="save it as UTF-8")]) from None
    return SourceFile(shown, text, encoding)


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's pairs as a dict; a key given twice is an error (JSON would keep the last)."""
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey
    return result


def _no_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not a JSON number", name, 0)


def read_json(source: SourceFile, what: str) -> Any:
    """The JSON in ``source``, numbers as exact Decimals; a syntax error points at its line and column,
    and so does a key given twice in one object (JSON parsers keep the last and lose the first)."""
    try:
        return json.loads(
            source.text,
            parse_float=Decimal,
            parse_int=_integer,
            object_pairs_hook=_unique_keys,
            parse_constant=_no_constant,
        )
    except json.JSONDecodeError as exc:
        if exc.doc != source.text:  # NaN, Infinity: found by the scanner, at its own position
            exc = json.JSONDecodeError(exc.msg, source.text, _constant_index(source.text))
        pos = SourcePosition(source, exc.lineno, exc.colno, exc.lineno, exc.colno + 1)
        raise PolicyLoadError([Diagnostic(f"{what} are not valid JSON: {exc.msg}", pos)]) from None
    except _DuplicateKey:
        raise PolicyLoadError(_duplicate_keys(source, what)) from None
    except RecursionError:
        raise PolicyLoadError([Diagnostic(f"{what} are nested too deeply to read", _start(source))]) from None
    except ArithmeticError:  # decimal.InvalidOperation / Overflow: an exponent no Decimal holds
        problem = Diagnostic(f"{what} hold a number too large to read exactly", _start(source))
        raise PolicyLoadError([problem]) from None


def _start(source: SourceFile) -> SourcePosition:
    return SourcePosition(source, 1, 1, 1, 2)


def _integer(text: str) -> int | Decimal:
    """A JSON integer; one too long for Python's int (over 4300 digits) stays an exact Decimal."""
    return int(text) if len(text) <= 4000 else Decimal(text)


def _constant_index(text: str) -> int:
    found = re.search(r"-?\b(?:NaN|Infinity)\b", text)
    return found.start() if found else 0


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]')


def _duplicate_keys(source: SourceFile, what: str) -> list[Diagnostic]:
    """Every key given twice in one object, where it is given again. The text may be valid JSON only
    up to the object the reader stopped in (the rest is never trusted: a closing bracket with
    nothing open is passed over)."""
    text = source.text
    stack: list[dict[str, int] | None] = []  # per open object its keys (and where); None for an array
    found: list[Diagnostic] = []
    tokens = list(_JSON_TOKEN.finditer(text))
    for index, token in enumerate(tokens):
        lexeme = token.group()
        if lexeme in ("{", "["):
            stack.append({} if lexeme == "{" else None)
        elif lexeme in ("}", "]"):
            if stack:
                stack.pop()
        elif lexeme.startswith('"') and stack and stack[-1] is not None:
            following = tokens[index + 1].group() if index + 1 < len(tokens) else ""
            if following != ":":
                continue  # a value, not a key
            key = json.loads(lexeme)
            line = text.count("\n", 0, token.start()) + 1
            column = token.start() - (text.rfind("\n", 0, token.start()) + 1) + 1
            keys = stack[-1]
            if key in keys:
                pos = SourcePosition(source, line, column, line, column + len(lexeme))
                found.append(
                    Diagnostic(
                        f"{what}: the key `{key}` is given twice in one object (first on line {keys[key]})",
                        pos,
                        hint="give each key once: JSON readers keep only the last",
                    )
                )
            else:
                keys[key] = line
    if not found:  # the reader saw a key twice that this scan could not place
        found.append(Diagnostic(f"{what}: a key is given twice in one object", _start(source)))
    return found


def loads(text: str, path: str = "<string>") -> Policy:
    """Parse, check and compile policy ``text``; ``path`` locates its source text and registries."""
    source = SourceFile(path, text)
    policy_file = parse(text, path, source=source)
    checked = check(policy_file, path, load_registries(policy_file, path))
    return Policy(policy_file, checked, compile_policy(checked))


def load(path: str | Path) -> Policy:
    """Load, check and compile the policy file at ``path``."""
    source = read_source(path)
    policy_file = parse(source.text, source.path, source=source)
    checked = check(policy_file, source.path, load_registries(policy_file, source.path))
    return Policy(policy_file, checked, compile_policy(checked))
