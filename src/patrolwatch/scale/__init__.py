"""The same detectors on a Dask cluster, partitioned, with results identical to one machine.

Everything but :func:`expand_inputs` needs the ``dask`` extra
(``pip install 'patrolwatch[dask]'``); see ``docs/scale.md``. A sketch (not run here)::

    from patrolwatch import scale

    with scale.connect("local") as client:  # or "tcp://scheduler:8786"
        read = scale.read_tracks("archive/", client=client)
        events = scale.crossings(read.tracks, zones).compute()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._inputs import expand_inputs

if TYPE_CHECKING:
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
    "PartitionedEvents",
    "PartitionedRead",
    "PartitionedTracks",
    "connect",
    "crossings",
    "expand_inputs",
    "partition_tracks",
    "read_events_dataset",
    "read_tracks",
    "write_output",
]


def __getattr__(name: str) -> object:
    """The Dask-backed names, imported on first use (so that this package imports
    without Dask installed)."""
    if name in __all__:
        from . import dask as _dask

        return getattr(_dask, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
