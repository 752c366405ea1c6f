"""Shared fixtures: the repository root and the shipped example policy."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
DRAFT = ROOT / "policies" / "cq-foreign-trade-2022" / "draft.policy"

# CI explores the same examples on every run, so a submission's result does not depend on luck;
# developers' runs (no CI variable) draw new examples each time and find what CI would not.
settings.register_profile("ci", deadline=None, print_blob=True, derandomize=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def draft_path() -> Path:
    return DRAFT
