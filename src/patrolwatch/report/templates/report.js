// patrolwatch report: map, timeline, table. Plain JavaScript, no network, no libraries.
// Every string from the data reaches the page through textContent or canvas fillText;
// the script never parses data as HTML.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("pw-data").textContent);
  const $ = (id) => document.getElementById(id);
  const HL = D.highlight;
  const DPR = Math.max(1, window.devicePixelRatio || 1);
  let selected = -1;
  let curT = D.t_min;

  // ------------------------------------------------------------------ time
  const pad = (n) => String(n).padStart(2, "0");
  function clock(epochS, withDate) {
    const d = new Date(Math.round(epochS) * 1000);
    const hms = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
    if (!withDate) return hms;
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " + hms;
  }
  function offsetAt(z, t) {
    let off = z.offsets[0][1];
    for (const [ts, o] of z.offsets) if (t >= ts) off = o;
    return off;
  }
  function fmtUTC(t) { return clock(D.base + t, true) + "Z"; }
  function fmtLocal(t) {
    return D.tz.map((z) => clock(D.base + t + offsetAt(z, t), true) + " " + z.label).join(" · ");
  }
  function hhmm(t, off) {
    const d = new Date(Math.round(D.base + t + (off || 0)) * 1000);
    return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }

  // ------------------------------------------------------------------ canvas helpers
  function setupCanvas(cv, cssH) {
    const w = cv.clientWidth || 800;
    cv.style.height = cssH + "px";
    cv.width = Math.round(w * DPR);
    cv.height = Math.round(cssH * DPR);
    const ctx = cv.getContext("2d");
    ctx.setTransform(DPR, 0, 0, DPR, 0, 0);
    return { ctx: ctx, w: w, h: cssH };
  }
  function haloText(ctx, text, x, y, color, font, align) {
    ctx.font = font || "12px system-ui, sans-serif";
    ctx.textAlign = align || "left";
    ctx.textBaseline = "middle";
    ctx.lineWidth = 3;
    ctx.strokeStyle = "rgba(255,255,255,0.9)";
    ctx.strokeText(text, x, y);
    ctx.fillStyle = color || "#1d232a";
    ctx.fillText(text, x, y);
  }
  function hexA(hex, a) {
    const n = parseInt(hex.slice(1), 16);
    return "rgba(" + ((n >> 16) & 255) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + a + ")";
  }
  function interp(tr, t) {
    const ts = tr.t;
    if (!ts.length || t < ts[0] || t > ts[ts.length - 1]) return null;
    let lo = 0, hi = ts.length - 1;
    while (hi - lo > 1) { const m = (lo + hi) >> 1; if (ts[m] <= t) lo = m; else hi = m; }
    const f = ts[hi] === ts[lo] ? 0 : (t - ts[lo]) / (ts[hi] - ts[lo]);
    return [tr.x[lo] + f * (tr.x[hi] - tr.x[lo]), tr.y[lo] + f * (tr.y[hi] - tr.y[lo])];
  }
  const trackIndex = {};
  D.tracks.forEach((tr, i) => { trackIndex[tr.id] = i; });

  // ------------------------------------------------------------------ map
  const mapCv = $("map");
  const K = Math.cos((D.lat0 * Math.PI) / 180);
  const view = { cx: 0, cy: 0, s: 1 };
  let M = null;
  function fit() {
    const [w, s, e, n] = D.extent;
    const W = mapCv.clientWidth || 800, H = 600;
    view.cx = (w + e) / 2; view.cy = (s + n) / 2;
    view.s = 0.98 * Math.min(W / ((e - w) * K), H / (n - s));
  }
  const P = (lon, lat) => [(lon - view.cx) * K * view.s + M.w / 2, (view.cy - lat) * view.s + M.h / 2];
  const U = (x, y) => [(x - M.w / 2) / (K * view.s) + view.cx, view.cy - (y - M.h / 2) / view.s];

  function pathRings(ctx, rings) {
    for (const r of rings) {
      for (let i = 0; i < r.length; i += 2) {
        const [x, y] = P(r[i], r[i + 1]);
        if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
      }
      ctx.closePath();
    }
  }
  function niceStep(span, target, steps) {
    for (const s of steps) if (span / s <= target) return s;
    return steps[steps.length - 1];
  }
  function drawGraticule(ctx) {
    const [w0, n0] = U(0, 0), [e0, s0] = U(M.w, M.h);
    const st = niceStep(Math.max(e0 - w0, n0 - s0), 7, [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20]);
    ctx.strokeStyle = "rgba(90,120,150,0.25)"; ctx.lineWidth = 1;
    ctx.beginPath();
    for (let x = Math.ceil(w0 / st) * st; x <= e0; x += st) { const [px] = P(x, 0); ctx.moveTo(px, 0); ctx.lineTo(px, M.h); }
    for (let y = Math.ceil(s0 / st) * st; y <= n0; y += st) { const [, py] = P(0, y); ctx.moveTo(0, py); ctx.lineTo(M.w, py); }
    ctx.stroke();
    const dec = st < 1 ? (st < 0.1 ? 2 : 1) : 0;
    for (let x = Math.ceil(w0 / st) * st; x <= e0; x += st) {
      const [px] = P(x, 0);
      haloText(ctx, Math.abs(x).toFixed(dec) + "°" + (x >= 0 ? "E" : "W"), px + 3, M.h - 10, "#4a5a68", "11px system-ui, sans-serif");
    }
    for (let y = Math.ceil(s0 / st) * st; y <= n0; y += st) {
      const [, py] = P(0, y);
      haloText(ctx, Math.abs(y).toFixed(dec) + "°" + (y >= 0 ? "N" : "S"), M.w - 6, py - 8, "#4a5a68", "11px system-ui, sans-serif", "right");
    }
  }
  function drawScale(ctx) {
    const kmPerPx = 111.32 / view.s;
    const km = niceStep(kmPerPx * 160, 1, [0.5, 1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000]);
    const len = km / kmPerPx, x = 16, y = M.h - 30;
    ctx.fillStyle = "rgba(255,255,255,0.8)"; ctx.fillRect(x - 6, y - 18, len + 60, 30);
    ctx.strokeStyle = "#1d232a"; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(x, y - 5); ctx.lineTo(x, y); ctx.lineTo(x + len, y); ctx.lineTo(x + len, y - 5); ctx.stroke();
    haloText(ctx, km + " km", x + len + 6, y - 2, "#1d232a", "12px system-ui, sans-serif");
    haloText(ctx, "N ↑", x, y - 12, "#1d232a", "bold 11px system-ui, sans-serif");
  }
  function arrow(ctx, x, y, ang, size, color) {
    ctx.save(); ctx.translate(x, y); ctx.rotate(ang);
    ctx.fillStyle = color; ctx.beginPath();
    ctx.moveTo(size, 0); ctx.lineTo(-size * 0.7, size * 0.6); ctx.lineTo(-size * 0.7, -size * 0.6); ctx.closePath();
    ctx.fill(); ctx.restore();
  }
  let labelBoxes = [];
  function place(x, y, w, h) {
    for (const b of labelBoxes) if (x < b[2] && x + w > b[0] && y < b[3] && y + h > b[1]) return false;
    labelBoxes.push([x, y, x + w, y + h]);
    return true;
  }
  function pxPerMinute() {
    const v = [];
    for (const tr of D.tracks) {
      const n = tr.t.length;
      if (n < 2) continue;
      const [x0, y0] = P(tr.x[0], tr.y[0]), [x1, y1] = P(tr.x[n - 1], tr.y[n - 1]);
      const dur = (tr.t[n - 1] - tr.t[0]) / 60;
      if (dur > 0) v.push(Math.hypot(x1 - x0, y1 - y0) / dur);
    }
    v.sort((a, b) => a - b);
    return v.length ? Math.max(v[v.length >> 1], 0.01) : 1;
  }
  function eventTracks(ev) { return ev.tracks.filter((id) => id in trackIndex); }
  function drawTrackPart(ctx, tr, t0, t1) {
    ctx.beginPath();
    let started = false;
    const a = interp(tr, t0);
    if (a) { const [x, y] = P(a[0], a[1]); ctx.moveTo(x, y); started = true; }
    for (let i = 0; i < tr.t.length; i++) {
      if (tr.t[i] < t0 || tr.t[i] > t1) continue;
      const [x, y] = P(tr.x[i], tr.y[i]);
      if (!started) { ctx.moveTo(x, y); started = true; } else ctx.lineTo(x, y);
    }
    const b = interp(tr, t1);
    if (b) { const [x, y] = P(b[0], b[1]); if (started) ctx.lineTo(x, y); else ctx.moveTo(x, y); }
    ctx.stroke();
  }
  function marker(ctx, p, color, big) {
    const [x, y] = P(p.x, p.y);
    const r = big ? 7 : 4.5;
    ctx.lineWidth = big ? 2.5 : 1.5;
    ctx.strokeStyle = "#ffffff";
    ctx.fillStyle = color;
    ctx.beginPath();
    if (p.role === "entry") { ctx.arc(x, y, r, 0, 7); ctx.fill(); ctx.stroke(); }
    else if (p.role === "exit") { ctx.arc(x, y, r, 0, 7); ctx.fillStyle = "#ffffff"; ctx.fill(); ctx.strokeStyle = color; ctx.stroke(); }
    else if (p.role === "closest") { ctx.moveTo(x, y - r - 1); ctx.lineTo(x + r + 1, y); ctx.lineTo(x, y + r + 1); ctx.lineTo(x - r - 1, y); ctx.closePath(); ctx.fill(); ctx.stroke(); }
    else if (p.role === "start") { ctx.moveTo(x, y - r - 1); ctx.lineTo(x + r + 1, y + r); ctx.lineTo(x - r - 1, y + r); ctx.closePath(); ctx.fill(); ctx.stroke(); }
    else { ctx.moveTo(x, y + r + 1); ctx.lineTo(x + r + 1, y - r); ctx.lineTo(x - r - 1, y - r); ctx.closePath(); ctx.fill(); ctx.stroke(); }
    return [x, y];
  }
  function drawMap() {
    M = setupCanvas(mapCv, 600);
    const ctx = M.ctx;
    labelBoxes = [];
    ctx.fillStyle = "#dceaf3"; ctx.fillRect(0, 0, M.w, M.h);
    drawGraticule(ctx);
    ctx.fillStyle = "#efe8d6"; ctx.strokeStyle = "#a89d84"; ctx.lineWidth = 0.7;
    for (const poly of D.land) { ctx.beginPath(); pathRings(ctx, poly); ctx.fill("evenodd"); ctx.stroke(); }
    // zones
    for (const z of D.zones) {
      ctx.beginPath(); pathRings(ctx, z.rings.concat(z.holes));
      ctx.fillStyle = hexA(z.color, z.kind === "territorial" ? 0.16 : 0.06);
      ctx.fill("evenodd");
      ctx.setLineDash(z.kind === "adiz" ? [9, 5] : []);
      ctx.strokeStyle = z.color; ctx.lineWidth = 2; ctx.stroke();
      ctx.setLineDash([]);
      for (const r of z.lines) {
        ctx.beginPath();
        for (let i = 0; i < r.length; i += 2) { const [x, y] = P(r[i], r[i + 1]); if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y); }
        ctx.stroke();
      }
      for (const [x, y] of z.refs) {
        const [px, py] = P(x, y);
        ctx.fillStyle = "#1d232a"; ctx.beginPath(); ctx.moveTo(px, py - 4); ctx.lineTo(px + 4, py + 3); ctx.lineTo(px - 4, py + 3); ctx.closePath(); ctx.fill();
      }
    }
    // tracks
    const sel = selected >= 0 ? D.events[selected] : null;
    if (sel) {
      ctx.strokeStyle = HL; ctx.lineWidth = 9; ctx.lineCap = "round"; ctx.lineJoin = "round";
      for (const id of eventTracks(sel)) drawTrackPart(ctx, D.tracks[trackIndex[id]], sel.t0, sel.t1);
    }
    ctx.lineCap = "round"; ctx.lineJoin = "round";
    const ppm = pxPerMinute();
    const stepMin = [1, 2, 5, 10, 15, 30, 60, 120, 240, 480, 1440].find((s) => s * ppm >= 110) || 1440;
    for (const tr of D.tracks) {
      const n = tr.t.length;
      ctx.strokeStyle = tr.color; ctx.lineWidth = 1.8;
      let acc = 0, prev = null;
      for (let i = 0; i < n; i++) {
        const p = P(tr.x[i], tr.y[i]);
        if (prev) {
          ctx.beginPath();
          ctx.setLineDash(tr.t[i] - tr.t[i - 1] > D.gap_s ? [4, 4] : []);
          ctx.moveTo(prev[0], prev[1]); ctx.lineTo(p[0], p[1]); ctx.stroke();
          const seg = Math.hypot(p[0] - prev[0], p[1] - prev[1]);
          acc += seg;
          if (acc > 130 && seg > 0.5) {
            arrow(ctx, (p[0] + prev[0]) / 2, (p[1] + prev[1]) / 2, Math.atan2(p[1] - prev[1], p[0] - prev[0]), 6, tr.color);
            acc = 0;
          }
        }
        prev = p;
      }
      ctx.setLineDash([]);
    }
    // time labels along tracks
    for (const tr of D.tracks) {
      const n = tr.t.length;
      if (n < 2) continue;
      const st = stepMin * 60;
      for (let t = Math.ceil((D.base + tr.t[0]) / st) * st - D.base; t <= tr.t[n - 1]; t += st) {
        const q = interp(tr, t);
        if (!q) continue;
        const [x, y] = P(q[0], q[1]);
        if (x < 0 || y < 0 || x > M.w || y > M.h) continue;
        const text = hhmm(t) + "Z";
        if (!place(x + 4, y - 7, 44, 14)) continue;
        ctx.fillStyle = tr.color; ctx.beginPath(); ctx.arc(x, y, 2.5, 0, 7); ctx.fill();
        haloText(ctx, text, x + 5, y, tr.color, "11px system-ui, sans-serif");
      }
    }
    // zone labels
    for (const z of D.zones) {
      const [x, y] = P(z.lx, z.ly);
      ctx.font = "bold 12px system-ui, sans-serif";
      const w = ctx.measureText(z.label).width;
      place(x - w / 2, y - 18, w, 14);
      haloText(ctx, z.label, x, y - 11, z.color, "bold 12px system-ui, sans-serif", "center");
    }
    // event markers
    for (const ev of D.events) {
      if (ev.index === selected) continue;
      for (const p of ev.points) {
        const [x, y] = marker(ctx, p, ev.color, false);
        if (p.role === "closest" || p.role === "start" || p.role === "end") {
          ctx.font = "11px system-ui, sans-serif";
          const w = ctx.measureText(p.label).width;
          if (place(x + 7, y - 7, w, 14)) haloText(ctx, p.label, x + 7, y, "#1d232a", "11px system-ui, sans-serif");
        }
      }
    }
    // positions at the chosen time
    for (const tr of D.tracks) {
      const q = interp(tr, curT);
      if (!q) continue;
      const [x, y] = P(q[0], q[1]);
      ctx.fillStyle = tr.color; ctx.strokeStyle = "#111"; ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.arc(x, y, 6, 0, 7); ctx.fill(); ctx.stroke();
      haloText(ctx, tr.id, x + 9, y + 1, "#111", "bold 12px system-ui, sans-serif");
    }
    if (sel) {
      for (const p of sel.points) {
        const [x, y] = P(p.x, p.y);
        ctx.fillStyle = HL; ctx.beginPath(); ctx.arc(x, y, 12, 0, 7); ctx.fill();
        marker(ctx, p, sel.color, true);
        haloText(ctx, p.label, x + 12, y - 12, "#1d232a", "bold 12px system-ui, sans-serif");
      }
    }
    drawScale(ctx);
    haloText(ctx, D.attribution, M.w - 6, M.h - 26, "#4a5a68", "10px system-ui, sans-serif", "right");
  }

  // pan and zoom
  let drag = null;
  mapCv.addEventListener("mousedown", (e) => { drag = { x: e.offsetX, y: e.offsetY, cx: view.cx, cy: view.cy, moved: false }; mapCv.classList.add("dragging"); });
  window.addEventListener("mouseup", (e) => {
    if (!drag) return;
    mapCv.classList.remove("dragging");
    const wasClick = !drag.moved;
    drag = null;
    if (wasClick && e.target === mapCv) mapClick(e.offsetX, e.offsetY);
  });
  mapCv.addEventListener("mousemove", (e) => {
    if (!drag) return;
    const dx = e.offsetX - drag.x, dy = e.offsetY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    view.cx = drag.cx - dx / (K * view.s); view.cy = drag.cy + dy / view.s;
    drawMap();
  });
  function zoomAt(x, y, f) {
    const [lon, lat] = U(x, y);
    view.s = Math.min(Math.max(view.s * f, 2), 200000);
    view.cx = lon - (x - M.w / 2) / (K * view.s); view.cy = lat + (y - M.h / 2) / view.s;
    drawMap();
  }
  mapCv.addEventListener("wheel", (e) => { e.preventDefault(); zoomAt(e.offsetX, e.offsetY, e.deltaY < 0 ? 1.25 : 0.8); }, { passive: false });
  mapCv.addEventListener("dblclick", (e) => zoomAt(e.offsetX, e.offsetY, 2));
  $("zin").addEventListener("click", () => zoomAt(M.w / 2, M.h / 2, 1.5));
  $("zout").addEventListener("click", () => zoomAt(M.w / 2, M.h / 2, 1 / 1.5));
  $("zfit").addEventListener("click", () => { fit(); drawMap(); });
  function mapClick(x, y) {
    let best = -1, bd = 12;
    for (const ev of D.events) for (const p of ev.points) {
      const [px, py] = P(p.x, p.y);
      const d = Math.hypot(px - x, py - y);
      if (d < bd) { bd = d; best = ev.index; }
    }
    if (best >= 0) select(best, true);
  }
  function zoomTo(ev) {
    // fit the event: its points and its tracks from a little before to a little after
    const pts = ev.points.map((p) => [p.x, p.y]);
    const pad = Math.max((ev.t1 - ev.t0) * 0.25, 240);
    for (const id of eventTracks(ev)) {
      const tr = D.tracks[trackIndex[id]];
      for (let i = 0; i < tr.t.length; i++) if (tr.t[i] >= ev.t0 - pad && tr.t[i] <= ev.t1 + pad) pts.push([tr.x[i], tr.y[i]]);
      for (const t of [ev.t0, ev.t1]) { const q = interp(tr, t); if (q) pts.push(q); }
    }
    if (!pts.length) return;
    let w = Math.min(...pts.map((p) => p[0])), e = Math.max(...pts.map((p) => p[0]));
    let s = Math.min(...pts.map((p) => p[1])), n = Math.max(...pts.map((p) => p[1]));
    const minSpan = 0.5;
    if (n - s < minSpan) { const c = (n + s) / 2; s = c - minSpan / 2; n = c + minSpan / 2; }
    if ((e - w) * K < minSpan) { const c = (e + w) / 2; w = c - minSpan / (2 * K); e = c + minSpan / (2 * K); }
    view.cx = (w + e) / 2; view.cy = (s + n) / 2;
    view.s = 0.8 * Math.min(M.w / ((e - w) * K), M.h / (n - s));
  }

  // ------------------------------------------------------------------ timeline
  const tlCv = $("timeline");
  const ROW = 24, TOP = 46, LEFT = 150, RIGHT = 14;
  let T = null, hits = [];
  const tx = (t) => LEFT + ((t - D.t_min) / Math.max(D.t_max - D.t_min, 1)) * (T.w - LEFT - RIGHT);
  const tinv = (x) => D.t_min + ((x - LEFT) / (T.w - LEFT - RIGHT)) * (D.t_max - D.t_min);
  let hatch = null;
  function hatchPattern(ctx) {
    const c = document.createElement("canvas");
    c.width = 8; c.height = 8;
    const g = c.getContext("2d");
    g.strokeStyle = "#6b6b6b"; g.lineWidth = 1.4;
    g.beginPath(); g.moveTo(0, 8); g.lineTo(8, 0); g.moveTo(-2, 2); g.lineTo(2, -2); g.moveTo(6, 10); g.lineTo(10, 6); g.stroke();
    return ctx.createPattern(c, "repeat");
  }
  function rowY(id) { return TOP + trackIndex[id] * ROW; }
  function drawTimeline() {
    T = setupCanvas(tlCv, TOP + D.tracks.length * ROW + 12);
    const ctx = T.ctx;
    hits = [];
    if (!hatch) hatch = hatchPattern(ctx);
    ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, T.w, T.h);
    // axis
    const span = D.t_max - D.t_min;
    const st = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].find((s) => (span / s) * 70 <= T.w - LEFT) || 86400;
    ctx.strokeStyle = "#e3e8ec"; ctx.lineWidth = 1;
    for (let t = Math.ceil((D.base + D.t_min) / st) * st - D.base; t <= D.t_max; t += st) {
      const x = tx(t);
      ctx.beginPath(); ctx.moveTo(x, TOP - 4); ctx.lineTo(x, T.h - 8); ctx.stroke();
      haloText(ctx, hhmm(t) + "Z", x, 12, "#1d232a", "11px system-ui, sans-serif", "center");
      if (D.tz.length) haloText(ctx, hhmm(t, offsetAt(D.tz[0], t)), x, 28, "#5b6670", "11px system-ui, sans-serif", "center");
    }
    haloText(ctx, "UTC", 8, 12, "#1d232a", "bold 11px system-ui, sans-serif");
    if (D.tz.length) haloText(ctx, D.tz[0].label, 8, 28, "#5b6670", "bold 11px system-ui, sans-serif");
    // rows
    D.tracks.forEach((tr, i) => {
      const y = TOP + i * ROW;
      if (i % 2) { ctx.fillStyle = "#f7f9fb"; ctx.fillRect(0, y, T.w, ROW); }
      ctx.fillStyle = tr.color; ctx.fillRect(6, y + 8, 10, 8);
      haloText(ctx, tr.id, 20, y + ROW / 2, "#1d232a", "12px system-ui, sans-serif");
      if (tr.t.length) {
        ctx.strokeStyle = hexA(tr.color, 0.7); ctx.lineWidth = 2;
        ctx.beginPath(); ctx.moveTo(tx(tr.t[0]), y + ROW / 2); ctx.lineTo(tx(tr.t[tr.t.length - 1]), y + ROW / 2); ctx.stroke();
      }
    });
    const sel = selected >= 0 ? D.events[selected] : null;
    function rect(ev, id, x0, x1, y0, y1) { hits.push({ i: ev.index, x0: x0, x1: x1, y0: y0, y1: y1 }); }
    // formations as bands
    for (const ev of D.events) {
      if (ev.kind !== "formation") continue;
      const ids = eventTracks(ev);
      const x0 = tx(ev.t0), x1 = Math.max(tx(ev.t1), x0 + 2);
      ctx.fillStyle = ev.joint ? "rgba(123,79,176,0.20)" : "rgba(80,80,80,0.12)";
      for (const id of ids) { const y = rowY(id); ctx.fillRect(x0, y + 1, x1 - x0, ROW - 2); rect(ev, id, x0, x1, y, y + ROW); }
      if (ids.length > 1) {
        const ys = ids.map(rowY);
        ctx.strokeStyle = ev.joint ? "rgba(123,79,176,0.8)" : "rgba(80,80,80,0.5)"; ctx.lineWidth = 1.5;
        ctx.beginPath(); ctx.moveTo(x0, Math.min(...ys) + 2); ctx.lineTo(x0, Math.max(...ys) + ROW - 2); ctx.stroke();
      }
    }
    // gaps hatched
    for (const ev of D.events) {
      if (ev.kind !== "gap") continue;
      for (const id of eventTracks(ev)) {
        const y = rowY(id), x0 = tx(ev.t0), x1 = Math.max(tx(ev.t1), x0 + 2);
        ctx.fillStyle = "#ffffff"; ctx.fillRect(x0, y + 4, x1 - x0, ROW - 8);
        ctx.fillStyle = hatch; ctx.fillRect(x0, y + 4, x1 - x0, ROW - 8);
        ctx.strokeStyle = "#6b6b6b"; ctx.lineWidth = 1; ctx.strokeRect(x0, y + 4, x1 - x0, ROW - 8);
        rect(ev, id, x0, x1, y, y + ROW);
      }
    }
    // zone visits, ADIZ below the others
    const visits = D.events.filter((ev) => ev.kind !== "formation" && ev.kind !== "gap");
    visits.sort((a, b) => (a.zone_kind === "adiz" ? 0 : 1) - (b.zone_kind === "adiz" ? 0 : 1));
    for (const ev of visits) {
      for (const id of eventTracks(ev)) {
        const y = rowY(id), x0 = tx(ev.t0), x1 = Math.max(tx(ev.t1), x0 + 3);
        if (ev.evidence === "near") {
          const x = tx(ev.t0), c = y + ROW / 2;
          ctx.fillStyle = "#ffffff"; ctx.strokeStyle = ev.color; ctx.lineWidth = 1.5;
          ctx.beginPath(); ctx.moveTo(x, c - 6); ctx.lineTo(x + 6, c); ctx.lineTo(x, c + 6); ctx.lineTo(x - 6, c); ctx.closePath(); ctx.fill(); ctx.stroke();
          rect(ev, id, x - 7, x + 7, y, y + ROW);
          continue;
        }
        const adiz = ev.zone_kind === "adiz";
        const h = adiz ? 14 : 8, yy = y + (ROW - h) / 2;
        if (ev.evidence === "possible") {
          ctx.setLineDash([3, 2]); ctx.strokeStyle = ev.color; ctx.lineWidth = 1.5; ctx.strokeRect(x0, yy, x1 - x0, h); ctx.setLineDash([]);
        } else {
          ctx.fillStyle = hexA(ev.color, adiz ? 0.45 : 0.95); ctx.fillRect(x0, yy, x1 - x0, h);
        }
        rect(ev, id, x0, x1, y, y + ROW);
      }
    }
    if (sel) {
      for (const id of eventTracks(sel)) {
        const y = rowY(id), x0 = tx(sel.t0), x1 = Math.max(tx(sel.t1), x0 + 3);
        ctx.strokeStyle = HL; ctx.lineWidth = 4; ctx.strokeRect(x0 - 3, y + 1, x1 - x0 + 6, ROW - 2);
        ctx.strokeStyle = "#1d232a"; ctx.lineWidth = 1; ctx.strokeRect(x0 - 5, y - 1, x1 - x0 + 10, ROW + 2);
      }
    }
    // cursor
    const cx = tx(curT);
    ctx.strokeStyle = "#b00020"; ctx.lineWidth = 1.5;
    ctx.beginPath(); ctx.moveTo(cx, TOP - 6); ctx.lineTo(cx, T.h - 4); ctx.stroke();
  }
  tlCv.addEventListener("click", (e) => {
    const x = e.offsetX, y = e.offsetY;
    for (let k = hits.length - 1; k >= 0; k--) {
      const h = hits[k];
      if (x >= h.x0 - 2 && x <= h.x1 + 2 && y >= h.y0 && y <= h.y1 && h.y0 >= TOP) {
        select(h.i, true);
        return;
      }
    }
    if (x > LEFT) setTime(Math.min(Math.max(tinv(x), D.t_min), D.t_max));
  });

  // ------------------------------------------------------------------ time slider
  const slider = $("slider");
  slider.min = String(Math.floor(D.t_min)); slider.max = String(Math.ceil(D.t_max)); slider.step = "1";
  function setTime(t) {
    curT = t; slider.value = String(Math.round(t));
    $("clock").textContent = fmtUTC(t) + (D.tz.length ? "  ·  " + fmtLocal(t) : "");
    drawMap(); drawTimeline();
  }
  slider.addEventListener("input", () => setTime(Number(slider.value)));
  let timer = null;
  $("play").addEventListener("click", () => {
    if (timer) { clearInterval(timer); timer = null; $("play").textContent = "▶ Play"; return; }
    $("play").textContent = "❚❚ Pause";
    timer = setInterval(() => {
      let t = curT + (D.t_max - D.t_min) / 400;
      if (t > D.t_max) t = D.t_min;
      setTime(t);
    }, 60);
  });

  // ------------------------------------------------------------------ table
  const tbody = document.querySelector("#events tbody");
  const rows = Array.from(tbody.querySelectorAll("tr"));
  function select(i, fromView) {
    selected = selected === i && !fromView ? -1 : i;
    for (const r of rows) r.classList.toggle("sel", Number(r.dataset.idx) === selected);
    const info = $("selinfo");
    if (selected >= 0) {
      const ev = D.events[selected];
      info.textContent = "Selected #" + (ev.index + 1) + ": " + ev.label;
      zoomTo(ev);
      setTime(ev.t0);
      if (fromView) {
        const r = rows.find((row) => Number(row.dataset.idx) === selected);
        if (r) r.scrollIntoView({ block: "nearest" });
      }
    } else {
      info.textContent = "";
      drawMap(); drawTimeline();
    }
  }
  rows.forEach((r) => r.addEventListener("click", (e) => {
    if (e.target.closest("details")) return;
    select(Number(r.dataset.idx), false);
  }));
  const ths = Array.from(document.querySelectorAll("#events thead th"));
  ths.forEach((th, col) => th.addEventListener("click", () => {
    const asc = th.getAttribute("aria-sort") !== "ascending";
    ths.forEach((h) => h.removeAttribute("aria-sort"));
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    const key = (r) => { const c = r.children[col]; return c.dataset.sort !== undefined ? c.dataset.sort : c.textContent; };
    const numeric = rows.every((r) => key(r) === "" || !isNaN(Number(key(r))));
    const sorted = rows.slice().sort((a, b) => {
      let ka = key(a), kb = key(b);
      if (ka === "" || kb === "") return (ka === "") - (kb === "");  // blanks last, always
      if (numeric) { ka = Number(ka); kb = Number(kb); }
      const c = ka < kb ? -1 : ka > kb ? 1 : 0;
      return asc ? c : -c;
    });
    for (const r of sorted) tbody.appendChild(r);
  }));
  function applyFilter() {
    const q = $("filter").value.trim().toLowerCase();
    const k = $("fkind").value, ev = $("fevidence").value;
    let shown = 0;
    for (const r of rows) {
      const ok = (!q || r.textContent.toLowerCase().includes(q)) && (!k || r.dataset.kind === k) && (!ev || r.dataset.evidence === ev);
      r.hidden = !ok;
      if (ok) shown++;
    }
    $("shown").textContent = shown + " of " + rows.length + " events shown";
  }
  $("filter").addEventListener("input", applyFilter);
  $("fkind").addEventListener("change", applyFilter);
  $("fevidence").addEventListener("change", applyFilter);

  // ------------------------------------------------------------------ start
  fit();
  setTime(D.t_min);
  applyFilter();
  window.addEventListener("resize", () => { drawMap(); drawTimeline(); });
  document.body.dataset.ready = "1";
})();
