"""Benchmarks: figures and ratios against a baseline measured in the same process.

    python benchmarks/bench.py            # full run
    python benchmarks/bench.py --quick    # a few repetitions, for CI (so the script cannot rot)

Nothing here asserts a time: the figures are printed for docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import policy_dsl
from policy_dsl.check import check
from policy_dsl.compile import compile_policy
from policy_dsl.facts import validate_facts
from policy_dsl.parse import parse, parser

ROOT = Path(__file__).resolve().parent.parent
DRAFT = ROOT / "policies" / "cq-foreign-trade-2022" / "draft.policy"
DAY = dt.date(2022, 7, 1)
FACTS = {
    "出口额": "480万美元",
    "出口企业分类": "二类",
    "投保短期出口信用保险": True,
    "短期出口信用保险保费": "36800元",
}


def best_of(function: Callable[[], Any], repeat: int, number: int) -> float:
    """Seconds per call: the median of ``repeat`` timings of ``number`` calls."""
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            function()
        timings.append((time.perf_counter() - start) / number)
    return statistics.median(timings)


def hand_written(facts: dict[str, Any]) -> bool | None:
    """The baseline: one rule (小微企业信保保费补贴) written by hand, three-valued."""
    export = facts.get("出口额")
    insured = facts.get("投保短期出口信用保险")
    small = None if export is None else export <= Decimal(5_000_000)
    if small is False or insured is False:
        return False
    if small is None or insured is None:
        return None
    return True


def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument("--quick", action="store_true")
    quick = args.parse_args().quick
    repeat, number = (3, 3) if quick else (7, 20)

    text = DRAFT.read_text(encoding="utf-8")
    parser()  # build the cached parser once, as a long-running process would

    def pipeline() -> None:
        compile_policy(check(parse(text, str(DRAFT)), str(DRAFT)))

    parse_time = best_of(lambda: parse(text, str(DRAFT)), repeat, number)
    pipeline_time = best_of(pipeline, repeat, number)

    policy = policy_dsl.load(DRAFT)
    values = validate_facts(policy.checked, FACTS)
    decide = policy.compiled.namespace["_decide"]
    evaluate_raw = policy.compiled.evaluate
    calls = 200 if quick else 5000
    hand = best_of(lambda: hand_written(values), repeat, calls)
    decide_all = best_of(lambda: decide(values, {}), repeat, calls)
    raw = best_of(lambda: evaluate_raw(values, DAY), repeat, calls // 10)
    full = best_of(lambda: policy.evaluate(FACTS, as_of=DAY), repeat, calls // 10)
    rules = len(policy.checked.benefits) + len(policy.checked.duties)

    print(f"machine: {platform.machine()} {platform.python_implementation()} {platform.python_version()}")
    print(f"policy: {DRAFT.relative_to(ROOT)} ({rules} benefits and duties)")
    rows = [
        ("parse (cached parser)", parse_time * 1e3, "ms", None),
        ("parse + check + compile", pipeline_time * 1e3, "ms", None),
        ("baseline: one rule by hand, per enterprise", hand * 1e6, "µs", 1.0),
        ("compiled: conditions of all rules, per rule", decide_all / max(rules, 1) * 1e6, "µs", None),
        ("compiled: conditions of all rules", decide_all * 1e6, "µs", decide_all / hand),
        ("compiled: raw outcome with explanations", raw * 1e6, "µs", raw / hand),
        ("Policy.evaluate: validate facts + typed outcome", full * 1e6, "µs", full / hand),
    ]
    rows[3] = (rows[3][0], rows[3][1], rows[3][2], rows[3][1] / (hand * 1e6))
    print(f"{'figure':<52} {'value':>12} {'vs baseline':>12}")
    for label, value, unit, ratio in rows:
        shown = f"{ratio:>11.1f}×" if ratio is not None else ""
        print(f"{label:<52} {value:>9.2f} {unit} {shown}")


if __name__ == "__main__":
    main()
