"""Input files of a run: files as given, folders (hive-partitioned datasets) and globs
expanded, in a stable order. Needs no Dask, so both engines use it."""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path

from ..errors import ConfigError

__all__ = ["INPUT_SUFFIXES", "expand_inputs"]

PathLike = str | os.PathLike[str]

INPUT_SUFFIXES = (".parquet", ".pq", ".csv", ".csv.gz", ".tsv", ".txt", ".gz")
"""File names kept when a folder is given as input."""


def expand_inputs(paths: PathLike | Sequence[PathLike]) -> list[str]:
    """The input files named by ``paths``: files as given, folders and globs expanded.

    Parameters
    ----------
    paths : path or sequence of paths
        Files, folders (searched recursively, e.g. a hive-partitioned Parquet dataset
        ``date=2024-01-01/region=east/part-0.parquet``) or glob patterns (``**`` allowed).

    Returns
    -------
    list of str
        Each folder's and each glob's files in sorted order (hidden files and names
        starting with ``_``, such as ``_SUCCESS`` or ``_metadata``, are skipped), in the
        order the arguments were given. The same list gives the same events, and the
        same ``source_rows``, on either engine.

    Raises
    ------
    ConfigError
        When a folder or a glob names no file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for part in ("date=2024-01-02", "date=2024-01-01"):
    ...     (d / part).mkdir()
    ...     _ = (d / part / "part-0.parquet").write_bytes(b"")
    >>> [pathlib.Path(p).parent.name for p in expand_inputs(d)]
    ['date=2024-01-01', 'date=2024-01-02']
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    if not items:
        raise ConfigError("no input files given")
    out: list[str] = []
    for item in items:
        text = os.fspath(item)
        if os.path.isdir(text):
            found = sorted(
                os.path.join(root, name)
                for root, dirs, names in os.walk(text)
                for name in names
                if not name.startswith((".", "_"))
                and name.lower().endswith(INPUT_SUFFIXES)
                and not any(
                    part.startswith((".", "_"))
                    for part in Path(os.path.relpath(root, text)).parts
                    if part != "."
                )
            )
            if not found:
                raise ConfigError(f"{text}: the folder holds no .parquet or .csv file")
            out += found
        elif any(ch in text for ch in "*?["):
            found = sorted(p for p in glob.glob(text, recursive=True) if os.path.isfile(p))
            if not found:
                raise ConfigError(f"{text}: the pattern matches no file")
            out += found
        else:
            out.append(text)
    return out
