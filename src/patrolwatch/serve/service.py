"""The live service: feeds in, detector, alerts, store, and publication out.

One pipeline task takes what the feeds and the HTTP API deliver (:class:`IngestBatch`),
groups what arrives within :attr:`ServeConfig.batch_interval_s`, and for each group:

1. drops batches whose idempotency key is already stored (their original answer is
   returned), and numbers the fixes of the others;
2. runs the :class:`~patrolwatch.serve.stream.Detector` on the fixes;
3. matches the events against the alert rules;
4. commits fixes, rejects, events, alerts and track state in one transaction;
5. only then acknowledges the batches and publishes events and alerts (SSE, webhook).

A crash loses only batches that were not acknowledged. On start the detector is rebuilt
by replaying, per track, the stored fixes its state needs (``track_state``, written at
once for a new track and refreshed every :data:`STATE_REFRESH_S`: a start older than
needed only replays more); what that replay publishes again is already stored and is
not re-sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..core.zones import Zones
from ..detect.formations import (
    DEFAULT_MAX_DROPOUT_S,
    DEFAULT_MAX_SEP_M,
    DEFAULT_MAX_VSEP_M,
    DEFAULT_MIN_DURATION_S,
)
from ..units import NS_PER_S
from ._joint_process import TrackerProcess
from .alerts import AlertRule, Broker, WebhookSender, make_alert, match_rules
from .joint import DEFAULT_EVERY_S
from .store import ATTR_COLUMNS, IngestBatch, Reject, Store
from .stream import (
    DEFAULT_EVICT_AFTER_S,
    DEFAULT_GAP_S,
    DEFAULT_LATENESS_S,
    Detector,
    FixBatch,
    StreamEvent,
)

__all__ = ["FUTURE_TOLERANCE_S", "ServeConfig", "Service", "concat_fixes"]

log = logging.getLogger("patrolwatch.serve")

POSITION_FIELDS = (
    "track_id",
    "t_ns",
    "lon_deg",
    "lat_deg",
    "alt_m",
    "speed_mps",
    "heading_deg",
    "fix_id",
)
"""Fields of a track's newest position (then its attributes), see
:meth:`Service.position_rows`."""

STATE_REFRESH_S = 10.0
"""Window starts of tracks already in the store are rewritten at most this often, s."""

POSITIONS_KEEP_S = 6 * 3600.0
"""The map's track list forgets tracks silent this long (stream time), seconds."""

FUTURE_TOLERANCE_S = 300.0
"""With the wall clock, fixes timed more than this far in the future are rejected
(``future_time``): one bad clock must not evict every other track."""


@dataclass
class ServeConfig:
    """Everything ``patrolwatch serve`` is started with (see ``patrolwatch serve --help``).

    Times in seconds, distances in metres, sizes in bytes.
    """

    zones: Zones
    rules: list[AlertRule] = field(default_factory=list)
    db: Path = Path("patrolwatch.duckdb")
    host: str = "127.0.0.1"
    port: int = 8000
    api_keys: tuple[str, ...] = ()
    public_read: bool = False
    feeds: tuple[str, ...] = ()
    allow_remote_feeds: bool = False
    near_m: float | None = None
    max_speed_mps: float | None = None
    lateness_s: float = DEFAULT_LATENESS_S
    evict_after_s: float | None = DEFAULT_EVICT_AFTER_S
    gap_s: float | None = DEFAULT_GAP_S
    clock: Literal["wall", "stream"] = "wall"
    retention_s: float | None = None
    webhook_url: str | None = None
    webhook_secret: bytes = b""
    webhook_max_attempts: int = 8
    webhook_backoff_s: float = 0.5
    max_body_bytes: int = 8 * 1024 * 1024
    batch_interval_s: float = 0.0
    max_batch_fixes: int = 100_000
    queue_batches: int = 1000
    cors_origins: tuple[str, ...] = ()
    demo: bool = False
    demo_speed: float = 60.0
    demo_loop: bool = False
    formations: bool = True
    """Run the streaming formation tracker (:mod:`patrolwatch.serve.joint`) too."""
    formation_max_sep_m: float = DEFAULT_MAX_SEP_M
    formation_max_vsep_m: float = DEFAULT_MAX_VSEP_M
    formation_min_duration_s: float = DEFAULT_MIN_DURATION_S
    formation_max_dropout_s: float = DEFAULT_MAX_DROPOUT_S
    formation_every_s: float = DEFAULT_EVERY_S


@dataclass
class _Item:
    batch: IngestBatch | None  # None: a clock tick
    future: asyncio.Future[dict[str, Any]] | None
    now_ns: int = 0


def concat_fixes(parts: Sequence[FixBatch]) -> FixBatch:
    """Fixes of several batches, in order (attributes missing in a part are ``""``)."""
    keys = sorted({k for p in parts for k in p.attrs})

    def cat(name: str) -> Any:
        return np.concatenate([getattr(p, name) for p in parts])

    attrs = {
        k: np.concatenate(
            [p.attrs[k] if k in p.attrs else np.full(len(p), "", dtype=str) for p in parts]
        ).astype(str)
        for k in keys
    }
    return FixBatch(
        track_id=cat("track_id").astype(str),
        t_ns=cat("t_ns"),
        lon_deg=cat("lon_deg"),
        lat_deg=cat("lat_deg"),
        alt_m=cat("alt_m"),
        speed_mps=cat("speed_mps"),
        heading_deg=cat("heading_deg"),
        fix_id=cat("fix_id"),
        source=cat("source").astype(str),
        line=cat("line"),
        attrs=attrs,
    )


def _select(f: FixBatch, keep: np.ndarray) -> FixBatch:
    return FixBatch(
        f.track_id[keep],
        f.t_ns[keep],
        f.lon_deg[keep],
        f.lat_deg[keep],
        f.alt_m[keep],
        f.speed_mps[keep],
        f.heading_deg[keep],
        f.fix_id[keep],
        f.source[keep],
        f.line[keep],
        {k: v[keep] for k, v in f.attrs.items()},
    )


class Service:
    """The running service (see the module docstring). Create, ``await start()``, and
    ``await stop()``; the FastAPI app in :mod:`patrolwatch.serve.app` drives it."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.broker = Broker()
        self.store: Store | None = None
        self.detector = self._new_detector()
        self.formations = self._new_tracker()
        # the formation tracker runs beside the pipeline (a run takes seconds: zone alerts
        # must not wait for it); it is only touched under this lock
        self._joint_lock = threading.Lock()
        self._joint_parts: list[FixBatch] = []  # committed fixes not yet given to it
        self._joint_tick = 0
        self._joint_wake = asyncio.Event()
        self._joint_busy = False
        self._joint_starts: dict[str, int] = {}  # its window starts after its last run
        self._joint_horizon_ns = 0  # its longest base window
        # track -> values (POSITION_FIELDS, ATTR_COLUMNS): replaced whole, never mutated
        self.positions: dict[str, tuple[Any, ...]] = {}
        self._snapshot: dict[str, Any] = {}  # detector figures, taken by the pipeline thread
        self.feeds: list[Any] = []
        self._queue: asyncio.Queue[_Item] | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._snapshot_at = 0.0
        self._state_known: set[str] = set()  # tracks with a track_state row
        self._state_dirty: set[str] = set()  # touched since the last refresh
        self._state_written_at = 0.0
        self._webhook_wake = asyncio.Event()
        self._webhook_next: dict[str, float] = {}
        self._commits: deque[tuple[float, int, float]] = deque(maxlen=512)  # (wall s, fixes, lag s)
        self.started_ns = time.time_ns()
        self.counters: dict[str, int] = {
            "batches": 0,
            "batches_duplicate": 0,
            "fixes": 0,
            "rejects": 0,
            "events": 0,
            "alerts": 0,
            "commit_errors": 0,
            "webhook_ok": 0,
            "webhook_failed": 0,
        }
        self.newest_fix_ns: int | None = None
        self.ready = False

    def _new_detector(self) -> Detector:
        c = self.config
        return Detector(
            c.zones,
            near_m=c.near_m,
            max_speed_mps=c.max_speed_mps,
            lateness_s=c.lateness_s,
            evict_after_s=c.evict_after_s,
            gap_s=c.gap_s,
        )

    def _new_tracker(self) -> TrackerProcess | None:
        c = self.config
        if not c.formations:
            return None
        return TrackerProcess(
            dict(
                max_sep_m=c.formation_max_sep_m,
                max_vsep_m=c.formation_max_vsep_m,
                min_duration_s=c.formation_min_duration_s,
                max_dropout_s=c.formation_max_dropout_s,
                every_s=c.formation_every_s,
                evict_after_s=c.evict_after_s,
            )
        )

    # ------------------------------------------------------------------ life cycle
    async def start(self) -> None:
        """Open the store, rebuild the detector, start the pipeline, feeds and workers."""
        self._queue = asyncio.Queue(self.config.queue_batches)
        self.store = await asyncio.to_thread(Store, self.config.db)
        await asyncio.to_thread(self._rebuild)
        self._tasks.append(asyncio.create_task(self._pipeline(), name="pipeline"))
        if self.formations is not None:
            self._tasks.append(asyncio.create_task(self._joint_worker(), name="formations"))
        if self.config.clock == "wall":
            self._tasks.append(asyncio.create_task(self._ticker(), name="ticker"))
        if self.config.webhook_url:
            self._tasks.append(asyncio.create_task(self._webhook_worker(), name="webhook"))
        if self.config.retention_s is not None:
            self._tasks.append(asyncio.create_task(self._retention(), name="retention"))
        from .feeds import open_feed

        for spec in self.config.feeds:
            feed = open_feed(spec, self, allow_remote=self.config.allow_remote_feeds)
            self.feeds.append(feed)
            feed.start()
        if self.config.demo:
            from .feeds import DemoReplay

            demo = DemoReplay(self, speed=self.config.demo_speed, loop=self.config.demo_loop)
            self.feeds.append(demo)
            demo.start()
        self.ready = True

    async def stop(self) -> None:
        """Stop feeds and workers, finish the queued batches, close the store."""
        self.ready = False
        for feed in self.feeds:
            await feed.stop()
        if self._queue is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._queue.join(), timeout=10)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.formations_idle(), timeout=30)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.formations is not None:
            await asyncio.to_thread(self.formations.close)
        if self.store is not None:
            await asyncio.to_thread(self.store.close)
            self.store = None

    def _rebuild(self) -> None:
        """Replay the stored fixes the detector state needs (events are already stored)."""
        assert self.store is not None
        n = 0
        t0 = time.perf_counter()
        for batch in self.store.replay_fixes():
            self.detector.push(batch)
            if self.formations is not None:
                # a crash between a commit and the tracker's may have lost formation
                # events: those the store does not have are stored (and alerted) now
                found, _, _ = self.formations.step([batch])
                known = self.store.known_events([e.id for e in found])
                self._joint_commit([e for e in found if e.id not in known])
            self._update_positions(batch)
            n += len(batch)
        if self.formations is not None:
            _, starts, horizon = self.formations.step([], want_starts=True)
            self._joint_starts, self._joint_horizon_ns = starts or {}, horizon
        self._take_snapshot(force=True)
        if n:
            log.info("rebuilt detector from %d stored fixes in %.1f s", n, time.perf_counter() - t0)

    # ------------------------------------------------------------------ ingest
    async def submit(self, batch: IngestBatch, *, wait: bool = True) -> dict[str, Any]:
        """Queue a batch. With ``wait`` return its acknowledgement after the commit:
        ``batch_id``, ``fixes``, ``rejected``, ``rejects_by_reason``, ``duplicate``."""
        assert self._queue is not None, "service not started"
        if not batch.received_ns:
            batch.received_ns = time.time_ns()
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[dict[str, Any]] | None = loop.create_future() if wait else None
        await self._queue.put(_Item(batch, fut))
        if fut is None:
            return {"queued": True}
        return await fut

    async def _ticker(self) -> None:
        assert self._queue is not None
        while True:
            await asyncio.sleep(1.0)
            if self._queue.empty():
                await self._queue.put(_Item(None, None, time.time_ns()))

    async def _pipeline(self) -> None:
        assert self._queue is not None
        q = self._queue
        loop = asyncio.get_running_loop()
        while True:
            first = await q.get()
            items = [first]
            n_fix = len(first.batch.fixes) if first.batch else 0
            # group what is already waiting (it queued while the last group was processed);
            # wait batch_interval_s for more only when configured
            deadline = loop.time() + self.config.batch_interval_s
            while n_fix < self.config.max_batch_fixes:
                if q.empty():
                    timeout = deadline - loop.time()
                    if timeout <= 0:
                        break
                    try:
                        item = await asyncio.wait_for(q.get(), timeout)
                    except TimeoutError:
                        break
                else:
                    item = q.get_nowait()
                items.append(item)
                n_fix += len(item.batch.fixes) if item.batch else 0
            try:
                acks, events, alerts, pos, fixes = await asyncio.to_thread(self._process, items)
            except Exception as exc:  # keep serving; the batches are not acknowledged
                log.exception("pipeline: commit failed; rebuilding the detector from the store")
                self.counters["commit_errors"] += 1
                for it in items:
                    if it.future is not None and not it.future.done():
                        it.future.set_exception(exc)
                await asyncio.to_thread(self._reset_detector)
            else:
                for it, ack in zip(items, acks, strict=True):
                    if it.future is not None and not it.future.done():
                        it.future.set_result(ack)
                self._publish(events, alerts, pos)
                if self.formations is not None:
                    if fixes is not None and len(fixes):
                        self._joint_parts.append(fixes)
                    ticks = [it.now_ns for it in items if it.batch is None]
                    self._joint_tick = max([self._joint_tick, *ticks])
                    self._joint_wake.set()
            finally:
                for _ in items:
                    q.task_done()

    # ------------------------------------------------------------------ formations
    async def _joint_worker(self) -> None:
        """Give the committed fixes to the formation tracker, beside the pipeline: it
        re-runs the batch ``formations`` every ``every_s`` of stream time (seconds of
        work on a busy feed), so zone alerts never wait for it. What arrived during a run
        is taken at once by the next step, so the tracker never falls behind by more than
        one run."""
        loop = asyncio.get_running_loop()
        while True:
            await self._joint_wake.wait()
            self._joint_wake.clear()
            parts, self._joint_parts = self._joint_parts, []
            tick = self._joint_tick
            if not parts and not tick:
                continue
            self._joint_busy = True
            try:
                events, alerts = await asyncio.to_thread(self._joint_step, parts, tick)
            except Exception:  # keep serving; the stored fixes replay on a restart
                log.exception("formations: tracker step failed")
            else:
                loop.call_soon(self._publish, events, alerts, [])
            finally:
                self._joint_busy = False

    @property
    def formations_pending(self) -> bool:
        """True while committed fixes wait for the formation tracker (or it runs)."""
        return self.formations is not None and bool(self._joint_parts or self._joint_busy)

    async def formations_idle(self) -> None:
        """Return when the formation tracker has taken every committed fix."""
        while self.formations_pending:
            await asyncio.sleep(0.02)

    def _joint_step(
        self, parts: list[FixBatch], tick: int
    ) -> tuple[list[StreamEvent], list[dict[str, Any]]]:
        """Push fixes (and the clock) into the tracker (its own process), store what it
        found (worker thread)."""
        assert self.formations is not None
        with self._joint_lock:
            events, starts, horizon = self.formations.step(parts, tick)
        if starts is not None:  # after a run: replaced whole, read by the pipeline
            self._joint_starts, self._joint_horizon_ns = starts, horizon
        alerts = self._joint_commit(events)
        self.counters["events"] += len(events)
        self.counters["alerts"] += len(alerts)
        return events, alerts

    def _joint_commit(self, events: list[StreamEvent]) -> list[dict[str, Any]]:
        """Store formation events and their alerts (idempotent: same ids)."""
        if not events:
            return []
        assert self.store is not None
        alerts = [make_alert(r, e) for e in events for r in match_rules(self.config.rules, e)]
        self.store.commit([], [], events, {}, alerts)
        return alerts

    def _with_joint_starts(
        self, window: dict[str, int], last: dict[str, int] | None
    ) -> dict[str, int]:
        """Window starts that also cover what the formation tracker needs: its snapshot
        (taken after each run), or for a track it has not run on yet, the newest fix
        less the tracker's longest base window (a start earlier than needed only replays
        more on a restart)."""
        starts = self._joint_starts
        horizon = self._joint_horizon_ns
        out = {}
        for k, v in window.items():
            need = starts.get(k)
            if need is None and last is not None:
                need = last[k] - horizon
            out[k] = v if need is None else min(v, need)
        return out

    def _reset_detector(self) -> None:
        with self._joint_lock:
            self.detector = self._new_detector()
            if self.formations is not None:
                self.formations.reset()
            self._joint_parts.clear()  # committed: the rebuild replays them
            self._rebuild()

    def _process(
        self, items: list[_Item]
    ) -> tuple[
        list[dict[str, Any]],
        list[StreamEvent],
        list[dict[str, Any]],
        list[dict[str, Any]],
        FixBatch | None,
    ]:
        """Detect, match, commit (worker thread). Returns acks, events, alerts, positions
        and the committed fixes (for the formation tracker)."""
        store = self.store
        assert store is not None
        batches = [it.batch for it in items if it.batch is not None]
        keys = [b.batch_key for b in batches if b.batch_key]
        known = store.known_batches(keys) if keys else {}
        seen: set[str] = set()
        new: list[IngestBatch] = []
        for b in batches:
            if b.batch_key and (b.batch_key in known or b.batch_key in seen):
                continue
            if b.batch_key:
                seen.add(b.batch_key)
            new.append(b)
        now_ns = time.time_ns()
        if self.config.clock == "wall":
            for b in new:
                self._reject_future(b, now_ns)
        ids = store.assign_ids(new)
        for b, (bid, _) in zip(new, ids, strict=True):
            # provenance "feed#batch:line": lines are numbered per delivery
            src = np.full(len(b.fixes), f"{b.feed}#{bid}", dtype=object).astype(str)
            object.__setattr__(b.fixes, "source", src)
        events: list[StreamEvent] = []
        fixes = concat_fixes([b.fixes for b in new]) if new else None
        if fixes is not None and len(fixes):
            events += self.detector.push(fixes)
        ticks = [it.now_ns for it in items if it.batch is None]
        if ticks:
            events += self.detector.advance(max(ticks))
        alerts = [make_alert(r, e) for e in events for r in match_rules(self.config.rules, e)]
        self._take_snapshot()
        touched = np.unique(fixes.track_id).tolist() if fixes is not None and len(fixes) else []
        dropped = self.detector.take_dropped()
        # a restart replays each track's stored fixes from its window start: written at
        # once for a new track, refreshed every STATE_REFRESH_S for the others (a start
        # older than needed only replays more; rewriting every touched track each commit
        # costs more than the detection at high rates)
        now_s = time.monotonic()
        if now_s - self._state_written_at >= STATE_REFRESH_S:
            write = sorted(self._state_dirty.union(touched))
            self._state_dirty.clear()
            self._state_written_at = now_s
        else:
            write = [t for t in touched if t not in self._state_known]
            self._state_dirty.update(touched)
        self._state_known.update(write)
        self._state_known.difference_update(dropped)
        self._state_dirty.difference_update(dropped)
        tids, starts, lasts = self.detector.track_state(write)
        window = dict(zip(tids, starts, strict=True))
        if self.formations is not None:  # a restart replays what the tracker needs too
            window = self._with_joint_starts(window, dict(zip(tids, lasts, strict=True)))
        last = dict(zip(tids, lasts, strict=True))
        event_batch = {e.id: ids[-1][0] for e in events} if ids else {}
        store.commit(new, ids, events, event_batch, alerts, window, last, dropped)
        # acknowledgements, in the order of the items
        by_key = {b.batch_key: (b, i) for b, i in zip(new, ids, strict=True) if b.batch_key}
        nb: IngestBatch
        acks: list[dict[str, Any]] = []
        new_ids = {id(b): i for b, i in zip(new, ids, strict=True)}
        for it in items:
            if it.batch is None:
                acks.append({})
                continue
            b = it.batch
            if id(b) in new_ids:
                acks.append(_ack(b, new_ids[id(b)][0], duplicate=False))
            elif b.batch_key is not None and b.batch_key in known:
                row = known[b.batch_key]
                acks.append(
                    {
                        "batch_id": row["batch_id"],
                        "fixes": row["n_fixes"],
                        "rejected": row["n_rejected"],
                        "duplicate": True,
                    }
                )
                self.counters["batches_duplicate"] += 1
            else:
                nb, (bid, _) = by_key[str(b.batch_key)]
                acks.append(_ack(nb, bid, duplicate=True))
                self.counters["batches_duplicate"] += 1
        n_fix = len(fixes) if fixes is not None else 0
        self.counters["batches"] += len(new)
        self.counters["fixes"] += n_fix
        self.counters["rejects"] += sum(len(b.rejects) for b in new)
        self.counters["events"] += len(events)
        self.counters["alerts"] += len(alerts)
        pos = self._update_positions(fixes) if fixes is not None and n_fix else []
        if new:
            lag = (time.time_ns() - min(b.received_ns for b in new)) / NS_PER_S
            self._commits.append((time.time(), n_fix, lag))
        return acks, events, alerts, pos, fixes

    def _take_snapshot(self, *, force: bool = False) -> None:
        """Detector figures for metrics and retention (pipeline thread; the oldest fix
        still needed is a pass over every held track, so at most every 5 s)."""
        now = time.monotonic()
        snap = dict(self._snapshot)
        snap.update(
            open_tracks=self.detector.open_tracks,
            open_visits=len(self.detector.open_visits()),
            detector=dict(self.detector.stats),
        )
        if force or now - self._snapshot_at >= 5.0:
            current = self.detector.window_start_ns()
            if self.formations is not None:  # retention keeps what the tracker needs
                current = self._with_joint_starts(current, None)
            snap["detector_state"] = self.detector.state_size()
            snap["min_window_ns"] = min(current.values()) if current else None
            self._snapshot_at = now
        self._snapshot = snap

    def _reject_future(self, b: IngestBatch, now_ns: int) -> None:
        f = b.fixes
        bad = f.t_ns > now_ns + int(FUTURE_TOLERANCE_S * NS_PER_S)
        if not bad.any():
            return
        for i in np.flatnonzero(bad).tolist():
            b.rejects.append(
                Reject(
                    int(f.line[i]),
                    f"{f.track_id[i]} t_ns={int(f.t_ns[i])}",
                    "future_time",
                    f"time is more than {FUTURE_TOLERANCE_S:g} s after the receive clock",
                )
            )
        b.fixes = _select(f, ~bad)

    def _update_positions(self, f: FixBatch) -> list[dict[str, Any]]:
        """Newest position per track (kept in memory for the map: a tuple per track, see
        :meth:`position_rows`). Returns the new positions as dicts when a subscriber
        wants ``positions`` messages, else ``[]``."""
        if len(f) == 0:
            return []
        order = np.lexsort((f.t_ns, f.track_id))
        tid = f.track_id[order]
        sel = order[np.flatnonzero(np.append(tid[1:] != tid[:-1], True))]
        tids = f.track_id[sel].tolist()
        t_ns = f.t_ns[sel].tolist()
        old = self.positions
        prev = [old.get(t) for t in tids]
        n_base = len(POSITION_FIELDS)
        attr_cols = []
        for j, key in enumerate(ATTR_COLUMNS):
            values = f.attrs.get(key)
            if values is None:
                col = [""] * len(tids)
                empty = np.ones(len(tids), dtype=bool)
            else:
                col = values[sel].tolist()
                empty = values[sel] == ""
            for i in np.flatnonzero(empty).tolist():  # attribute not in this fix: keep it
                p = prev[i]
                if p is not None:
                    col[i] = p[n_base + j]
            attr_cols.append(col)
        rows = zip(
            tids,
            t_ns,
            f.lon_deg[sel].tolist(),
            f.lat_deg[sel].tolist(),
            _nums(f.alt_m[sel]),
            _nums(f.speed_mps[sel]),
            _nums(f.heading_deg[sel]),
            f.fix_id[sel].tolist(),
            *attr_cols,
            strict=True,
        )
        keep = [r for r, p in zip(rows, prev, strict=True) if p is None or p[1] <= r[1]]
        positions = dict(old)  # copy on write: readers see a whole dict
        positions.update((r[0], r) for r in keep)
        newest = max(t_ns)
        if self.newest_fix_ns is None or newest > self.newest_fix_ns:
            self.newest_fix_ns = newest
        if self.newest_fix_ns is not None and len(positions) > 1000:
            # forget tracks not heard for POSITIONS_KEEP_S of stream time
            cut = self.newest_fix_ns - int(POSITIONS_KEEP_S * NS_PER_S)
            if min(v[1] for v in positions.values()) < cut:
                positions = {k: v for k, v in positions.items() if v[1] >= cut}
        self.positions = positions
        if not self.broker.wants("positions"):
            return []
        names = (*POSITION_FIELDS, *ATTR_COLUMNS)
        return [dict(zip(names, r, strict=True)) for r in keep]

    def position_rows(self, since_ns: int | None = None) -> list[dict[str, Any]]:
        """The newest position of every track held, as dicts (``track_id``, ``t_ns``,
        ``lon_deg``, ``lat_deg``, ``alt_m``, ``speed_mps``, ``heading_deg``, ``fix_id``
        and the track attributes :data:`~patrolwatch.serve.store.ATTR_COLUMNS`); those
        at or after ``since_ns`` only, if given."""
        names = (*POSITION_FIELDS, *ATTR_COLUMNS)
        return [
            dict(zip(names, r, strict=True))
            for r in self.positions.values()
            if since_ns is None or r[1] >= since_ns
        ]

    def _publish(
        self, events: list[StreamEvent], alerts: list[dict[str, Any]], pos: list[dict[str, Any]]
    ) -> None:
        if pos:
            self.broker.publish("positions", {"positions": pos})
        for e in events:
            self.broker.publish("event", e.to_dict())
        for a in alerts:
            self.broker.publish("alert", a)
        if alerts and self.config.webhook_url:
            self._webhook_wake.set()

    # ------------------------------------------------------------------ workers
    async def _webhook_worker(self) -> None:
        import httpx

        c = self.config
        assert c.webhook_url is not None
        sender = WebhookSender(
            c.webhook_url, c.webhook_secret, c.webhook_max_attempts, c.webhook_backoff_s
        )
        async with httpx.AsyncClient() as client:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._webhook_wake.wait(), timeout=sender.backoff_s)
                self._webhook_wake.clear()
                store = self.store
                if store is None:
                    return
                pending = await asyncio.to_thread(store.undelivered_alerts, sender.max_attempts)
                now = time.monotonic()
                for alert in pending:
                    if self._webhook_next.get(alert["id"], 0.0) > now:
                        continue
                    ok, err = await sender.deliver(client, alert)
                    await asyncio.to_thread(store.mark_delivered, alert["id"], ok=ok, error=err)
                    if ok:
                        self.counters["webhook_ok"] += 1
                        self._webhook_next.pop(alert["id"], None)
                    else:
                        self.counters["webhook_failed"] += 1
                        n = self._webhook_next.get(alert["id"] + ":n", 1.0) + 1
                        self._webhook_next[alert["id"] + ":n"] = n
                        self._webhook_next[alert["id"]] = now + sender.delay(int(n))
                        log.warning("webhook: %s failed (%s); will retry", alert["id"], err)

    async def _retention(self) -> None:
        c = self.config
        assert c.retention_s is not None
        while True:
            store = self.store
            if store is None:
                return
            now = time.time_ns() if c.clock == "wall" else (self.newest_fix_ns or 0)
            cutoff = now - int(c.retention_s * NS_PER_S)
            needed = self._snapshot.get("min_window_ns")
            if needed is not None:
                cutoff = min(cutoff, int(needed))
            n = await asyncio.to_thread(store.purge_fixes, cutoff)
            if n:
                log.info("retention: deleted %d fixes older than %s", n, cutoff)
            await asyncio.sleep(min(3600.0, max(1.0, c.retention_s / 10)))

    # ------------------------------------------------------------------ metrics
    def metrics(self) -> dict[str, Any]:
        """Throughput, lag, open tracks, counters."""
        now = time.time()
        recent = [(t, n, lag) for t, n, lag in self._commits if now - t <= 10.0]
        lags = sorted(lag for _, _, lag in recent)
        return {
            "fixes_per_s": sum(n for _, n, _ in recent) / 10.0,
            "commit_lag_s_p50": lags[len(lags) // 2] if lags else None,
            "commit_lag_s_max": lags[-1] if lags else None,
            "stream_lag_s": (time.time_ns() - self.newest_fix_ns) / NS_PER_S
            if self.newest_fix_ns is not None and self.config.clock == "wall"
            else None,
            "open_tracks": self._snapshot.get("open_tracks", 0),
            "open_visits": self._snapshot.get("open_visits", 0),
            "queue_batches": self._queue.qsize() if self._queue else 0,
            "sse_subscribers": self.broker.subscribers,
            "detector": self._snapshot.get("detector", {}),
            "detector_state": self._snapshot.get("detector_state", {}),
            **self.counters,
            "formations_pending": self.formations_pending,
            "uptime_s": (time.time_ns() - self.started_ns) / NS_PER_S,
        }


def _ack(b: IngestBatch, batch_id: int, *, duplicate: bool) -> dict[str, Any]:
    reasons: dict[str, int] = {}
    for r in b.rejects:
        reasons[r.reason] = reasons.get(r.reason, 0) + 1
    return {
        "batch_id": batch_id,
        "fixes": len(b.fixes),
        "rejected": len(b.rejects),
        "rejects_by_reason": reasons,
        "rejects": [
            {"line": r.line, "reason": r.reason, "message": r.message} for r in b.rejects[:100]
        ],
        "duplicate": duplicate,
    }


def _nums(x: np.ndarray) -> list[float | None]:
    """Floats as a list, NaN as ``None`` (JSON null)."""
    return [None if v != v else v for v in x.tolist()]
