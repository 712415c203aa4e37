// patrolwatch live map. Plain SVG, no external assets (works offline).
// Every string that comes from data is put in the page with textContent or as an SVG
// attribute value, never with innerHTML.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const COLORS = {
  CHN: "#d62728", RUS: "#1f77b4", KOR: "#17becf", JPN: "#9467bd", USA: "#2ca02c",
  PRK: "#8c564b", TWN: "#e377c2",
};
const OTHER = "#7f7f7f";
const TRAIL = 40; // positions kept per track for its trail
const MAX_ALERTS = 300;

const state = {
  key: sessionStorage.getItem("patrolwatch-key") || "",
  tracks: new Map(), // id -> {pos, trail: [[x,y]], el, trailEl}
  selected: null,
  view: null, // {x, y, w, h} in projected units
  alerts: 0,
};

// ---------------------------------------------------------------- projection
// Web Mercator in degree-like units: x = lon, y = -ln(tan(pi/4 + lat/2)) * 180/pi
function project(lon, lat) {
  const r = Math.PI / 180;
  const clamped = Math.max(-85, Math.min(85, lat));
  return [lon, -Math.log(Math.tan(Math.PI / 4 + (clamped * r) / 2)) / r];
}

function ringPath(ring) {
  let d = "";
  for (let i = 0; i < ring.length; i++) {
    const [x, y] = project(ring[i][0], ring[i][1]);
    d += (i ? "L" : "M") + x.toFixed(3) + " " + y.toFixed(3);
  }
  return d + "Z";
}

function geomPath(g) {
  if (!g) return "";
  if (g.type === "Polygon") return g.coordinates.map(ringPath).join("");
  if (g.type === "MultiPolygon") return g.coordinates.map((p) => p.map(ringPath).join("")).join("");
  if (g.type === "GeometryCollection") return g.geometries.map(geomPath).join("");
  if (g.type === "LineString") return ringPath(g.coordinates).slice(0, -1);
  if (g.type === "MultiLineString") return g.coordinates.map((l) => ringPath(l).slice(0, -1)).join("");
  return "";
}

function el(tag, attrs, parent) {
  const e = document.createElementNS(SVG, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}

function h(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function color(op) {
  return COLORS[op] || OTHER;
}

function isoTime(ns) {
  if (ns === null || ns === undefined) return "";
  return new Date(Number(BigInt(ns) / 1000000n)).toISOString().replace(".000Z", "Z");
}

// ---------------------------------------------------------------- network
function withKey(url) {
  if (!state.key) return url;
  return url + (url.includes("?") ? "&" : "?") + "key=" + encodeURIComponent(state.key);
}

async function getJSON(url) {
  const resp = await fetch(withKey(url), { headers: state.key ? { "X-API-Key": state.key } : {} });
  if (resp.status === 401) {
    askKey();
    throw new Error("API key needed");
  }
  if (!resp.ok) throw new Error(url + ": HTTP " + resp.status);
  return resp.json();
}

function askKey() {
  const form = document.getElementById("keyform");
  form.hidden = false;
  setStatus("API key needed", "bad");
}

function setStatus(text, cls) {
  const s = document.getElementById("status");
  s.textContent = text;
  s.className = "status " + (cls || "");
}

// ---------------------------------------------------------------- map view
function svg() {
  return document.getElementById("map");
}

function setView(v) {
  state.view = v;
  svg().setAttribute("viewBox", `${v.x} ${v.y} ${v.w} ${v.h}`);
  svg().setAttribute("preserveAspectRatio", "xMidYMid meet");
  resizeMarkers();
}

function unitsPerPixel() {
  const r = svg().getBoundingClientRect();
  if (!state.view || !r.width) return 0.05;
  return Math.max(state.view.w / r.width, state.view.h / r.height);
}

function resizeMarkers() {
  const u = unitsPerPixel();
  for (const t of state.tracks.values()) {
    t.el.setAttribute("r", (5 * u).toFixed(4));
    t.el.setAttribute("stroke-width", (1.5 * u).toFixed(4));
    t.trailEl.setAttribute("stroke-width", (1.5 * u).toFixed(4));
  }
  for (const p of document.querySelectorAll("#land path, #zones path")) {
    p.setAttribute("stroke-width", (1 * u).toFixed(4));
  }
  for (const p of document.querySelectorAll("#paths polyline")) {
    p.setAttribute("stroke-width", (3 * u).toFixed(4));
  }
}

function installPanZoom() {
  const s = svg();
  let drag = null;
  s.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const r = s.getBoundingClientRect();
    const v = state.view;
    const k = ev.deltaY > 0 ? 1.2 : 1 / 1.2;
    const u = unitsPerPixel();
    // keep the point under the cursor fixed
    const cx = v.x + v.w / 2 + (ev.clientX - r.left - r.width / 2) * u;
    const cy = v.y + v.h / 2 + (ev.clientY - r.top - r.height / 2) * u;
    setView({ x: cx - (cx - v.x) * k, y: cy - (cy - v.y) * k, w: v.w * k, h: v.h * k });
  }, { passive: false });
  s.addEventListener("pointerdown", (ev) => {
    if (ev.target.tagName === "circle") return;
    drag = { x: ev.clientX, y: ev.clientY, v: { ...state.view } };
    s.setPointerCapture(ev.pointerId);
  });
  s.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    const u = unitsPerPixel();
    setView({ ...drag.v, x: drag.v.x - (ev.clientX - drag.x) * u, y: drag.v.y - (ev.clientY - drag.y) * u });
  });
  s.addEventListener("pointerup", () => { drag = null; });
  window.addEventListener("resize", resizeMarkers);
}

// ---------------------------------------------------------------- layers
async function loadLand() {
  const doc = await getJSON("/api/land");
  const g = document.getElementById("land");
  for (const f of doc.features) {
    el("path", { d: geomPath(f.geometry), "data-iso3": f.properties.iso3 || "" }, g);
  }
  resizeMarkers();
}

async function loadZones() {
  const doc = await getJSON("/api/zones");
  const g = document.getElementById("zones");
  const list = document.getElementById("zonelist");
  let box = null;
  for (const f of doc.features) {
    const p = f.properties;
    const kind = p.kind === "adiz" || p.kind === "territorial" ? p.kind : "other";
    const path = el("path", { d: geomPath(f.geometry), class: kind, "data-zone-id": p.id }, g);
    const title = el("title", {}, path);
    title.textContent = `${p.name} (${p.kind}; claimants ${p.claimants || "none"})`;
    const li = h("li", "", `${p.name} — ${p.kind}, ${p.claimants || "no claimant"}`);
    li.title = p.caveat || "";
    list.appendChild(li);
    const b = path.getBBox();
    box = box ? {
      x0: Math.min(box.x0, b.x), y0: Math.min(box.y0, b.y),
      x1: Math.max(box.x1, b.x + b.width), y1: Math.max(box.y1, b.y + b.height),
    } : { x0: b.x, y0: b.y, x1: b.x + b.width, y1: b.y + b.height };
  }
  if (box) {
    const pad = 1.0;
    setView({ x: box.x0 - pad, y: box.y0 - pad, w: box.x1 - box.x0 + 2 * pad, h: box.y1 - box.y0 + 2 * pad });
  }
}

function legend() {
  const lg = document.getElementById("legend");
  for (const [op, c] of Object.entries(COLORS).concat([["other", OTHER]])) {
    const s = h("span", "", "");
    const dot = h("i", "", "");
    dot.style.background = c;
    s.appendChild(dot);
    s.appendChild(document.createTextNode(op));
    lg.appendChild(s);
  }
}

// ---------------------------------------------------------------- tracks
function upsertTrack(p) {
  let t = state.tracks.get(p.track_id);
  const [x, y] = project(p.lon_deg, p.lat_deg);
  if (!t) {
    const trailEl = el("polyline", { stroke: color(p.operator), "stroke-opacity": 0.6 }, document.getElementById("trails"));
    const c = el("circle", { fill: color(p.operator), "data-track-id": p.track_id }, document.getElementById("tracks"));
    const title = el("title", {}, c);
    t = { pos: p, trail: [], el: c, trailEl, title };
    c.addEventListener("click", (ev) => { ev.stopPropagation(); selectTrack(p.track_id); });
    state.tracks.set(p.track_id, t);
    const u = unitsPerPixel();
    c.setAttribute("r", (5 * u).toFixed(4));
    c.setAttribute("stroke-width", (1.5 * u).toFixed(4));
    trailEl.setAttribute("stroke-width", (1.5 * u).toFixed(4));
  } else if (t.pos.t_ns > p.t_ns) {
    return;
  }
  t.pos = { ...t.pos, ...p };
  t.trail.push([x, y]);
  if (t.trail.length > TRAIL) t.trail.shift();
  t.el.setAttribute("cx", x.toFixed(4));
  t.el.setAttribute("cy", y.toFixed(4));
  t.el.setAttribute("fill", color(t.pos.operator));
  t.trailEl.setAttribute("points", t.trail.map((q) => q[0].toFixed(4) + "," + q[1].toFixed(4)).join(" "));
  t.title.textContent = `${t.pos.track_id} ${t.pos.callsign || ""} ${t.pos.operator || ""} ${t.pos.type || ""}`;
  if (state.selected === p.track_id) fillTrackInfo(t.pos);
}

function fillTrackInfo(p) {
  document.getElementById("trackname").textContent = p.track_id;
  const dl = document.getElementById("trackinfo");
  dl.replaceChildren();
  const rows = [
    ["callsign", p.callsign], ["operator", p.operator], ["type", p.type], ["source", p.source_kind],
    ["last fix", isoTime(p.t_ns)], ["position", `${p.lat_deg.toFixed(4)}°N ${p.lon_deg.toFixed(4)}°E`],
    ["altitude", p.alt_m === null || p.alt_m === undefined ? "" : Math.round(p.alt_m) + " m"],
    ["speed", p.speed_mps === null || p.speed_mps === undefined ? "" : p.speed_mps.toFixed(0) + " m/s"],
  ];
  for (const [k, v] of rows) {
    dl.appendChild(h("dt", "", k));
    dl.appendChild(h("dd", "", v === undefined || v === null ? "" : v));
  }
}

async function selectTrack(id) {
  state.selected = id;
  for (const t of state.tracks.values()) t.el.classList.toggle("selected", t.pos.track_id === id);
  const panel = document.getElementById("trackpanel");
  panel.hidden = false;
  const t = state.tracks.get(id);
  if (t) fillTrackInfo(t.pos);
  else document.getElementById("trackname").textContent = id;
  const paths = document.getElementById("paths");
  paths.replaceChildren();
  const list = document.getElementById("trackevents");
  list.replaceChildren();
  try {
    const fx = await getJSON("/api/tracks/" + encodeURIComponent(id) + "/fixes?limit=2000");
    const pts = fx.fixes.map((f) => project(f.lon_deg, f.lat_deg));
    const line = el("polyline", { points: pts.map((q) => q[0].toFixed(4) + "," + q[1].toFixed(4)).join(" ") }, paths);
    line.setAttribute("stroke-width", (3 * unitsPerPixel()).toFixed(4));
    const ev = await getJSON("/api/events?track=" + encodeURIComponent(id) + "&limit=200");
    for (const e of ev.events) {
      const li = h("li", "", "");
      const what = e.row.zone_name || e.zone_id || (e.row.members || "").split(";").join(", ");
      li.appendChild(h("div", "", `${e.type} ${what}`));
      li.appendChild(h("div", "meta", `${e.time} ${e.row.evidence || ""} ${e.row.source_rows || ""}`));
      list.appendChild(li);
    }
  } catch (err) {
    list.appendChild(h("li", "", String(err)));
  }
}

async function loadTracks() {
  const doc = await getJSON("/api/tracks");
  for (const p of doc.tracks) upsertTrack(p);
}

// ---------------------------------------------------------------- alerts
function addAlert(a, receivedMs) {
  const list = document.getElementById("alerts");
  const li = h("li", a.severity, "");
  li.dataset.alertId = a.id;
  li.dataset.eventId = a.event_id;
  li.dataset.trackId = a.track_id;
  li.dataset.receivedMs = String(receivedMs);
  li.dataset.fixIds = (a.event && a.event.fix_ids ? a.event.fix_ids : []).join(",");
  if (a.correction) li.classList.add("corrected");
  li.appendChild(h("div", "title", (a.correction ? `[${a.correction}] ` : "") + a.title));
  li.appendChild(h("div", "message", a.message));
  li.appendChild(h("div", "meta", `${a.time} · ${a.severity} · ${a.rule}`));
  li.addEventListener("click", () => selectTrack(a.track_id));
  list.prepend(li);
  while (list.children.length > MAX_ALERTS) list.lastChild.remove();
  state.alerts += 1;
  document.getElementById("alertcount").textContent = String(state.alerts);
  const zone = document.querySelector(`#zones path[data-zone-id="${CSS.escape(a.zone_id || "")}"]`);
  if (zone) {
    zone.classList.add("hot");
    setTimeout(() => zone.classList.remove("hot"), 4000);
  }
}

async function loadAlerts() {
  const doc = await getJSON("/api/alerts?limit=100");
  for (const a of doc.alerts.reverse()) addAlert(a, Date.now());
}

function connect() {
  const es = new EventSource(withKey("/api/stream"));
  es.addEventListener("open", () => setStatus("live", "ok"));
  es.addEventListener("error", () => setStatus("reconnecting…", "bad"));
  es.addEventListener("positions", (m) => {
    const doc = JSON.parse(m.data);
    for (const p of doc.positions) upsertTrack(p);
    if (doc.positions.length) document.getElementById("clock").textContent = isoTime(doc.positions[doc.positions.length - 1].t_ns);
  });
  es.addEventListener("alert", (m) => addAlert(JSON.parse(m.data), Date.now()));
}

// ---------------------------------------------------------------- start
async function main() {
  const hashKey = new URLSearchParams(location.hash.slice(1)).get("key");
  if (hashKey) {
    state.key = hashKey;
    sessionStorage.setItem("patrolwatch-key", hashKey);
    history.replaceState(null, "", location.pathname + location.search);
  }
  document.getElementById("keyform").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.key = document.getElementById("keyinput").value;
    sessionStorage.setItem("patrolwatch-key", state.key);
    location.reload();
  });
  legend();
  installPanZoom();
  setView({ x: 115, y: -50, w: 30, h: 20 });
  try {
    await loadZones();
    await Promise.all([loadLand(), loadTracks(), loadAlerts()]);
  } catch (err) {
    setStatus(String(err.message || err), "bad");
    return;
  }
  connect();
  const want = new URLSearchParams(location.search).get("track");
  if (want) selectTrack(want);
  document.body.dataset.ready = "1";
}

main();
