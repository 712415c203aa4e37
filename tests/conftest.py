"""Shared fixtures: where the shared test data lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# In CI the property tests run with a fixed seed, so that a run is repeatable; locally they
# keep exploring new examples.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

SHARED_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
"""``<checkout>/../shared/data``: reconstructed incidents, sample feeds, zones."""


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The shared data directory; the test is skipped when it is absent."""
    if not SHARED_DATA_DIR.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA_DIR}")
    return SHARED_DATA_DIR
