"""Stage 1: text → :class:`~policy_dsl.model.PolicyFile`. Entry point: :func:`parse`.

One LALR parser is built from ``grammar/policy.lark`` (package data) and cached. The grammar
shapes what each rule sees; :class:`_ToModel` maps each alias to one model class. The methods run as
the parser reduces (Lark's ``transformer=`` option: no tree is built, and the parser's loop is not
recursive, so deeply nested conditions parse), each handed the span of all the tokens its rule
matched (``keep_all_tokens``: a block starts at its keyword, a condition at its parenthesis). Only
Lark's public API is used. Syntax errors become :class:`~policy_dsl.errors.PolicySyntaxError` with
friendly messages.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from policy_dsl import model as m
from policy_dsl.errors import Diagnostic, PolicySyntaxError, did_you_mean
from policy_dsl.source import SourceFile, SourcePosition
from policy_dsl.values import (
    CURRENCY_WORDS,
    DURATION_UNITS,
    Money,
    ValueSyntaxError,
    is_chinese_notation,
    parse_date,
    parse_duration,
    parse_money,
    parse_number,
    parse_percent,
)

KEYWORDS = [
    "policy",
    "issuer",
    "jurisdiction",
    "version",
    "status",
    "date",
    "implements",
    "source",
    "use",
    "agency",
    "aliases",
    "note",
    "enum",
    "open",
    "fact",
    "label",
    "description",
    "implies",
    "bool",
    "integer",
    "decimal",
    "money",
    "percent",
    "duration",
    "set",
    "of",
    "chapter",
    "article",
    "measure",
    "item",
    "effective",
    "publication",
    "valid",
    "until",
    "repeals",
    "precedence",
    "library",
    "areas",
    "same",
    "follows",
    "waive",
    "because",
    "agencies",
    "cite",
    "period",
    "to",
    "definition",
    "means",
    "benefit",
    "kind",
    "commits",
    "when",
    "amount",
    "per",
    "rate",
    "cap",
    "tiers",
    "marginal",
    "by",
    "from",
    "above",
    "below",
    "once",
    "recurring",
    "duty",
    "level",
    "target",
    "goal",
    "exclusive",
    "benefits",
    "keep",
    "obligation",
    "sanction",
    "items",
    "for",
    "each",
    "total",
    "min",
    "stages",
    "stage",
    "or",
    "and",
    "not",
    "in",
    "includes",
    "any",
    "all",
    "between",
    "within",
    "year",
    "true",
    "false",
    "draft",
    "final",
]

#: Words that can never be names, so that every file means one thing and formats back the same.
RESERVED = frozenset(KEYWORDS)

_local = threading.local()  # ``builder``: the _ToModel of the parse running on this thread
_STRING_DECODER = json.JSONDecoder(strict=False)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _collect_comment(token: Token) -> None:
    builder: _ToModel | None = getattr(_local, "builder", None)
    if builder is not None:
        builder.comments.append(token)


def _private(path: Path, directory: bool) -> bool:
    """Whether only this user can change ``path``: not a symbolic link, owned by this user, not
    writable by group or others (and a directory, or a regular file, as asked)."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    kind = stat.S_ISDIR(info.st_mode) if directory else stat.S_ISREG(info.st_mode)
    return kind and info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _guarded(parent: Path) -> bool:
    """Whether others cannot swap the cache directory for their own: its parent is writable by no
    one else, or is sticky (like /tmp: only the owner of an entry may rename or remove it)."""
    try:
        info = os.stat(parent)
    except OSError:
        return False
    return not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) or bool(info.st_mode & stat.S_ISVTX)


def _cache_path() -> str | bool:
    """Where Lark keeps the built parser between processes: the user's own cache directory.

    Building the LALR tables takes ~0.5 s, loading them ~10 ms. Lark's cache file is a pickle, and
    loading a pickle can run code, so the cache is used only where no one else can have written it:
    the directory and the file must be this user's own, not symbolic links, and writable by no one
    else (on systems without user ids, never). Otherwise the parser is built, not cached.
    ``POLICY_DSL_NO_CACHE=1`` turns caching off.
    """
    if os.environ.get("POLICY_DSL_NO_CACHE") or not hasattr(os, "getuid"):
        return False
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "policy_dsl"
    try:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return False
    if not _private(base, directory=True) or not os.access(base, os.W_OK) or not _guarded(base.parent):
        return False
    # the grammar's own hash in the name: two installed versions of policy_dsl (a worktree, a
    # venv of an older release) keep a cache each instead of rebuilding each other's
    from importlib.resources import files

    import lark

    grammar = files("policy_dsl").joinpath("grammar/policy.lark").read_bytes()
    digest = hashlib.sha256(grammar).hexdigest()[:12]
    path = base / f"policy-grammar-{digest}-lark-{lark.__version__}.cache"
    if os.path.lexists(path) and not _private(path, directory=False):
        return False
    return str(path)


def _open_grammar(cache: bool) -> Lark:
    """The grammar as an LALR parser building Lark trees that keep every token, keywords included.

    The model is built as the parser reduces, by :class:`_Reducer` (Lark's ``transformer=``): no
    tree is built and walked again. Spans are computed from the tokens rather than by Lark's
    ``propagate_positions``, which more than doubled the time of a parse (26 of 45 ms on the draft,
    tree path); ``keep_all_tokens`` lets a block's span start at its keyword (``benefit``) and a
    condition's at its opening parenthesis, as ``propagate_positions`` would."""
    path = _cache_path() if cache else False
    built = Lark.open_from_package(
        "policy_dsl",
        "grammar/policy.lark",
        parser="lalr",
        keep_all_tokens=True,
        maybe_placeholders=False,
        transformer=_Reducer(),
        lexer_callbacks={"COMMENT": _collect_comment},
        cache=path,
    )
    if isinstance(path, str):
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)  # Lark wrote it with the umask's mode: keep it the user's alone
    return built


def build_parser(cache: bool = True) -> Lark:
    """Build the LALR parser; with ``cache`` it may be loaded from the user's cache instead (a
    loaded parser has no ``grammar`` attribute: tools that read the grammar build it uncached).

    It builds Lark trees; :func:`parse` turns them into model nodes."""
    return _open_grammar(cache)


@functools.cache
def parser() -> Lark:
    """The one LALR parser, built on first use (or loaded from the user's cache)."""
    return build_parser()


def parse(text: str, path: str = "<string>", source: SourceFile | None = None) -> m.PolicyFile:
    """Parse policy ``text``; ``path`` names it in error messages.

    Raises :class:`PolicySyntaxError` listing every problem found.
    """
    file = source if source is not None else SourceFile(path, text)
    builder = _ToModel(file)
    outer = getattr(_local, "builder", None)
    _local.builder = builder
    try:
        items: Any = parser().parse(text)  # what `_ToModel.start` returned
    except UnexpectedInput as exc:
        raise PolicySyntaxError([_syntax_diagnostic(exc, file)]) from None
    finally:
        _local.builder = outer
    if builder.diagnostics:
        raise PolicySyntaxError(builder.diagnostics)
    return m.PolicyFile(
        items=tuple(items),
        comments=tuple(m.Comment(t.value, pos=_token_pos(file, t)) for t in builder.comments),
        pos=SourcePosition(file, 1, 1, 1, 1),
    )


# ---------------------------------------------------------------- positions

#: Where a rule's text lies: (line, column, end_line, end_column), as Lark's ``Meta`` would say.
_Span = tuple[int, int, int, int]


def _token_pos(file: SourceFile, token: Token) -> SourcePosition:
    return SourcePosition(
        file,
        token.line or 0,
        token.column or 0,
        token.end_line or token.line or 0,
        token.end_column or token.column or 0,
    )


def _rule_span(children: list[Any], spans: dict[int, _Span | None]) -> _Span | None:
    """The span of a rule's matched symbols, computed as Lark's ``PropagatePositions`` does.

    ``children`` are all the symbols the rule matched, keywords included (so a ``benefit`` block
    starts at ``benefit``); ``spans`` holds, by ``id``, the span of every value built from a tree
    node. A node a ``?rule`` passed up unchanged has there the span of that rule's text (Lark's
    "container"), so ``(a or b) and c`` starts at the ``(``. ``None``: nothing with a position.
    """
    child: Any  # a Token or a value built from a subtree
    for child in children:
        if isinstance(child, Token):
            line, column = child.line, child.column
            break
        start = spans.get(id(child))
        if start is not None:
            line, column = start[0], start[1]
            break
    else:
        return None
    for child in reversed(children):
        # Lark types a token's line and column as optional: a lexed token has them all.
        if isinstance(child, Token):
            return line, column, child.end_line, child.end_column  # type: ignore[return-value]
        end = spans.get(id(child))
        if end is not None:
            return line, column, end[2], end[3]  # type: ignore[return-value]
    return None  # pragma: no cover - the loop above found a child with a position


def _named_terminals() -> frozenset[str]:
    """The terminals the grammar names (NAME, MONEY, UNIT_NO…): the tokens a rule's method sees.
    Keywords and punctuation, written as strings in the rules, are anonymous: kept in the tree only
    for positions (``keep_all_tokens``), then dropped, as Lark itself would drop them."""
    from importlib.resources import files

    grammar = files("policy_dsl").joinpath("grammar/policy.lark").read_text(encoding="utf-8")
    return frozenset(re.findall(r"^([A-Z][A-Z0-9_]*)(?:\.\d+)?\s*:", grammar, flags=re.MULTILINE))


_NAMED_TERMINALS = _named_terminals()
#: Rules written with ``!``, whose every token is part of their value.
_KEEP_ALL_TOKENS = frozenset({"unit_kind"})


class _Inlined:
    """What a ``_rule`` (and ``x*``) reduces to: its children, which the rule holding it splices in
    (Lark's own child filter expands a ``_rule`` by its ``children``)."""

    __slots__ = ("children",)

    def __init__(self, children: list[Any]) -> None:
        self.children = children


class _Reducer(Transformer[Token, Any]):
    """The parser's inline transformer: each reduced rule, with all its tokens, to the
    :class:`_ToModel` method of its rule or alias and the span of those tokens; a ``?rule`` kept only
    by its keywords (``"(" condition ")"``) passes its one value up with the span of its text. The
    model is built for the parse running on this thread (``_local.builder``)."""

    def __default__(self, data: str, children: list[Any], meta: Any) -> Any:
        if data.startswith("_"):
            return _Inlined(children)
        builder: _ToModel = _local.builder
        span = _rule_span(children, builder.spans)
        if data not in _KEEP_ALL_TOKENS:
            children = [c for c in children if not isinstance(c, Token) or c.type in _NAMED_TERMINALS]
        method = getattr(builder, data, None)
        if method is not None:
            value = method(span, children)
        elif len(children) == 1:
            value = children[0]
            if isinstance(value, Token):
                return value  # a token keeps its own position
        else:
            raise TypeError(f"_ToModel has no method for the grammar rule `{data}`")
        builder.spans[id(value)] = span
        return value


class _AmountRange:
    """``amount 10万元 to 100万元`` or ``amount >= 10万元``, before the benefit takes it apart."""

    __slots__ = ("floor", "high", "low")

    def __init__(self, low: m.Literal, high: m.Literal | None, floor: bool) -> None:
        self.low, self.high, self.floor = low, high, floor


class _Field:
    """A ``key value`` line inside a block, before the block assembles its node."""

    __slots__ = ("key", "pos", "value")

    def __init__(self, key: str, value: Any, pos: SourcePosition) -> None:
        self.key = key
        self.value = value
        self.pos = pos


_BLOCK_FIELDS: dict[str, tuple[str, ...]] = {
    "header": (
        "issuer",
        "jurisdiction",
        "version",
        "status",
        "date",
        "implements",
        "source",
        "effective",
        "valid",
        "until",
        "precedence",
        "level",
        "keep",
    ),
    "benefit": (
        "kind",
        "commits",
        "follows",
        "when",
        "amount",
        "per",
        "rate",
        "tiers",
        "cap",
        "cap_total",
        "minimum",
        "each",
        "frequency",
        "period",
        "agencies",
    ),
    "duty": ("follows", "when", "period", "agencies"),
    "target": ("period", "agencies"),
    "definition": ("means",),
    "exclusive": ("members", "keep"),
    "staged": ("members",),
    "unit": ("agencies",),
    "fact": ("label", "description"),
}


class _ToModel:
    """Maps each rule or alias of the grammar to a model node; every method takes (span, children).

    One per parse: it holds the file, the problems found and the comments seen so far.
    """

    def __init__(self, file: SourceFile) -> None:
        self.file = file
        self.diagnostics: list[Diagnostic] = []
        self.comments: list[Token] = []
        self.spans: dict[int, _Span | None] = {}  # see _rule_span

    # helpers
    def _pos(self, span: _Span | None) -> SourcePosition:
        if span is None:
            return SourcePosition(self.file, 0, 0, 0, 0)
        return SourcePosition(self.file, *span)

    def _tpos(self, token: Token) -> SourcePosition:
        return _token_pos(self.file, token)

    def _name(self, token: Token) -> m.Name:
        return m.Name(self._ident(token), pos=self._tpos(token))

    def _ident(self, token: Token) -> str:
        """A name as written; a reserved keyword used as a name is reported."""
        text = str(token)
        if text in RESERVED:
            self.diagnostics.append(
                Diagnostic(
                    f"`{text}` is a keyword of the language and cannot be used as a name",
                    pos=self._tpos(token),
                    hint="choose another name (Chinese names are welcome)",
                )
            )
        return text

    def _fields(self, block: str, parts: list[Any]) -> dict[str, Any]:
        """Gather single-valued fields, reporting a field given twice."""
        allowed = _BLOCK_FIELDS[block]
        found: dict[str, Any] = {}
        first: dict[str, SourcePosition] = {}
        for part in parts:
            key = part.key if isinstance(part, _Field) else None
            if isinstance(part, m.Period):
                key = "period"
            if key is None or key not in allowed:
                continue
            value = part.value if isinstance(part, _Field) else part
            if key in found:
                where = first[key]
                self.diagnostics.append(
                    Diagnostic(
                        f"`{key}` is given twice in this {block}",
                        pos=part.pos,
                        hint=f"the first `{key}` is at line {where.line}; keep one",
                    )
                )
                continue
            found[key] = value
            first[key] = part.pos
        return found

    # terminals wrapped in rules
    def start(self, span: _Span | None, items: list[Any]) -> list[Any]:
        return items

    def string(self, span: _Span | None, children: list[Token]) -> m.Text:
        token = children[0]
        try:
            value = _STRING_DECODER.decode(str(token))
        except ValueError:
            value = str(token)[1:-1]
            self.diagnostics.append(Diagnostic("malformed escape in string", pos=self._tpos(token)))
        if _SURROGATE.search(value):
            self.diagnostics.append(
                Diagnostic(
                    "a string may not contain a lone surrogate escape such as \\ud800",
                    pos=self._tpos(token),
                    hint="write the character itself, or a valid pair of \\u escapes",
                )
            )
            value = "".join(ch if not 0xD800 <= ord(ch) <= 0xDFFF else "\ufffd" for ch in value)
        return m.Text(value, pos=self._tpos(token))

    def _literal(self, token: Token, convert: Callable[[str], Any]) -> m.Literal:
        text = str(token)
        try:
            value = convert(text)
        except ValueSyntaxError as exc:
            self.diagnostics.append(Diagnostic(str(exc), pos=self._tpos(token)))
            value = 0
        code = isinstance(value, Money) and bool(re.search(r"[A-Z]{3}", text))
        return m.Literal(value, chinese=is_chinese_notation(text), code=code, pos=self._tpos(token))

    def money(self, span: _Span | None, children: list[Token]) -> m.Literal:
        return self._literal(children[0], parse_money)

    def percent(self, span: _Span | None, children: list[Token]) -> m.Literal:
        return self._literal(children[0], parse_percent)

    def duration(self, span: _Span | None, children: list[Token]) -> m.Literal:
        return self._literal(children[0], parse_duration)

    def number(self, span: _Span | None, children: list[Token]) -> m.Literal:
        return self._literal(children[0], parse_number)

    def date(self, span: _Span | None, children: list[Token]) -> m.Literal:
        return self._literal(children[0], parse_date)

    def literal(self, span: _Span | None, children: list[m.Literal]) -> m.Literal:
        return children[0]

    def bool_literal(self, span: _Span | None, children: list[Token]) -> m.Literal:
        return m.Literal(str(children[0]) == "true", pos=self._tpos(children[0]))

    bool_value = bool_literal

    # header
    def policy_header(self, span: _Span | None, children: list[Any]) -> m.PolicyHeader:
        title, *parts = children
        fields = self._fields("header", parts)
        repeals = tuple(t for p in parts if isinstance(p, _Field) and p.key == "repeals" for t in p.value)
        citations = tuple(p for p in parts if isinstance(p, m.Citation))
        return m.PolicyHeader(
            title=title, **fields, repeals=repeals, citations=citations, pos=self._pos(span)
        )

    def repeals(self, span: _Span | None, children: list[m.Text]) -> _Field:
        return _Field("repeals", tuple(children), self._pos(span))

    def valid(self, span: _Span | None, children: list[Token]) -> _Field:
        return _Field("valid", self._literal(children[0], parse_duration), self._pos(span))

    def _header_field(key: str) -> Callable[..., _Field]:  # type: ignore[misc]
        def build(self: _ToModel, span: _Span | None, children: list[Any]) -> _Field:
            value = children[0]
            if isinstance(value, Token):
                value = m.Name(str(value), pos=self._tpos(value))
            return _Field(key, value, self._pos(span))

        return build

    issuer = _header_field("issuer")
    jurisdiction = _header_field("jurisdiction")
    version = _header_field("version")
    status = _header_field("status")
    header_date = _header_field("date")
    implements = _header_field("implements")
    source = _header_field("source")
    effective = _header_field("effective")
    until = _header_field("until")
    precedence = _header_field("precedence")
    header_level = _header_field("level")
    keep_across = _header_field("keep")
    follows = _header_field("follows")
    label = _header_field("label")
    description = _header_field("description")
    kind = _header_field("kind")
    commits = _header_field("commits")
    amount = _header_field("amount")
    per = _header_field("per")
    frequency = _header_field("frequency")
    means = _header_field("means")
    when = _header_field("when")

    def use_registry(self, span: _Span | None, children: list[m.Text]) -> m.UseRegistry:
        return m.UseRegistry(children[0], pos=self._pos(span))

    # a library's index
    def library(self, span: _Span | None, children: list[Any]) -> m.Library:
        title, *parts = children

        def each(key: str) -> tuple[Any, ...]:
            return tuple(p.value for p in parts if isinstance(p, _Field) and p.key == key)

        return m.Library(
            title,
            uses=each("use"),
            areas=each("areas"),
            policies=each("policy"),
            same=each("same"),
            notes=each("note"),
            pos=self._pos(span),
        )

    def library_use(self, span: _Span | None, children: list[m.Text]) -> _Field:
        return _Field("use", children[0], self._pos(span))

    def areas(self, span: _Span | None, children: list[Any]) -> _Field:
        fact, *areas = children
        return _Field("areas", m.Areas(self._name(fact), tuple(areas), pos=self._pos(span)), self._pos(span))

    def area(self, span: _Span | None, children: list[Any]) -> m.Area:
        name, *inside = children
        return m.Area(self._ident(name), tuple(inside), pos=self._pos(span))

    def library_policy(self, span: _Span | None, children: list[m.Text]) -> _Field:
        path, *replaces = children
        return _Field("policy", m.LibraryPolicy(path, tuple(replaces), pos=self._pos(span)), self._pos(span))

    def same(self, span: _Span | None, children: list[Any]) -> _Field:
        name, label, members = self._head(children)
        same = m.Same(name, label, tuple(members), pos=self._pos(span))
        return _Field("same", same, self._pos(span))

    def same_member(self, span: _Span | None, children: list[Any]) -> m.SameMember:
        return m.SameMember(children[0], self._name(children[1]), pos=self._pos(span))

    # agencies
    def agency(self, span: _Span | None, children: list[Any]) -> m.Agency:
        ident, name, *parts = children
        ident = self._ident(ident)
        aliases: list[m.Text] = []
        notes: list[m.Text] = []
        for part in parts:
            if part.key == "aliases":
                aliases.extend(part.value)
            else:
                notes.append(part.value)
        return m.Agency(str(ident), name, tuple(aliases), tuple(notes), pos=self._pos(span))

    def aliases(self, span: _Span | None, children: list[m.Text]) -> _Field:
        return _Field("aliases", tuple(children), self._pos(span))

    def note(self, span: _Span | None, children: list[m.Text]) -> _Field:
        return _Field("note", children[0], self._pos(span))

    # facts and enums
    def enum_decl(self, span: _Span | None, children: list[Any]) -> m.EnumDecl:
        is_open = isinstance(children[0], Token) and children[0].type == "OPEN"
        name, *values = children[1:] if is_open else children
        return m.EnumDecl(self._ident(name), tuple(values), is_open, pos=self._pos(span))

    def enum_value(self, span: _Span | None, children: list[Any]) -> m.EnumValue:
        label = children[1] if len(children) > 1 else None
        return m.EnumValue(self._ident(children[0]), label, pos=self._pos(span))

    def fact_decl(self, span: _Span | None, children: list[Any]) -> m.FactDecl:
        name, type_ref, *parts = children
        fields = self._fields("fact", parts)
        implies = tuple(n for p in parts if isinstance(p, _Field) and p.key == "implies" for n in p.value)
        return m.FactDecl(self._ident(name), type_ref, **fields, implies=implies, pos=self._pos(span))

    def items_decl(self, span: _Span | None, children: list[Any]) -> m.ItemsDecl:
        name, *rest = children
        label = rest[0] if rest and isinstance(rest[0], m.Text) else None
        facts = tuple(c for c in rest if isinstance(c, m.FactDecl))
        return m.ItemsDecl(self._ident(name), label, facts, pos=self._pos(span))

    def implies(self, span: _Span | None, children: list[Token]) -> _Field:
        return _Field("implies", tuple(self._name(t) for t in children), self._pos(span))

    def _type(kind: str) -> Callable[..., m.TypeRef]:  # type: ignore[misc]
        def build(self: _ToModel, span: _Span | None, children: list[Token]) -> m.TypeRef:
            param = str(children[-1]) if children else None
            if param is not None and kind in ("money", "duration"):
                table = CURRENCY_WORDS if kind == "money" else DURATION_UNITS
                if param not in table:
                    what = "currency" if kind == "money" else "duration unit"
                    self.diagnostics.append(
                        Diagnostic(
                            f"unknown {what} `{param}`",
                            pos=self._tpos(children[-1]),
                            hint=did_you_mean(param, table)
                            or "one of " + ", ".join(sorted(set(table.values()))),
                        )
                    )
                else:
                    param = table[param]
            return m.TypeRef(kind, param, pos=self._pos(span))

        return build

    bool_type = _type("bool")
    integer_type = _type("integer")
    decimal_type = _type("decimal")
    money_type = _type("money")
    percent_type = _type("percent")
    date_type = _type("date")
    duration_type = _type("duration")
    set_type = _type("set")
    enum_type = _type("enum")

    # structure
    def unit_kind(self, span: _Span | None, children: list[Token]) -> str:
        return str(children[0])

    def unit(self, span: _Span | None, children: list[Any]) -> m.Unit:
        kind, number, *parts = children
        title = None
        if parts and isinstance(parts[0], m.Text):
            title, parts = parts[0], parts[1:]
        fields = self._fields("unit", parts)
        return m.Unit(
            kind,
            str(number),
            title,
            agencies=fields.get("agencies", ()),
            citations=tuple(p for p in parts if isinstance(p, m.Citation)),
            rules=tuple(
                p
                for p in parts
                if isinstance(p, m.Definition | m.Benefit | m.Duty | m.Target | m.Exclusive | m.Staged)
            ),
            units=tuple(p for p in parts if isinstance(p, m.Unit)),
            pos=self._pos(span),
        )

    def agencies(self, span: _Span | None, children: list[m.Name]) -> _Field:
        return _Field("agencies", tuple(children), self._pos(span))

    def agency_ref(self, span: _Span | None, children: list[Any]) -> m.Name:
        value = children[0]
        if isinstance(value, m.Text):
            return m.Name(value.value, pos=value.pos)
        return self._name(value)

    def citation(self, span: _Span | None, children: list[m.Text]) -> m.Citation:
        note = children[1] if len(children) > 1 else None
        return m.Citation(children[0], note, pos=self._pos(span))

    def period(self, span: _Span | None, children: list[m.Literal]) -> m.Period:
        return m.Period(children[0], children[1], pos=self._pos(span))

    # rules
    def _head(self, children: list[Any]) -> tuple[str, m.Text | None, list[Any]]:
        name, *rest = children
        name = self._ident(name)
        label = None
        if rest and isinstance(rest[0], m.Text):
            label, rest = rest[0], rest[1:]
        return str(name), label, rest

    def definition(self, span: _Span | None, children: list[Any]) -> m.Definition:
        name, label, parts = self._head(children)
        fields = self._fields("definition", parts)
        citations = tuple(p for p in parts if isinstance(p, m.Citation))
        return m.Definition(
            name, label, fields.get("means"), citations, self._waivers(parts), pos=self._pos(span)
        )

    def benefit(self, span: _Span | None, children: list[Any]) -> m.Benefit:
        name, label, parts = self._head(children)
        fields = self._fields("benefit", parts)
        if isinstance(fields.get("amount"), _AmountRange):
            ranged = fields.pop("amount")
            fields.update(amount=ranged.low, amount_high=ranged.high, amount_floor=ranged.floor)
        if "cap" in fields:
            fields["cap"], fields["cap_facts"] = fields["cap"]
        if "cap_total" in fields:
            fields["cap_total"], fields["cap_total_facts"] = fields["cap_total"]
        citations = tuple(p for p in parts if isinstance(p, m.Citation))
        return m.Benefit(
            name, label, **fields, citations=citations, waivers=self._waivers(parts), pos=self._pos(span)
        )

    def _rate_of(self, children: list[Any]) -> tuple[m.Name | None, m.Literal | m.Name | None]:
        """The base (``of NAME``) and threshold (``above …``) after a rate's literals."""
        base = self._name(children[0]) if children else None
        above = children[1] if len(children) > 1 else None
        return base, above

    def rate_threshold(self, span: _Span | None, children: list[Any]) -> m.Literal | m.Name:
        value = children[0]
        return self._name(value) if isinstance(value, Token) else value

    def rate(self, span: _Span | None, children: list[Any]) -> _Field:
        base, above = self._rate_of(children[1:])
        return _Field("rate", m.Rate(children[0], base, above=above, pos=self._pos(span)), self._pos(span))

    def rate_range(self, span: _Span | None, children: list[Any]) -> _Field:
        base, above = self._rate_of(children[2:])
        rate = m.Rate(children[0], base, high=children[1], above=above, pos=self._pos(span))
        return _Field("rate", rate, self._pos(span))

    def rate_floor(self, span: _Span | None, children: list[Any]) -> _Field:
        self._floor_op(children[0], "rate")
        base, above = self._rate_of(children[2:])
        rate = m.Rate(children[1], base, floor=True, above=above, pos=self._pos(span))
        return _Field("rate", rate, self._pos(span))

    def minimum(self, span: _Span | None, children: list[Any]) -> _Field:
        return _Field("minimum", children[0], self._pos(span))

    def cap_total(self, span: _Span | None, children: list[Any]) -> _Field:
        cap = self.cap(span, children)
        return _Field("cap_total", cap.value, self._pos(span))

    def for_each(self, span: _Span | None, children: list[Token]) -> _Field:
        return _Field("each", self._name(children[0]), self._pos(span))

    def cap_fact(self, span: _Span | None, children: list[Token]) -> m.Name:
        return self._name(children[0])

    def cap(self, span: _Span | None, children: list[Any]) -> _Field:
        literals = [c for c in children if isinstance(c, m.Literal)]
        facts = tuple(c for c in children if isinstance(c, m.Name))
        for extra in literals[1:]:
            self.diagnostics.append(
                Diagnostic(
                    "a `cap` has at most one amount: the others could never apply",
                    pos=extra.pos,
                    hint="keep the lowest amount; facts may be added beside it (cap 100万元, 地方财政贡献)",
                )
            )
        return _Field("cap", (literals[0] if literals else None, facts), self._pos(span))

    def amount_range(self, span: _Span | None, children: list[Any]) -> _Field:
        return _Field("amount", _AmountRange(children[0], children[1], False), self._pos(span))

    def amount_floor(self, span: _Span | None, children: list[Any]) -> _Field:
        self._floor_op(children[0], "amount")
        return _Field("amount", _AmountRange(children[1], None, True), self._pos(span))

    def tiers(self, span: _Span | None, children: list[Any]) -> _Field:
        fact, *bands = children
        node = m.Tiers(self._name(fact), False, tuple(bands), pos=self._pos(span))
        return _Field("tiers", node, self._pos(span))

    def marginal_tiers(self, span: _Span | None, children: list[Any]) -> _Field:
        fact, *bands = children
        node = m.Tiers(self._name(fact), True, tuple(bands), pos=self._pos(span))
        return _Field("tiers", node, self._pos(span))

    def year_tiers(self, span: _Span | None, children: list[Any]) -> _Field:
        fact, *bands = children
        node = m.Tiers(self._name(fact), False, tuple(bands), year_of=True, pos=self._pos(span))
        return _Field("tiers", node, self._pos(span))

    def tier_year(self, span: _Span | None, children: list[Any]) -> m.Tier:
        """``year 2: amount 3万元``: the band of one year (第二年), both ends included."""
        year, pay = children
        return m.Tier(low=year, high=year, **pay.value, pos=self._pos(span))

    def tier(self, span: _Span | None, children: list[Any]) -> m.Tier:
        fields: dict[str, Any] = {}
        for part in children:
            if isinstance(part, _Field):
                if part.key == "pay":
                    fields.update(part.value)
                else:
                    literal, open_ = part.value
                    fields[part.key] = literal
                    fields[f"{part.key}_open"] = open_
        return m.Tier(**fields, pos=self._pos(span))

    def _tier_end(key: str, open_: bool) -> Callable[..., _Field]:  # type: ignore[misc]
        def build(self: _ToModel, span: _Span | None, children: list[Any]) -> _Field:
            return _Field(key, (children[0], open_), self._pos(span))

        return build

    tier_from = _tier_end("low", False)
    tier_above = _tier_end("low", True)
    tier_to = _tier_end("high", False)
    tier_below = _tier_end("high", True)

    def tier_amount(self, span: _Span | None, children: list[Any]) -> _Field:
        per = self._name(children[1]) if len(children) > 1 else None
        return _Field("pay", {"amount": children[0], "per": per}, self._pos(span))

    def tier_rate(self, span: _Span | None, children: list[Any]) -> _Field:
        base = self._name(children[1]) if len(children) > 1 else None
        return _Field("pay", {"rate": children[0], "base": base}, self._pos(span))

    def _floor_op(self, token: Token, field: str) -> None:
        """A floor (不低于) is written `>=`; another operator here is a mistake, said so."""
        if str(token) not in (">=", "≥"):
            hint = "a most (最高, 不超过) is `cap`" if str(token) in ("<=", "≤", "<") else None
            self.diagnostics.append(
                Diagnostic(
                    f"`{field} {token} …`: a floor (不低于) is written `{field} >= …`",
                    pos=self._tpos(token),
                    hint=hint,
                )
            )

    def duty(self, span: _Span | None, children: list[Any]) -> m.Duty:
        name, label, parts = self._head(children)
        fields = self._fields("duty", parts)
        levels = tuple(p.value for p in parts if isinstance(p, _Field) and p.key == "level")
        citations = tuple(p for p in parts if isinstance(p, m.Citation))
        return m.Duty(
            name,
            label,
            **fields,
            levels=levels,
            citations=citations,
            waivers=self._waivers(parts),
            pos=self._pos(span),
        )

    def obligation(self, span: _Span | None, children: list[Any]) -> m.Duty:
        duty = self.duty(span, children)
        sanctions = tuple(p.value for p in children if isinstance(p, _Field) and p.key == "sanction")
        return attrs.evolve(duty, enterprise=True, sanctions=sanctions)

    def sanction(self, span: _Span | None, children: list[m.Text]) -> _Field:
        return _Field("sanction", children[0], self._pos(span))

    def exclusive(self, span: _Span | None, children: list[Any]) -> m.Exclusive:
        name, label, parts = self._head(children)
        fields = self._fields("exclusive", parts)
        citations = tuple(p for p in parts if isinstance(p, m.Citation))
        return m.Exclusive(
            name,
            label,
            fields.get("members", ()),
            fields.get("keep"),
            citations,
            self._waivers(parts),
            pos=self._pos(span),
        )

    def staged(self, span: _Span | None, children: list[Any]) -> m.Staged:
        name, label, parts = self._head(children)
        fields = self._fields("staged", parts)
        stages = tuple(p for p in parts if isinstance(p, m.Stage))
        citations = tuple(p for p in parts if isinstance(p, m.Citation))
        return m.Staged(
            name,
            label,
            fields.get("members", ()),
            stages,
            citations,
            self._waivers(parts),
            pos=self._pos(span),
        )

    def stage(self, span: _Span | None, children: list[Any]) -> m.Stage:
        return m.Stage(children[0], children[1], pos=self._pos(span))

    def members(self, span: _Span | None, children: list[Token]) -> _Field:
        return _Field("members", tuple(self._name(t) for t in children), self._pos(span))

    def keep(self, span: _Span | None, children: list[Token]) -> _Field:
        return _Field("keep", self._name(children[0]), self._pos(span))

    def target(self, span: _Span | None, children: list[Any]) -> m.Target:
        name, label, parts = self._head(children)
        fields = self._fields("target", parts)
        goals = tuple(p.value for p in parts if isinstance(p, _Field) and p.key == "goal")
        citations = tuple(p for p in parts if isinstance(p, m.Citation))
        return m.Target(
            name,
            label,
            **fields,
            goals=goals,
            citations=citations,
            waivers=self._waivers(parts),
            pos=self._pos(span),
        )

    def waiver(self, span: _Span | None, children: list[m.Text]) -> m.Waiver:
        return m.Waiver(children[0], children[1], pos=self._pos(span))

    @staticmethod
    def _waivers(parts: list[Any]) -> tuple[m.Waiver, ...]:
        return tuple(p for p in parts if isinstance(p, m.Waiver))

    def _metric(self, key: str, span: _Span | None, children: list[Any]) -> _Field:
        label, op, value = children
        metric = m.Metric(label, _normalize_op(str(op)), value, pos=self._pos(span))
        return _Field(key, metric, self._pos(span))

    def level(self, span: _Span | None, children: list[Any]) -> _Field:
        return self._metric("level", span, children)

    def goal(self, span: _Span | None, children: list[Any]) -> _Field:
        return self._metric("goal", span, children)

    # conditions
    def disjunction(self, span: _Span | None, children: list[Any]) -> m.Or:
        return m.Or(tuple(children), pos=self._pos(span))

    def conjunction(self, span: _Span | None, children: list[Any]) -> m.And:
        return m.And(tuple(children), pos=self._pos(span))

    def negation(self, span: _Span | None, children: list[Any]) -> m.Not:
        return m.Not(children[0], pos=self._pos(span))

    def comparison(self, span: _Span | None, children: list[Any]) -> m.Comparison:
        left, op, right = children
        return m.Comparison(left, _normalize_op(str(op)), right, pos=self._pos(span))

    def value_list(self, span: _Span | None, children: list[Token]) -> tuple[m.Name, ...]:
        return tuple(self._name(t) for t in children)

    def membership(self, span: _Span | None, children: list[Any]) -> m.Membership:
        return m.Membership(children[0], children[1], False, pos=self._pos(span))

    def non_membership(self, span: _Span | None, children: list[Any]) -> m.Membership:
        return m.Membership(children[0], children[1], True, pos=self._pos(span))

    def includes_one(self, span: _Span | None, children: list[Any]) -> m.Includes:
        return m.Includes(children[0], "one", (self._name(children[1]),), pos=self._pos(span))

    def includes_any(self, span: _Span | None, children: list[Any]) -> m.Includes:
        return m.Includes(children[0], "any", children[1], pos=self._pos(span))

    def includes_all(self, span: _Span | None, children: list[Any]) -> m.Includes:
        return m.Includes(children[0], "all", children[1], pos=self._pos(span))

    def between(self, span: _Span | None, children: list[Any]) -> m.Between:
        return m.Between(children[0], children[1], children[2], pos=self._pos(span))

    def year_of(self, span: _Span | None, children: list[Any]) -> m.YearOf:
        return m.YearOf(children[0], pos=self._pos(span))

    def within(self, span: _Span | None, children: list[Any]) -> m.Within:
        return m.Within(children[0], children[1], pos=self._pos(span))

    def reference(self, span: _Span | None, children: list[Token]) -> m.Reference:
        return m.Reference(self._ident(children[0]), pos=self._tpos(children[0]))


_OPS = {"≤": "<=", "≥": ">=", "≠": "!="}


def _normalize_op(op: str) -> str:
    return _OPS.get(op, op)


# ---------------------------------------------------------------- syntax errors

_TOKEN_NAMES = {
    "NAME": "a name",
    "STRING": 'a quoted string ("…")',
    "COMP_OP": "a comparison (<=, <, >=, >, ==, !=)",
    "MONEY": "an amount of money (5000万美元)",
    "PERCENT": "a percentage (100%)",
    "DURATION": "a duration (3个工作日)",
    "NUMBER": "a number",
    "DATE": "a date (2022-06-20 or 2022年6月20日)",
    "UNIT_NO": "a unit number as the text writes it: 二、, 第二章, 第5条, （六）, 1., （1）",
    "$END": "the end of the file",
}

_FULLWIDTH_HINTS = {
    "，": "use an ASCII comma `,` between items",
    "：": "use an ASCII colon `:` after a fact name",
    "“": 'quote strings with ASCII double quotes "…"',
    "”": 'quote strings with ASCII double quotes "…"',
    "｛": "use ASCII braces `{ }`",
    "｝": "use ASCII braces `{ }`",
    "＝": "compare with `==`",
    "（": "parentheses in conditions are ASCII `( )`; full-width （六） only numbers a measure",
    "）": "parentheses in conditions are ASCII `( )`; full-width （六） only numbers a measure",
}


def _describe_terminal(name: str) -> str:
    if name in _TOKEN_NAMES:
        return _TOKEN_NAMES[name]
    for term in parser().terminals:
        if term.name == name:
            pattern = term.pattern
            if pattern.type == "str":
                return f"`{pattern.value}`"
    return name


def _expected_list(expected: set[str]) -> str:
    names = sorted({_describe_terminal(e) for e in expected})
    if len(names) > 8:
        names = [*names[:8], "…"]
    return ", ".join(names)


_LITERAL_HINT = "write amounts as 5000万美元 or 500万 USD, rates as 100%, durations as 3个工作日"
_DATE_HINT = "write dates as 2022-06-20 or 2022年6月20日"
_OTHER_DATE = re.compile(r"\d{4}[/.]\d{1,2}[/.]\d{1,2}")


def _span(file: SourceFile, start: int, end: int) -> SourcePosition:
    """A position for character offsets ``start``–``end`` on one line."""
    line = file.text.count("\n", 0, start) + 1
    column = start - (file.text.rfind("\n", 0, start) + 1) + 1
    return SourcePosition(file, line, column, line, column + max(end - start, 1))


def _number_start(text: str, offset: int) -> int | None:
    """Where the number that ends just before ``offset`` (spaces allowed between) begins, if one does."""
    index = offset
    while index > 0 and text[index - 1] in " \t":
        index -= 1
    end = index
    while index > 0 and (text[index - 1].isdigit() or text[index - 1] in ".万亿"):
        index -= 1
    if index == end or not text[index].isdigit():
        return None
    return index


def _malformed_literal(file: SourceFile, start: int, end: int) -> Diagnostic:
    shown = file.text[start:end]
    date = _OTHER_DATE.match(shown)
    if date:
        return Diagnostic(
            f"unexpected date notation `{date.group(0)}`",
            _span(file, start, start + len(date.group(0))),
            _DATE_HINT,
        )
    return Diagnostic(
        f"`{shown}` is not a literal this language knows", _span(file, start, end), _LITERAL_HINT
    )


def _unclosed_brace(text: str) -> int | None:
    """The offset of the innermost ``{`` never closed, skipping strings and comments."""
    stack: list[int] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == '"':
            index += 1
            while index < len(text) and text[index] not in '"\n':
                index += 2 if text[index] == "\\" else 1
        elif text.startswith("//", index):
            newline = text.find("\n", index)
            index = len(text) if newline < 0 else newline
        elif char == "{":
            stack.append(index)
        elif char == "}" and stack:
            stack.pop()
        index += 1
    return stack[-1] if stack else None


def _syntax_diagnostic(exc: UnexpectedInput, file: SourceFile) -> Diagnostic:
    line = getattr(exc, "line", 0) or 0
    column = getattr(exc, "column", 0) or 0
    text = file.text
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        token = exc.token
        pos = _token_pos(file, token)
        expected = set(exc.accepts or exc.expected)
        value = str(token)
        start = token.start_pos or 0
        if _OTHER_DATE.match(text, start):
            return _malformed_literal(file, start, start + 10)
        number = _number_start(text, start)
        if token.type == "NAME" and number is not None:
            return _malformed_literal(file, number, token.end_pos or start + len(value))
        hint = None
        glued = glued_keyword(value)
        if token.type == "NAME" and glued:
            kw, rest = glued
            message = f"`{value}` runs a keyword into a name"
            hint = f"put a space between `{kw}` and `{rest}`: `{kw} {rest}`"
        else:
            message = f"unexpected {_describe_token(token)}; expected {_expected_list(expected)}"
            if value == "=" or (token.type == "NAME" and "COMP_OP" in expected):
                hint = "compare with `==`, `<=`, `<`, `>=`, `>` or `!=`"
            if token.type == "RBRACE" and expected & {"NAME", "STRING", "MONEY", "NUMBER"}:
                hint = "something is missing before this `}`"
        return Diagnostic(message, pos=pos, hint=hint)
    if isinstance(exc, UnexpectedToken | UnexpectedEOF):
        expected = set(getattr(exc, "accepts", None) or getattr(exc, "expected", ()) or ())
        brace = _unclosed_brace(text)
        if brace is not None:
            pos = _span(file, brace, brace + 1)
            return Diagnostic(
                f"the `{{` on line {pos.line} is never closed",
                pos=pos,
                hint="add the missing `}` where this block ends",
            )
        last = max(len(text.splitlines()), 1)
        pos = SourcePosition(file, last, len(file.line(last)) + 1, last, len(file.line(last)) + 2)
        return Diagnostic(
            f"unexpected end of file; expected {_expected_list(expected)}"
            if expected
            else "unexpected end of file",
            pos=pos,
        )
    if isinstance(exc, UnexpectedCharacters):
        offset = exc.pos_in_stream or 0
        char = text[offset] if offset < len(text) else ""
        pos = SourcePosition(file, line, column, line, column + 1)
        hint = _FULLWIDTH_HINTS.get(char)
        word_start = _word_start(text, offset)
        if char == '"':
            message = "string is not closed on this line"
            hint = 'end it with `"` before the line ends; write a quote inside a string as \\"'
        elif char == "=":
            message = "unexpected `=`"
            hint = "compare with `==`; a definition's condition follows `means`"
        elif word_start < len(text) and text[word_start].isdigit():
            end = offset
            while end < len(text) and not text[end].isspace() and text[end] not in ',{}()"':
                end += 1
            return _malformed_literal(file, word_start, max(end, offset + 1))
        else:
            message = f"unexpected character `{char}`"
        return Diagnostic(message, pos=pos, hint=hint)
    return Diagnostic(str(exc), pos=SourcePosition(file, line, column, line, column + 1))  # pragma: no cover


def _word_start(text: str, offset: int) -> int:
    while offset > 0 and (text[offset - 1].isalnum() or text[offset - 1] in "/.-"):
        offset -= 1
    return offset


_TOKEN_NOUNS = {
    "NAME": "name",
    "STRING": "string",
    "NUMBER": "number",
    "MONEY": "amount",
    "PERCENT": "percentage",
    "DURATION": "duration",
    "DATE": "date",
}


def _describe_token(token: Token) -> str:
    noun = _TOKEN_NOUNS.get(token.type)
    return f"{noun} `{token}`" if noun else f"`{token}`"


def glued_keyword(value: str) -> tuple[str, str] | None:
    for kw in sorted(KEYWORDS, key=len, reverse=True):
        if value.startswith(kw) and len(value) > len(kw):
            rest = value[len(kw) :]
            if not rest[0].isascii():
                return kw, rest
    return None
