// enphase-local dashboard: live flow over server-sent events, history charts with uPlot.
// No build step, no CDN: this file and the vendored uPlot are all the browser loads.
"use strict";

const $ = (id) => document.getElementById(id);
const dash = { serial: null, gateways: [], charts: {}, every: "1d", frames: 0 };
window.dashboard = dash; // for the browser tests and the curious

function watts(w) {
  if (w === null || w === undefined) return "–";
  const a = Math.abs(w);
  return a >= 1000 ? (a / 1000).toFixed(2) + " kW" : Math.round(a) + " W";
}

function ago(s) {
  if (s === null || s === undefined) return "never";
  if (s < 90) return Math.round(s) + " s";
  if (s < 5400) return Math.round(s / 60) + " min";
  if (s < 172800) return Math.round(s / 3600) + " h";
  return Math.round(s / 86400) + " d";
}

function selected() {
  return dash.gateways.find((g) => g.serial === dash.serial) || dash.gateways[0] || null;
}

function setBanner(text) {
  const banner = $("banner");
  banner.hidden = !text;
  banner.textContent = text || "";
}

function renderFlow(gw) {
  const f = gw.flows || {};
  $("flow-solar").textContent = watts(f.solar);
  $("flow-house").textContent = watts(f.house);
  $("flow-grid").textContent = watts(f.grid);
  $("flow-battery").textContent = watts(f.battery);
  $("dir-grid").textContent = f.grid == null ? "" : f.grid > 5 ? "importing ←" : f.grid < -5 ? "exporting →" : "idle";
  $("dir-battery").textContent = f.battery == null ? "none" : f.battery > 5 ? "discharging" : f.battery < -5 ? "charging" : "idle";
  $("soc").textContent = f.soc == null ? "" : Math.round(f.soc) + " %";
  $("arrow-solar").textContent = (f.solar || 0) > 5 ? "producing →" : "idle";
  document.body.dataset.frameTime = f.taken_at || "";
  dash.frames += 1;
  document.body.dataset.frames = dash.frames;
  $("updated").textContent = gw.age_s == null ? "no data yet" : "data " + ago(gw.age_s) + " old";
  document.body.classList.toggle("stale", !!gw.stale);
  setBanner(gw.stale ? bannerText(gw) : "");
}

// What the banner says for each state: what is wrong, how old the data is, what to do.
const BANNERS = {
  connecting: "waiting for its first data",
  stale: "answers, but its power data is old",
  unreachable: "is unreachable: check that it is powered and on the network",
  auth_failed: "refused the token: get a new one with `enphase token`",
  certificate_changed: "presents a new certificate: check it, then `enphase trust`",
};

// A [[site]] of several gateways is shown as what it is: a sum of theirs.
function label(gw) {
  return gw.sum_of ? `${gw.name}: sum of ${gw.sum_of.length} gateways` : gw.serial;
}

function bannerText(gw) {
  const who = gw.sum_of ? `Site ${gw.name}` : `Gateway ${gw.serial || gw.name}`;
  const what = BANNERS[gw.state] || BANNERS.stale;
  const age = gw.age_s == null ? "" : ` (data ${ago(gw.age_s)} old)`;
  // the reason, without a Python or aiohttp class name a reader cannot act on
  const why = (gw.error || "").replace(/\b[A-Z][A-Za-z]*(Error|Exception)\b:?\s*/g, "").trim();
  return `${who} ${what}${age}` + (why ? `: ${why}` : "");
}

function updateSelect() {
  const select = $("gateway");
  const shown = dash.gateways.filter((g) => g.serial);
  const serials = shown.map((g) => g.serial);
  if (select.options.length !== serials.length) {
    select.innerHTML = "";
    for (const g of shown) select.add(new Option(label(g), g.serial));
    select.hidden = serials.length < 2;
  }
  if (!dash.serial && serials.length) {
    dash.serial = serials[0];
    refreshAll();
  }
}

function connect() {
  const events = new EventSource("/events");
  events.onmessage = (msg) => {
    const doc = JSON.parse(msg.data);
    dash.gateways = doc.gateways;
    dash.now = doc.now;
    updateSelect();
    const gw = selected();
    if (gw) renderFlow(gw);
  };
  events.onerror = () => setBanner("The collector is not answering: is `enphase collect` running?");
}

async function getJSON(path) {
  const sep = path.includes("?") ? "&" : "?";
  const resp = await fetch(path + sep + "serial=" + encodeURIComponent(dash.serial || ""));
  if (!resp.ok) throw new Error(path + ": HTTP " + resp.status);
  return resp.json();
}

function chart(id, opts, data) {
  const el = $(id);
  const width = Math.max(280, el.clientWidth);
  el.dataset.points = data[0] ? data[0].length : 0;
  if (dash.charts[id] && dash.charts[id].series.length === opts.series.length && !opts.rebuild) {
    dash.charts[id].setData(data);
    return;
  }
  if (dash.charts[id]) dash.charts[id].destroy();
  dash.charts[id] = new uPlot(Object.assign({ width, height: 220 }, opts), data, el);
}

const line = (label, stroke, fill) => ({ label, stroke, fill, width: 1.5, value: (u, v) => watts(v) });

async function refreshToday() {
  const d = await getJSON("/api/today");
  if (!d.t) return;
  chart("chart-today", {
    series: [{}, line("solar", "#f2a900", "rgba(242,169,0,.15)"), line("house", "#4c6ef5"),
      line("grid", "#868e96"), line("battery", "#2f9e44")],
    scales: { y: { range: (u, min, max) => [Math.min(0, min), Math.max(0, max) * 1.05 || 1] } },
    axes: [{}, { values: (u, vals) => vals.map((v) => (v < 0 ? "-" : "") + watts(v)), size: 84 }],
  }, [d.t, d.solar, d.house, d.grid, d.battery]);
}

// Home Assistant's energy dashboard, as stacked bars: sources above zero, sinks below.
const SOURCES = [["solar", "#f2a900"], ["grid_import", "#868e96"], ["battery_discharge", "#2f9e44"], ["generator", "#ae3ec9"]];
const SINKS = [["house", "#4c6ef5"], ["grid_export", "#adb5bd"], ["battery_charge", "#8ce99a"]];
const LABELS = { solar: "solar", grid_import: "grid in", battery_discharge: "battery out", generator: "generator",
  house: "house", grid_export: "grid out", battery_charge: "battery in" };

function kwh(v) {
  if (v === null || v === undefined) return "–";
  return (v / 1000).toFixed(v >= 100000 ? 0 : v >= 10000 ? 1 : 2) + " kWh";
}

function renderTotals(totals) {
  const box = $("energy-totals");
  box.innerHTML = "";
  for (const [when, title] of [["today", "Today"], ["month", "This month"]]) {
    const t = (totals || {})[when] || {};
    const col = document.createElement("div");
    col.className = "total";
    col.dataset.when = when;
    const head = document.createElement("h3");
    head.textContent = title;
    col.append(head);
    for (const [flow] of [...SOURCES, ...SINKS]) {
      if (t[flow] === undefined) continue;
      const row = document.createElement("div");
      row.className = "row f-" + flow;
      row.dataset.flow = flow;
      row.innerHTML = `<span>${LABELS[flow]}</span><b>${kwh(t[flow])}</b>`;
      col.append(row);
    }
    box.append(col);
  }
}

async function refreshEnergy() {
  const d = await getJSON("/api/energy?every=" + dash.every);
  if (!d.buckets) return;
  renderTotals(d.totals);
  const x = d.buckets.map((_, i) => i);
  const six = (d.house || []).some((v) => v != null) && (d.grid_import || []).some((v) => v != null);
  const sources = SOURCES.filter(([f]) => (d[f] || []).some((v) => v != null));
  const sinks = (six ? SINKS : [["house", "#4c6ef5"]]).filter(([f]) => (d[f] || []).some((v) => v != null));
  // stacked: each bar drawn from zero to the running total, the largest first
  const stack = (flows, sign) => {
    const sums = [];
    let run = x.map(() => 0);
    for (const [f] of flows) {
      run = run.map((r, i) => r + (d[f][i] || 0) / 1000);
      sums.push(run.map((v) => sign * v));
    }
    return sums;
  };
  const up = stack(sources, 1), down = stack(sinks, -1);
  const order = [...sources.map((s, i) => [s, up[i]]).reverse(), ...sinks.map((s, i) => [s, down[i]]).reverse()];
  const bar = ([flow, color]) => ({
    label: LABELS[flow], fill: color, stroke: color, points: { show: false },
    paths: uPlot.paths.bars({ size: [0.6, 40] }),
    value: (u, v, s, i) => (i == null || d[flow][i] == null ? "–" : kwh(d[flow][i])),
  });
  const values = order.flatMap(([, a]) => a);
  const top = Math.max(0, ...values), bottom = Math.min(0, ...values);
  const pad = (top - bottom || 1) * 0.05;
  chart("chart-energy", {
    rebuild: true,
    scales: { x: { time: false, range: () => [-0.6, Math.max(x.length, 1) - 0.4] },
      y: { range: () => [bottom ? bottom - pad : 0, top + pad] } },
    series: [{ label: dash.every, value: (u, i) => d.buckets[i] || "" }, ...order.map(([s]) => bar(s))],
    axes: [{ splits: () => x, values: (u, vals) => vals.map((i) => d.buckets[i] || ""), rotate: 0 },
      { label: "kWh", size: 56, values: (u, vals) => vals.map((v) => (v === 0 ? "0" : Math.abs(v).toFixed(Math.abs(v) < 10 ? 1 : 0))) }],
  }, [x, ...order.map(([, a]) => a)]);
  dash.energyRange = [bottom, top];
}

async function refreshBattery() {
  const d = await getJSON("/api/battery");
  if (!d.t) return;
  chart("chart-soc", {
    scales: { y: { range: [0, 100] } },
    series: [{}, { label: "SoC %", stroke: "#2f9e44", fill: "rgba(47,158,68,.12)", width: 1.5 }],
  }, [d.t, d.soc]);
}

async function refreshInverters() {
  const d = await getJSON("/api/inverters");
  const body = document.querySelector("#inverters tbody");
  body.innerHTML = "";
  for (const inv of d.inverters || []) {
    const row = body.insertRow();
    row.insertCell().textContent = inv.serial;
    row.insertCell().textContent = Math.round(inv.watts);
    row.insertCell().textContent = Math.round(inv.max_watts);
    const age = row.insertCell();
    age.textContent = ago(inv.age_s);
    if (inv.age_s > 1800) age.className = "old";
  }
}

async function refreshAll() {
  if (!dash.serial) return;
  for (const job of [refreshToday, refreshEnergy, refreshBattery, refreshInverters]) {
    try { await job(); } catch (err) { console.warn(err); }
  }
  document.body.dataset.refreshed = String(Date.now());
}

$("gateway").addEventListener("change", (e) => { dash.serial = e.target.value; refreshAll(); });
for (const button of document.querySelectorAll(".tabs button")) {
  button.addEventListener("click", () => {
    document.querySelectorAll(".tabs button").forEach((b) => b.classList.toggle("on", b === button));
    dash.every = button.dataset.every;
    refreshEnergy();
  });
}
window.addEventListener("resize", () => {
  for (const [id, u] of Object.entries(dash.charts)) u.setSize({ width: Math.max(280, $(id).clientWidth), height: 220 });
});

connect();
setInterval(refreshAll, 15000);
