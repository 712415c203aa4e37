"""The HTTP service: keys, limits, errors naming the field, ingest and queries."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from patrolwatch.serve.alerts import example_rules_path, load_rules
from patrolwatch.serve.service import ServeConfig

from .conftest import AUTH, KEY, box_zones, serve, wait_until

T0 = "2019-07-23T00:00:00Z"


def lines(*objs: dict[str, object]) -> bytes:
    return b"\n".join(json.dumps(o).encode() for o in objs)


def fix(track: str, minute: int, lon: float, lat: float = 37.5, **kw: object) -> dict[str, object]:
    return {
        "track_id": track,
        "time": f"2019-07-23T00:{minute:02d}:00Z",
        "lon": lon,
        "lat": lat,
        **kw,
    }


ZONES = box_zones(("box", "territorial", 130.0, 37.0, 131.0, 38.0))


def test_request_without_the_key_is_refused_and_with_it_accepted(
    cfg: Callable[..., ServeConfig],
) -> None:
    with serve(cfg(zones=ZONES)) as run, run.client(auth=False) as anon:
        r = anon.post("/api/ingest", content=lines(fix("A", 0, 129.5)))
        assert r.status_code == 401
        assert r.json()["field"] == "api_key"
        assert anon.get("/api/events").status_code == 401  # reads need it without --public-read
        assert anon.get("/api/health").status_code == 200
        r = anon.get("/api/events", headers={"Authorization": f"Bearer {KEY}"})
        assert r.status_code == 200
        r = anon.get("/api/events", headers={"X-API-Key": "wrong"})
        assert r.status_code == 401
        assert run.service.store is not None and run.service.store.count("fixes") == 0


def test_public_read_opens_reads_but_not_writes(cfg: Callable[..., ServeConfig]) -> None:
    with serve(cfg(zones=ZONES, public_read=True)) as run, run.client(auth=False) as anon:
        assert anon.get("/api/events").status_code == 200
        assert anon.get("/").status_code == 200
        assert anon.post("/api/ingest", content=b"{}").status_code == 401


def test_writes_are_disabled_without_any_key(cfg: Callable[..., ServeConfig]) -> None:
    with serve(cfg(zones=ZONES, api_keys=())) as run, run.client() as c:
        r = c.post("/api/ingest", content=lines(fix("A", 0, 129.5)))
        assert r.status_code == 403 and "api-key-file" in r.json()["error"]


def test_ingest_acknowledges_after_commit_and_detects_the_entry(
    cfg: Callable[..., ServeConfig],
) -> None:
    rules = load_rules(example_rules_path())
    with serve(cfg(zones=ZONES, rules=rules, clock="stream")) as run, run.client() as c:
        body = lines(
            fix("A", 0, 129.5, operator="RUS", callsign="<b>x</b>"),
            fix("A", 1, 130.5),
            {"track_id": "A", "time": "2019-07-23T00:02:00", "lat": 37.5, "lon": 131.0},
            "not json",  # type: ignore[arg-type]
        )
        r = c.post("/api/ingest", content=body, headers={"Idempotency-Key": "b1"})
        assert r.status_code == 200, r.text
        ack = r.json()
        assert (ack["fixes"], ack["rejected"], ack["read"]) == (2, 2, 4)
        assert ack["rejects_by_reason"] == {"naive_time": 1, "bad_json": 1}
        assert [x["line"] for x in ack["rejects"]] == [3, 4]
        # acknowledged means stored
        assert run.service.store is not None and run.service.store.count("fixes") == 2
        ev = c.get("/api/events", params={"track": "A"}).json()["events"]
        assert [e["type"] for e in ev] == ["entry"]
        assert ev[0]["row"]["zone_id"] == "box"
        al = c.get("/api/alerts").json()["alerts"]
        assert [a["rule"] for a in al] == ["territorial-entry"]
        assert al[0]["links"]["event"] == f"/api/events/{ev[0]['id']}"
        fx = c.get(al[0]["links"]["fixes"][0]).json()["fix"]
        assert fx["track_id"] == "A" and fx["feed"] == "http:http"
        # the same batch again is not stored twice
        again = c.post("/api/ingest", content=body, headers={"Idempotency-Key": "b1"}).json()
        assert again["duplicate"] is True and again["batch_id"] == ack["batch_id"]
        assert run.service.store.count("fixes") == 2
        log = c.get("/api/ingest").json()["batches"]
        assert log[0]["n_read"] == 4 and log[0]["rejects_by_reason"] == ack["rejects_by_reason"]
        rj = c.get(f"/api/ingest/{ack['batch_id']}/rejects").json()["rejects"]
        assert [(x["line"], x["reason"]) for x in rj] == [(3, "naive_time"), (4, "bad_json")]


def test_csv_batches_are_accepted(cfg: Callable[..., ServeConfig]) -> None:
    body = b"track_id,time,lat,lon,alt_m\nA,2019-07-23T00:00:00Z,37.5,129.5,9000\nA,x,37.5,130\n"
    with serve(cfg(zones=ZONES, clock="stream")) as run, run.client() as c:
        r = c.post("/api/ingest", content=body, headers={"Content-Type": "text/csv"})
        assert r.status_code == 200, r.text
        assert (r.json()["fixes"], r.json()["rejects_by_reason"]) == (1, {"bad_row": 1})
        fixes = c.get("/api/tracks/A/fixes").json()["fixes"]
        assert [f["alt_m"] for f in fixes] == [9000.0]
        assert run.service.store is not None


def test_errors_are_4xx_and_name_the_field(cfg: Callable[..., ServeConfig]) -> None:
    with serve(cfg(zones=ZONES, max_body_bytes=1000)) as run, run.client() as c:
        r = c.get("/api/events", params={"limit": "many"})
        assert r.status_code == 400 and r.json()["field"] == "limit"
        r = c.get("/api/events", params={"from": "2019-07-23T00:00:00"})
        assert r.status_code == 400 and r.json()["field"] == "from"
        r = c.post("/api/ingest", content=b"x" * 2000)
        assert r.status_code == 413 and r.json()["field"] == "body"
        r = c.post("/api/ingest", content=b"x", headers={"Content-Type": "image/png"})
        assert r.status_code == 415
        r = c.get("/api/events/nope")
        assert r.status_code == 404 and r.json()["field"] == "event_id"
        assert c.get("/api/fixes/12345").status_code == 404
        # no CORS header unless origins are configured
        r = c.get("/api/health", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in r.headers


def test_openapi_health_and_metrics(cfg: Callable[..., ServeConfig]) -> None:
    with serve(cfg(zones=ZONES, clock="stream")) as run, run.client() as c:
        schema = c.get("/openapi.json").json()
        assert {"/api/ingest", "/api/events", "/api/alerts", "/api/stream"} <= set(schema["paths"])
        c.post("/api/ingest", content=lines(fix("A", 0, 129.5), fix("A", 1, 130.5)))
        m = c.get("/api/metrics").json()
        assert m["open_tracks"] == 1 and m["open_visits"] == 1 and m["fixes"] == 2
        assert m["fixes_per_s"] > 0 and m["commit_lag_s_max"] is not None
        h = c.get("/api/health").json()
        assert h["status"] == "ok" and h["schema_version"] == 1
        zones = c.get("/api/zones").json()
        assert zones["features"][0]["properties"]["claimants"] == "KOR"
        assert len(c.get("/api/land").json()["features"]) > 100
        assert run.service.store is not None


def test_sse_stream_delivers_alerts(cfg: Callable[..., ServeConfig]) -> None:
    rules = load_rules(example_rules_path())
    with serve(cfg(zones=ZONES, rules=rules, clock="stream")) as run:
        got: list[str] = []
        with (
            httpx.Client(base_url=run.url, headers=AUTH, timeout=10) as c,
            c.stream("GET", "/api/stream") as resp,
        ):
            assert resp.headers["content-type"].startswith("text/event-stream")
            with httpx.Client(base_url=run.url, headers=AUTH, timeout=10) as w:
                w.post(
                    "/api/ingest",
                    content=lines(fix("B", 0, 129.5, operator="CHN"), fix("B", 1, 130.5)),
                )
            for line in resp.iter_lines():  # bounded by the break and the 10 s timeout
                got.append(line)
                if line.startswith("event: alert"):
                    break
        assert "event: alert" in got
        wait_until(lambda: run.service.counters["alerts"] == 1)
