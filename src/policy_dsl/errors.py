"""One error hierarchy for everything a user can get wrong, rendered like Catala's messages.

Every error carries one or more :class:`Diagnostic` records. Stages collect all their
diagnostics and raise once, so a user sees every problem in one run, in source order.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from policy_dsl.intake import did_you_mean as _closest
from policy_dsl.source import SourcePosition, display_width


@attrs.frozen
class Diagnostic:
    """One problem: a message, where it is, and optionally a hint to fix it."""

    message: str
    pos: SourcePosition | None = None
    hint: str | None = None
    severity: str = "error"

    def sort_key(self) -> tuple[str, int, int]:
        if self.pos is None:
            return ("", 0, 0)
        return (self.pos.path, self.pos.line, self.pos.column)

    def render(self) -> str:
        """``path:line:col: error: message``, the source line, a caret under the span, the hint."""
        if self.pos is None or self.pos.line <= 0:
            head = f"{self.severity}: {self.message}"
            if self.pos is not None:
                head = f"{self.pos.path}: {head}"
            return head + (f"\n  = hint: {self.hint}" if self.hint else "")
        pos = self.pos
        out = [f"{pos.path}:{pos.line}:{pos.column}: {self.severity}: {self.message}"]
        line = pos.file.line(pos.line)
        if line or pos.file.text:
            gutter = str(pos.line)
            pad = " " * len(gutter)
            start = max(pos.column - 1, 0)
            end = max(pos.end_column - 1, start + 1) if pos.end_line == pos.line else len(line)
            end = max(end, start + 1)
            # a very long line (a one-line JSON body) is cut near the span first: a tab is one
            # column wide below (expandtabs(1)), so cutting before expanding moves no column
            cut = max(start - 2 * _LONGEST_SHOWN, 0)
            shown = line[cut : end + 2 * _LONGEST_SHOWN].expandtabs(1)
            start, end, length = start - cut, end - cut, len(line) - cut
            if len(shown) > _LONGEST_SHOWN or cut:  # a window around the span, marked with …
                left = max(start - _CONTEXT, 0)
                right = min(max(end, start + 1) + _CONTEXT, len(shown), left + _LONGEST_SHOWN)
                prefix = "…" if left > 0 or cut else ""
                shown = prefix + shown[left:right] + ("…" if right < length else "")
                start, end = start - left + len(prefix), min(end, right) - left + len(prefix)
            caret_pad = display_width(shown[:start])
            caret_len = max(display_width(shown[start:end]), 1)
            out.append(f"{pad} |")
            out.append(f"{gutter} | {shown}")
            out.append(f"{pad} | {' ' * caret_pad}{'^' * caret_len}")
        if self.hint:
            out.append(f"  = hint: {self.hint}")
        return "\n".join(out)


#: A source line longer than this is shown as a window around the span (a minified or generated
#: file can hold a whole policy on one line).
_LONGEST_SHOWN = 200
_CONTEXT = 60


class PolicyError(Exception):
    """Base of every error policy_dsl reports to a user."""

    kind = "error"

    def __init__(self, diagnostics: Iterable[Diagnostic] | str, unlisted: int = 0) -> None:
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(diagnostics)]
        self.diagnostics: tuple[Diagnostic, ...] = tuple(sorted(diagnostics, key=Diagnostic.sort_key))
        #: problems found beyond those listed (a stage may stop locating them: each costs a search)
        self.unlisted = unlisted
        super().__init__(f"{len(self.diagnostics)} problem(s)")

    def __str__(self) -> str:  # rendered when shown, not when raised (a caller may only count them)
        return self.render()

    def render(self) -> str:
        body = "\n\n".join(d.render() for d in self.diagnostics)
        if self.unlisted:
            body += f"\n\n… and {self.unlisted} more problems, not listed"
        errors = sum(1 for d in self.diagnostics if d.severity == "error") + self.unlisted
        warnings = len(self.diagnostics) + self.unlisted - errors
        if len(self.diagnostics) + self.unlisted > 1:
            counts = [f"{errors} error{'s' if errors != 1 else ''}"]
            if warnings:
                counts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
            body += "\n\n" + ", ".join(counts)
        return body


class PolicySyntaxError(PolicyError):
    """The text is not a well-formed policy file."""

    kind = "syntax error"


class PolicyCheckError(PolicyError):
    """The policy parses but is inconsistent: unknown names, type or unit mismatches, bad citations…"""

    kind = "check error"


class FactsError(PolicyError):
    """The facts supplied for an evaluation do not fit the policy's declared facts."""

    kind = "facts error"


class PolicyLoadError(PolicyError):
    """A file could not be read at all (missing, unreadable, not text)."""

    kind = "load error"


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate (or the few equally close ones), or None when none is close.

    One implementation: the standalone module's reader (:mod:`policy_dsl.intake`) carries it too."""
    hint: str | None = _closest(name, candidates)
    return hint
