// obs ui: a read-only trace viewer. Every value from the store is inserted with textContent
// or as an SVG attribute, never as HTML, because span names and messages can hold markup.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const token = new URLSearchParams(window.location.search).get("token");
  const app = document.getElementById("app");

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined) node.setAttribute(key, String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    return node;
  }

  async function api(path, params) {
    const query = new URLSearchParams(params || {});
    if (token) query.set("token", token);
    const response = await fetch(path + (query.toString() ? "?" + query : ""));
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  }

  const fmt = {
    ms: (v) => (v >= 1000 ? (v / 1000).toFixed(2) + " s" : v.toFixed(1) + " ms"),
    usd: (v) => "$" + Number(v || 0).toFixed(v >= 1 ? 2 : 5),
    int: (v) => Number(v || 0).toLocaleString("en-US"),
    time: (ms) => new Date(ms).toISOString().replace("T", " ").slice(0, 19),
    day: (ms) => new Date(ms).toISOString().slice(0, 10),
  };

  function traceHref(id) {
    return "#/trace/" + encodeURIComponent(id);
  }

  // --- trace list ---------------------------------------------------------------------

  const FILTERS = [
    ["name", "Root name", "text"], ["status", "Status", "select:|OK|ERROR"],
    ["model", "Model", "text"], ["session", "Session", "text"],
    ["pipeline_version", "Pipeline version", "text"],
    ["since", "Since", "datetime-local"], ["until", "Until", "datetime-local"],
  ];
  const SORTS = [["start", "Start"], ["duration", "Duration"], ["tokens", "Tokens"], ["cost", "Cost"]];
  const state = { sort: "start", order: "desc", limit: 50, offset: 0, filters: {} };

  function listParams() {
    const params = { sort: state.sort, order: state.order, limit: state.limit, offset: state.offset };
    for (const [key, value] of Object.entries(state.filters)) {
      if (!value) continue;
      if (key === "since" || key === "until") params[key + "_ms"] = String(new Date(value).getTime());
      else if (key === "limit_hit") params.limit_hit = "true";
      else params[key] = value;
    }
    return params;
  }

  function filterForm() {
    const form = el("form", { class: "filters", id: "filters" });
    for (const [key, label, type] of FILTERS) {
      let input;
      if (type.startsWith("select:")) {
        input = el("select", { name: key });
        for (const option of type.slice(7).split("|")) {
          input.append(el("option", { value: option }, option || "any"));
        }
      } else {
        input = el("input", { name: key, type: type });
      }
      input.value = state.filters[key] || "";
      form.append(el("label", {}, label, input));
    }
    const hit = el("input", { name: "limit_hit", type: "checkbox" });
    hit.checked = Boolean(state.filters.limit_hit);
    form.append(el("label", {}, "Agent hit its limit", hit));
    form.append(el("button", { type: "submit" }, "Apply"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const data = new FormData(form);
      state.filters = {};
      for (const [key] of FILTERS) state.filters[key] = data.get(key) || "";
      state.filters.limit_hit = hit.checked;
      state.offset = 0;
      renderList();
    });
    return form;
  }

  function sortHeader(key, label) {
    const arrow = state.sort === key ? (state.order === "desc" ? " ▼" : " ▲") : "";
    const button = el("button", { type: "button", "data-sort": key }, label + arrow);
    button.addEventListener("click", () => {
      state.order = state.sort === key && state.order === "desc" ? "asc" : "desc";
      state.sort = key;
      state.offset = 0;
      renderList();
    });
    return el("th", { class: key === "start" ? "" : "num" }, button);
  }

  async function renderList() {
    const page = await api("/api/traces", listParams());
    const table = el("table", { id: "trace-table" });
    table.append(el("thead", {}, el("tr", {},
      sortHeader("start", "Start"), el("th", {}, "Root"), el("th", {}, "Status"),
      sortHeader("duration", "Duration"), sortHeader("tokens", "Tokens"), sortHeader("cost", "Cost"),
      el("th", {}, "Models"), el("th", {}, "Agent"))));
    const body = el("tbody");
    for (const t of page.traces) {
      const agent = t.agent_step_limit !== null || t.agent_steps
        ? el("span", {}, t.agent_steps + (t.agent_step_limit !== null ? " / " + t.agent_step_limit : "") + " steps ",
          t.agent_limit_hit ? el("span", { class: "limit-hit" }, "LIMIT HIT") : null)
        : "";
      body.append(el("tr", { class: "trace-row", "data-trace-id": t.trace_id },
        el("td", {}, fmt.time(t.start_ms)),
        el("td", {}, el("a", { href: traceHref(t.trace_id) }, t.root_name)),
        el("td", { class: "status-" + t.status }, t.status),
        el("td", { class: "num" }, fmt.ms(t.duration_ms)),
        el("td", { class: "num" }, fmt.int(t.total_tokens)),
        el("td", { class: "num" }, fmt.usd(t.cost_usd)),
        el("td", {}, t.models.join(", ")),
        el("td", {}, agent)));
    }
    table.append(body);
    const prev = el("button", { type: "button", id: "prev" }, "◀ Previous");
    const next = el("button", { type: "button", id: "next" }, "Next ▶");
    prev.disabled = state.offset === 0;
    next.disabled = state.offset + page.traces.length >= page.total;
    prev.addEventListener("click", () => { state.offset = Math.max(0, state.offset - state.limit); renderList(); });
    next.addEventListener("click", () => { state.offset += state.limit; renderList(); });
    const shown = page.traces.length ? (state.offset + 1) + "–" + (state.offset + page.traces.length) : "0";
    app.replaceChildren(el("h1", {}, "Traces"), filterForm(), table,
      el("div", { class: "pager" }, prev, el("span", { id: "page-info" }, shown + " of " + page.total), next));
  }

  // --- one trace ----------------------------------------------------------------------

  function waterfall(span, totalMs) {
    const box = svg("svg", { viewBox: "0 0 1000 14", preserveAspectRatio: "none" });
    const scale = totalMs > 0 ? 1000 / totalMs : 0;
    const x = Math.min(1000, span.offset_ms * scale);
    const width = Math.max(2, Math.min(1000 - x, span.duration_ms * scale));
    const bar = svg("rect", { x: x, y: 2, width: width, height: 10,
      class: "bar kind-" + (span.kind || "other") + " status-" + span.status });
    const title = svg("title");
    title.textContent = span.name + ": " + fmt.ms(span.duration_ms) + " at +" + fmt.ms(span.offset_ms);
    bar.append(title);
    box.append(bar);
    return box;
  }

  function spanDetails(span) {
    const parts = el("div", { class: "details" });
    const facts = [];
    if (span.model) facts.push("model " + span.model);
    if (span.input_tokens || span.output_tokens) facts.push(fmt.int(span.input_tokens) + " in / " + fmt.int(span.output_tokens) + " out tokens");
    if (span.cost_usd) facts.push(fmt.usd(span.cost_usd));
    if (facts.length) parts.append(el("div", {}, facts.join(" · ")));
    if (span.status === "ERROR" || span.error_type) {
      parts.append(el("div", { class: "error" }, "error: " + [span.error_type, span.status_message].filter(Boolean).join(": ")));
    }
    if (span.agent) {
      const a = span.agent;
      parts.append(el("div", { class: "agent" },
        "steps " + a.steps + (a.step_limit ? " / " + a.step_limit : ""),
        a.stop_reason ? " · stop reason " + a.stop_reason : "", " ",
        a.limit_hit ? el("span", { class: "limit-hit" }, "STEP LIMIT HIT") : null));
      if (a.tool_calls.length) {
        const list = el("ul", { class: "tool-calls" });
        for (const call of a.tool_calls) {
          list.append(el("li", {}, call.name + " ×" + call.count +
            (call.errors ? " (" + call.errors + " failed)" : "") +
            " · total " + fmt.ms(call.total_ms) + " · max " + fmt.ms(call.max_ms)));
        }
        parts.append(list);
      }
    }
    if (span.retrieval) {
      const list = el("ul", { class: "documents" });
      span.retrieval.document_ids.forEach((id, i) => {
        const score = span.retrieval.scores[i];
        list.append(el("li", {}, id + (score !== undefined ? " (score " + score.toFixed(3) + ")" : "")));
      });
      parts.append(el("div", {}, "documents"), list);
    }
    return parts;
  }

  async function renderTrace(traceId) {
    const trace = await api("/api/traces/" + encodeURIComponent(traceId));
    const s = trace.summary;
    const table = el("table", { id: "span-table" });
    table.append(el("thead", {}, el("tr", {}, el("th", {}, "Span"), el("th", {}, "Kind"),
      el("th", { class: "num" }, "Start"), el("th", { class: "num" }, "Duration"),
      el("th", {}, "Status"), el("th", { class: "waterfall" }, "Timeline"))));
    const body = el("tbody");
    for (const span of trace.spans) {
      const nameCell = el("td", {}, el("div", { class: "span-name" }, span.name), spanDetails(span));
      nameCell.style.paddingLeft = (0.5 + span.depth * 1.2) + "em"; // CSSOM: allowed by the CSP
      body.append(el("tr", { class: "span-row", "data-span-id": span.span_id }, nameCell,
        el("td", {}, span.kind || ""),
        el("td", { class: "num" }, "+" + fmt.ms(span.offset_ms)),
        el("td", { class: "num" }, fmt.ms(span.duration_ms)),
        el("td", { class: "status-" + span.status }, span.status),
        el("td", { class: "waterfall" }, waterfall(span, s.duration_ms))));
    }
    table.append(body);
    app.replaceChildren(
      el("p", {}, el("a", { href: "#/traces" }, "← all traces")),
      el("h1", {}, s.root_name),
      el("div", { class: "cards" },
        card("Trace", s.trace_id), card("Start", fmt.time(s.start_ms)), card("Duration", fmt.ms(s.duration_ms)),
        card("Tokens", fmt.int(s.total_tokens)), card("Cost", fmt.usd(s.cost_usd)), card("Status", s.status)),
      table);
  }

  function card(label, value) {
    return el("div", { class: "card" }, el("div", {}, label), el("div", { class: "value" }, value));
  }

  // --- overview -----------------------------------------------------------------------

  function barChart(title, days, key, format) {
    const width = 640, height = 140, pad = 20;
    const box = svg("svg", { viewBox: "0 0 " + width + " " + (height + pad), width: width, height: height + pad });
    const max = Math.max(1e-12, ...days.map((d) => d[key]));
    const step = days.length ? Math.min(48, (width - 10) / days.length) : 0;
    days.forEach((d, i) => {
      const h = (d[key] / max) * (height - 10);
      const rect = svg("rect", { x: 5 + i * step, y: height - h, width: Math.max(1, step - 4), height: h });
      const tip = svg("title");
      tip.textContent = fmt.day(d.day_ms) + ": " + format(d[key]);
      rect.append(tip);
      const label = svg("text", { x: 5 + i * step, y: height + 14 });
      label.textContent = fmt.day(d.day_ms).slice(5);
      box.append(rect, label);
    });
    return el("div", { class: "chart" }, el("h3", {}, title), box);
  }

  async function renderOverview() {
    const o = await api("/api/overview", { days: 14 });
    const lat = o.latency_ms;
    const show = (v) => (v === null ? "–" : fmt.ms(v));
    app.replaceChildren(el("h1", {}, "Overview (last 14 days)"),
      el("div", { class: "cards", id: "overview-cards" },
        card("Traces", fmt.int(o.trace_count)),
        card("Error rate", (o.error_rate * 100).toFixed(1) + "%"),
        card("Agent limit hits", fmt.int(o.agent_limit_hits)),
        card("p50", show(lat.p50)), card("p95", show(lat.p95)), card("p99", show(lat.p99))),
      barChart("Tokens per day", o.days, "tokens", fmt.int),
      barChart("Cost per day", o.days, "cost_usd", fmt.usd));
  }

  // --- routing ------------------------------------------------------------------------

  async function route() {
    const hash = window.location.hash || "#/traces";
    try {
      if (hash.startsWith("#/trace/")) await renderTrace(decodeURIComponent(hash.slice(8)));
      else if (hash === "#/overview") await renderOverview();
      else await renderList();
    } catch (error) {
      app.replaceChildren(el("p", { class: "error" }, "Could not load: " + error.message));
    }
  }

  window.addEventListener("hashchange", route);
  route();
})();
