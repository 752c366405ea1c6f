"""Visitors that dispatch on a node's class name (``visit_Benefit``), as Jinja2's do."""

from __future__ import annotations

from typing import Any

import attrs

from policy_dsl.model import Node


class Visitor:
    """Calls ``visit_<ClassName>`` for a node, or :meth:`generic_visit`, which visits its children."""

    def visit(self, node: Node, *args: Any) -> Any:
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            return self.generic_visit(node, *args)
        return method(node, *args)

    def generic_visit(self, node: Node, *args: Any) -> Any:
        for child in children(node):
            self.visit(child, *args)
        return None


def children(node: Node) -> list[Node]:
    """The nodes directly inside ``node``, in field order."""
    found: list[Node] = []
    for field in attrs.fields(type(node)):  # type: ignore[arg-type]
        if field.name == "pos":
            continue
        value = getattr(node, field.name)
        if isinstance(value, Node):
            found.append(value)
        elif isinstance(value, tuple):
            found.extend(v for v in value if isinstance(v, Node))
    return found
