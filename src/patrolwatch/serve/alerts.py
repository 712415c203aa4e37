"""Alert rules (a small YAML file), alerts, and their delivery (SSE broker, webhook).

Rules file
----------
.. code-block:: yaml

    rules:
      - name: territorial-entry          # required, unique
        title: Territorial airspace or sea entry
        severity: critical               # info | warning | critical (default warning)
        events: [entry]                  # any of ALL_EVENT_TYPES (below)
        zone_kinds: [territorial]        # any of
        zone_ids: ["territorial:*"]      # shell patterns, any of
        operators: [RUS, CHN]            # operator or flag (ISO 3166 alpha-3), any of
        vehicle_types: ["Tu-95*"]        # the track's type, shell patterns, any of
        source_kinds: [adsb]             # ais, adsb, ...
        evidence: [observed, interpolated]
        min_duration_s: 60               # visits lasting at least this long (visit events only)
        joint: true                      # formations whose members' operators differ

Event types (:data:`ALL_EVENT_TYPES`): those of the zone detector
(:data:`~patrolwatch.serve.stream.EVENT_TYPES`: ``entry``, ``visit``, ``near``,
``possible``, ``late_fix``, ``gap_open``, ``gap_close``) and of the formation tracker
(:data:`~patrolwatch.serve.joint.FORMATION_EVENT_TYPES`: ``formation_start``,
``formation_change``, ``formation_end``).

Every listed condition must hold; within a list any value matches; an absent key does not
restrict. Unknown keys are refused with the rule and key named. An event that a late fix
corrected (``correction`` set) raises a new alert that says so.

Formation events carry the attributes of all their members, ``;``-joined (``operator``
is e.g. ``"CHN;RUS"``): ``operators``, ``vehicle_types`` and ``source_kinds`` match when
*any* member's value matches. ``joint`` (``true`` or ``false``) matches the row's
``joint`` flag, so only formation events: ``joint: true`` selects formations of
different operators, ``joint: false`` formations of one operator.

Webhook
-------
Each alert is POSTed as JSON with the headers ``X-Patrolwatch-Timestamp`` (UNIX seconds),
``X-Patrolwatch-Delivery`` (the alert id) and ``X-Patrolwatch-Signature:
sha256=<hex>``: the HMAC-SHA256, keyed with the shared secret, of
``"<timestamp>.<body>"``. A receiver recomputes it (:func:`verify_signature`) and
rejects old timestamps. Failed deliveries are retried with exponential backoff up to
``max_attempts``; the store keeps every attempt (the alerts table is the outbox).
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import hmac
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.zones import kind_phrase
from ..errors import ConfigError
from .joint import FORMATION_EVENT_TYPES
from .stream import EVENT_TYPES, StreamEvent, iso_utc

__all__ = [
    "ALL_EVENT_TYPES",
    "SEVERITIES",
    "AlertRule",
    "Broker",
    "WebhookSender",
    "example_rules_path",
    "load_rules",
    "make_alert",
    "match_rules",
    "sign",
    "verify_signature",
]

SEVERITIES = ("info", "warning", "critical")
ALL_EVENT_TYPES: tuple[str, ...] = (*EVENT_TYPES, *FORMATION_EVENT_TYPES)
"""Event types a rule may select: the zone detector's and the formation tracker's."""
_LIST_KEYS = (
    "events",
    "zone_kinds",
    "zone_ids",
    "operators",
    "vehicle_types",
    "source_kinds",
    "evidence",
)


@dataclass(frozen=True)
class AlertRule:
    """One rule: which events raise an alert, its name, title and severity."""

    name: str
    title: str = ""
    severity: str = "warning"
    events: tuple[str, ...] = ()
    zone_kinds: tuple[str, ...] = ()
    zone_ids: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    vehicle_types: tuple[str, ...] = ()
    source_kinds: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    min_duration_s: float | None = None
    joint: bool | None = None

    def matches(self, e: StreamEvent) -> bool:
        """True when every condition of the rule holds for the event."""
        row = e.row
        if self.events and e.type not in self.events:
            return False
        if self.zone_kinds and row.get("zone_kind") not in self.zone_kinds:
            return False
        if self.zone_ids and not any(fnmatch.fnmatchcase(e.zone_id, p) for p in self.zone_ids):
            return False
        if self.operators and not any(v in self.operators for v in _values(e, "operator")):
            return False
        if self.vehicle_types and not any(
            fnmatch.fnmatchcase(v, p) for v in _values(e, "type") for p in self.vehicle_types
        ):
            return False
        if self.source_kinds and not any(v in self.source_kinds for v in _values(e, "source_kind")):
            return False
        if self.joint is not None and row.get("joint") is not self.joint:
            return False
        if self.evidence and row.get("evidence") not in self.evidence:
            return False
        if self.min_duration_s is not None:
            d = row.get("duration_s")
            if e.type != "visit" or d is None or not d >= self.min_duration_s:
                return False
        return True


def _values(e: StreamEvent, key: str) -> list[str]:
    """An attribute's values: one for a track's event, one per member (``;``-joined in
    ``attrs``) for a formation event; ``[""]`` when unknown."""
    value = e.attrs.get(key, "")
    if e.type in FORMATION_EVENT_TYPES:
        return value.split(";")
    return [value]


def example_rules_path() -> Path:
    """The example rules for the Northeast Asia catalog shipped with the package."""
    return Path(__file__).with_name("rules") / "nea.yaml"


def load_rules(path: str | os.PathLike[str]) -> list[AlertRule]:
    """Read and check a rules file.

    Raises
    ------
    ConfigError
        Naming the file, the rule and the key that is wrong, and what is allowed.

    Examples
    --------
    >>> [r.name for r in load_rules(example_rules_path())][:2]
    ['territorial-entry', 'adiz-entry-military']
    """
    import yaml

    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"rules file {p} not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from None
    return parse_rules(doc, where=str(p))


def parse_rules(doc: Any, *, where: str = "<rules>") -> list[AlertRule]:
    """Rules from a parsed YAML/JSON document (``{"rules": [...]}``)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        raise ConfigError(f"{where}: expected a mapping with a list 'rules:'")
    allowed = {"name", "title", "severity", "min_duration_s", "joint", *_LIST_KEYS}
    rules: list[AlertRule] = []
    seen: set[str] = set()
    for i, raw in enumerate(doc["rules"], start=1):
        at = f"{where}: rule {i}"
        if not isinstance(raw, dict):
            raise ConfigError(f"{at}: expected a mapping")
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise ConfigError(f"{at}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{at}: 'name' is required (a short unique text)")
        if name in seen:
            raise ConfigError(f"{at}: name {name!r} is used twice")
        seen.add(name)
        severity = raw.get("severity", "warning")
        if severity not in SEVERITIES:
            raise ConfigError(f"{at} ({name}): severity {severity!r}; use one of {SEVERITIES}")
        lists: dict[str, tuple[str, ...]] = {}
        for key in _LIST_KEYS:
            value = raw.get(key, [])
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{at} ({name}): {key!r} must be a list of texts")
            lists[key] = tuple(value)
        bad = sorted(set(lists["events"]) - set(ALL_EVENT_TYPES))
        if bad:
            raise ConfigError(f"{at} ({name}): unknown event type(s) {bad}; use {ALL_EVENT_TYPES}")
        min_d = raw.get("min_duration_s")
        if min_d is not None and (isinstance(min_d, bool) or not isinstance(min_d, int | float)):
            raise ConfigError(f"{at} ({name}): 'min_duration_s' must be a number of seconds")
        joint = raw.get("joint")
        if joint is not None and not isinstance(joint, bool):
            raise ConfigError(
                f"{at} ({name}): 'joint' must be true or false (formations of different "
                f"operators, or of one), got {joint!r}"
            )
        rules.append(
            AlertRule(
                name=name,
                title=str(raw.get("title", "")),
                severity=severity,
                min_duration_s=None if min_d is None else float(min_d),
                joint=joint,
                **lists,
            )
        )
    return rules


def match_rules(rules: Sequence[AlertRule], event: StreamEvent) -> list[AlertRule]:
    """The rules an event matches, in file order."""
    return [r for r in rules if r.matches(event)]


def _describe_formation(e: StreamEvent) -> str:
    """One line about a formation event: members, operators, what changed, when."""
    row = e.row
    members = [m for m in str(row.get("members") or "").split(";") if m]
    ops = str(row.get("operators") or "")
    kind = "Joint formation" if row.get("joint") else "Formation"
    who = f"{kind} of {len(members)} ({ops.replace(';', '+') or 'operator unknown'}): "
    who += ", ".join(members)
    if e.attrs.get("type"):
        who += f" [{e.attrs['type'].replace(';', ', ')}]"
    start = iso_utc(row.get("start_time"))
    if e.type == "formation_start":
        return f"{who}: formed at {start} (found {iso_utc(row.get('detected_time'))})"
    if e.type == "formation_change":
        joined = str(row.get("joined") or "").replace(";", ", ")
        new = f"; new: {joined}" if joined and row.get("start_change") != "split" else ""
        found = iso_utc(row.get("detected_time"))
        return f"{who}: {row.get('start_change', 'changed')} at {start}{new} (found {found})"
    d = row.get("duration_s")
    dur = f" after {d / 60:.1f} min" if isinstance(d, int | float) else ""
    return f"{who}: ended ({row.get('end_change', '')}) at {iso_utc(e.time_ns)}{dur}"


def _describe(e: StreamEvent) -> str:
    """One line a person reads: who, what, where, when (ADIZ entries are never called
    violations)."""
    if e.type in FORMATION_EVENT_TYPES:
        return _describe_formation(e)
    a = e.attrs
    who = " ".join(x for x in (a.get("operator", ""), a.get("type", "")) if x) or "track"
    who += f" {e.track_id}"
    if a.get("callsign"):
        who += f" ({a['callsign']})"
    row = e.row
    claimants = [c for c in str(row.get("claimants") or "").split(";") if c]
    zone = str(row.get("zone_name") or e.zone_id)
    when = iso_utc(e.time_ns)
    if e.type == "entry":
        what = kind_phrase(str(row.get("zone_kind", "")), claimants)
        if row.get("entry_time") is None:
            what += " (first seen inside)"
        return f"{who}: {what}: {zone}, {when}"
    if e.type == "visit":
        d = row.get("duration_s")
        dur = f" after {d / 60:.1f} min" if isinstance(d, int | float) else ""
        return f"{who} left {zone}{dur} ({e.closed_by}), {when}"
    if e.type == "near":
        return f"{who} passed {row.get('closest_m', 0) / 1000:.1f} km from {zone}, {when}"
    if e.type == "possible":
        return f"{who} could have entered {zone} between two far-apart fixes, {when}"
    if e.type == "late_fix":
        n = len(e.affects)
        return f"{who}: fix from {when} arrived too late to be used; {n} event(s) affected"
    return f"{who}: {e.type.replace('_', ' ')}, {when}"


def make_alert(rule: AlertRule, e: StreamEvent) -> dict[str, Any]:
    """An alert: the event, the rule and links to the evidence (relative API paths)."""
    aid = hashlib.sha1(f"{rule.name}|{e.id}|{e.correction}|{e.content_key()}".encode()).hexdigest()
    return {
        "id": aid[:24],
        "rule": rule.name,
        "title": rule.title or rule.name,
        "severity": rule.severity,
        "message": _describe(e),
        "event_id": e.id,
        "event_type": e.type,
        "track_id": e.track_id,
        "zone_id": e.zone_id,
        "time_ns": e.time_ns,
        "time": iso_utc(e.time_ns),
        "correction": e.correction,
        "event": e.to_dict(),
        "links": {
            "event": f"/api/events/{e.id}",
            "track": f"/api/tracks/{e.track_id}/fixes",
            "fixes": [f"/api/fixes/{i}" for i in e.fix_ids],
            "map": f"/?track={e.track_id}",
        },
    }


# =========================================================================== SSE broker
@dataclass(eq=False)
class _Subscriber:
    queue: asyncio.Queue[tuple[str, str]]
    lagged: int = 0
    kinds: frozenset[str] | None = None  # message kinds wanted (None: all)


@dataclass
class Broker:
    """Fan-out of published messages to Server-Sent-Events subscribers.

    A slow subscriber never blocks the pipeline: when its queue (``max_queue``) is full
    the oldest message is dropped and ``lagged`` counted; the page then re-reads the REST
    API.
    """

    max_queue: int = 1000
    _subs: set[Any] = field(default_factory=set)

    def subscribe(self, kinds: Sequence[str] | None = None) -> _Subscriber:
        """A new subscriber to the message ``kinds`` (all when ``None``); call
        :meth:`unsubscribe` when done."""
        sub = _Subscriber(asyncio.Queue(self.max_queue), 0, frozenset(kinds) if kinds else None)
        self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: _Subscriber) -> None:
        """Forget a subscriber."""
        self._subs.discard(sub)

    def wants(self, kind: str) -> bool:
        """True when some subscriber takes messages of this kind."""
        return any(s.kinds is None or kind in s.kinds for s in list(self._subs))

    @property
    def subscribers(self) -> int:
        """Number of connected subscribers."""
        return len(self._subs)

    def publish(self, kind: str, payload: Mapping[str, Any]) -> None:
        """Queue a message for every subscriber that wants its kind (event loop thread
        only; the JSON text is made only when someone wants it)."""
        subs = [s for s in self._subs if s.kinds is None or kind in s.kinds]
        if not subs:
            return
        data = json.dumps(payload, separators=(",", ":"), default=str)
        for sub in subs:
            if sub.queue.full():
                sub.queue.get_nowait()
                sub.lagged += 1
            sub.queue.put_nowait((kind, data))


# =========================================================================== webhook
def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``b"<timestamp>." + body`` keyed by ``secret``.

    Examples
    --------
    >>> sign(b"k", 0, b"{}")[:15]
    'sha256=c847cd2c'
    """
    mac = hmac.new(secret, str(int(timestamp)).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: bytes, timestamp: str, body: bytes, signature: str, *, max_age_s: float = 300.0
) -> bool:
    """Check a webhook delivery: signature matches and timestamp is recent."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(time.time() - ts) > max_age_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


@dataclass
class WebhookSender:
    """POST alerts to a URL, signed, with retries (exponential backoff).

    Parameters
    ----------
    url : str
    secret : bytes
        Shared HMAC key.
    max_attempts : int
    backoff_s : float
        First retry delay; doubles each attempt, at most ``max_backoff_s``.
    timeout_s : float
    """

    url: str
    secret: bytes
    max_attempts: int = 8
    backoff_s: float = 0.5
    max_backoff_s: float = 60.0
    timeout_s: float = 5.0

    async def deliver(self, client: Any, alert: Mapping[str, Any]) -> tuple[bool, str]:
        """One attempt; ``(ok, error)``."""
        body = json.dumps(alert, separators=(",", ":"), default=str).encode()
        ts = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-Patrolwatch-Timestamp": str(ts),
            "X-Patrolwatch-Delivery": str(alert["id"]),
            "X-Patrolwatch-Signature": sign(self.secret, ts, body),
            "User-Agent": "patrolwatch-webhook",
        }
        try:
            resp = await client.post(
                self.url, content=body, headers=headers, timeout=self.timeout_s
            )
        except Exception as exc:  # network errors of any kind are retried
            return False, f"{type(exc).__name__}: {exc}"[:300]
        if 200 <= resp.status_code < 300:
            return True, ""
        return False, f"HTTP {resp.status_code}"

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt`` (1-based; the first is immediate)."""
        if attempt <= 1:
            return 0.0
        return float(min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 2)))
