"""Project-wide rules: imports flow one way, the public API is explicit, docs run."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import patrolwatch

SRC = Path(__file__).resolve().parents[1] / "src" / "patrolwatch"
ROOT = SRC.parents[1]

# stage -> stages it may import from (besides itself and the top-level helpers)
ALLOWED = {
    "core": set(),
    "io": {"core"},
    "detect": {"core"},
    "catalog": {"core", "io"},
    "report": {"core", "detect", "io", "catalog"},
    "serve": {"core", "detect", "io", "catalog", "report"},
    "scale": {"core", "detect", "io", "catalog", "report"},
}
TOP_LEVEL_OK = {"errors", "units", "_version"}


def _imports(path: Path) -> set[str]:
    """Top-level patrolwatch sub-packages imported by a module (relative or absolute)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(SRC)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(rel.parts[:-1])[: len(rel.parts) - 1 - (node.level - 1)]
                target = [*base, *(node.module.split(".") if node.module else [])]
                if not target:
                    found.update(alias.name for alias in node.names)
                else:
                    found.add(target[0])
            elif node.module and node.module.startswith("patrolwatch."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("patrolwatch."):
                    found.add(alias.name.split(".")[1])
    return found


@pytest.mark.parametrize("stage", sorted(ALLOWED))
def test_imports_flow_one_way(stage: str) -> None:
    bad = []
    for path in sorted((SRC / stage).rglob("*.py")):
        for target in _imports(path) - {stage} - TOP_LEVEL_OK:
            if target not in ALLOWED[stage]:
                bad.append(f"{path.relative_to(SRC)} imports {target}")
    assert not bad, "imports against the io -> core <- detect <- report flow:\n" + "\n".join(bad)


def test_public_names_are_exported_with_module_patrolwatch() -> None:
    for name in patrolwatch.__all__:
        assert hasattr(patrolwatch, name), name
    assert patrolwatch.Tracks.__module__ == "patrolwatch"
    assert patrolwatch.crossings.__module__ == "patrolwatch"


def test_product_code_never_reads_shared_data() -> None:
    offenders = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if re.search(r"""["'][./]*shared[/"']""", p.read_text(encoding="utf-8"))
    ]
    assert not offenders, f"product code refers to ../shared: {offenders}"


def _readme_python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("block", _readme_python_blocks())
def test_readme_python_examples_run(block: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", block], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
