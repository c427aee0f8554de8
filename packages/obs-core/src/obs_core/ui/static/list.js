// The trace list: filters, sortable columns and a pager, all kept in the address.

import { api, badge, el, epochMs, fmt, hashFor, localInputValue, navigate, traceHref } from "/static/dom.js";

const TEXT_FILTERS = [
  ["name", "Root name"], ["model", "Model"], ["session", "Session"],
  ["pipeline_version", "Pipeline version"],
];
const FLAGS = [["limit_hit", "Agent hit its limit"], ["hallucination", "Hallucination flagged"]];
const API_KEYS = ["name", "status", "model", "session", "pipeline_version", "since_ms", "until_ms",
  "limit_hit", "hallucination", "sort", "order", "offset", "limit"];
const PAGE_SIZE = 50;

// The list's state is exactly the address's parameters (defaults left out).
function stateOf(params) {
  const state = {};
  for (const key of API_KEYS) state[key] = params.get(key) || "";
  state.sort = state.sort || "start";
  state.order = state.order || "desc";
  state.offset = Number(state.offset) || 0;
  state.limit = Number(state.limit) || PAGE_SIZE;
  return state;
}

function go(state, changes) {
  const next = Object.assign({}, state, changes);
  if (next.sort === "start") next.sort = "";
  if (next.order === "desc") next.order = "";
  if (next.limit === PAGE_SIZE) next.limit = "";
  if (!next.offset) next.offset = "";
  navigate(hashFor("/traces", next));
}

function filterForm(state) {
  const form = el("form", { class: "filters", id: "filters" });
  for (const [key, label] of TEXT_FILTERS) {
    const input = el("input", { name: key, type: "text" });
    input.value = state[key];
    form.append(el("label", {}, label, input));
  }
  const status = el("select", { name: "status" },
    ["", "OK", "ERROR"].map((value) => el("option", { value: value }, value || "any")));
  status.value = state.status.toUpperCase();
  form.append(el("label", {}, "Status", status));
  for (const [key, label] of [["since_ms", "Since"], ["until_ms", "Until"]]) {
    const input = el("input", { name: key, type: "datetime-local" });
    input.value = localInputValue(state[key]);
    form.append(el("label", {}, label, input));
  }
  for (const [key, label] of FLAGS) {
    const box = el("input", { name: key, type: "checkbox" });
    box.checked = state[key] === "true";
    form.append(el("label", { class: "flag" }, box, label));
  }
  const clear = el("button", { type: "button", id: "clear-filters" }, "Clear");
  clear.addEventListener("click", () => navigate("#/traces"));
  form.append(el("div", { class: "actions" }, el("button", { type: "submit" }, "Apply"), clear));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const changes = { offset: 0 };
    for (const [key] of TEXT_FILTERS) changes[key] = String(data.get(key) || "").trim();
    changes.status = data.get("status") || "";
    changes.since_ms = epochMs(data.get("since_ms"));
    changes.until_ms = epochMs(data.get("until_ms"));
    for (const [key] of FLAGS) changes[key] = data.get(key) ? "true" : "";
    go(state, changes);
  });
  return form;
}

function sortHeader(state, key, label) {
  const active = state.sort === key;
  const arrow = active ? (state.order === "desc" ? " ▼" : " ▲") : "";
  const button = el("button", { type: "button", "data-sort": key,
    "aria-sort": active ? (state.order === "desc" ? "descending" : "ascending") : null }, label + arrow);
  button.addEventListener("click", () => {
    go(state, { sort: key, order: active && state.order === "desc" ? "asc" : "desc", offset: 0 });
  });
  return el("th", { class: key === "start" ? "" : "num" }, button);
}

function agentCell(t) {
  const parts = [];
  if (t.agent_step_limit !== null || t.agent_steps) {
    parts.push(t.agent_steps + (t.agent_step_limit !== null ? " / " + t.agent_step_limit : "") + " steps ");
  }
  if (t.agent_limit_hit) parts.push(badge("limit-hit", "LIMIT HIT"));
  if (t.hallucination_flagged) parts.push(badge("flagged", "HALLUCINATION"));
  return el("td", { class: "agent" }, parts);
}

function row(t) {
  return el("tr", { class: "trace-row", "data-trace-id": t.trace_id, "data-status": t.status,
    "data-duration-ms": t.duration_ms, "data-tokens": t.total_tokens, "data-cost": t.cost_usd },
  el("td", {}, fmt.time(t.start_ms)),
  el("td", {}, el("a", { href: traceHref(t.trace_id), class: "root-name" }, t.root_name)),
  el("td", { class: "status-" + t.status }, t.status),
  el("td", { class: "num" }, fmt.ms(t.duration_ms)),
  el("td", { class: "num" }, fmt.int(t.total_tokens)),
  el("td", { class: "num" }, fmt.usd(t.cost_usd)),
  el("td", {}, t.models.join(", ")),
  el("td", {}, t.session_id || ""),
  el("td", {}, t.pipeline_version || ""),
  agentCell(t));
}

export async function listView(params) {
  const state = stateOf(params);
  const query = {};
  for (const key of API_KEYS) if (state[key] !== "" && state[key] !== null) query[key] = state[key];
  const page = await api("/api/traces", query);
  const table = el("table", { id: "trace-table" },
    el("thead", {}, el("tr", {},
      sortHeader(state, "start", "Start"), el("th", {}, "Root"), el("th", {}, "Status"),
      sortHeader(state, "duration", "Duration"), sortHeader(state, "tokens", "Tokens"),
      sortHeader(state, "cost", "Cost"), el("th", {}, "Models"), el("th", {}, "Session"),
      el("th", {}, "Pipeline"), el("th", {}, "Agent / flags"))),
    el("tbody", {}, page.traces.map(row)));
  const prev = el("button", { type: "button", id: "prev" }, "◀ Previous");
  const next = el("button", { type: "button", id: "next" }, "Next ▶");
  prev.disabled = state.offset === 0;
  next.disabled = state.offset + page.traces.length >= page.total;
  prev.addEventListener("click", () => go(state, { offset: Math.max(0, state.offset - state.limit) }));
  next.addEventListener("click", () => go(state, { offset: state.offset + state.limit }));
  const shown = page.traces.length ? (state.offset + 1) + "–" + (state.offset + page.traces.length) : "0";
  return [el("h1", {}, "Traces"), filterForm(state),
    page.traces.length ? table : el("p", { class: "empty", id: "no-traces" }, "No trace matches these filters."),
    el("div", { class: "pager" }, prev, el("span", { id: "page-info", "data-total": page.total },
      shown + " of " + page.total), next)];
}
