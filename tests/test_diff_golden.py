"""Golden reports of ``policy-diff``: the draft against the illustrative revision, byte for byte.

The reports in ``tests/golden/`` are the exact output of the installed ``policy-diff`` command,
run from the repository root with relative paths, stdout piped (so text has no colour):

* ``draft-vs-revision.txt``, ``.json``, ``.md`` — ``draft.policy`` vs ``revision-example.policy``
  in ``--format text``, ``json`` and ``markdown``;
* ``draft-vs-revision-plain.txt`` — the plain texts ``draft.txt`` vs ``revision-example.txt``;
* ``liuhe-old-vs-new.txt``, ``.md`` — a real pair: 柳河县's earlier text and its 2023 revision
  (``policies/liuhe-key-industries-2023``), whose articles 第N条 replace run-in measures （二）….

After an intended change of the report, regenerate them and review the diff:

    POLICY_DSL_REGEN=1 .venv/bin/python -m pytest tests/test_diff_golden.py

Each run uses a different ``PYTHONHASHSEED``, so a report that depends on set or dict order
of hashed strings fails the determinism test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
EXAMPLE = "policies/cq-foreign-trade-2022"
LIUHE = "policies/liuhe-key-industries-2023"
COMMAND = Path(sys.executable).parent / "policy-diff"
REGEN = os.environ.get("POLICY_DSL_REGEN") == "1"

CASES = {
    "draft-vs-revision.txt": [f"{EXAMPLE}/draft.policy", f"{EXAMPLE}/revision-example.policy"],
    "draft-vs-revision.json": [
        f"{EXAMPLE}/draft.policy",
        f"{EXAMPLE}/revision-example.policy",
        "--format",
        "json",
    ],
    "draft-vs-revision.md": [
        f"{EXAMPLE}/draft.policy",
        f"{EXAMPLE}/revision-example.policy",
        "--format",
        "markdown",
    ],
    "draft-vs-revision-plain.txt": [f"{EXAMPLE}/draft.txt", f"{EXAMPLE}/revision-example.txt"],
    "liuhe-old-vs-new.txt": [f"{LIUHE}/old.policy", f"{LIUHE}/new.policy"],
    "liuhe-old-vs-new.md": [f"{LIUHE}/old.policy", f"{LIUHE}/new.policy", "--format", "markdown"],
}


def run(args: list[str], seed: str = "random") -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": seed, "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    result = subprocess.run(
        [str(COMMAND), *args], cwd=ROOT, env=env, capture_output=True, check=False, timeout=120
    )
    assert result.returncode == 1, result.stderr.decode("utf-8", "replace")
    assert result.stderr == b""
    return result.stdout


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_report(name: str) -> None:
    output = run(CASES[name])
    path = GOLDEN / name
    if REGEN:
        path.write_bytes(output)
    assert path.exists(), f"no golden file {path}: run POLICY_DSL_REGEN=1 pytest {Path(__file__).name}"
    golden = path.read_bytes()
    assert output.decode("utf-8") == golden.decode("utf-8")  # readable diff first
    assert output == golden
    assert b"\x1b[" not in output


@pytest.mark.parametrize("name", ["draft-vs-revision.txt", "draft-vs-revision.json"])
def test_reports_are_deterministic(name: str) -> None:
    first, second = run(CASES[name], seed="1"), run(CASES[name], seed="2")
    assert first == second
