"""Alert rules, and the webhook delivered to a real local receiver (HMAC, retries)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from patrolwatch.errors import ConfigError
from patrolwatch.serve.alerts import (
    example_rules_path,
    load_rules,
    make_alert,
    match_rules,
    parse_rules,
    sign,
    verify_signature,
)
from patrolwatch.serve.service import ServeConfig
from patrolwatch.serve.stream import StreamEvent

from .conftest import box_zones, serve, wait_until

SECRET = b"webhook-secret"


def event(type_: str = "entry", **row: Any) -> StreamEvent:
    base = {
        "zone_kind": "territorial",
        "zone_name": "Dokdo",
        "claimants": "KOR;JPN",
        "evidence": "observed",
        "entry_time": 1,
        "duration_s": None,
    }
    base.update(row)
    return StreamEvent(
        "e1",
        type_,
        "A50",
        "territorial:KOR-JPN:dokdo",
        10**18,
        base,
        {"operator": "RUS", "type": "A-50", "source_kind": "adsb"},
        (7, 8),
    )


def test_rules_match_on_every_listed_condition() -> None:
    rules = parse_rules(
        {
            "rules": [
                {
                    "name": "a",
                    "events": ["entry"],
                    "zone_kinds": ["territorial"],
                    "operators": ["RUS"],
                },
                {"name": "b", "zone_ids": ["adiz:*"]},
                {"name": "c", "vehicle_types": ["A-5?"], "severity": "critical"},
                {"name": "d", "events": "visit", "min_duration_s": 60},
                {"name": "e", "operators": ["CHN"]},
            ]
        }
    )
    assert [r.name for r in match_rules(rules, event())] == ["a", "c"]
    assert [r.name for r in match_rules(rules, event("visit", duration_s=61.0))] == ["c", "d"]
    assert [r.name for r in match_rules(rules, event("visit", duration_s=59.0))] == ["c"]


def test_alert_carries_event_rule_and_evidence_links_and_never_says_violation_for_adiz() -> None:
    rule = load_rules(example_rules_path())[0]
    a = make_alert(rule, event())
    assert a["links"]["fixes"] == ["/api/fixes/7", "/api/fixes/8"]
    assert a["event"]["id"] == "e1" and a["rule"] == rule.name
    assert "territorial airspace/sea entry (claimed by KOR and JPN)" in a["message"]
    adiz = make_alert(rule, event(zone_kind="adiz", claimants="KOR"))
    assert "ADIZ entry" in adiz["message"] and "violation" not in adiz["message"]


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ({"rules": [{"name": "x", "zone": ["a"]}]}, "unknown key(s) ['zone']"),
        ({"rules": [{"title": "no name"}]}, "'name' is required"),
        ({"rules": [{"name": "x", "severity": "urgent"}]}, "severity 'urgent'"),
        ({"rules": [{"name": "x", "events": ["entered"]}]}, "unknown event type(s) ['entered']"),
        ({"rules": [{"name": "x"}, {"name": "x"}]}, "used twice"),
        ({"rules": [{"name": "x", "min_duration_s": "1h"}]}, "min_duration_s"),
        ({"rules": [{"name": "x", "joint": "yes"}]}, "'joint' must be true or false"),
        ({"rules": [{"name": "x", "joint": 1}]}, "'joint' must be true or false"),
        ({"rules": [{"name": "x", "events": ["formation"]}]}, "unknown event type(s)"),
        ([1, 2], "expected a mapping"),
    ],
)
def test_bad_rules_are_refused_naming_rule_and_key(doc: Any, needle: str) -> None:
    with pytest.raises(ConfigError, match=r"rule|mapping") as exc:
        parse_rules(doc, where="r.yaml")
    assert needle in str(exc.value) and "r.yaml" in str(exc.value)


def test_example_rules_load() -> None:
    names = [r.name for r in load_rules(example_rules_path())]
    assert "territorial-entry" in names and "adiz-entry-military" in names
    assert "joint-formation" in names and "formation-rus-chn" in names


def formation(type_: str = "formation_change", *, joint: bool = True) -> StreamEvent:
    """A formation event as the tracker builds it (members' attributes ``;``-joined)."""
    ops = "CHN;RUS" if joint else "CHN"
    row = {
        "members": "CHN-H6K-01;RUS-TU95-01",
        "operators": ops,
        "joint": joint,
        "start_time": 1_563_838_400 * 10**9,
        "end_time": 1_563_843_530 * 10**9,
        "duration_s": 5130.0,
        "start_change": "merged",
        "end_change": "split",
        "joined": "RUS-TU95-01",
        "detected_time": 1_563_838_743 * 10**9,
    }
    attrs = {"operator": ops, "type": "H-6K;Tu-95MS", "source_kind": "adsb"}
    return StreamEvent("f1", type_, "CHN-H6K-01", "", row["start_time"], row, attrs, (3, 4))


def test_formation_rules_match_joint_flag_and_any_members_operator_or_type() -> None:
    rules = parse_rules(
        {
            "rules": [
                {"name": "joint", "events": ["formation_start", "formation_change"], "joint": True},
                {"name": "single", "joint": False},
                {"name": "rus", "operators": ["RUS"]},
                {"name": "tu95", "vehicle_types": ["Tu-95*"]},
                {"name": "end", "events": ["formation_end"]},
                {"name": "ais", "source_kinds": ["ais"]},
            ]
        }
    )
    assert [r.name for r in match_rules(rules, formation())] == ["joint", "rus", "tu95"]
    assert [r.name for r in match_rules(rules, formation(joint=False))] == ["single", "tu95"]
    assert [r.name for r in match_rules(rules, formation("formation_end"))] == [
        "rus",
        "tu95",
        "end",
    ]
    # a zone event has no joint flag: neither joint rule selects it; its operator is one
    # value, never split
    assert [r.name for r in match_rules(rules, event())] == ["rus"]
    odd = StreamEvent("e2", "entry", "X", "z", 0, {}, {"operator": "CHN;RUS"})
    assert match_rules(rules, odd) == []


def test_formation_alert_names_members_operators_and_times() -> None:
    rule = parse_rules({"rules": [{"name": "j", "title": "Joint formation", "joint": True}]})[0]
    a = make_alert(rule, formation())
    assert a["message"] == (
        "Joint formation of 2 (CHN+RUS): CHN-H6K-01, RUS-TU95-01 [H-6K, Tu-95MS]: merged at "
        "2019-07-22T23:33:20.000Z; new: RUS-TU95-01 (found 2019-07-22T23:39:03.000Z)"
    )
    assert a["zone_id"] == "" and a["links"]["fixes"] == ["/api/fixes/3", "/api/fixes/4"]
    end = make_alert(rule, formation("formation_end"))
    assert "ended (split)" in end["message"] and "after 85.5 min" in end["message"]


@contextmanager
def receiver(fail_first: int) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    got: list[dict[str, Any]] = []
    calls = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            calls["n"] += 1
            if calls["n"] <= fail_first:
                self.send_response(503)
                self.end_headers()
                return
            ok = verify_signature(
                SECRET,
                self.headers["X-Patrolwatch-Timestamp"],
                body,
                self.headers["X-Patrolwatch-Signature"],
            )
            got.append(
                {"ok": ok, "body": json.loads(body), "id": self.headers["X-Patrolwatch-Delivery"]}
            )
            self.send_response(204 if ok else 401)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", got
    finally:
        server.shutdown()
        server.server_close()


def test_webhook_delivers_signed_alerts_and_retries_failures(
    cfg: Callable[..., ServeConfig],
) -> None:
    zones = box_zones(("box", "territorial", 130.0, 37.0, 131.0, 38.0))
    rules = load_rules(example_rules_path())
    with receiver(fail_first=2) as (url, got):
        config = cfg(
            zones=zones,
            rules=rules,
            webhook_url=url,
            webhook_secret=SECRET,
            webhook_backoff_s=0.05,
            clock="stream",
        )
        with serve(config) as run, run.client() as c:
            body = "\n".join(
                json.dumps(
                    {
                        "track_id": "R",
                        "time": f"2019-07-23T00:0{k}:00Z",
                        "lat": 37.5,
                        "lon": 129.5 + k,
                        "operator": "RUS",
                    }
                )
                for k in range(2)
            )
            assert c.post("/api/ingest", content=body).status_code == 200
            wait_until(lambda: len(got) == 1, timeout_s=15)
            assert got[0]["ok"] is True
            alert = got[0]["body"]
            assert alert["rule"] == "territorial-entry" and alert["event"]["type"] == "entry"
            assert got[0]["id"] == alert["id"]
            stored = c.get("/api/alerts").json()["alerts"][0]["delivery"]
            assert stored["attempts"] == 3 and stored["delivered_ns"] is not None
            assert run.service.counters["webhook_failed"] == 2


def test_signature_is_hmac_sha256_of_timestamp_and_body() -> None:
    import hashlib
    import hmac

    body = b'{"a":1}'
    expected = hmac.new(SECRET, b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1_700_000_000, body) == "sha256=" + expected
    assert not verify_signature(SECRET, "1700000000", body, "sha256=" + expected)  # too old
