"""The intake's test material: the real articles in ../shared/seeds/ (read, never copied into the project)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[4]
SEEDS = REPO.parent / "shared" / "seeds"
PUBLISHED = {"000": "2020-05-14", "001": "2020-06-19", "002": "2021-10-09"}


def seed_text(prefix: str) -> str:
    """The seed whose name starts with ``prefix`` ("000", "001", "002")."""
    found = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail(f"seed {prefix} not found in {SEEDS}")
        pytest.skip(f"seed {prefix} not found in {SEEDS}")
    return found[0].read_text(encoding="utf-8")


@pytest.fixture
def seeds():
    return seed_text
