"""The live service's formation tracker in a child process.

A :class:`~patrolwatch.serve.joint.FormationTracker` run re-runs the batch
``formations`` on minutes of every track's fixes: seconds of work that, in a thread,
would hold the interpreter lock and stall the zone pipeline. In its own process it uses
the machine's other core; fixes go in and events come back by pickling (numpy arrays,
small dataclasses).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from .joint import FormationTracker
from .stream import FixBatch, StreamEvent

__all__ = ["TrackerProcess"]

_TRACKER: FormationTracker | None = None  # the child's tracker


def _init(kwargs: Mapping[str, Any], parent_pid: int | None = None) -> None:
    global _TRACKER
    _TRACKER = FormationTracker(**kwargs)
    if parent_pid is not None:  # a killed service must not leave its tracker running
        threading.Thread(target=_exit_with, args=(parent_pid,), daemon=True).start()


def _exit_with(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(0)


def _step(
    parts: Sequence[FixBatch], tick: int, want_starts: bool
) -> tuple[list[StreamEvent], dict[str, int] | None, int]:
    from .service import concat_fixes

    tracker = _TRACKER
    assert tracker is not None
    runs = tracker.stats["runs"]
    events: list[StreamEvent] = []
    if parts:
        events += tracker.push(concat_fixes(list(parts)))
    if tick:
        events += tracker.advance(tick)
    ran = tracker.stats["runs"] != runs
    starts = tracker.window_start_ns() if (ran or want_starts) else None
    return events, starts, tracker.base_window_ns


class TrackerProcess:
    """One :class:`FormationTracker` (built from ``kwargs``) in a spawned child process.

    :meth:`step` gives it fixes and the clock and returns its events, its window starts
    (after a run, or when asked) and its longest base window (ns). Calls are sequential.
    """

    def __init__(self, kwargs: Mapping[str, Any]) -> None:
        self.kwargs = dict(kwargs)
        FormationTracker(**self.kwargs)  # refuse bad parameters here, not in the child
        self._pool = ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init,
            initargs=(self.kwargs, os.getpid()),
        )

    def step(
        self, parts: Sequence[FixBatch], tick: int = 0, *, want_starts: bool = False
    ) -> tuple[list[StreamEvent], dict[str, int] | None, int]:
        """Push fixes (then advance to ``tick`` if non-zero); see the class docstring."""
        return self._pool.submit(_step, list(parts), tick, want_starts).result()

    def reset(self) -> None:
        """Start again with an empty tracker."""
        self._pool.submit(_init, self.kwargs).result()

    def close(self) -> None:
        """Stop the child process."""
        self._pool.shutdown(wait=True, cancel_futures=True)
