"""Live feeds: real protocols on loopback, each reconnecting with backoff.

Feed specs (``patrolwatch serve --feed SPEC``, repeatable):

``nmea+tcp://HOST:PORT``
    Connect to an AIS NMEA server (AIS-catcher, rtl_ais, a serial-to-TCP bridge) and read
    one sentence per line.
``nmea+udp://HOST:PORT``
    Listen for NMEA datagrams (one or more sentences each) on HOST:PORT.
``sbs://HOST:PORT[?tz=UTC]``
    Connect to the SBS-1 BaseStation output of dump1090/readsb (port 30003). ``tz`` is
    the time zone the decoder writes message times in (dump1090: the receiver's local
    time), or ``received`` to time fixes on arrival. Default ``UTC``.
``aircraft-json+http://HOST:PORT/PATH[?interval=1]``
    Poll a tar1090/readsb ``aircraft.json`` every ``interval`` seconds.
``nmea+file:///PATH``, ``sbs+file:///PATH``, ``jsonl+file:///PATH`` ``[?from=start]``
    Follow a file being appended to (``tail -f``), from its end unless ``from=start``;
    a file that is replaced or truncated is reopened.

HOST must be a loopback address (``127.0.0.1``, ``::1``, ``localhost``) unless the
service was started with ``--allow-remote-feeds``. Every feed reports its state
(``connecting``, ``connected``, ``backoff``), counters and last error on
``/api/health`` and in the log, and reconnects after a failure with exponential backoff
(:data:`BACKOFF_START_S` doubling to :data:`BACKOFF_MAX_S`). Malformed lines are counted
and stored as rejects; they never stop a feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

from ..errors import ConfigError
from .decode import (
    AircraftJsonDecoder,
    Decoded,
    SbsDecoder,
    decode_json_lines,
    make_nmea_decoder,
)
from .store import IngestBatch

if TYPE_CHECKING:
    from .service import Service

__all__ = [
    "BACKOFF_MAX_S",
    "BACKOFF_START_S",
    "DemoReplay",
    "Feed",
    "open_feed",
    "parse_feed",
]

log = logging.getLogger("patrolwatch.serve.feeds")

BACKOFF_START_S = 0.5
"""First reconnect delay, seconds."""
BACKOFF_MAX_S = 30.0
"""Longest reconnect delay, seconds."""
FLUSH_S = 0.1
"""A feed hands its lines to the pipeline at least this often (seconds)."""
FLUSH_LINES = 5000
"""... or every this many lines."""
MAX_LINE_BYTES = 65536
"""A longer line is cut there and rejected by the decoder."""

_SCHEMES = (
    "nmea+tcp",
    "nmea+udp",
    "sbs",
    "aircraft-json+http",
    "nmea+file",
    "sbs+file",
    "jsonl+file",
)


@dataclass(frozen=True)
class FeedSpec:
    """A parsed ``--feed`` value."""

    scheme: str
    host: str
    port: int
    path: str
    options: dict[str, str]
    text: str


def parse_feed(text: str, *, allow_remote: bool = False) -> FeedSpec:
    """Parse and check a feed spec.

    Raises
    ------
    ConfigError
        Unknown scheme, missing port, non-loopback host without ``allow_remote``.

    Examples
    --------
    >>> parse_feed("sbs://127.0.0.1:30003?tz=Asia/Seoul").options
    {'tz': 'Asia/Seoul'}
    >>> try:
    ...     parse_feed("nmea+tcp://10.0.0.5:10110")
    ... except ConfigError as exc:
    ...     print(str(exc).split(";")[0])
    feed 'nmea+tcp://10.0.0.5:10110': host 10.0.0.5 is not a loopback address
    """
    u = urlsplit(text)
    if u.scheme not in _SCHEMES:
        raise ConfigError(f"feed {text!r}: unknown scheme {u.scheme!r}; use one of {_SCHEMES}")
    opts = {k: v[-1] for k, v in parse_qs(u.query).items()}
    if u.scheme.endswith("+file"):
        path = u.path if not u.netloc else u.netloc + u.path
        if not path:
            raise ConfigError(f"feed {text!r}: give a file path, e.g. nmea+file:///var/log/ais.txt")
        return FeedSpec(u.scheme, "", 0, path, opts, text)
    host = u.hostname or ""
    try:
        port = u.port
    except ValueError:
        port = None
    if not host or port is None:
        raise ConfigError(f"feed {text!r}: give HOST:PORT, e.g. {u.scheme}://127.0.0.1:30003")
    if not allow_remote and not _is_loopback(host):
        raise ConfigError(
            f"feed {text!r}: host {host} is not a loopback address; feeds are local "
            "(start with --allow-remote-feeds to change that)"
        )
    return FeedSpec(u.scheme, host, port, u.path or "/", opts, text)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class FeedStatus:
    """What a feed reports on ``/api/health``."""

    spec: str
    state: str = "starting"
    connects: int = 0
    disconnects: int = 0
    lines: int = 0
    fixes: int = 0
    rejects: int = 0
    last_error: str = ""
    last_data_ns: int | None = None
    next_retry_s: float | None = None
    log: list[str] = field(default_factory=list)

    def note(self, message: str) -> None:
        """Record and log a state change."""
        stamp = time.strftime("%H:%M:%SZ", time.gmtime())
        self.log = ([*self.log, f"{stamp} {message}"])[-20:]
        log.info("feed %s: %s", self.spec, message)


class Feed:
    """Base: a task that reads a source and submits :class:`IngestBatch` objects."""

    def __init__(self, spec: FeedSpec, service: Service) -> None:
        self.spec = spec
        self.service = service
        self.status = FeedStatus(spec.text)
        self._task: asyncio.Task[Any] | None = None
        self._stopping = False

    def start(self) -> None:
        """Start the feed's task."""
        self._task = asyncio.create_task(self._run_forever(), name=f"feed {self.spec.text}")

    async def stop(self) -> None:
        """Stop the task."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run_forever(self) -> None:
        delay = BACKOFF_START_S
        while not self._stopping:
            self.status.state = "connecting"
            started = time.monotonic()
            try:
                await self.run_once()
                reason = "closed by the other end"
            except asyncio.CancelledError:
                raise
            except (OSError, EOFError, ValueError, RuntimeError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # a feed never takes the service down
                reason = f"unexpected {type(exc).__name__}: {exc}"
                log.exception("feed %s", self.spec.text)
            self.status.disconnects += 1
            self.status.last_error = reason
            if time.monotonic() - started > 10 * BACKOFF_START_S:
                delay = BACKOFF_START_S  # it had been working: start the backoff again
            self.status.state = "backoff"
            self.status.next_retry_s = delay
            self.status.note(f"disconnected ({reason}); reconnecting in {delay:g} s")
            await asyncio.sleep(delay)
            delay = min(BACKOFF_MAX_S, delay * 2)

    async def run_once(self) -> None:
        """Connect and read until the source closes or fails."""
        raise NotImplementedError

    async def submit(self, decoded: Decoded, note: str = "") -> None:
        """Hand decoded lines to the pipeline (waits only if its queue is full)."""
        if decoded.n_read == 0 and not decoded.rejects:
            return
        self.status.fixes += len(decoded)
        self.status.rejects += len(decoded.rejects)
        self.status.last_data_ns = time.time_ns()
        batch = IngestBatch(
            feed=self.spec.text,
            fixes=decoded.fix_batch(self.spec.text),
            rejects=decoded.rejects,
            n_read=decoded.n_read,
            n_ignored=decoded.n_other,
            received_ns=time.time_ns(),
            note=note,
        )
        await self.service.submit(batch, wait=False)


class _LineFeed(Feed):
    """Feeds of text lines: a decoder with ``decode(lines) -> Decoded``."""

    def __init__(self, spec: FeedSpec, service: Service, decoder: Any) -> None:
        super().__init__(spec, service)
        self.decoder = decoder

    async def pump(self, reader: asyncio.StreamReader) -> None:
        """Read lines and submit them in groups until EOF."""
        lines: list[bytes] = []
        last = time.monotonic()
        while True:
            try:
                line = await asyncio.wait_for(reader.readline(), timeout=FLUSH_S)
            except TimeoutError:
                line = None
            except ValueError:  # longer than the stream limit: skip to the next newline
                line = b"<line too long>"
                with contextlib.suppress(Exception):
                    await reader.readuntil(b"\n")
            if line == b"":
                break
            if line is not None:
                lines.append(line)
                self.status.lines += 1
            if lines and (len(lines) >= FLUSH_LINES or time.monotonic() - last >= FLUSH_S):
                await self.submit(self.decoder.decode(lines))
                lines = []
                last = time.monotonic()
            elif not lines and time.monotonic() - last >= 1.0:
                await self.submit(self.decoder.decode([]))  # expires stale fragments
                last = time.monotonic()
        if lines:
            await self.submit(self.decoder.decode(lines))
        flush = getattr(self.decoder, "flush", None)
        if flush is not None:  # the source closed: fragments waiting will not complete
            await self.submit(flush())


class TcpLineFeed(_LineFeed):
    """A TCP client reading lines (NMEA or SBS)."""

    async def run_once(self) -> None:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.spec.host, self.spec.port, limit=MAX_LINE_BYTES),
            timeout=10,
        )
        self.status.connects += 1
        self.status.state = "connected"
        self.status.next_retry_s = None
        self.status.note(f"connected to {self.spec.host}:{self.spec.port}")
        try:
            await self.pump(reader)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


class UdpNmeaFeed(_LineFeed):
    """Listen for NMEA datagrams."""

    async def run_once(self) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes] = asyncio.Queue(10_000)
        feed = self

        class _Proto(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: Any) -> None:
                if not queue.full():
                    queue.put_nowait(data)

            def error_received(self, exc: Exception) -> None:
                feed.status.last_error = str(exc)

        transport, _ = await loop.create_datagram_endpoint(
            _Proto, local_addr=(self.spec.host, self.spec.port)
        )
        self.status.connects += 1
        self.status.state = "listening"
        self.status.note(f"listening on udp {self.spec.host}:{self.spec.port}")
        try:
            lines: list[bytes] = []
            last = time.monotonic()
            while True:
                try:
                    data = await asyncio.wait_for(queue.get(), timeout=FLUSH_S)
                    parts = [p for p in data.splitlines() if p.strip()]
                    lines.extend(parts)
                    self.status.lines += len(parts)
                except TimeoutError:
                    pass
                if lines and (len(lines) >= FLUSH_LINES or time.monotonic() - last >= FLUSH_S):
                    await self.submit(self.decoder.decode(lines))
                    lines = []
                    last = time.monotonic()
        finally:
            transport.close()


class FileTailFeed(_LineFeed):
    """Follow a file being appended to; reopen when it is replaced or truncated."""

    async def run_once(self) -> None:
        path = Path(self.spec.path)
        from_start = self.spec.options.get("from") == "start" or self.status.connects > 0
        with path.open("rb") as fh:
            ino = os.fstat(fh.fileno()).st_ino
            if not from_start:
                fh.seek(0, os.SEEK_END)
            self.status.connects += 1
            self.status.state = "following"
            self.status.note(f"following {path} from {'start' if from_start else 'end'}")
            buf = b""
            idle = 0.0
            while True:
                chunk = fh.read(1 << 20)
                if chunk:
                    buf += chunk
                    *lines, buf = buf.split(b"\n")
                    if lines:
                        self.status.lines += len(lines)
                        for k in range(0, len(lines), FLUSH_LINES):
                            await self.submit(self.decoder.decode(lines[k : k + FLUSH_LINES]))
                    idle = 0.0
                    continue
                await asyncio.sleep(FLUSH_S)
                idle += FLUSH_S
                if idle >= 1.0:
                    idle = 0.0
                    try:
                        st = os.stat(path)
                    except FileNotFoundError:
                        raise EOFError(f"{path} was removed") from None
                    if st.st_ino != ino or st.st_size < fh.tell():
                        raise EOFError(f"{path} was replaced or truncated")


class _JsonLinesDecoder:
    def __init__(self) -> None:
        self.line_no = 0

    def decode(self, lines: list[bytes]) -> Decoded:
        out = decode_json_lines(b"\n".join(lines), first_line=self.line_no + 1)
        self.line_no += len(lines)
        return out


class AircraftJsonFeed(Feed):
    """Poll a local tar1090/readsb ``aircraft.json``."""

    def __init__(self, spec: FeedSpec, service: Service) -> None:
        super().__init__(spec, service)
        self.decoder = AircraftJsonDecoder(spec.text)
        self.interval_s = float(spec.options.get("interval", "1"))
        if not 0.1 <= self.interval_s <= 3600:
            raise ConfigError(f"feed {spec.text!r}: interval must be 0.1..3600 s")

    async def run_once(self) -> None:
        import httpx

        url = f"http://{self.spec.host}:{self.spec.port}{self.spec.path}"
        async with httpx.AsyncClient(timeout=5.0) as client:
            first = True
            while True:
                resp = await client.get(url)
                if resp.status_code != 200:
                    raise OSError(f"HTTP {resp.status_code} from {url}")
                if first:
                    self.status.connects += 1
                    self.status.state = "polling"
                    self.status.note(f"polling {url} every {self.interval_s:g} s")
                    first = False
                self.status.lines += 1
                await self.submit(self.decoder.decode(resp.content))
                await asyncio.sleep(self.interval_s)


def open_feed(text: str, service: Service, *, allow_remote: bool = False) -> Feed:
    """A feed for a spec (see the module docstring)."""
    spec = parse_feed(text, allow_remote=allow_remote)
    if spec.scheme == "nmea+tcp":
        return TcpLineFeed(spec, service, make_nmea_decoder(text))
    if spec.scheme == "nmea+udp":
        return UdpNmeaFeed(spec, service, make_nmea_decoder(text))
    if spec.scheme == "sbs":
        return TcpLineFeed(spec, service, SbsDecoder(text, tz=spec.options.get("tz", "UTC")))
    if spec.scheme == "aircraft-json+http":
        return AircraftJsonFeed(spec, service)
    if spec.scheme == "nmea+file":
        return FileTailFeed(spec, service, make_nmea_decoder(text))
    if spec.scheme == "sbs+file":
        return FileTailFeed(spec, service, SbsDecoder(text, tz=spec.options.get("tz", "UTC")))
    return FileTailFeed(spec, service, _JsonLinesDecoder())


# =========================================================================== demo
INCIDENT_DIR = (
    Path(__file__).resolve().parents[1] / "data" / "incidents" / "2019-07-23-sea-of-japan"
)
"""The bundled incident the demo replays."""


class DemoReplay(Feed):
    """Replay the bundled 2019-07-23 incident in accelerated time (``--demo``).

    Fixes keep their real times (so alerts show the times the governments published);
    they are delivered when ``(t - t_first) / speed`` seconds have passed since start.
    """

    def __init__(
        self,
        service: Service,
        *,
        speed: float = 60.0,
        loop: bool = False,
        tracks_path: Path | None = None,
        on_submit: Callable[[int, int], None] | None = None,
    ) -> None:
        spec = FeedSpec("demo", "", 0, str(tracks_path or INCIDENT_DIR / "tracks.csv"), {}, "demo")
        super().__init__(spec, service)
        if not speed > 0:
            raise ConfigError(f"demo speed must be positive, got {speed!r}")
        self.speed = speed
        self.loop = loop
        self.on_submit = on_submit
        self.done = asyncio.Event()

    async def _run_forever(self) -> None:
        try:
            while True:
                await self.run_once()
                if not self.loop:
                    break
        finally:
            self.status.state = "finished"
            self.done.set()

    async def run_once(self) -> None:
        from ..io.tables import read_table_tracks as read_tracks
        from .stream import FixBatch

        tracks, _, _ = await asyncio.to_thread(read_tracks, self.spec.path)
        order = np.lexsort((np.arange(len(tracks)), tracks.t_ns))
        batch = FixBatch.from_tracks(tracks, order)
        name = Path(self.spec.path).name
        src = np.full(len(batch), name, dtype=object).astype(str)
        object.__setattr__(batch, "source", src)
        kinds = np.full(len(batch), "adsb", dtype=object).astype(str)
        batch.attrs.setdefault("source_kind", kinds)  # type: ignore[attr-defined]
        t0 = int(batch.t_ns[0])
        start = time.monotonic()
        self.status.connects += 1
        self.status.state = "replaying"
        self.status.note(f"replaying {len(batch)} fixes of {name} at {self.speed:g}x")
        i = 0
        n = len(batch)
        while i < n:
            elapsed_ns = int((time.monotonic() - start) * self.speed * 1e9)
            j = int(np.searchsorted(batch.t_ns, t0 + elapsed_ns, side="right"))
            if j > i:
                sel = np.arange(i, j)
                part = FixBatch(
                    batch.track_id[sel],
                    batch.t_ns[sel],
                    batch.lon_deg[sel],
                    batch.lat_deg[sel],
                    batch.alt_m[sel],
                    batch.speed_mps[sel],
                    batch.heading_deg[sel],
                    batch.fix_id[sel],
                    batch.source[sel],
                    batch.line[sel],
                    {k: v[sel] for k, v in batch.attrs.items()},
                )
                self.status.lines += j - i
                self.status.fixes += j - i
                self.status.last_data_ns = time.time_ns()
                ingest = IngestBatch(
                    feed="demo", fixes=part, n_read=j - i, received_ns=time.time_ns()
                )
                await self.service.submit(ingest, wait=False)
                if self.on_submit is not None:
                    self.on_submit(i, j)
                i = j
            await asyncio.sleep(0.05)
