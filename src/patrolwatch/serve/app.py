"""The HTTP service: REST API, Server-Sent Events and the live map, on FastAPI.

Security defaults: bound to 127.0.0.1; every write needs an API key
(``Authorization: Bearer KEY`` or ``X-API-Key: KEY``; keys come from ``--api-key-file`` or
``PATROLWATCH_API_KEY``); reads need it too unless the service was started with
``--public-read``. The browser's EventSource cannot send headers, so GET requests also
accept ``?key=KEY``. Request bodies are limited (``--max-body``, default 8 MiB); CORS is
off unless origins are given with ``--cors-origin``. Errors are JSON
``{"error": ..., "field": ...}`` with a 4xx status naming what to fix.

Endpoints (all JSON unless said): ``GET /`` the map (HTML); ``GET /api/health``;
``GET /api/metrics``; ``GET /api/zones`` (GeoJSON); ``GET /api/land`` (GeoJSON basemap);
``GET /api/tracks`` (newest position of every track); ``GET /api/tracks/{id}/fixes``;
``GET /api/events`` and ``/api/events/{id}``; ``GET /api/alerts``; ``GET /api/fixes/{id}``;
``GET /api/ingest`` (ingest log) and ``/api/ingest/{batch_id}/rejects``;
``GET /api/stream`` (SSE: ``positions``, ``event``, ``alert``); ``POST /api/ingest``
(JSON lines or CSV; ``Idempotency-Key`` header). The OpenAPI schema is ``/openapi.json``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .._version import __version__
from ..units import NS_PER_S
from .decode import decode_csv, decode_json_lines
from .service import ServeConfig, Service
from .store import IngestBatch

__all__ = ["STATIC_DIR", "create_app"]

STATIC_DIR = Path(__file__).with_name("static")
"""The web map's files (HTML, JS, CSS), served at ``/`` and ``/static``."""

_LAND_CACHE: dict[str, bytes] = {}


def _land_geojson() -> bytes:
    """The shipped land polygons (GSHHG, LGPL; see report/assets) simplified for the map."""
    if "land" not in _LAND_CACHE:
        import shapely

        from ..report._land import load_land

        land = load_land(110.0, 18.0, 155.0, 52.0)
        feats = []
        for geom, iso in zip(land.geometries, land.iso3, strict=True):
            g = shapely.simplify(geom, 0.02, preserve_topology=True)
            if g.is_empty or shapely.area(g) < 0.002:  # about 20 km2 at these latitudes
                continue
            feats.append(
                {
                    "type": "Feature",
                    "properties": {"iso3": iso},
                    "geometry": json.loads(shapely.to_geojson(shapely.set_precision(g, 0.001))),
                }
            )
        doc = {"type": "FeatureCollection", "features": feats, "source": "GSHHG (LGPL-3.0)"}
        _LAND_CACHE["land"] = json.dumps(doc, separators=(",", ":")).encode()
    return _LAND_CACHE["land"]


def _zones_geojson(service: Service) -> dict[str, Any]:
    import shapely

    from ..detect._geometry import Frame

    feats = []
    for z in service.config.zones:
        geom = z.geometry
        if z.is_buffer:
            # display only: a buffer in degrees around the feature, scaled by latitude
            lat = shapely.centroid(geom).y
            import math

            deg = z.buffer_m / 111_320.0
            geom = shapely.affinity.scale(
                shapely.buffer(
                    shapely.affinity.scale(geom, math.cos(math.radians(lat)), 1.0, origin=(0, 0)),
                    deg,
                    quad_segs=16,
                ),
                1 / math.cos(math.radians(lat)),
                1.0,
                origin=(0, 0),
            )
        geom = Frame.for_geometry(geom).geometry(geom)
        geom = shapely.simplify(geom, 0.01, preserve_topology=True)
        feats.append(
            {
                "type": "Feature",
                "properties": {
                    "id": z.id,
                    "name": z.name,
                    "kind": z.kind,
                    "claimants": ";".join(z.claimants),
                    "caveat": z.caveat,
                },
                "geometry": json.loads(shapely.to_geojson(shapely.set_precision(geom, 0.001))),
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def _error(status: int, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "field": field}, status_code=status)


def _time_param(value: str | None, name: str) -> int | None:
    """``from``/``to``: ISO 8601 with a zone, or int ns since the epoch."""
    if value is None or value == "":
        return None
    if value.lstrip("-").isdigit():
        return int(value)
    import datetime as dt

    try:
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        raise HTTPException(
            400, {"error": f"{name}: not ISO 8601 or int ns", "field": name}
        ) from None
    if stamp.tzinfo is None:
        raise HTTPException(
            400, {"error": f"{name}: give a zone (Z or +09:00); times are UTC", "field": name}
        )
    return int(stamp.timestamp() * NS_PER_S)


def create_app(config: ServeConfig, service: Service | None = None) -> FastAPI:
    """The FastAPI application of a service (started and stopped with the app)."""
    svc = service or Service(config)
    keys = tuple(k for k in config.api_keys if k)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await svc.start()
        try:
            yield
        finally:
            await svc.stop()

    app = FastAPI(
        title="patrolwatch live",
        version=__version__,
        description="Zone entries, visits and alerts from live AIS and ADS-B feeds.",
        lifespan=lifespan,
        docs_url=None,  # the Swagger page loads assets from a CDN: not offline
        redoc_url=None,
    )
    app.state.service = svc
    if config.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "Idempotency-Key"],
        )

    def key_ok(request: Request, *, allow_query: bool) -> bool:
        given = request.headers.get("x-api-key", "")
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        if not given and allow_query:
            given = request.query_params.get("key", "")
        return bool(given) and any(hmac.compare_digest(given, k) for k in keys)

    @app.middleware("http")
    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        write = request.method not in ("GET", "HEAD", "OPTIONS")
        open_paths = ("/api/health", "/favicon.ico")
        if path.startswith("/api/") and path not in open_paths:
            if write and not keys:
                return _error(
                    403,
                    "writes are disabled: start with --api-key-file or set PATROLWATCH_API_KEY",
                    "api_key",
                )
            if (write or not config.public_read) and not key_ok(request, allow_query=not write):
                return _error(
                    401,
                    "missing or wrong API key: send 'Authorization: Bearer KEY' or 'X-API-Key'",
                    "api_key",
                )
        if write:
            length = request.headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > config.max_body_bytes:
                return _error(
                    413, f"body larger than {config.max_body_bytes} bytes; split it", "body"
                )
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if path == "/" or path.startswith("/static/"):
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                "script-src 'self'; connect-src 'self'; object-src 'none'",
            )
        return response

    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        err = exc.errors()[0] if exc.errors() else {}
        loc = [str(x) for x in err.get("loc", ()) if x not in ("query", "path", "body", "header")]
        field = ".".join(loc) or None
        return _error(400, f"{field or 'request'}: {err.get('msg', 'invalid')}", field)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.detail, dict):
            return JSONResponse(exc.detail, status_code=exc.status_code)
        return _error(exc.status_code, str(exc.detail))

    def store() -> Any:
        if svc.store is None:
            raise HTTPException(503, {"error": "service is starting", "field": None})
        return svc.store

    # ------------------------------------------------------------------ pages
    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> FileResponse:
        path = (STATIC_DIR / name).resolve()
        if path.parent != STATIC_DIR.resolve() or not path.is_file():
            raise HTTPException(404, {"error": f"no static file {name!r}", "field": "name"})
        return FileResponse(path)

    # ------------------------------------------------------------------ reads
    @app.get("/api/health")
    async def health() -> dict[str, Any]:
        """Liveness, store, feeds."""
        return {
            "status": "ok" if svc.ready else "starting",
            "version": __version__,
            "db": str(config.db),
            "schema_version": svc.store.schema_version if svc.store else None,
            "zones": len(config.zones),
            "rules": [r.name for r in config.rules],
            "public_read": config.public_read,
            "feeds": [f.status.__dict__ for f in svc.feeds],
        }

    @app.get("/api/metrics")
    async def metrics() -> dict[str, Any]:
        """Fixes per second, lag, open tracks, counters."""
        return svc.metrics()

    @app.get("/api/zones")
    async def zones() -> dict[str, Any]:
        """The watched zones as GeoJSON (buffer zones drawn approximately, for display)."""
        return await asyncio.to_thread(_zones_geojson, svc)

    @app.get("/api/land")
    async def land() -> Response:
        """Land polygons for the basemap (GSHHG, LGPL-3.0; simplified)."""
        body = await asyncio.to_thread(_land_geojson)
        return Response(body, media_type="application/geo+json")

    @app.get("/api/tracks")
    async def tracks(
        since_s: Annotated[
            float | None, Query(ge=0, description="only tracks seen in the last since_s s")
        ] = None,
    ) -> dict[str, Any]:
        """The newest position of every track (from memory)."""
        cut = None
        if since_s is not None and svc.newest_fix_ns is not None:
            cut = svc.newest_fix_ns - int(since_s * NS_PER_S)
        return {"tracks": svc.position_rows(cut), "newest_fix_ns": svc.newest_fix_ns}

    @app.get("/api/tracks/{track_id}/fixes")
    async def track_fixes(
        track_id: str,
        from_: Annotated[str | None, Query(alias="from")] = None,
        to: str | None = None,
        limit: Annotated[int, Query(ge=1, le=100_000)] = 2000,
    ) -> dict[str, Any]:
        """One track's fixes (newest ``limit``), in time order."""
        rows = await asyncio.to_thread(
            store().track_fixes,
            track_id,
            t0_ns=_time_param(from_, "from"),
            t1_ns=_time_param(to, "to"),
            limit=limit,
        )
        return {"track_id": track_id, "fixes": rows}

    @app.get("/api/events")
    async def events(
        from_: Annotated[str | None, Query(alias="from")] = None,
        to: str | None = None,
        zone: str | None = None,
        track: str | None = None,
        type: Annotated[list[str] | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
    ) -> dict[str, Any]:
        """Events overlapping a time range, by zone, track and type, newest first."""
        rows = await asyncio.to_thread(
            store().events,
            t0_ns=_time_param(from_, "from"),
            t1_ns=_time_param(to, "to"),
            zone_id=zone,
            track_id=track,
            types=type,
            limit=limit,
        )
        return {"events": rows}

    @app.get("/api/events/{event_id}")
    async def event(event_id: str) -> dict[str, Any]:
        """One event with its alerts."""
        rows = await asyncio.to_thread(
            store().query, "SELECT body FROM events WHERE event_id = ?", [event_id]
        )
        if not rows:
            raise HTTPException(404, {"error": f"no event {event_id!r}", "field": "event_id"})
        alerts = await asyncio.to_thread(
            store().query, "SELECT body FROM alerts WHERE event_id = ?", [event_id]
        )
        return {
            "event": json.loads(rows[0]["body"]),
            "alerts": [json.loads(a["body"]) for a in alerts],
        }

    @app.get("/api/alerts")
    async def alerts(
        from_: Annotated[str | None, Query(alias="from")] = None,
        to: str | None = None,
        zone: str | None = None,
        track: str | None = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
    ) -> dict[str, Any]:
        """Alerts by event time range, zone and track, newest first (with delivery state)."""
        rows = await asyncio.to_thread(
            store().alerts,
            t0_ns=_time_param(from_, "from"),
            t1_ns=_time_param(to, "to"),
            zone_id=zone,
            track_id=track,
            limit=limit,
        )
        return {"alerts": rows}

    @app.get("/api/fixes/{fix_id}")
    async def fix(fix_id: int) -> dict[str, Any]:
        """One stored fix (the evidence an event names), with its feed and receive time."""
        row = await asyncio.to_thread(store().fix, fix_id)
        if row is None:
            raise HTTPException(
                404, {"error": f"no fix {fix_id} (unknown or purged)", "field": "fix_id"}
            )
        return {"fix": row}

    @app.get("/api/ingest")
    async def ingest_log(limit: Annotated[int, Query(ge=1, le=10_000)] = 200) -> dict[str, Any]:
        """The ingest log, newest first: per batch, lines read, fixes, rejects by reason."""
        return {"batches": await asyncio.to_thread(store().ingest_log, limit)}

    @app.get("/api/ingest/{batch_id}/rejects")
    async def rejects(batch_id: int) -> dict[str, Any]:
        """The rejected lines of one batch, with line numbers and reasons."""
        return {"rejects": await asyncio.to_thread(store().rejects, batch_id)}

    @app.get("/api/stream")
    async def stream(
        request: Request,
        types: Annotated[str | None, Query(max_length=100, pattern=r"^[a-z_,]*$")] = None,
    ) -> Response:
        """Server-Sent Events: ``positions``, ``event`` and ``alert`` messages (JSON);
        ``?types=alert,event`` subscribes to those kinds only."""
        kinds = [k for k in (types or "").split(",") if k]
        unknown = sorted(set(kinds) - {"positions", "event", "alert"})
        if unknown:
            return _error(422, f"unknown message types {unknown}", "types")
        sub = svc.broker.subscribe(kinds or None)

        async def gen() -> AsyncIterator[bytes]:
            try:
                yield b": connected\n\nretry: 1000\n\n"
                while True:
                    if await request.is_disconnected():
                        break
                    try:
                        kind, data = await asyncio.wait_for(sub.queue.get(), timeout=15)
                    except TimeoutError:
                        yield b": keep-alive\n\n"
                        continue
                    yield f"event: {kind}\ndata: {data}\n\n".encode()
            finally:
                svc.broker.unsubscribe(sub)

        return StreamingResponse(
            gen(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    # ------------------------------------------------------------------ writes
    @app.post("/api/ingest")
    async def ingest(
        request: Request,
        content_type: Annotated[str, Header()] = "application/x-ndjson",
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
        feed: Annotated[str, Query(max_length=200)] = "http",
    ) -> JSONResponse:
        """Ingest fixes: JSON lines (``application/x-ndjson``, ``application/json``) or
        CSV (``text/csv``). Answered after the commit; with an ``Idempotency-Key`` a
        retried batch is not stored twice (``duplicate: true``)."""
        parts: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            parts.append(chunk)
            size += len(chunk)
            if size > config.max_body_bytes:
                return _error(
                    413, f"body larger than {config.max_body_bytes} bytes; split it", "body"
                )
        body = b"".join(parts)
        ctype = content_type.split(";")[0].strip().lower()
        if ctype in ("text/csv", "application/csv"):
            decoded = await asyncio.to_thread(decode_csv, body)
        elif ctype in (
            "application/x-ndjson",
            "application/jsonl",
            "application/json",
            "text/plain",
        ):
            decoded = await asyncio.to_thread(decode_json_lines, body)
        else:
            return _error(
                415, f"content-type {ctype!r}: use application/x-ndjson or text/csv", "content-type"
            )
        name = f"http:{feed}"
        batch = IngestBatch(
            feed=name,
            fixes=decoded.fix_batch(name),
            rejects=decoded.rejects,
            n_read=decoded.n_read,
            n_ignored=decoded.n_other,
            batch_key=idempotency_key,
            received_ns=time.time_ns(),
        )
        try:
            ack = await svc.submit(batch)
        except Exception as exc:
            return _error(503, f"not stored, retry: {type(exc).__name__}: {exc}")
        ack["read"] = decoded.n_read
        return JSONResponse(ack, status_code=200)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    return app
