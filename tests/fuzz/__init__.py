"""The standing fuzz campaign: mutators (:mod:`fuzz.mutators`) and the harness (:mod:`fuzz.campaign`).

``benchmarks/fuzz.py`` runs a campaign from the command line; ``tests/test_fuzz_replay.py`` replays
every reproducer saved under ``tests/fuzz/crashes/`` and runs a small campaign in the normal suite.
See ``docs/reliability.md``.
"""
