"""Two versions of a policy: the ``policy-diff`` pipeline.

Data flows one way, one module per stage:
``align`` (units paired by content) → ``redline`` (token-level text diff) → ``rulediff`` (rules old → new)
→ ``regions`` (outcome regions with witness enterprises) → ``compare`` (every layer, :func:`diff_paths`)
→ ``population`` (winners and losers in a population file) → ``report`` / ``html_report`` (the renderings).
"""

from policy_dsl.diff.compare import PolicyDiff, diff_paths

__all__ = ["PolicyDiff", "diff_paths"]
