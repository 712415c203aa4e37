"""The DuckDB store: schema versions, one transaction per commit, idempotency, retention."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest

from patrolwatch.errors import ConfigError
from patrolwatch.serve.store import SCHEMA_VERSION, IngestBatch, Reject, Store
from patrolwatch.serve.stream import FixBatch

S = 1_000_000_000


def batch(n: int, key: str | None = None, t0: int = 0) -> IngestBatch:
    f = FixBatch.from_arrays(["A"] * n, t0 + np.arange(n) * S, np.linspace(130, 131, n), [37.5] * n)
    return IngestBatch("test", f, [Reject(n + 1, "x", "bad_json", "not JSON")], n + 1, 0, key)


def test_new_file_gets_the_current_schema_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "a.duckdb"
    s = Store(path)
    assert s.schema_version == SCHEMA_VERSION
    b = batch(3, "k1")
    s.commit([b], s.assign_ids([b]))
    s.close()
    s = Store(path)
    assert (s.count("fixes"), s.count("rejects"), s.count("ingest_log")) == (3, 1, 1)
    assert s.next_fix_id == 3 and s.next_batch_id == 1
    assert set(s.known_batches(["k1", "k2"])) == {"k1"}
    s.close()


def test_file_without_version_is_migrated_and_newer_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.close()
    s = Store(path)
    assert s.schema_version == SCHEMA_VERSION and s.count("events") == 0
    s.close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(ConfigError, match="schema version 99"):
        Store(path)


def test_a_failed_commit_writes_nothing(tmp_path: Path) -> None:
    s = Store(tmp_path / "a.duckdb")
    b = batch(3, "k1")
    ids = s.assign_ids([b])
    s.commit([b], ids)
    again = batch(2, "k1")  # same idempotency key: the unique constraint fails the commit
    with pytest.raises(duckdb.Error):
        s.commit([again], s.assign_ids([again]))
    assert (s.count("fixes"), s.count("ingest_log"), s.count("rejects")) == (3, 1, 1)


def test_retention_purges_old_fixes_only(tmp_path: Path) -> None:
    s = Store(tmp_path / "a.duckdb")
    b = batch(10)
    s.commit([b], s.assign_ids([b]))
    assert s.purge_fixes(5 * S) == 5
    assert [f["t_ns"] for f in s.track_fixes("A")] == [k * S for k in range(5, 10)]


def test_replay_returns_fixes_from_each_track_window(tmp_path: Path) -> None:
    s = Store(tmp_path / "a.duckdb")
    b = batch(10)
    s.commit([b], s.assign_ids([b]), window_start_ns={"A": 7 * S}, last_ns={"A": 9 * S})
    got = list(s.replay_fixes())
    assert [int(t) for g in got for t in g.t_ns] == [7 * S, 8 * S, 9 * S]
