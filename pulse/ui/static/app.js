// Social Pulse live page: polls /api/summary and redraws. Every string from the data (texts come
// from social media) goes into the page through textContent or setAttribute, never as HTML.
"use strict";

const POLL_MS = 2000;
const SVG_NS = "http://www.w3.org/2000/svg";
const DIMENSIONS = ["post", "hashtag", "brand", "platform", "author"];
const number = new Intl.NumberFormat();
const rate = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

// A time of day, with the date when it is not today.
function since(ms) {
  const at = new Date(ms);
  return at.toDateString() === new Date().toDateString() ? clock(ms) : at.toLocaleString();
}

function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 90) return s + " s ago";
  if (s < 5400) return Math.round(s / 60) + " min ago";
  return Math.round(s / 3600) + " h ago";
}

// A sparkline as an SVG path over a fixed 300 x 40 (or 300 x 22) box; values only, never text.
function sparkline(svg, values, height) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const width = 300;
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.setAttribute("preserveAspectRatio", "none");
  if (!values.length) return;
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map((v, i) => [i * step, height - 1 - (v / max) * (height - 3)]);
  const line = points.map((p, i) => (i ? "L" : "M") + p[0].toFixed(1) + " " + p[1].toFixed(1)).join(" ");
  const area = document.createElementNS(SVG_NS, "path");
  area.setAttribute("d", line + " L" + width + " " + height + " L0 " + height + " Z");
  area.setAttribute("class", "area");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", line);
  path.setAttribute("class", "line");
  svg.append(area, path);
}

function newSvg(height, label) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("aria-label", label);
  svg.style.height = height + "px";
  return svg;
}

function drawTrending(trending) {
  const root = document.getElementById("trending");
  const columns = [];
  for (const dimension of DIMENSIONS) {
    const column = el("div", null, "dimension");
    column.setAttribute("data-dimension", dimension);
    column.append(el("h3", dimension));
    const keys = trending[dimension] || [];
    if (!keys.length) column.append(el("div", "nothing yet", "muted"));
    for (const item of keys) {
      const row = el("div", null, "trend-row");
      row.setAttribute("data-key", item.key);
      const key = el("span", item.key, "key");
      key.title = item.key;
      const svg = newSvg(22, item.key + ": events per minute");
      sparkline(svg, item.series, 22);
      row.append(key, el("span", number.format(item.events), "total"), svg);
      column.append(row);
    }
    columns.push(column);
  }
  root.replaceChildren(...columns);
}

function drawAlerts(alerts) {
  const body = document.querySelector("#alerts tbody");
  const rows = alerts.map((a) => {
    const tr = el("tr");
    tr.setAttribute("data-alert-id", a.alert_id);
    tr.append(
      el("td", a.severity, "sev sev-" + (["critical", "warning", "info"].includes(a.severity) ? a.severity : "info")),
      el("td", a.rule), el("td", a.dimension), el("td", a.key, "key"),
      el("td", number.format(a.observed), "num"), el("td", number.format(a.expected), "num"),
      el("td", a.lift === null ? "–" : "×" + number.format(a.lift), "num"),
      el("td", since(a.opened_at)), el("td", ago(a.updated_at)),
    );
    tr.cells[3].title = a.key;
    return tr;
  });
  body.replaceChildren(...rows);
  document.getElementById("alerts-empty").hidden = rows.length > 0;
}

function drawDeadLetters(letters) {
  const body = document.querySelector("#dead-letters tbody");
  const rows = letters.map((d) => {
    const tr = el("tr");
    const reason = el("td", d.error, "reason");
    reason.title = d.error;
    const raw = el("td", (d.raw_encoding === "base64" ? "(base64) " : "") + d.raw, "raw");
    raw.title = d.raw;
    tr.append(el("td", clock(d.received_at)), reason, raw, el("td", d.topic + " [" + d.partition + "] @" + d.offset));
    return tr;
  });
  body.replaceChildren(...rows);
  document.getElementById("dead-empty").hidden = rows.length > 0;
}

function draw(summary) {
  document.getElementById("rate").textContent = rate.format(summary.throughput.current);
  document.getElementById("events").textContent = number.format(summary.totals.events);
  document.getElementById("open-alerts").textContent = number.format(summary.totals.open_alerts);
  document.getElementById("dead-count").textContent = number.format(summary.totals.dead_letters);
  sparkline(document.getElementById("throughput"), summary.throughput.rates, 40);
  document.getElementById("trend-window").textContent = "last " + summary.trend_minutes + " minutes, per minute";
  drawTrending(summary.trending);
  drawAlerts(summary.alerts);
  drawDeadLetters(summary.dead_letters);
  document.getElementById("updated").textContent = "updated " + clock(summary.generated_at * 1000);
}

function showProblem(message) {
  const banner = document.getElementById("banner");
  banner.textContent = message + " — showing the last data received; retrying every " + POLL_MS / 1000 + " s";
  banner.hidden = false;
  document.body.classList.add("stale");
}

function clearProblem() {
  document.getElementById("banner").hidden = true;
  document.body.classList.remove("stale");
}

async function poll() {
  try {
    const response = await fetch("/api/summary", { cache: "no-store" });
    let summary = null;
    try { summary = await response.json(); } catch (_) { summary = null; }
    if (summary && summary.ok) {
      draw(summary);
      clearProblem();
    } else {
      showProblem((summary && summary.error) || "the server answered HTTP " + response.status);
    }
  } catch (_) {
    showProblem("the pulse ui server is unreachable");
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

poll();
