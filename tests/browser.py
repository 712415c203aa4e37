"""Headless Debian Chromium driven by Playwright (no browser download), for the report
and live-map tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def chromium() -> Iterator[Any]:
    """Yield a launched browser, closed afterwards; skip when Debian's chromium is absent.

    Playwright's sync API allows one running instance per thread: fixtures using this are
    package- or module-scoped and never overlap.
    """
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium); CI installs it")
    from playwright.sync_api import sync_playwright  # a dev dependency: missing is a failure

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()
