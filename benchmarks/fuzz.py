"""The standing fuzz campaign: every shipped policy, registry, source text and good example, mutated.

    python benchmarks/fuzz.py --inputs 3000 --seed 1          # a fixed number of inputs
    python benchmarks/fuzz.py --budget 600                    # as many as fit in ten minutes
    python benchmarks/fuzz.py --category facts --inputs 500   # one category (repeat for several)
    python benchmarks/fuzz.py --seed 1 --category facts --index 17   # one input again, with its traceback
    python benchmarks/fuzz.py --minimize                      # shrink the saved reproducers' inputs

Categories: policy, source, registry (the file mutated, then load → check → evaluate → render →
explain → schema → standalone module source exec'd and evaluated → SQL for duckdb, postgres,
spark → the DuckDB query run on the facts → fmt), facts (JSON files and Python values through
``Policy.evaluate``, the standalone module and DuckDB), population (CSV, TSV, JSON lines, Parquet
through ``evaluate_file`` / ``evaluate_table``), diff (random pairs through ``diff_paths`` and
``render``), cli (``policy check`` / ``eval`` / ``compile`` / ``explain`` through click's CliRunner:
exit 0 or 2, a message, never a traceback).

A PolicyError is the expected answer to bad input; any other exception is a crash; over 5 s is a
hang. Each distinct crash (exception type + innermost policy_dsl frame) is saved under
``tests/fuzz/crashes/`` (its input files and ``crash.json``), unless a reproducer of it is there
already; ``tests/test_fuzz_replay.py`` replays them. Exit status: 1 if the run found a crash or hang
that has no reproducer yet, else 0. The inputs are a function of the seed: ``--inputs N`` with one
seed gives the same inputs, and the same counts, on every machine. See docs/reliability.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fuzz.campaign import CATEGORIES, TIMEOUT, Campaign, draw_one, known_crashes, minimize


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, help="stop after this many seconds")
    parser.add_argument("--inputs", type=int, help="stop after this many inputs (all categories)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--category", action="append", choices=CATEGORIES, help="only these (repeatable)")
    parser.add_argument("--index", type=int, help="run one input (with --category) and print its traceback")
    parser.add_argument("--no-save", action="store_true", help="do not write reproducers")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds before an input is a hang")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run inputs in this process (faster to debug; a native crash then ends the run)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--minimize", action="store_true", help="shrink the saved reproducers' inputs (same crash), then stop"
    )
    args = parser.parse_args(argv)

    if args.minimize:
        for directory in sorted(known_crashes(pending_only=True).values()):
            before, after = minimize(directory)
            print(f"{directory.name}: {before} → {after} bytes", flush=True)
        return 0

    if args.index is not None:
        if not args.category or len(args.category) != 1:
            parser.error("--index needs one --category")
        case, result = draw_one(args.seed, args.category[0], args.index, isolate=not args.in_process)
        print(f"{args.category[0]} #{args.index} (seed {args.seed}): {result.outcome} at {result.stage}")
        print(f"files: {sorted(case.files)}  params: {case.params}")
        if result.error is not None:
            print(result.trace or f"{type(result.error).__name__}: {result.error}")
        return 0 if result.outcome in {"valid", "policy_error"} else 1
    if args.budget is None and args.inputs is None:
        parser.error("give --budget SECONDS and/or --inputs N")

    categories = tuple(args.category) if args.category else CATEGORIES
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    campaign = Campaign(
        seed=args.seed,
        categories=categories,
        inputs=args.inputs,
        budget=args.budget,
        save=not args.no_save,
        timeout=args.timeout,
        isolate=not args.in_process,
        progress=None if args.quiet else lambda line: print(line, flush=True),
    )
    campaign.run()
    print(f"\nfuzz campaign: seed {args.seed}, started {started}, {campaign.seconds:.0f} s")
    print(campaign.table())
    if campaign.findings:
        print("\ndistinct crashes and hangs:")
        for finding in campaign.findings.values():
            where = (
                finding.saved.relative_to(Path.cwd())
                if finding.saved and finding.saved.is_relative_to(Path.cwd())
                else finding.saved
            )
            status = "known" if finding.known else "NEW"
            print(f"- [{status}] {finding.category} #{finding.index} x{finding.count} at {finding.stage}")
            print(f"    {finding.exception[:200]}")
            print(f"    innermost frame: {finding.frame}; reproducer: {where or '(not saved)'}")
    if campaign.harness_errors:
        print(f"\n{len(campaign.harness_errors)} inputs not drawn (a bug of the campaign; not counted):")
        print("\n".join("- " + line for line in campaign.harness_errors[:10]))
    if campaign.worker is not None and campaign.worker.restarts:
        print(f"\nthe child process running the inputs was restarted {campaign.worker.restarts} times")
    pending = len(known_crashes(pending_only=True))
    print(f"\nreproducers in tests/fuzz/crashes/: {len(known_crashes())}, {pending} of them not yet fixed")
    return 1 if campaign.new_findings else 0


if __name__ == "__main__":
    sys.exit(main())
