"""The embedded store: one DuckDB file with fixes, events, alerts and the ingest log.

Durability contract: :meth:`Store.commit` writes a group of ingest batches with every
fix, reject, event, alert and track-state row they caused in **one transaction**; a
batch is acknowledged only after it returns. A batch carrying an idempotency key
(``batch_key``) that is already stored is not written again: its original ids are
returned, so a client that retries after a crash duplicates nothing.

Schema (version :data:`SCHEMA_VERSION`, migrated on open):

``ingest_log``
    One row per batch: ``batch_id``, ``batch_key`` (unique when given), ``feed``,
    ``received_ns``, ``committed_ns``, ``n_read``, ``n_fixes``, ``n_rejected``,
    ``rejects_by_reason`` (JSON), ``first_fix_id``, ``note``.
``fixes``
    One row per fix: ``fix_id``, ``batch_id``, ``track_id``, ``t_ns`` (UTC ns),
    ``lon_deg``, ``lat_deg``, ``alt_m``, ``speed_mps``, ``heading_deg``, ``source``,
    ``line``, ``operator``, ``type``, ``callsign``, ``source_kind``.
``rejects``
    Every input line not used: ``batch_id``, ``line``, ``raw``, ``reason``, ``message``.
``events``
    ``event_id`` (primary key), ``type``, ``track_id``, ``zone_id``, ``time_ns``,
    ``t0_ns``/``t1_ns`` (span; a formation event's from its start to its end),
    ``correction``, ``closed_by``, ``body`` (JSON of the
    :class:`~patrolwatch.serve.stream.StreamEvent`), ``batch_id``, ``created_ns``.
``alerts``
    ``alert_id`` (primary key), ``rule``, ``severity``, ``event_id``, ``track_id``,
    ``zone_id``, ``time_ns``, ``created_ns``, ``body`` (JSON), ``delivered_ns``,
    ``attempts``, ``last_error`` (webhook outbox).
``track_state``
    Per track, ``window_start_ns``: the oldest fix the detector still needs, so that a
    restart replays exactly the fixes that rebuild it.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ..errors import ConfigError
from .stream import FixBatch, StreamEvent, event_span

__all__ = ["ATTR_COLUMNS", "SCHEMA_VERSION", "IngestBatch", "Reject", "Store"]

SCHEMA_VERSION = 1
"""Version of the schema this code writes; older files are migrated on open."""

ATTR_COLUMNS = ("operator", "type", "callsign", "source_kind")
"""Per-fix attribute columns of ``fixes``."""

_MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE IF NOT EXISTS ingest_log (
            batch_id BIGINT PRIMARY KEY, batch_key VARCHAR UNIQUE, feed VARCHAR,
            received_ns BIGINT, committed_ns BIGINT, n_read BIGINT, n_fixes BIGINT,
            n_rejected BIGINT, rejects_by_reason VARCHAR, first_fix_id BIGINT, note VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS fixes (
            fix_id BIGINT, batch_id BIGINT, track_id VARCHAR, t_ns BIGINT,
            lon_deg DOUBLE, lat_deg DOUBLE, alt_m DOUBLE, speed_mps DOUBLE, heading_deg DOUBLE,
            source VARCHAR, line BIGINT, operator VARCHAR, type VARCHAR, callsign VARCHAR,
            source_kind VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS rejects (
            batch_id BIGINT, line BIGINT, raw VARCHAR, reason VARCHAR, message VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS events (
            event_id VARCHAR PRIMARY KEY, type VARCHAR, track_id VARCHAR, zone_id VARCHAR,
            time_ns BIGINT, t0_ns BIGINT, t1_ns BIGINT, correction VARCHAR, closed_by VARCHAR,
            body VARCHAR, batch_id BIGINT, created_ns BIGINT)""",
        """CREATE TABLE IF NOT EXISTS alerts (
            alert_id VARCHAR PRIMARY KEY, rule VARCHAR, severity VARCHAR, event_id VARCHAR,
            track_id VARCHAR, zone_id VARCHAR, time_ns BIGINT, created_ns BIGINT, body VARCHAR,
            delivered_ns BIGINT, attempts INTEGER, last_error VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS track_state (
            track_id VARCHAR PRIMARY KEY, window_start_ns BIGINT, last_ns BIGINT)""",
    ],
}


@dataclass(frozen=True)
class Reject:
    """An input line that was not used: 1-based ``line``, the ``raw`` text, a ``reason``
    code (``bad_checksum``, ``missing_fragment``, ``bad_json``, ...) and a message."""

    line: int
    raw: str
    reason: str
    message: str


@dataclass
class IngestBatch:
    """What one feed delivered at once, decoded: its fixes and its rejected lines.

    ``n_read == len(fixes) + len(rejects) + n_ignored`` (``n_ignored`` counts lines that
    carry no position by design, e.g. AIS static reports, which are not errors).
    """

    feed: str
    fixes: FixBatch
    rejects: list[Reject] = field(default_factory=list)
    n_read: int = 0
    n_ignored: int = 0
    batch_key: str | None = None
    received_ns: int = 0
    note: str = ""


def _now_ns() -> int:
    return time.time_ns()


class Store:
    """A DuckDB file holding everything the service ingests and detects.

    Parameters
    ----------
    path : str or os.PathLike
        The database file (created if missing). ``":memory:"`` for tests only: nothing
        survives the process.

    Notes
    -----
    One :class:`Store` per file and process. Methods are thread-safe: writes are
    serialised by a lock, reads use their own cursor.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        try:
            self._con = duckdb.connect(self.path)
        except duckdb.IOException as exc:
            raise ConfigError(
                f"cannot open database {self.path}: {exc} (is another patrolwatch serve using it?)"
            ) from exc
        self._lock = threading.Lock()
        self._migrate()
        self.next_fix_id = self._scalar("SELECT coalesce(max(fix_id), -1) + 1 FROM fixes")
        self.next_batch_id = self._scalar("SELECT coalesce(max(batch_id), -1) + 1 FROM ingest_log")

    # ------------------------------------------------------------------ schema
    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> int:
        row = self._con.cursor().execute(sql, list(params)).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    @property
    def schema_version(self) -> int:
        """The file's schema version."""
        return self._scalar("SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'schema_version'")

    def _migrate(self) -> None:
        con = self._con
        con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise ConfigError(
                f"{self.path} has schema version {version}, newer than this patrolwatch "
                f"({SCHEMA_VERSION}); upgrade patrolwatch or use another --db"
            )
        for v in range(version + 1, SCHEMA_VERSION + 1):
            con.execute("BEGIN TRANSACTION")
            try:
                for sql in _MIGRATIONS[v]:
                    con.execute(sql)
                con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(v)])
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Checkpoint and close the file."""
        with self._lock:
            try:
                self._con.execute("CHECKPOINT")
            finally:
                self._con.close()

    # ------------------------------------------------------------------ writes
    def known_batches(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Stored batches among these idempotency keys: key -> ingest-log row."""
        if not keys:
            return {}
        cur = self._con.cursor()
        rows = cur.execute(
            "SELECT * FROM ingest_log WHERE batch_key IN (SELECT unnest(?))", [list(keys)]
        ).fetchall()
        names = [d[0] for d in cur.description or ()]
        return {r[1]: dict(zip(names, r, strict=True)) for r in rows}

    def known_events(self, ids: Sequence[str]) -> set[str]:
        """The event ids among these that are stored."""
        if not ids:
            return set()
        cur = self._con.cursor()
        rows = cur.execute(
            "SELECT event_id FROM events WHERE event_id IN (SELECT unnest(?))", [list(ids)]
        ).fetchall()
        return {r[0] for r in rows}

    def assign_ids(self, batches: Sequence[IngestBatch]) -> list[tuple[int, int]]:
        """Reserve ``(batch_id, first_fix_id)`` for each batch and renumber its fixes.

        Ids are reserved in memory; a crash before :meth:`commit` leaves no gap on disk
        (the next start counts from the stored maximum).
        """
        out = []
        with self._lock:
            for b in batches:
                bid, first = self.next_batch_id, self.next_fix_id
                n = len(b.fixes)
                object.__setattr__(b.fixes, "fix_id", np.arange(first, first + n, dtype=np.int64))
                self.next_batch_id += 1
                self.next_fix_id += n
                out.append((bid, first))
        return out

    def commit(
        self,
        batches: Sequence[IngestBatch],
        ids: Sequence[tuple[int, int]],
        events: Sequence[StreamEvent] = (),
        event_batch: Mapping[str, int] | None = None,
        alerts: Sequence[Mapping[str, Any]] = (),
        window_start_ns: Mapping[str, int] | None = None,
        last_ns: Mapping[str, int] | None = None,
        dropped_tracks: Sequence[str] = (),
    ) -> None:
        """Write the batches and everything they caused in one transaction.

        Raises
        ------
        duckdb.Error
            Nothing is written then (the transaction is rolled back).
        """
        now = _now_ns()
        log_rows = []
        fix_tables = []
        reject_rows = []
        for b, (bid, first) in zip(batches, ids, strict=True):
            reasons: dict[str, int] = {}
            for r in b.rejects:
                reasons[r.reason] = reasons.get(r.reason, 0) + 1
                reject_rows.append((bid, r.line, r.raw, r.reason, r.message))
            log_rows.append(
                (
                    bid,
                    b.batch_key,
                    b.feed,
                    b.received_ns or now,
                    now,
                    b.n_read,
                    len(b.fixes),
                    len(b.rejects),
                    json.dumps(reasons, sort_keys=True),
                    first,
                    b.note,
                )
            )
            if len(b.fixes):
                fix_tables.append(_fix_table(b.fixes, bid))
        event_rows = [_event_row(e, (event_batch or {}).get(e.id, -1), now) for e in events]
        alert_rows = [
            (
                a["id"],
                a["rule"],
                a["severity"],
                a["event_id"],
                a["track_id"],
                a["zone_id"],
                a["time_ns"],
                now,
                json.dumps(a, default=str),
                None,
                0,
                None,
            )
            for a in alerts
        ]
        with self._lock:
            con = self._con
            con.execute("BEGIN TRANSACTION")
            try:
                if log_rows:
                    con.executemany(
                        "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", log_rows
                    )
                if fix_tables:
                    table = pa.concat_tables(fix_tables)
                    con.register("_new_fixes", table)
                    con.execute("INSERT INTO fixes SELECT * FROM _new_fixes")
                    con.unregister("_new_fixes")
                if reject_rows:
                    con.executemany("INSERT INTO rejects VALUES (?, ?, ?, ?, ?)", reject_rows)
                if event_rows:  # one row per id: the last word (a correction) wins
                    by_id = {row[0]: row for row in event_rows}
                    _insert_rows(con, "INSERT OR REPLACE INTO events", _EVENT_COLS, by_id.values())
                if alert_rows:  # an alert is stored once: the first wins
                    once: dict[str, tuple[Any, ...]] = {}
                    for row in alert_rows:
                        once.setdefault(row[0], row)
                    _insert_rows(con, "INSERT OR IGNORE INTO alerts", _ALERT_COLS, once.values())
                if window_start_ns:
                    keys = list(window_start_ns)
                    lasts = last_ns or {}
                    state = pa.table(
                        {
                            "track_id": pa.array(keys, pa.string()),
                            "window_start_ns": pa.array(
                                [int(window_start_ns[k]) for k in keys], pa.int64()
                            ),
                            "last_ns": pa.array(
                                [int(lasts.get(k, window_start_ns[k])) for k in keys], pa.int64()
                            ),
                        }
                    )
                    con.register("_new_state", state)
                    con.execute("INSERT OR REPLACE INTO track_state SELECT * FROM _new_state")
                    con.unregister("_new_state")
                if dropped_tracks:
                    con.execute(
                        "DELETE FROM track_state WHERE track_id IN (SELECT unnest(?))",
                        [list(dropped_tracks)],
                    )
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise

    def mark_delivered(self, alert_id: str, *, ok: bool, error: str = "") -> None:
        """Record a webhook delivery attempt of an alert."""
        with self._lock:
            self._con.execute(
                "UPDATE alerts SET attempts = attempts + 1, "
                "delivered_ns = CASE WHEN ? THEN ? ELSE delivered_ns END, last_error = ? "
                "WHERE alert_id = ?",
                [ok, _now_ns(), error or None, alert_id],
            )

    def purge_fixes(self, older_than_ns: int) -> int:
        """Delete fixes older than ``older_than_ns`` (retention); returns how many."""
        with self._lock:
            n = self._scalar("SELECT count(*) FROM fixes WHERE t_ns < ?", [older_than_ns])
            if n:
                self._con.execute("DELETE FROM fixes WHERE t_ns < ?", [older_than_ns])
            return n

    # ------------------------------------------------------------------ reads
    @contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self._con.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a read-only query as dicts."""
        with self._cursor() as cur:
            rows = cur.execute(sql, list(params)).fetchall()
            names = [d[0] for d in cur.description or ()]
        return [dict(zip(names, r, strict=True)) for r in rows]

    def count(self, table: str) -> int:
        """Rows in one of the store's tables."""
        if table not in ("fixes", "events", "alerts", "ingest_log", "rejects", "track_state"):
            raise ConfigError(f"unknown table {table!r}")
        with self._cursor() as cur:
            row = cur.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(row[0]) if row else 0

    def events(
        self,
        *,
        t0_ns: int | None = None,
        t1_ns: int | None = None,
        zone_id: str | None = None,
        track_id: str | None = None,
        types: Sequence[str] | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Events overlapping ``[t0_ns, t1_ns]``, newest first, as stored bodies."""
        where, params = _filters(t0_ns, t1_ns, zone_id, track_id, "t0_ns", "t1_ns")
        if types:
            where.append("type IN (SELECT unnest(?))")
            params.append(list(types))
        sql = "SELECT body FROM events"
        sql += (" WHERE " + " AND ".join(where)) if where else ""
        sql += " ORDER BY time_ns DESC, event_id LIMIT ?"
        params.append(int(limit))
        return [json.loads(r["body"]) for r in self.query(sql, params)]

    def alerts(
        self,
        *,
        t0_ns: int | None = None,
        t1_ns: int | None = None,
        zone_id: str | None = None,
        track_id: str | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Alerts with event time in ``[t0_ns, t1_ns]``, newest first."""
        where, params = _filters(t0_ns, t1_ns, zone_id, track_id, "time_ns", "time_ns")
        sql = "SELECT body, delivered_ns, attempts, last_error FROM alerts"
        sql += (" WHERE " + " AND ".join(where)) if where else ""
        sql += " ORDER BY time_ns DESC, alert_id LIMIT ?"
        params.append(int(limit))
        out = []
        for r in self.query(sql, params):
            body = json.loads(r["body"])
            body["delivery"] = {
                "delivered_ns": r["delivered_ns"],
                "attempts": r["attempts"],
                "last_error": r["last_error"],
            }
            out.append(body)
        return out

    def undelivered_alerts(self, max_attempts: int, limit: int = 100) -> list[dict[str, Any]]:
        """Alerts not yet delivered to the webhook, oldest first."""
        rows = self.query(
            "SELECT body FROM alerts WHERE delivered_ns IS NULL AND attempts < ? "
            "ORDER BY created_ns LIMIT ?",
            [max_attempts, limit],
        )
        return [json.loads(r["body"]) for r in rows]

    def track_fixes(
        self,
        track_id: str,
        *,
        t0_ns: int | None = None,
        t1_ns: int | None = None,
        limit: int = 10_000,
    ) -> list[dict[str, Any]]:
        """One track's fixes in time order (the newest ``limit``)."""
        where = ["track_id = ?"]
        params: list[Any] = [track_id]
        if t0_ns is not None:
            where.append("t_ns >= ?")
            params.append(t0_ns)
        if t1_ns is not None:
            where.append("t_ns <= ?")
            params.append(t1_ns)
        sql = (
            "SELECT * FROM (SELECT * FROM fixes WHERE "
            + " AND ".join(where)
            + " ORDER BY t_ns DESC, fix_id DESC LIMIT ?) ORDER BY t_ns, fix_id"
        )
        params.append(int(limit))
        return self.query(sql, params)

    def fix(self, fix_id: int) -> dict[str, Any] | None:
        """One fix by id, with its batch's feed (``None`` when unknown or purged)."""
        rows = self.query(
            "SELECT f.*, l.feed, l.received_ns FROM fixes f LEFT JOIN ingest_log l "
            "USING (batch_id) WHERE fix_id = ?",
            [fix_id],
        )
        return rows[0] if rows else None

    def ingest_log(self, limit: int = 200) -> list[dict[str, Any]]:
        """The newest ingest-log rows."""
        rows = self.query("SELECT * FROM ingest_log ORDER BY batch_id DESC LIMIT ?", [limit])
        for r in rows:
            r["rejects_by_reason"] = json.loads(r["rejects_by_reason"] or "{}")
        return rows

    def rejects(self, batch_id: int | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Rejected input lines (of one batch, or the newest)."""
        if batch_id is None:
            return self.query("SELECT * FROM rejects ORDER BY batch_id DESC LIMIT ?", [limit])
        return self.query(
            "SELECT * FROM rejects WHERE batch_id = ? ORDER BY line LIMIT ?", [batch_id, limit]
        )

    def latest_positions(self, since_ns: int, limit: int = 5000) -> list[dict[str, Any]]:
        """The newest fix of every track seen since ``since_ns``."""
        return self.query(
            "SELECT track_id, arg_max(t_ns, t_ns) AS t_ns, arg_max(lon_deg, t_ns) AS lon_deg, "
            "arg_max(lat_deg, t_ns) AS lat_deg, arg_max(alt_m, t_ns) AS alt_m, "
            "arg_max(speed_mps, t_ns) AS speed_mps, arg_max(heading_deg, t_ns) AS heading_deg, "
            "max(operator) AS operator, max(type) AS type, max(callsign) AS callsign, "
            "max(source_kind) AS source_kind "
            "FROM fixes WHERE t_ns >= ? GROUP BY track_id ORDER BY track_id LIMIT ?",
            [since_ns, limit],
        )

    def replay_fixes(self) -> Iterator[FixBatch]:
        """Fixes a restart must replay to rebuild the detector: per track, from its
        stored ``window_start_ns``; in (time, id) order, in batches."""
        with self._cursor() as cur:
            cur.execute(
                "SELECT f.* FROM fixes f JOIN track_state s USING (track_id) "
                "WHERE f.t_ns >= s.window_start_ns ORDER BY f.t_ns, f.fix_id"
            )
            while True:
                rows = cur.fetchmany(50_000)
                if not rows:
                    break
                names = [d[0] for d in cur.description or ()]
                yield _rows_to_batch(names, rows)


def _filters(
    t0: int | None, t1: int | None, zone: str | None, track: str | None, lo: str, hi: str
) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if t0 is not None:
        where.append(f"{hi} >= ?")
        params.append(t0)
    if t1 is not None:
        where.append(f"{lo} <= ?")
        params.append(t1)
    if zone is not None:
        where.append("zone_id = ?")
        params.append(zone)
    if track is not None:
        where.append("track_id = ?")
        params.append(track)
    return where, params


def _fix_table(f: FixBatch, batch_id: int) -> pa.Table:
    n = len(f)

    def attr(name: str) -> npt.NDArray[Any]:
        values = f.attrs.get(name)
        return np.full(n, "", dtype=object) if values is None else values.astype(object)

    def f64(x: npt.NDArray[np.float64]) -> pa.Array:
        return pa.array(x, pa.float64(), from_pandas=True)

    return pa.table(
        {
            "fix_id": pa.array(f.fix_id, pa.int64()),
            "batch_id": pa.array(np.full(n, batch_id, np.int64)),
            "track_id": pa.array(f.track_id.astype(object), pa.string()),
            "t_ns": pa.array(f.t_ns, pa.int64()),
            "lon_deg": f64(f.lon_deg),
            "lat_deg": f64(f.lat_deg),
            "alt_m": f64(f.alt_m),
            "speed_mps": f64(f.speed_mps),
            "heading_deg": f64(f.heading_deg),
            "source": pa.array(f.source.astype(object), pa.string()),
            "line": pa.array(f.line, pa.int64()),
            **{name: pa.array(attr(name), pa.string()) for name in ATTR_COLUMNS},
        }
    )


def _rows_to_batch(names: list[str], rows: list[tuple[Any, ...]]) -> FixBatch:
    cols = {name: [r[i] for r in rows] for i, name in enumerate(names)}

    def f64(name: str) -> npt.NDArray[np.float64]:
        return np.asarray([np.nan if v is None else v for v in cols[name]], dtype=np.float64)

    return FixBatch(
        track_id=np.asarray(cols["track_id"], dtype=str),
        t_ns=np.asarray(cols["t_ns"], dtype=np.int64),
        lon_deg=f64("lon_deg"),
        lat_deg=f64("lat_deg"),
        alt_m=f64("alt_m"),
        speed_mps=f64("speed_mps"),
        heading_deg=f64("heading_deg"),
        fix_id=np.asarray(cols["fix_id"], dtype=np.int64),
        source=np.asarray(cols["source"], dtype=str),
        line=np.asarray(cols["line"], dtype=np.int64),
        attrs={k: np.asarray([v or "" for v in cols[k]], dtype=str) for k in ATTR_COLUMNS},
    )


_EVENT_COLS = (
    ("event_id", pa.string()),
    ("type", pa.string()),
    ("track_id", pa.string()),
    ("zone_id", pa.string()),
    ("time_ns", pa.int64()),
    ("t0_ns", pa.int64()),
    ("t1_ns", pa.int64()),
    ("correction", pa.string()),
    ("closed_by", pa.string()),
    ("body", pa.string()),
    ("batch_id", pa.int64()),
    ("created_ns", pa.int64()),
)
_ALERT_COLS = (
    ("alert_id", pa.string()),
    ("rule", pa.string()),
    ("severity", pa.string()),
    ("event_id", pa.string()),
    ("track_id", pa.string()),
    ("zone_id", pa.string()),
    ("time_ns", pa.int64()),
    ("created_ns", pa.int64()),
    ("body", pa.string()),
    ("delivered_ns", pa.int64()),
    ("attempts", pa.int32()),
    ("last_error", pa.string()),
)


def _insert_rows(
    con: duckdb.DuckDBPyConnection,
    statement: str,
    columns: Sequence[tuple[str, pa.DataType]],
    rows: Iterable[tuple[Any, ...]],
) -> None:
    """``statement SELECT * FROM`` the rows as one Arrow table (``executemany`` runs one
    statement per row: seconds for a few thousand rows with a primary key)."""
    data = list(rows)
    table = pa.table(
        {name: pa.array([r[i] for r in data], typ) for i, (name, typ) in enumerate(columns)}
    )
    con.register("_new_rows", table)
    try:
        con.execute(f"{statement} SELECT * FROM _new_rows")
    finally:
        con.unregister("_new_rows")


def _event_row(e: StreamEvent, batch_id: int, now: int) -> tuple[Any, ...]:
    t0, t1 = event_span(e)
    if e.type.startswith("formation_"):  # a formation episode spans its first to last step
        t0, t1 = int(e.row.get("start_time", t0)), int(e.row.get("end_time", t1))
    return (
        e.id,
        e.type,
        e.track_id,
        e.zone_id,
        e.time_ns,
        t0,
        t1,
        e.correction,
        e.closed_by,
        json.dumps(e.to_dict()),
        batch_id,
        now,
    )
