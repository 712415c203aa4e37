"""Feeds over real sockets on 127.0.0.1: NMEA and SBS over TCP, NMEA over UDP,
aircraft.json polling, a file being appended to. Senders are real servers in threads;
every loop is bounded in count and time."""

from __future__ import annotations

import collections
import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import patrolwatch as pw
from patrolwatch.serve.decode import NmeaDecoder, SbsDecoder
from patrolwatch.serve.service import ServeConfig
from patrolwatch.units import FT_M, KT_MPS

from .conftest import INCIDENT, box_zones, free_port, serve, wait_until

SAMPLE = "ais_nmea_sample_pyais.txt"
ATTICA = box_zones(("attica", "territorial", 23.0, 37.0, 23.6, 37.6))


class LineSender:
    """A TCP server that sends, on its k-th connection, the k-th list of lines, then
    closes it; later connections are closed at once."""

    def __init__(self, sessions: list[list[bytes]]) -> None:
        self.sessions = sessions
        self.connections = 0
        self._release = threading.Event()
        sender = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                k = sender.connections
                sender.connections += 1
                if k >= len(sender.sessions):
                    return
                for i in range(0, len(sender.sessions[k]), 200):
                    self.request.sendall(b"".join(sender.sessions[k][i : i + 200]))
                    time.sleep(0.01)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


def sample_lines(shared_data_dir: Path) -> list[bytes]:
    return (shared_data_dir / SAMPLE).read_bytes().splitlines(keepends=True)


def ingest_totals(store: Any) -> tuple[int, int, int, int]:
    rows = store.query(
        "SELECT sum(n_read), sum(n_fixes), sum(n_rejected), count(*) FROM ingest_log"
    )[0]
    return tuple(int(v or 0) for v in rows.values())  # type: ignore[return-value]


# --------------------------------------------------------------------------- NMEA over TCP
def test_nmea_tcp_feed_stores_every_line_and_detects_entries_after_a_disconnect(
    shared_data_dir: Path, cfg: Callable[..., ServeConfig]
) -> None:
    lines = sample_lines(shared_data_dir)
    garbage = [b"!AIVDM,1,1,,A,13RlIW?04F1beOVEFLB9bRvH0L0L,0*00\r\n", b"hello\n", b"\xff\xfe\n"]
    half = len(lines) // 2
    sender = LineSender([lines[:half] + garbage, lines[half:]])
    try:
        config = cfg(zones=ATTICA, feeds=(f"nmea+tcp://127.0.0.1:{sender.port}",))
        with serve(config) as run:
            feed = run.service.feeds[0]
            store = run.service.store
            total = len(lines) + len(garbage)
            wait_until(lambda: ingest_totals(store)[0] == total, timeout_s=20)
            # the offline decode of the same lines, by the same adapter
            # (a new connection does not continue the fragments of the previous one)
            offline = NmeaDecoder("x", clock=lambda: 0.0)
            first = offline.decode(lines[:half] + garbage)
            first_tail = offline.flush()
            rest = offline.decode(lines[half:])
            tail = offline.flush()
            n_fix = len(first) + len(rest)
            reasons = collections.Counter(
                r.reason for r in first.rejects + first_tail.rejects + rest.rejects + tail.rejects
            )
            n_read, n_fixes, n_rej, _ = ingest_totals(store)
            assert (n_read, n_fixes) == (total, n_fix)
            assert n_rej == sum(reasons.values())
            stored = collections.Counter(
                r["reason"] for r in store.query("SELECT reason FROM rejects")
            )
            assert stored == reasons and stored["bad_checksum"] >= 9 and stored["bad_sentence"] >= 2
            # the sender closed after the first half: the feed said so and came back
            assert feed.status.connects >= 2 and feed.status.disconnects >= 1
            assert "reconnecting" in " ".join(feed.status.log)
            # every ship with a fix inside the box has an entry event
            inside = {
                tid
                for tid, lon, lat in zip(
                    first.track_id + rest.track_id,
                    first.lon + rest.lon,
                    first.lat + rest.lat,
                    strict=True,
                )
                if 23.0 <= lon <= 23.6 and 37.0 <= lat <= 37.6
            }
            entries = wait_until(
                lambda: (
                    {
                        r["track_id"]
                        for r in store.query("SELECT track_id FROM events WHERE type = 'entry'")
                    }
                    if len(inside)
                    else {"-"}
                ),
            )
            assert inside and entries >= inside
            ops = {r["operator"] for r in store.query("SELECT DISTINCT operator FROM fixes")}
            assert {"GRC", "MLT"} <= ops
    finally:
        sender.close()


# --------------------------------------------------------------------------- SBS over TCP
HEX = {"RUS-A50-01": "150a50", "CHN-H6K-01": "7801f1"}


def sbs_lines() -> tuple[list[bytes], pw.Tracks]:
    tracks, _, _ = pw.read_tracks(INCIDENT / "tracks.csv")
    keep = np.isin(tracks.track_ids, list(HEX))
    sub = tracks.select_tracks(keep)
    order = np.lexsort((np.arange(len(sub)), sub.t_ns))
    tix = sub.track_index
    out = []
    for k, i in enumerate(order.tolist()):
        tid = str(sub.track_ids[tix[i]])
        stamp = np.datetime64(int(sub.t_ns[i]), "ns").astype("datetime64[ms]").astype(object)
        d, t = stamp.strftime("%Y/%m/%d"), stamp.strftime("%H:%M:%S.%f")[:-3]
        alt_ft = round(float(sub.alt_m[i]) / FT_M)
        gs_kt = round(float(sub.speed_mps[i]) / KT_MPS, 1)
        out.append(
            f"MSG,3,1,1,{HEX[tid]},1,{d},{t},{d},{t},,{alt_ft},{gs_kt},"
            f"{sub.heading_deg[i]:.1f},{sub.lat_deg[i]:.6f},{sub.lon_deg[i]:.6f},,,0,0,0,0\r\n".encode()
        )
        if k % 50 == 0:
            out.append(f"MSG,1,1,1,{HEX[tid]},1,{d},{t},{d},{t},{tid[:8]},,,,,,,,,,,\r\n".encode())
    return out, sub


def test_sbs_tcp_feed_gives_the_batch_entries(cfg: Callable[..., ServeConfig]) -> None:
    lines, _ = sbs_lines()
    bad = [
        b"MSG,3,1,1,zzzzzz,1,2019/07/23,00:00:00.000,,,,,,,37.5,131.0,,,,,,\r\n",
        b"MSG,3,1,1,150a50,1,2019/07/23,xx,,,,,,,37.5,131.0,,,,,,\r\n",
        b"MSG,3,1,1\r\n",
        b"\r\n",
    ]
    sender = LineSender([lines[:300] + bad + lines[300:]])
    try:
        config = cfg(feeds=(f"sbs://127.0.0.1:{sender.port}?tz=UTC",), clock="stream")
        with serve(config) as run:
            store = run.service.store
            total = len(lines) + len(bad)
            wait_until(lambda: ingest_totals(store)[0] == total, timeout_s=20)
            rejects = store.query("SELECT line, reason FROM rejects ORDER BY line")
            assert [r["reason"] for r in rejects] == ["missing_id", "bad_time", "bad_sbs"]
            assert rejects[0]["line"] == 301  # line numbers count every line of the feed
            got = store.query(
                "SELECT track_id, zone_id, body FROM events WHERE type = 'entry' ORDER BY time_ns"
            )
            # the batch detector on the same decoded fixes
            dec = SbsDecoder("x", tz="UTC").decode(lines)
            tracks = pw.Tracks.from_arrays(
                dec.track_id, dec.t_ns, dec.lon, dec.lat, alt_m=dec.alt_m
            )
            want = [
                r
                for r in pw.crossings(tracks, run.config.zones).to_pylist()
                if r["evidence"] in ("observed", "interpolated")
            ]
            assert len(want) >= 3  # KADIZ entries of both, Dokdo visits of the A-50
            wanted = sorted((r["track_id"], r["zone_id"], r["entry_time"]) for r in want)
            have = [
                (r["track_id"], r["zone_id"], json.loads(r["body"])["row"]["entry_time"])
                for r in got
            ]
            entry_ns = sorted(have)
            want_ns = sorted(
                (tid, zid, int(np.datetime64(t.replace(tzinfo=None), "ns").astype(np.int64)))
                for tid, zid, t in wanted
            )
            assert [(a, b) for a, b, _ in entry_ns] == [(a, b) for a, b, _ in want_ns]
            for (_, _, t1), (_, _, t2) in zip(entry_ns, want_ns, strict=True):
                assert abs(t1 - t2) < 1000  # datetime() of the batch row keeps microseconds
            calls = {r["callsign"] for r in store.query("SELECT DISTINCT callsign FROM fixes")}
            assert "RUS-A50-" in calls
            ops = {r["operator"] for r in store.query("SELECT DISTINCT operator FROM fixes")}
            assert ops == {"RUS", "CHN"}
    finally:
        sender.close()


# --------------------------------------------------------------------------- UDP, HTTP, file
def test_nmea_udp_feed(shared_data_dir: Path, cfg: Callable[..., ServeConfig]) -> None:
    lines = [ln for ln in sample_lines(shared_data_dir)[:200]]
    port = free_port()
    with serve(cfg(zones=ATTICA, feeds=(f"nmea+udp://127.0.0.1:{port}",))) as run:
        store = run.service.store
        wait_until(lambda: run.service.feeds[0].status.state == "listening")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(0, len(lines), 10):  # 20 datagrams of 10 sentences
                s.sendto(b"".join(lines[i : i + 10]), ("127.0.0.1", port))
                time.sleep(0.005)
        offline = NmeaDecoder("x", clock=lambda: 0.0).decode(lines)
        wait_until(lambda: ingest_totals(store)[1] == len(offline), timeout_s=10)


@contextmanager
def json_server(doc: dict[str, Any]) -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(doc).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_aircraft_json_polling_stores_new_positions_once(cfg: Callable[..., ServeConfig]) -> None:
    now = time.time()
    doc: dict[str, Any] = {
        "now": now,
        "aircraft": [
            {
                "hex": "71be12",
                "flight": "KAL123  ",
                "lat": 37.5,
                "lon": 129.5,
                "alt_baro": 30000,
                "gs": 450.0,
                "track": 90.0,
                "seen_pos": 0.5,
            },
            {"hex": "150a50", "alt_baro": 30000},  # no position yet
            {"flight": "no hex"},
        ],
    }
    with json_server(doc) as port:
        spec = f"aircraft-json+http://127.0.0.1:{port}/data/aircraft.json?interval=0.2"
        with serve(cfg(zones=ATTICA, feeds=(spec,))) as run:
            store = run.service.store
            wait_until(lambda: ingest_totals(store)[3] >= 3, timeout_s=10)
            assert store.count("fixes") == 1  # polled three times, stored once
            doc["now"] = now + 1
            doc["aircraft"][0].update(lat=37.51, lon=129.6, seen_pos=0.1)
            wait_until(lambda: store.count("fixes") == 2, timeout_s=10)
            f = store.query("SELECT * FROM fixes ORDER BY t_ns")[0]
            assert f["callsign"] == "KAL123" and f["operator"] == "KOR"
            assert f["alt_m"] == pytest.approx(30000 * FT_M)
            assert {r["reason"] for r in store.query("SELECT reason FROM rejects")} == {
                "missing_id"
            }


def test_file_being_appended_to_is_followed(
    tmp_path: Path, cfg: Callable[..., ServeConfig]
) -> None:
    path = tmp_path / "fixes.jsonl"
    path.write_text("")
    with serve(
        cfg(zones=ATTICA, feeds=(f"jsonl+file://{path}?from=start",), clock="stream")
    ) as run:
        store = run.service.store
        wait_until(lambda: run.service.feeds[0].status.state == "following")
        with path.open("a") as fh:
            for k in range(3):  # appended in three writes, the last line without newline first
                fh.write(
                    json.dumps(
                        {"track_id": "F", "time": 1.6e9 + k, "lat": 37.3, "lon": 22.9 + 0.2 * k}
                    )
                )
                fh.write("\n")
                fh.flush()
                time.sleep(0.2)
            fh.write("{broken\n")
        wait_until(lambda: store.count("fixes") == 3 and store.count("rejects") == 1, timeout_s=10)
        ev = store.query("SELECT type FROM events WHERE track_id = 'F'")
        assert [e["type"] for e in ev] == ["entry"]
