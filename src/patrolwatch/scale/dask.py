"""The detectors on a Dask cluster, with results identical to the single-machine engine.

Partitioning
------------
Per-track detectors (:func:`crossings`) only ever look at one
track at a time. Their input is partitioned by a hash of the track id
(:func:`~patrolwatch.scale._ingest.bucket_of`): every fix of a track, from every input
file, goes to the same partition, so each partition's events are exactly the
single-machine events of its tracks. The final table is the concatenation of the
partitions' tables, sorted the way the single-machine engine sorts (by ``track_id``
first, each track's rows in their own order).

Reading is two-staged (see :mod:`patrolwatch.scale._ingest`): one task per input file
parses and checks rows and cuts them into partitions; one task per partition then runs
the reader's per-track stage (duplicates across files, implied speed, per-track
attributes). Rejected rows, notes and the ingest report are those of
:func:`patrolwatch.read_tracks` on the same file list.

Memory
------
A task holds one input file (stage 1) or one partition (stage 2 and detectors). The
number of partitions is chosen so that a partition holds about
:data:`DEFAULT_FIXES_PER_PARTITION` fixes. The partitions' tracks stay on the workers for
the run; Dask spills them to the worker's local disk past 70 % of its memory limit
(``distributed.worker.memory.spill``), pauses the worker at 80 % and restarts it at 95 %.
See ``docs/scale.md``.

Detectors that compare tracks (formations, gaps) are partitioned in time, with a halo,
in :mod:`patrolwatch.scale._timeparts` and :mod:`patrolwatch.scale._formations`
(``docs/scale.md``, "Detectors that compare tracks"); encounters is not yet.

Failures
--------
Every task is a pure function of its inputs: when a worker dies, the scheduler runs its
lost tasks again on the others (up to ``distributed.scheduler.allowed-failures`` times)
and a ``LocalCluster``'s nanny starts a new worker.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from ..core.events import Events
from ..core.times import to_iso_z
from ..core.tracks import Tracks
from ..core.zones import Zones
from ..detect.crossings import crossings as _local_crossings
from ..errors import ConfigError
from ..io._rejects import IngestReport, Rejects
from . import _ingest
from ._inputs import expand_inputs

try:
    import distributed
except ImportError as _exc:  # pragma: no cover - depends on the environment
    raise ConfigError(
        "the dask engine needs Dask: pip install 'patrolwatch[dask]' (dask[distributed] >= 2024.1)"
    ) from _exc

if TYPE_CHECKING:
    from distributed import Client, Future

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

PathLike = str | os.PathLike[str]
Format = Literal["auto", "csv", "parquet"]

DEFAULT_FIXES_PER_PARTITION = 2_000_000
"""Fixes per partition aimed at when the number of partitions is not given. A worker needs
about 150-200 bytes per fix of the partitions it holds, plus about 0.3 GB (measured on
10 million fixes, see ``docs/scale.md``): about 0.4 GB per default partition."""

SMALL_EVENTS_ROWS = 1_000_000
"""Event tables up to this many rows are also written as one CSV next to the partitioned
Parquet output (``events.csv``)."""

_TASK_DELAY_S = 0.0
"""Seconds each partition task sleeps before working: a test hook (set on the workers
with :func:`_set_task_delay`) that makes a run long enough to kill a worker during it."""


def _set_task_delay(seconds: float) -> None:
    """Set :data:`_TASK_DELAY_S` in this process (run on workers by tests)."""
    global _TASK_DELAY_S
    _TASK_DELAY_S = float(seconds)


def _maybe_sleep() -> None:
    if _TASK_DELAY_S > 0:
        time.sleep(_TASK_DELAY_S)


# =============================================================================== inputs
def _estimate_rows(paths: Sequence[str]) -> int:
    """Rows of the inputs: from Parquet footers, else about 60 bytes per CSV row."""
    total = 0
    for path in paths:  # per file (not per row): metadata only
        try:
            total += pq.ParquetFile(path).metadata.num_rows
        except Exception:  # not Parquet (or unreadable: the reader will say why)
            with suppress(OSError):
                total += os.path.getsize(path) // 60
    return total


# =============================================================================== cluster
@contextmanager
def connect(
    scheduler: str | Client | None = None,
    *,
    n_workers: int | None = None,
    memory_limit: str | float = "auto",
) -> Iterator[Client]:
    """A Dask client: to a running scheduler, or to a new local cluster.

    Parameters
    ----------
    scheduler : str or distributed.Client, optional
        ``None`` or ``"local"`` starts a :class:`distributed.LocalCluster` sized to this
        machine (one single-threaded worker process per core, the machine's memory split
        between them) and closes it at the end. An address (``"tcp://10.0.0.5:8786"``)
        connects to a running scheduler. A ``Client`` is used as it is (and not closed).
    n_workers : int, optional
        Worker processes of a new local cluster (default: the number of cores).
    memory_limit : str or float
        Memory limit of each local worker (``"auto"``: the machine's memory divided by
        ``n_workers``; or bytes, or text such as ``"4GiB"``).

    Yields
    ------
    distributed.Client
    """
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    if scheduler is None or scheduler == "local":
        cluster = distributed.LocalCluster(  # type: ignore[no-untyped-call]  # untyped
            n_workers=n_workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            memory_limit=memory_limit,
            dashboard_address=":0",
        )
        client = distributed.Client(cluster)  # type: ignore[no-untyped-call]  # untyped
        try:
            yield client
        finally:
            client.close()  # type: ignore[no-untyped-call]  # untyped
            cluster.close()
        return
    if not isinstance(scheduler, str) or ("://" not in scheduler and ":" not in scheduler):
        raise ConfigError(
            f"scheduler {scheduler!r}: give 'local' or an address such as tcp://host:8786"
        )
    try:
        client = distributed.Client(scheduler, timeout="30s")  # type: ignore[no-untyped-call]
    except OSError as exc:
        raise ConfigError(
            f"cannot reach the Dask scheduler at {scheduler}: {exc}; start it with "
            "'dask scheduler' (see docs/scale.md) or use --scheduler local"
        ) from exc
    try:
        yield client
    finally:
        client.close()  # type: ignore[no-untyped-call]  # distributed is untyped


def _gather(client: Client, futures: object) -> Any:
    """``client.gather`` (untyped in distributed)."""
    return client.gather(futures)  # type: ignore[no-untyped-call]  # distributed is untyped


def _scatter(client: Client, data: object, *, broadcast: bool = False) -> Any:
    """``client.scatter`` (untyped in distributed)."""
    return client.scatter(data, broadcast=broadcast)  # type: ignore[no-untyped-call]  # idem


def _n_workers(client: Client) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))


def _default_partitions(client: Client, n_fixes: int) -> int:
    """Enough partitions for :data:`DEFAULT_FIXES_PER_PARTITION` fixes each, at least two
    per worker, and a multiple of the number of workers (so that none idles at the end)."""
    w = _n_workers(client)
    n = max(2 * w, math.ceil(n_fixes / DEFAULT_FIXES_PER_PARTITION))
    return -(-n // w) * w


# =============================================================================== tracks
@dataclass
class PartitionedTracks:
    """Tracks spread over a cluster, partitioned by a hash of the track id.

    Attributes
    ----------
    client : distributed.Client
    futures : list of distributed.Future
        One per partition, each resolving to a :class:`~patrolwatch.Tracks` holding
        whole tracks (every fix of each of its tracks).
    sources : tuple of str
        The input files (``Tracks.sources`` of every partition).
    """

    client: Client
    futures: list[Future[Any]]
    sources: tuple[str, ...]

    @property
    def n_partitions(self) -> int:
        """Number of partitions."""
        return len(self.futures)

    def compute(self) -> Tracks:
        """All tracks in one :class:`~patrolwatch.Tracks` on this machine (small data)."""
        parts: list[Tracks] = _gather(self.client, self.futures)
        return _concat_tracks(parts, self.sources)


def _concat_tracks(parts: Sequence[Tracks], sources: tuple[str, ...]) -> Tracks:
    """One Tracks from partitions holding disjoint sets of whole tracks."""
    ids: npt.NDArray[np.str_] = (
        np.concatenate([p.track_ids[p.track_index] for p in parts]) if parts else np.zeros(0, str)
    )
    keys = list(dict.fromkeys(k for p in parts for k in p.attrs))
    attrs = {k: np.concatenate([p.attr(k)[p.track_index] for p in parts]).astype(str) for k in keys}

    def cat(name: str) -> npt.NDArray[np.generic]:
        arrays: list[npt.NDArray[np.generic]] = [getattr(p, name) for p in parts]
        return np.concatenate(arrays) if arrays else np.zeros(0)

    return Tracks.from_arrays(
        ids,
        cat("t_ns").astype(np.int64),
        cat("lon_deg"),
        cat("lat_deg"),
        alt_m=cat("alt_m"),
        speed_mps=cat("speed_mps"),
        heading_deg=cat("heading_deg"),
        src_file=cat("src_file"),
        src_line=cat("src_line"),
        sources=sources,
        attrs=attrs,
    )


class PartitionedRead(NamedTuple):
    """What :func:`read_tracks` returns, like :class:`~patrolwatch.TrackRead`: the tracks
    (on the cluster), and the rejected rows and ingest report (on this machine)."""

    tracks: PartitionedTracks
    rejects: Rejects
    report: IngestReport


def _meta(fr: _ingest.FileRead) -> _ingest.FileRead:
    return fr.meta()


def _piece(fr: _ingest.FileRead, b: int) -> object:
    return fr.pieces[b]


def _assemble(
    b: int,
    paths: tuple[str, ...],
    format: Format,
    columns: Mapping[str, str] | None,
    max_speed_mps: float | None,
    *pieces: object,
) -> _ingest.BucketRead:
    _maybe_sleep()
    return _ingest.assemble_bucket(
        pieces,  # type: ignore[arg-type]  # _Part pieces from _piece
        paths,
        format=format,
        columns=columns,
        max_speed_mps=max_speed_mps,
    )


@dataclass
class _BucketMeta:
    n_fixes: int
    n_tracks: int
    t_min: int
    t_max: int
    rejects: _ingest.RejectRows
    notes: list[str]


def _bucket_meta(br: _ingest.BucketRead) -> _BucketMeta:
    t = br.tracks.t_ns
    return _BucketMeta(
        len(br.tracks),
        br.tracks.n_tracks,
        int(t.min()) if t.size else 0,
        int(t.max()) if t.size else 0,
        br.rejects,
        br.notes,
    )


def _bucket_tracks(br: _ingest.BucketRead) -> Tracks:
    return br.tracks


def read_tracks(
    paths: PathLike | Sequence[PathLike],
    *,
    client: Client,
    n_partitions: int | None = None,
    format: Format = "auto",
    columns: Mapping[str, str] | None = None,
    assume_tz: str | None = None,
    max_speed_mps: float | None = None,
    strict: bool = False,
) -> PartitionedRead:
    """Read CSV or Parquet files on the cluster into tracks partitioned by track id.

    Parameters
    ----------
    paths : path or sequence of paths
        Files, folders (e.g. a hive-partitioned Parquet dataset) or globs, expanded by
        :func:`expand_inputs`. Every worker must see them at the same paths (a shared
        or network file system).
    client : distributed.Client
        See :func:`connect`.
    n_partitions : int, optional, >= 1
        Partitions of the tracks (default: enough for about
        :data:`DEFAULT_FIXES_PER_PARTITION` fixes each, and at least two per worker).
    format, columns, assume_tz, max_speed_mps, strict
        As for :func:`patrolwatch.read_tracks`.

    Returns
    -------
    PartitionedRead
        ``(tracks, rejects, report)``: the same rows used and rejected, with the same
        reasons, messages and notes, as :func:`patrolwatch.read_tracks` on the expanded
        file list.

    Raises
    ------
    InputError, SchemaError, NaiveTimeError, ParseError, ConfigError
        As :func:`patrolwatch.read_tracks` (for the same file, when several are bad).
    """
    path_list = expand_inputs(paths)
    _ingest.check_read_options(format, columns, assume_tz, max_speed_mps)
    if n_partitions is None:
        n_partitions = _default_partitions(client, _estimate_rows(path_list))
    if n_partitions < 1:
        raise ConfigError(f"n_partitions must be >= 1, got {n_partitions}")
    cols = dict(columns) if columns is not None else None
    reads = [
        client.submit(
            _ingest.read_file,
            k,
            path,
            n_partitions,
            format=format,
            columns=cols,
            assume_tz=assume_tz,
            pure=False,
        )
        for k, path in enumerate(path_list)
    ]
    metas: list[_ingest.FileRead] = _gather(
        client, [client.submit(_meta, r, pure=False) for r in reads]
    )
    for stage in ("load", "process"):  # the single-machine reader loads every file first
        for m in metas:
            if m.stage == stage and m.error is not None:
                raise m.error.error()
    paths_t = tuple(path_list)
    buckets = []
    for b in range(n_partitions):  # per partition (not per row)
        pieces = [client.submit(_piece, r, b, pure=False) for r in reads]
        buckets.append(
            client.submit(_assemble, b, paths_t, format, cols, max_speed_mps, *pieces, pure=False)
        )
    del reads
    bmetas: list[_BucketMeta] = _gather(
        client, [client.submit(_bucket_meta, f, pure=False) for f in buckets]
    )
    rej = _ingest.RejectRows()
    for m in metas:
        rej.extend(m.rejects)
    for bm in bmetas:
        rej.extend(bm.rejects)
    order = sorted(range(len(rej.line)), key=lambda i: (rej.src[i], rej.line[i]))
    rejects = Rejects()
    for i in order:  # per rejected row: the reader's own ordering
        rejects.add(path_list[rej.src[i]], rej.line[i], rej.raw[i], rej.reason[i], rej.message[i])
    if strict:
        rejects.raise_first()
    columns_used: dict[str, list[str]] = {}
    for m in metas:
        for role, text in m.columns.items():
            used = columns_used.setdefault(role, [])
            if text not in used:
                used.append(text)
    filled = [bm for bm in bmetas if bm.n_fixes]
    n_used = sum(bm.n_fixes for bm in bmetas)
    t_range: list[str | None] = (
        to_iso_z(
            np.array(
                [min(bm.t_min for bm in filled), max(bm.t_max for bm in filled)], dtype=np.int64
            )
        )
        if filled
        else [None, None]
    )
    report = IngestReport(
        rows_read=sum(m.n_read for m in metas),
        rows_used=n_used,
        rejected_by_reason=rejects.counts(),
        n_tracks=sum(bm.n_tracks for bm in bmetas),
        time_start=t_range[0],
        time_end=t_range[1],
        format="+".join(dict.fromkeys(m.fmt for m in metas)),
        columns={role: ", ".join(v) for role, v in columns_used.items()},
        notes=tuple(_ingest.merge_notes([m.notes for m in metas], [bm.notes for bm in bmetas])),
        files=paths_t,
    )
    if report.rows_read != report.rows_used + report.rows_rejected:
        raise AssertionError(
            f"row accounting failed: read {report.rows_read} != used {report.rows_used} "
            f"+ rejected {report.rows_rejected}"
        )
    track_futs = [client.submit(_bucket_tracks, f, pure=False) for f in buckets]
    return PartitionedRead(PartitionedTracks(client, track_futs, paths_t), rejects, report)


def partition_tracks(
    tracks: Tracks, *, client: Client, n_partitions: int | None = None
) -> PartitionedTracks:
    """Send in-memory tracks to the cluster, partitioned by a hash of the track id.

    Parameters
    ----------
    tracks : Tracks
    client : distributed.Client
    n_partitions : int, optional, >= 1
        Default: about :data:`DEFAULT_FIXES_PER_PARTITION` fixes each, at least two per
        worker.

    Returns
    -------
    PartitionedTracks
    """
    if n_partitions is None:
        n_partitions = _default_partitions(client, len(tracks))
    if n_partitions < 1:
        raise ConfigError(f"n_partitions must be >= 1, got {n_partitions}")
    bucket = _ingest.bucket_of(tracks.track_ids, n_partitions)
    parts = [tracks.select_tracks(bucket == b) for b in range(n_partitions)]
    futures = _scatter(client, parts)
    return PartitionedTracks(client, list(futures), tracks.sources)


def _as_partitioned(
    tracks: Tracks | PartitionedTracks, client: Client | None, n_partitions: int | None
) -> PartitionedTracks:
    if isinstance(tracks, PartitionedTracks):
        return tracks
    if client is None:
        raise ConfigError("give client= (see patrolwatch.scale.connect) for in-memory tracks")
    return partition_tracks(tracks, client=client, n_partitions=n_partitions)


# =============================================================================== events
_TRACK_ORDER = "__pw_row"


def _merge_by_track(tables: Sequence[pa.Table]) -> pa.Table:
    """Partitions' tables (each in the single-machine order of its tracks) in the
    single-machine order of all tracks: by ``track_id``, each track's rows kept in order."""
    table = pa.concat_tables(tables)
    if table.num_rows == 0:
        return table
    table = table.append_column(_TRACK_ORDER, pa.array(np.arange(table.num_rows)))
    table = table.sort_by([("track_id", "ascending"), (_TRACK_ORDER, "ascending")])
    return table.drop_columns([_TRACK_ORDER])


@dataclass
class PartitionedEvents:
    """Events of a detector, one table per partition, on the cluster.

    Attributes
    ----------
    client : distributed.Client
    futures : list of distributed.Future
        One per partition, each resolving to a ``pyarrow.Table`` in the single-machine
        engine's order (for the tracks of that partition).
    """

    client: Client
    futures: list[Future[Any]]

    @property
    def n_partitions(self) -> int:
        """Number of partitions."""
        return len(self.futures)

    def num_rows(self) -> int:
        """Number of events (computed on the cluster)."""
        counts: list[int] = _gather(
            self.client, [self.client.submit(_num_rows, f, pure=False) for f in self.futures]
        )
        return int(sum(counts))

    def counts(self, *columns: str) -> dict[tuple[object, ...], int]:
        """Number of events per distinct value of ``columns`` (computed on the cluster).

        Examples
        --------
        ``pev.counts("zone_kind", "evidence")`` gives ``{("adiz", "observed"): 12, ...}``.
        """
        parts: list[dict[tuple[object, ...], int]] = _gather(
            self.client, [self.client.submit(_counts, f, columns, pure=False) for f in self.futures]
        )
        out: dict[tuple[object, ...], int] = {}
        for part in parts:
            for key, n in part.items():
                out[key] = out.get(key, 0) + n
        return out

    def compute(self) -> Events:
        """All events on this machine, rows and order identical to the single-machine
        engine's."""
        tables: list[pa.Table] = _gather(self.client, self.futures)
        return Events(_merge_by_track(tables))

    def to_parquet(self, folder: PathLike) -> list[Path]:
        """Write one Parquet file per partition (``part-00000.parquet``, ...) into
        ``folder``, from the workers (which must see ``folder``: a shared file system).

        Each file holds whole tracks in the single-machine order; reading them all and
        ordering by ``track_id`` (stable) gives the single-machine table
        (:func:`read_events_dataset`). Stale ``part-*.parquet`` files are removed first.

        Returns
        -------
        list of pathlib.Path
            The files written, in partition order.
        """
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("part-*.parquet"):
            old.unlink()
        paths = [str(out / f"part-{b:05d}.parquet") for b in range(self.n_partitions)]
        written = [
            self.client.submit(_write_parquet, f, p, pure=False)
            for f, p in zip(self.futures, paths, strict=True)
        ]
        _gather(self.client, written)
        return [Path(p) for p in paths]


def _counts(table: pa.Table, columns: tuple[str, ...]) -> dict[tuple[object, ...], int]:
    if table.num_rows == 0:
        return {}
    grouped = table.group_by(list(columns)).aggregate([([], "count_all")]).to_pylist()
    return {tuple(row[c] for c in columns): int(row["count_all"]) for row in grouped}


def write_output(events: PartitionedEvents, out: PathLike) -> list[Path]:
    """Write events the way the CLI does with ``--engine dask``.

    Parameters
    ----------
    events : PartitionedEvents
    out : path
        A file with suffix ``.csv``, ``.parquet`` or ``.json``: the events are gathered
        and written as :func:`patrolwatch.write_events` writes them (the same bytes as the
        single-machine engine). A path without suffix is a folder: one Parquet file per
        partition, written by the workers (:meth:`PartitionedEvents.to_parquet`), plus
        ``events.csv`` (the usual CSV of all events) when there are at most
        :data:`SMALL_EVENTS_ROWS` events.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    from ..report.tables import write_events

    target = Path(out)
    if target.suffix:
        return [write_events(events.compute(), target)]
    files = events.to_parquet(target)
    if events.num_rows() <= SMALL_EVENTS_ROWS:
        files.append(write_events(events.compute(), target / "events.csv"))
    return files


def _num_rows(table: pa.Table) -> int:
    return int(table.num_rows)


def _write_parquet(table: pa.Table, path: str) -> str:
    pq.write_table(table, path)
    return path


def read_events_dataset(folder: PathLike) -> Events:
    """The events written by :meth:`PartitionedEvents.to_parquet`, in the single-machine
    engine's order.

    Parameters
    ----------
    folder : path
        The folder holding ``part-*.parquet``.
    """
    files = sorted(Path(folder).glob("part-*.parquet"))
    if not files:
        raise ConfigError(f"{folder}: no part-*.parquet files")
    return Events(_merge_by_track([pq.read_table(f) for f in files]))


def _crossings_task(
    tracks: Tracks, zones: Zones, near_m: float | None, max_speed_mps: float | None
) -> pa.Table:
    _maybe_sleep()
    return _local_crossings(tracks, zones, near_m=near_m, max_speed_mps=max_speed_mps).to_arrow()


def crossings(
    tracks: Tracks | PartitionedTracks,
    zones: Zones,
    *,
    near_m: float | None = None,
    max_speed_mps: float | None = None,
    client: Client | None = None,
    n_partitions: int | None = None,
) -> PartitionedEvents:
    """:func:`patrolwatch.crossings` on a cluster, partitioned by track.

    Parameters
    ----------
    tracks : Tracks or PartitionedTracks
        Tracks on this machine (sent to the cluster, then ``client`` is required) or
        already on it (from :func:`read_tracks` or :func:`partition_tracks`).
    zones : Zones
        Sent once to every worker.
    near_m, max_speed_mps : float, optional
        As for :func:`patrolwatch.crossings` (metres; metres per second).
    client : distributed.Client, optional
        Needed for in-memory ``tracks``.
    n_partitions : int, optional
        For in-memory ``tracks``: see :func:`partition_tracks`.

    Returns
    -------
    PartitionedEvents
        ``.compute()`` gives the same rows, in the same order, as
        :func:`patrolwatch.crossings` on the same tracks: times, ids and ``source_rows``
        exactly; entry and exit positions of polygon crossings to within 2 ulps (the
        single-machine detector's last bits depend on which tracks share a call; see
        ``docs/scale.md``). ``.to_parquet(folder)`` writes them from the workers.

    Raises
    ------
    ConfigError
        For a bad ``near_m`` or ``max_speed_mps`` (checked before anything runs).
    """
    if near_m is not None and not (near_m > 0):
        raise ConfigError(f"near_m must be a positive distance in metres, got {near_m!r}")
    if max_speed_mps is not None and not (max_speed_mps > 0):
        raise ConfigError(f"max_speed_mps must be positive (m/s), got {max_speed_mps!r}")
    pt = _as_partitioned(tracks, client, n_partitions)
    zones_f = _scatter(pt.client, zones, broadcast=True)
    futures = [
        pt.client.submit(_crossings_task, f, zones_f, near_m, max_speed_mps, pure=False)
        for f in pt.futures
    ]
    return PartitionedEvents(pt.client, futures)
