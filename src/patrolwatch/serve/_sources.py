"""Numbered source names of live fixes (a file, or one feed delivery such as
``http:feed#12``), shared by the streaming detectors.

Fixes carry an int32 source number; events name their fixes ``source:line``. A live
service names every delivery, so the list is compacted now and then to the numbers still
held (:meth:`SourceNames.compact`): numbers keep their relative order, so anything sorted
by number stays sorted.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

__all__ = ["SourceNames"]

I32 = npt.NDArray[np.int32]


class SourceNames:
    """Source names numbered as they come (the new names of one :meth:`ids` call in
    sorted order).

    Examples
    --------
    >>> s = SourceNames()
    >>> s.ids(np.array(["b", "a", "b"])).tolist(), s[0]
    ([1, 0, 1], 'a')
    >>> remap = s.compact([np.array([1], dtype=np.int32)])
    >>> remap[np.array([1])].tolist(), len(s), s[0]
    ([0], 1, 'b')
    """

    def __init__(self) -> None:
        self._names: list[str] = []
        self._index: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._names)

    def __getitem__(self, i: int) -> str:
        return self._names[i]

    def id(self, name: str) -> int:
        """The number of ``name`` (a new one if unseen)."""
        i = self._index.get(name)
        if i is None:
            i = self._index[name] = len(self._names)
            self._names.append(name)
        return i

    def ids(self, names: npt.NDArray[np.str_]) -> I32:
        """Numbers of an array of names (one dictionary look-up per distinct name)."""
        uniq, inv = np.unique(names, return_inverse=True)
        table = np.asarray([self.id(str(s)) for s in uniq], dtype=np.int32)
        return table[inv.reshape(-1)]

    def crowded(self, held: int) -> bool:
        """True when the list is much longer than ``held`` (e.g. tracks) warrants."""
        return len(self._names) > 1000 + 4 * held

    def compact(self, used: Iterable[npt.NDArray[np.integer]]) -> I32:
        """Keep only the numbers in ``used``; returns the old-to-new map (``-1`` for a
        dropped number) that the caller applies to every array it holds."""
        parts = [np.asarray(u, dtype=np.int64).ravel() for u in used]
        keep = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
        keep = keep[(keep >= 0) & (keep < len(self._names))]
        remap = np.full(len(self._names), -1, dtype=np.int32)
        remap[keep] = np.arange(keep.size, dtype=np.int32)
        self._names = [self._names[i] for i in keep.tolist()]
        self._index = {name: i for i, name in enumerate(self._names)}
        return remap
