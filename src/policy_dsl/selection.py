"""Which rules a run computes: ``--benefit ID`` and ``--measure N``. Entry point: :func:`select_rules`.

A population run, a population diff and a compiled query compute every benefit and duty unless
asked for some: then only those are computed, and DuckDB reads only the columns they need. A
benefit or duty is named by its id; a measure by its label as the text numbers it (``（四）``,
``第5条``, ``3.``) or by its number alone (``四``, ``4``, ``5``), which must then name one measure.
Names that match nothing are errors with a did-you-mean hint: nothing a user asked for is dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from policy_dsl.check import CheckedPolicy
from policy_dsl.document import chinese_number
from policy_dsl.errors import Diagnostic, PolicyLoadError, did_you_mean


def _label(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _number(label: str) -> int | None:
    """The number of a measure's label: （四） → 4, 第5条 → 5, 3. → 3, 三、 → 3."""
    core = re.sub(r"^第|[条款章节]$", "", _label(label).strip("()（）、.．"))
    return chinese_number(core)


def _rules_of(checked: CheckedPolicy) -> dict[str, str]:
    """Every benefit and duty of ``checked`` → the label of its measure."""
    return {info.rule.name: info.measure for info in (*checked.benefits, *checked.duties)}


def select_rules(
    versions: Sequence[CheckedPolicy], benefits: Sequence[str] = (), measures: Sequence[str] = ()
) -> frozenset[str] | None:
    """The ids of the benefits and duties named by ``benefits`` or in the measures ``measures``, in
    any of ``versions`` (one policy, or the two versions of a diff); None when neither is given
    (every rule). A name found in no version is an error, with the closest names as a hint."""
    if not benefits and not measures:
        return None
    rules: dict[str, str] = {}
    for checked in versions:
        rules.update(_rules_of(checked))
    chosen: set[str] = set()
    problems = []
    for name in benefits:
        if name in rules:
            chosen.add(name)
        else:
            hint = did_you_mean(name, rules)
            problems.append(Diagnostic(f"--benefit {name}: no benefit or duty has this id", hint=hint))
    labels = sorted(set(rules.values()), key=lambda label: (_number(label) or 0, label))
    for asked in measures:
        found = [label for label in labels if _label(label) == _label(asked)]
        if not found and _number(asked) is not None:
            found = [label for label in labels if _number(label) == _number(asked)]
        if len(found) == 1:
            chosen.update(rule for rule, label in rules.items() if label == found[0])
        elif found:
            problems.append(
                Diagnostic(
                    f"--measure {asked}: the number is that of several measures: {', '.join(found)}",
                    hint="give the label as the text writes it, e.g. --measure " + found[0],
                )
            )
        else:
            hint = did_you_mean(asked, labels) or "measures with rules: " + ", ".join(labels)
            problems.append(Diagnostic(f"--measure {asked}: no measure with rules has this label", hint=hint))
    if problems:
        raise PolicyLoadError(problems)
    return frozenset(chosen)
