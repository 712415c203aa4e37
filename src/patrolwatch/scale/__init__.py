"""The same detectors on a Dask cluster, partitioned, with results identical to one machine.

Everything but :func:`expand_inputs` needs the ``dask`` extra
(``pip install 'patrolwatch[dask]'``); see ``docs/scale.md``. A sketch (not run here)::

    from patrolwatch import scale

    with scale.connect("local") as client:  # or "tcp://scheduler:8786"
        read = scale.read_tracks("archive/", client=client)
        events = scale.crossings(read.tracks, zones).compute()
        found = scale.gaps(read.tracks, min_gap_s=300.0, zones=zones).compute()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._inputs import expand_inputs

if TYPE_CHECKING:
    from ._formations import formations
    from ._timeparts import OrderedEvents, gaps
    from .dask import (
        DEFAULT_FIXES_PER_PARTITION,
        SMALL_EVENTS_ROWS,
        PartitionedEvents,
        PartitionedRead,
        PartitionedTracks,
        connect,
        crossings,
        partition_tracks,
        read_events_dataset,
        read_tracks,
        write_output,
    )

__all__ = [
    "DEFAULT_FIXES_PER_PARTITION",
    "SMALL_EVENTS_ROWS",
    "OrderedEvents",
    "PartitionedEvents",
    "PartitionedRead",
    "PartitionedTracks",
    "connect",
    "crossings",
    "expand_inputs",
    "formations",
    "gaps",
    "partition_tracks",
    "read_events_dataset",
    "read_tracks",
    "write_output",
]

_TIME_PARTITIONED = ("OrderedEvents", "gaps")


def __getattr__(name: str) -> object:
    """The Dask-backed names, imported on first use (so that this package imports
    without Dask installed)."""
    if name == "formations":
        from . import _formations

        return _formations.formations
    if name in _TIME_PARTITIONED:
        from . import _timeparts

        return getattr(_timeparts, name)
    if name in __all__:
        from . import dask as _dask

        return getattr(_dask, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
