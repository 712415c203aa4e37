"""Fixtures for report tests: the demo analysis (run once) and Debian's Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import patrolwatch as pw
from browser import chromium

INCIDENT = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "patrolwatch"
    / "data"
    / "incidents"
    / "2019-07-23-sea-of-japan"
)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> pw.Analysis:
    """The bundled incident analysed once, as `make demo` does."""
    out = tmp_path_factory.mktemp("demo")
    return pw.analyze(
        INCIDENT / "tracks.csv",
        zones=INCIDENT / "zones.geojson",
        out=out,
        title="23 July 2019, Sea of Japan",
    )


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (no browser download).

    Package-scoped: Playwright's sync API allows one running instance per thread, and the
    live map's tests start their own after these tests end.
    """
    yield from chromium()
