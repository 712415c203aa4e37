"""The Python blocks of docs/live.md run (from the checkout's root)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "block", re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "live.md").read_text(), re.S)
)
def test_docs_live_python_blocks_run(block: str) -> None:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        exec(compile(block, "docs/live.md", "exec"), {})
    finally:
        os.chdir(cwd)
