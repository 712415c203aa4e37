"""Fixtures of the catalog tests: one fresh build of ``nea`` per session.

The build runs once, into a temporary cache directory, while every attempt to open a path
containing ``/shared/`` fails and is recorded: the product must build from the data shipped
inside the package only. Every other catalog test reuses that build.
"""

from __future__ import annotations

import builtins
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from patrolwatch.catalog import Catalog, _catalog, load_catalog

from . import _reference


@dataclass
class FreshBuild:
    """What the session build did."""

    catalog: Catalog
    cache_dir: Path
    builds: int
    forbidden: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def nea_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh cache directory, also set as ``PATROLWATCH_CACHE_DIR`` for the session."""
    directory = tmp_path_factory.mktemp("patrolwatch-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATROLWATCH_CACHE_DIR", str(directory))
        yield directory


@pytest.fixture(scope="session")
def fresh_build(nea_cache_dir: Path) -> FreshBuild:
    """Build ``nea`` from scratch with every open of a ``/shared/`` path refused."""
    if "/shared/" in str(_reference.DATA):
        pytest.skip("the package itself lies under a /shared/ directory")
    forbidden: list[str] = []

    def check(path: Any) -> None:
        if isinstance(path, int):
            return
        text = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else ""
        if "/shared/" in text.replace(os.sep, "/"):
            forbidden.append(text)
            raise PermissionError(f"test: product code opened {text}")

    real_open, real_os_open = builtins.open, os.open

    def guarded_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        check(file)
        return real_open(file, *args, **kwargs)

    def guarded_os_open(path: Any, *args: Any, **kwargs: Any) -> int:
        check(path)
        return real_os_open(path, *args, **kwargs)

    before = _catalog._BUILDS
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(builtins, "open", guarded_open)
        mp.setattr(io, "open", guarded_open)
        mp.setattr(os, "open", guarded_os_open)
        catalog = load_catalog("nea", cache_dir=nea_cache_dir)
    return FreshBuild(catalog, nea_cache_dir, _catalog._BUILDS - before, forbidden)


@pytest.fixture(scope="session")
def nea(fresh_build: FreshBuild) -> Catalog:
    """The ``nea`` catalog of the session build."""
    return fresh_build.catalog


@pytest.fixture(scope="session")
def sources() -> dict[str, _reference.Sources]:
    """Land, islets and baselines per claimant set, read independently of patrolwatch."""
    return _reference.load_sources()


@pytest.fixture(scope="session")
def land_only() -> dict[str, _reference.Sources]:
    """Land and islets per claimant set, without baselines (the equidistance split uses them)."""
    return _reference.load_sources(with_baselines=False)
