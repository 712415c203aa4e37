"""The live map as a person sees it: Debian's Chromium through Playwright, against a
running service on 127.0.0.1, with the bundled incident replayed into it."""

from __future__ import annotations

import io
import itertools
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image

import patrolwatch as pw
from browser import chromium
from patrolwatch.serve.alerts import example_rules_path, load_rules
from patrolwatch.serve.service import ServeConfig

from .conftest import INCIDENT, KEY, Running, box_zones, serve, wait_until

HOSTILE = "<img src=x onerror=alert(1)>"
SEA = (0xBF, 0xD7, 0xEA)
LAND = (0xEC, 0xEA, 0xDF)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium()


class Page:
    """The map opened with the key in the URL fragment; requests, errors and dialogs kept."""

    def __init__(self, browser: Any, run: Running) -> None:
        self.context = browser.new_context(viewport={"width": 1300, "height": 800})
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []

        def route(r: Any) -> None:
            if r.request.url.startswith(run.url):
                r.continue_()
            else:
                self.outside.append(r.request.url)
                r.abort()

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(f"{run.url}/#key={KEY}")
        self.page.wait_for_selector("body[data-ready='1']", timeout=20_000)
        self.page.wait_for_selector("#status.ok", timeout=10_000)  # SSE connected

    def pixels(self) -> Image.Image:
        return Image.open(io.BytesIO(self.page.locator("#map").screenshot())).convert("RGB")


def count(img: Image.Image, rgb: tuple[int, int, int], tol: int = 6) -> int:
    r, g, b = rgb
    return sum(
        n
        for n, (pr, pg, pb) in img.getcolors(maxcolors=1 << 24) or []
        if abs(pr - r) <= tol and abs(pg - g) <= tol and abs(pb - b) <= tol
    )


def incident_payloads(step_s: int = 60) -> list[bytes]:
    """The incident in time order, as JSON-lines batches of ``step_s`` of incident time."""
    tracks, _, _ = pw.read_tracks(INCIDENT / "tracks.csv")
    order = np.lexsort((np.arange(len(tracks)), tracks.t_ns))
    tix = tracks.track_index
    t = tracks.t_ns[order]
    edges = np.arange(t[0], t[-1] + step_s * 10**9, step_s * 10**9)
    out = []
    for lo, hi in itertools.pairwise(edges):
        sel = order[(t >= lo) & (t < hi)]
        rows = [
            json.dumps(
                {
                    "track_id": str(tracks.track_ids[tix[i]]),
                    "time": int(tracks.t_ns[i]) / 1e9,
                    "lat": float(tracks.lat_deg[i]),
                    "lon": float(tracks.lon_deg[i]),
                    "alt_m": float(tracks.alt_m[i]),
                    "operator": str(tracks.attr("operator")[tix[i]]),
                    "type": str(tracks.attr("type")[tix[i]]),
                    "source_kind": "adsb",
                }
            )
            for i in sel.tolist()
        ]
        if rows:
            out.append("\n".join(rows).encode())
    return out


def test_replayed_incident_draws_and_raises_its_alerts_on_the_page_within_2_s(
    browser: Any, cfg: Callable[..., ServeConfig]
) -> None:
    rules = load_rules(example_rules_path())
    with serve(cfg(rules=rules, clock="stream")) as run, run.client() as c:
        opened = Page(browser, run)
        try:
            page = opened.page
            # replay: one batch per 2 minutes of incident time, every 30 ms
            for body in incident_payloads(step_s=120):
                assert c.post("/api/ingest", content=body).status_code == 200
                time.sleep(0.03)
            run.settle()
            alerts = c.get("/api/alerts", params={"limit": 1000}).json()["alerts"]
            rules_hit = {a["rule"] for a in alerts}
            assert {"adiz-entry-military", "territorial-entry", "disputed-islets"} <= rules_hit
            dokdo = [a for a in alerts if a["rule"] == "territorial-entry"]
            assert [a["track_id"] for a in dokdo] == ["RUS-A50-01"] * 2  # two visits
            wait_until(lambda: page.locator("#alerts li").count() == len(alerts), timeout_s=10)
            shown = page.eval_on_selector_all(
                "#alerts li",
                "els => els.map(e => [e.dataset.alertId, +e.dataset.receivedMs, e.dataset.fixIds])",
            )
            assert {s[0] for s in shown} == {a["id"] for a in alerts}
            # the joint formation (streaming formations) shows who flew together
            joint = [a for a in alerts if a["rule"] == "joint-formation"]
            assert len(joint) == 1
            text = page.locator(f"#alerts li[data-alert-id='{joint[0]['id']}']").inner_text()
            assert "Joint formation of 4 (CHN+RUS)" in text and "RUS-TU95-02" in text
            lat = []
            for _, received_ms, fix_ids in shown:
                cause = max(int(x) for x in fix_ids.split(","))  # the fix that revealed it
                fx = c.get(f"/api/fixes/{cause}").json()["fix"]
                lat.append(received_ms / 1e3 - fx["received_ns"] / 1e9)
            print(f"alert latency on the page: max {max(lat):.3f} s over {len(lat)} alerts")
            assert max(lat) < 2.0
            assert min(lat) > -0.5  # clocks agree: nothing shown before its fix was sent
            # the map draws: sea, land, zones and coloured tracks
            img = opened.pixels()
            total = img.size[0] * img.size[1]
            assert count(img, SEA) > 0.2 * total
            assert count(img, LAND) > 0.05 * total
            assert count(img, (0xD6, 0x27, 0x28), tol=30) > 20  # CHN tracks (red)
            assert count(img, (0x1F, 0x77, 0xB4), tol=30) > 20  # RUS tracks (blue)
            # clicking a track shows its recent path and its events
            # (dispatched: the A-50's last position may be outside the initial view)
            page.locator("#tracks circle[data-track-id='RUS-A50-01']").dispatch_event("click")
            page.wait_for_selector("#trackevents li", timeout=5000)
            events_text = page.locator("#trackevents").inner_text()
            assert "entry" in events_text and "Dokdo" in events_text
            assert page.locator("#paths polyline").count() == 1
            assert opened.outside == [] and opened.errors == [] and opened.dialogs == []
        finally:
            opened.context.close()


def test_callsign_with_markup_shows_as_text(browser: Any, cfg: Callable[..., ServeConfig]) -> None:
    zones = box_zones(("box", "territorial", 130.0, 37.0, 131.0, 38.0))
    rules = load_rules(example_rules_path())
    with serve(cfg(zones=zones, rules=rules, clock="stream")) as run, run.client() as c:
        opened = Page(browser, run)
        try:
            page = opened.page
            body = "\n".join(
                json.dumps(
                    {
                        "track_id": HOSTILE,
                        "time": f"2019-07-23T00:0{k}:00Z",
                        "lat": 37.5,
                        "lon": 129.5 + k,
                        "operator": "RUS",
                        "callsign": HOSTILE,
                        "type": HOSTILE,
                    }
                )
                for k in range(2)
            )
            assert c.post("/api/ingest", content=body).status_code == 200
            page.wait_for_selector("#alerts li", timeout=5000)
            assert HOSTILE in page.locator("#alerts li .message").first.text_content()
            page.locator("#tracks circle").first.dispatch_event("click")
            page.wait_for_selector("#trackinfo dd", timeout=5000)
            assert HOSTILE in page.locator("#trackname").text_content()
            assert HOSTILE in page.locator("#trackinfo").text_content()
            assert page.locator("img").count() == 0
            time.sleep(0.3)
            assert opened.dialogs == [] and opened.errors == []
        finally:
            opened.context.close()
