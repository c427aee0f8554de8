// The overview: totals for the window, then per-day charts of spend, latency and quality.

import { api, card, el, fmt, hashFor, navigate } from "/static/dom.js";
import { barChart, everyDay, lineChart } from "/static/charts.js";

const WINDOWS = [1, 7, 14, 30, 90];

function windowPicker(days) {
  const select = el("select", { id: "overview-days", name: "days" },
    WINDOWS.map((n) => el("option", { value: n }, n === 1 ? "last day" : "last " + n + " days")));
  select.value = String(days);
  select.addEventListener("change", () => navigate(hashFor("/overview", { days: select.value })));
  return el("label", { class: "window" }, "Window ", select);
}

export async function overviewView(params) {
  const days = Number(params.get("days")) || 14;
  const o = await api("/api/overview", { days: days });
  const lat = o.latency_ms;
  const d = everyDay(o);
  return [
    el("h1", {}, "Overview ", windowPicker(days)),
    el("div", { class: "cards", id: "overview-cards" },
      card("Traces", fmt.int(o.trace_count)),
      card("Error rate", fmt.pct(o.error_rate)),
      card("Hallucination rate", o.hallucination_checked ? fmt.pct(o.hallucination_rate) + " of " + fmt.int(o.hallucination_checked) : "–"),
      card("Agent limit hits", fmt.int(o.agent_limit_hits)),
      card("p50", fmt.ms(lat.p50)), card("p95", fmt.ms(lat.p95)), card("p99", fmt.ms(lat.p99))),
    el("div", { class: "charts" },
      barChart("chart-tokens", "Tokens per day", d, (x) => x.tokens, fmt.int),
      barChart("chart-cost", "Cost per day", d, (x) => x.cost_usd, fmt.usd),
      lineChart("chart-latency", "Latency per day (p50, p95, p99)", d, [
        { name: "p50", value: (x) => x.latency_ms.p50 },
        { name: "p95", value: (x) => x.latency_ms.p95 },
        { name: "p99", value: (x) => x.latency_ms.p99 }], fmt.ms),
      lineChart("chart-rates", "Error and hallucination rates per day", d, [
        { name: "errors", value: (x) => x.error_rate },
        { name: "hallucinations", value: (x) => x.hallucination_rate }], fmt.pct),
      barChart("chart-limit-hits", "Agent limit hits per day", d, (x) => x.agent_limit_hits, fmt.int)),
  ];
}
