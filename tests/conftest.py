"""Shared fixtures: where the shared test data lives."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
"""``<checkout>/../shared/data``: reconstructed incidents, sample feeds, zones."""


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The shared data directory; the test is skipped when it is absent."""
    if not SHARED_DATA_DIR.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA_DIR}")
    return SHARED_DATA_DIR
