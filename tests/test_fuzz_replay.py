"""The fuzz campaign's reproducers, replayed; and a small campaign in the normal suite.

Every directory under ``tests/fuzz/crashes/`` holds the input files of one crash or hang the
campaign (``benchmarks/fuzz.py``) found and a ``crash.json`` saying its category, stage, exception,
seed and parameters. Each is run again through the same runner: it must now give a PolicyError or
a valid result, never another exception, within the time limit.

A reproducer whose ``status`` is not ``fixed…`` is a known, unfixed crash: its test is a strict
xfail, so it fails as soon as src/ is fixed — then set its status to ``fixed`` (and say how), and it
becomes a regression test. (An unfixed hang is a plain xfail: whether it passes the time limit can
depend on the machine.) An input too large to keep is skipped; its ``crash.json`` says how to
regenerate it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fuzz.campaign import CATEGORIES, CRASHES, RUNNERS, Campaign, replay

REPRODUCERS = sorted(p.parent for p in CRASHES.glob("*/crash.json"))


def _meta(directory: Path) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads((directory / "crash.json").read_text(encoding="utf-8"))
    return meta


def _param(directory: Path) -> object:
    meta = _meta(directory)
    marks: list[pytest.MarkDecorator] = []
    if meta.get("omitted"):
        reason = f"input too large to keep ({meta['omitted']}); regenerate: {meta['reproduce']}"
        return pytest.param(directory, id=directory.name, marks=[pytest.mark.skip(reason=reason)])
    if not meta["status"].startswith("fixed"):
        reason = f"{meta['status']}: {meta['exception'][:120]}"
        # a hang is a matter of time: one just over the limit here may finish on a faster machine
        strict = "|Hang|" not in meta["key"]
        marks.append(pytest.mark.xfail(reason=reason, strict=strict))
    return pytest.param(directory, id=directory.name, marks=marks)


@pytest.mark.parametrize("directory", [_param(d) for d in REPRODUCERS])
def test_reproducer_gives_a_policy_error_or_a_result(directory: Path) -> None:
    result, meta = replay(directory)
    assert result.outcome in {"valid", "policy_error"}, (
        f"{meta['category']}: {result.outcome} at {result.stage} ({result.seconds:.1f} s)\n{result.trace}"
    )


@pytest.mark.parametrize("directory", REPRODUCERS, ids=lambda d: d.name)
def test_reproducer_is_complete(directory: Path) -> None:
    meta = _meta(directory)
    assert meta["category"] in RUNNERS
    for key in ("key", "stage", "exception", "frame", "seed", "index", "base", "params", "status"):
        assert key in meta, key
    for name in meta["files"]:
        assert (directory / name).is_file(), name
    size = sum(p.stat().st_size for p in directory.iterdir())
    assert size < 2_000_000, f"{size} bytes: too large for the repository"
    text = (directory / "crash.json").read_text(encoding="utf-8")
    assert not re.search(r"/(home|root|tmp|Users|work)/", text), "a machine path in crash.json"


def test_a_small_campaign_finds_no_new_crash() -> None:
    """200 inputs across every category, seed 0: no crash or hang without a reproducer."""
    campaign = Campaign(seed=0, inputs=200, save=False).run()
    assert sum(t.inputs for t in campaign.tallies.values()) == 200
    assert all(campaign.tallies[c].inputs for c in CATEGORIES)
    assert sum(t.policy_errors for t in campaign.tallies.values()) > 0
    assert sum(t.valid for t in campaign.tallies.values()) > 0
    new = [f"{f.category} #{f.index} at {f.stage}: {f.exception}" for f in campaign.new_findings]
    assert not new, "new crashes (run benchmarks/fuzz.py --seed 0 --inputs 200 to save them):\n" + "\n".join(
        new
    )


def test_a_native_crash_ends_the_child_not_the_campaign() -> None:
    """A segfault in native code (here a real one: reading address 0) is reported as a crash of its
    input, and the next input runs in a new child process."""
    from fuzz.campaign import Case, Worker

    with Worker(timeout=5.0) as worker:
        crashed = worker.run(Case("selftest-native-crash", "tests/examples/good", {}, {}))
        assert crashed.outcome == "crash"
        assert crashed.key == "selftest-native-crash|SIGSEGV|native code"
        assert "SIGSEGV" in str(crashed.error)
        after = worker.run(Case("selftest-native-crash", "tests/examples/good", {}, {}))
        assert after.outcome == "crash" and worker.restarts == 1
