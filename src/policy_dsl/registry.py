"""The files a policy ``use``s, read and parsed: agency registries (``use "….agencies"``) and
vocabularies (``use "….vocabulary"``: facts, enums, lists of items and definitions policies share).

Entry point: :func:`load_registries`. The caller (``policy.load``, the command line) reads them and
hands them to :func:`policy_dsl.check.check`, which checks names and never reads a registry itself.
A registry that cannot be read or parsed is kept as the problems found, each placed where the
policy names it, so the checker reports them beside its own.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from policy_dsl import model as m
from policy_dsl.errors import Diagnostic, PolicyError
from policy_dsl.parse import parse
from policy_dsl.source import MAX_POLICY_BYTES, SourceFile


@attrs.frozen
class Registry:
    """One ``use``d registry: its parsed file, or the problems that kept it from being read."""

    path: str
    file: m.PolicyFile | None
    problems: tuple[Diagnostic, ...] = ()


def load_registries(policy: m.PolicyFile, path: str | Path) -> dict[str, Registry]:
    """Every registry ``policy`` uses, by the path written in its ``use``, relative to ``path``'s folder."""
    base = Path(path).parent
    found: dict[str, Registry] = {}
    for item in policy.items:
        if isinstance(item, m.UseRegistry) and item.path.value not in found:
            found[item.path.value] = _load(item, base)
    return found


def _load(use: m.UseRegistry, base: Path) -> Registry:
    written = use.path.value
    location = base / written
    what = "agency registry" if written.endswith(".agencies") else "vocabulary"
    try:
        source = SourceFile.read(location, MAX_POLICY_BYTES)
    except FileNotFoundError:
        return Registry(written, None, (Diagnostic(f"{what} `{written}` not found", use.path.pos),))
    except (OSError, ValueError) as exc:
        problem = Diagnostic(f"{what} `{written}` cannot be read: {exc}", use.path.pos)
        return Registry(written, None, (problem,))
    try:
        return Registry(written, parse(source.text, str(location), source=source))
    except PolicyError as exc:
        return Registry(written, None, exc.diagnostics)
