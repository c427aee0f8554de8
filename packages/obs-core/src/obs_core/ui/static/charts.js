// Small SVG charts, one entry per day: bars for counts and sums, lines for latency and rates.
// Every mark carries a <title> tooltip with its exact value.

import { el, fmt, svg } from "/static/dom.js";

const WIDTH = 640, HEIGHT = 140, LEFT = 56, BOTTOM = 20, TOP = 8;

function frame(days, max, format) {
  const box = svg("svg", { viewBox: "0 0 " + WIDTH + " " + (HEIGHT + BOTTOM), width: WIDTH, height: HEIGHT + BOTTOM, role: "img" });
  box.append(svg("line", { x1: LEFT, y1: HEIGHT, x2: WIDTH, y2: HEIGHT, class: "axis" }));
  box.append(svg("text", { x: LEFT - 4, y: TOP + 8, class: "tick", "text-anchor": "end" }, format(max)));
  box.append(svg("text", { x: LEFT - 4, y: HEIGHT, class: "tick", "text-anchor": "end" }, format(0)));
  const step = days.length ? Math.min(64, (WIDTH - LEFT - 8) / days.length) : 0;
  const every = Math.ceil(days.length / 10);
  days.forEach((d, i) => {
    if ((days.length - 1 - i) % every !== 0) return; // label the newest day, then every few
    box.append(svg("text", { x: LEFT + 4 + i * step + step / 2, y: HEIGHT + 14, class: "tick", "text-anchor": "middle" }, fmt.day(d.day_ms).slice(5)));
  });
  return { box: box, step: step, y: (v) => HEIGHT - (max > 0 ? (v / max) * (HEIGHT - TOP) : 0) };
}

function chart(id, title, box, legend) {
  return el("div", { class: "chart", id: id }, el("h3", {}, title), legend || null, box);
}

const DAY_MS = 86400000;

// Every day of the window, oldest first, so the x axis is time: days without traces get
// zeros for sums and counts, and nulls (no point) for latencies and rates.
export function everyDay(overview) {
  const known = new Map(overview.days.map((d) => [d.day_ms, d]));
  const first = Math.floor(overview.since_ms / DAY_MS) * DAY_MS;
  const days = [];
  for (let day = first; day < overview.until_ms; day += DAY_MS) {
    days.push(known.get(day) || { day_ms: day, traces: 0, tokens: 0, cost_usd: 0, errors: 0,
      error_rate: null, agent_limit_hits: 0, latency_ms: { p50: null, p95: null, p99: null },
      hallucination_rate: null });
  }
  return days;
}

export function barChart(id, title, days, value, format) {
  const max = Math.max(0, ...days.map(value));
  const { box, step, y } = frame(days, max, format);
  days.forEach((d, i) => {
    const top = y(value(d));
    const rect = svg("rect", { x: LEFT + 4 + i * step + 2, y: top, width: Math.max(1, step - 4), height: HEIGHT - top, class: "bar-mark", "data-value": value(d) });
    rect.append(svg("title", {}, fmt.day(d.day_ms) + ": " + format(value(d))));
    box.append(rect);
  });
  return chart(id, title, box);
}

// `series`: [{ name, value: (day) => number | null }]; days without a value leave a gap in
// the points but the line joins the days that have one.
export function lineChart(id, title, days, series, format) {
  const values = days.flatMap((d) => series.map((s) => s.value(d))).filter((v) => v !== null && v !== undefined);
  const max = Math.max(0, ...values);
  const { box, step, y } = frame(days, max, format);
  const legend = el("div", { class: "legend" });
  series.forEach((s, n) => {
    const points = [];
    days.forEach((d, i) => {
      const v = s.value(d);
      if (v === null || v === undefined) return;
      const x = LEFT + 4 + i * step + step / 2;
      points.push(x + "," + y(v));
      const dot = svg("circle", { cx: x, cy: y(v), r: 3.5, class: "point series-" + n, "data-series": s.name, "data-value": v });
      dot.append(svg("title", {}, s.name + " " + fmt.day(d.day_ms) + ": " + format(v)));
      box.append(dot);
    });
    if (points.length) box.insertBefore(svg("polyline", { points: points.join(" "), class: "line series-" + n, "data-series": s.name }), box.firstChild.nextSibling);
    legend.append(el("span", { class: "key series-" + n }, s.name));
  });
  return chart(id, title, box, legend);
}
