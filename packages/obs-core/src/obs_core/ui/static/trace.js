// One trace: summary cards, evaluation results with their explanations, and the span tree
// with a time waterfall; each span unfolds its facts and its (scrubbed) payload.

import { api, badge, card, el, fmt, svg } from "/static/dom.js";

function waterfall(span, totalMs) {
  const box = svg("svg", { viewBox: "0 0 1000 14", preserveAspectRatio: "none" });
  const scale = totalMs > 0 ? 1000 / totalMs : 0;
  const x = Math.min(1000, span.offset_ms * scale);
  const width = Math.max(2, Math.min(1000 - x, span.duration_ms * scale));
  const bar = svg("rect", { x: x, y: 2, width: width, height: 10,
    class: "bar kind-" + (span.kind || "other") + " status-" + span.status });
  bar.append(svg("title", {}, span.name + ": " + fmt.ms(span.duration_ms) + " at +" + fmt.ms(span.offset_ms)));
  box.append(bar);
  return box;
}

// Payload values are JSON: chat messages become "role: text" lines, truncation and blob
// markers say what was kept, anything else is shown as indented JSON.
function contentText(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p === "string" ? p : p && p.text ? p.text : JSON.stringify(p))).join("");
  return content === null || content === undefined ? "" : JSON.stringify(content);
}

function isMessage(item) {
  return item !== null && typeof item === "object" && !Array.isArray(item) && typeof item.role === "string";
}

export function payloadText(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "object" && !Array.isArray(value)) {
    if (value["obs.truncated"]) {
      const t = value["obs.truncated"];
      return contentText(t.preview) + " … (truncated from " + fmt.int(t.original_bytes) + " bytes)";
    }
    if (value["obs.blob"]) return "(" + fmt.int(value["obs.blob"].original_bytes) + " bytes kept in a blob file)";
  }
  if (Array.isArray(value) && value.length && value.every(isMessage)) {
    return value.map((m) => {
      const lines = [m.role + ": " + contentText(m.content)];
      for (const call of m.tool_calls || []) {
        lines.push("  → " + call.name + "(" + (typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments)) + ")");
      }
      return lines.join("\n");
    }).join("\n");
  }
  return JSON.stringify(value, null, 2);
}

function payloadDetails(payload) {
  const parts = [];
  const part = (label, value) => {
    const text = payloadText(value);
    if (text) parts.push(el("div", { class: "payload-part", "data-part": label }, el("div", { class: "payload-label" }, label), el("pre", {}, text)));
  };
  part("input", payload.input);
  part("output", payload.output);
  if (payload.documents.length) {
    part("documents", payload.documents.map((d) => (d.id || "?") + (d.score !== null && d.score !== undefined ? " (score " + d.score.toFixed(3) + ")" : "") + ": " + payloadText(d.content)).join("\n"));
  }
  part("error", payload.error_message);
  if (!parts.length) return null;
  const note = payload.capture === "full" ? "payload (captured in full)" : "payload (scrubbed)";
  return el("details", { class: "payload" }, el("summary", {}, note + (payload.truncated ? " · truncated" : "")), parts);
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
      a.limit_hit ? badge("limit-hit", "STEP LIMIT HIT") : null));
    if (a.tool_calls.length) {
      parts.append(el("ul", { class: "tool-calls" }, a.tool_calls.map((call) => el("li", {},
        call.name + " ×" + call.count + (call.errors ? " (" + call.errors + " failed)" : "") +
        " · total " + fmt.ms(call.total_ms) + " · max " + fmt.ms(call.max_ms)))));
    }
  }
  if (span.retrieval) {
    parts.append(el("div", {}, "documents"), el("ul", { class: "documents" },
      span.retrieval.document_ids.map((id, i) => {
        const score = span.retrieval.scores[i];
        return el("li", {}, id + (score !== undefined ? " (score " + score.toFixed(3) + ")" : ""));
      })));
  }
  const payload = span.payload ? payloadDetails(span.payload) : null;
  if (payload) parts.append(payload);
  return parts;
}

function resultCell(passed) {
  if (passed === null) return el("td", { class: "result result-error" }, "could not score");
  return el("td", { class: "result " + (passed ? "result-pass" : "result-fail") }, passed ? "pass" : "FAIL");
}

function evaluationsSection(evaluations) {
  if (!evaluations.length) return el("section", { id: "evaluations" }, el("h2", {}, "Evaluations"), el("p", { class: "empty" }, "No evaluation recorded for this trace."));
  return el("section", { id: "evaluations" }, el("h2", {}, "Evaluations"),
    el("table", { id: "evaluation-table" },
      el("thead", {}, el("tr", {}, ["Evaluator", "Span", "Score", "Label", "Result", "Explanation"].map((h) => el("th", {}, h)))),
      el("tbody", {}, evaluations.map((e) => el("tr", { class: "evaluation", "data-evaluator": e.evaluator },
        el("td", {}, e.evaluator, e.hallucination_check && e.passed === false ? badge("flagged", "HALLUCINATION") : null),
        el("td", {}, e.span_name || e.span_id),
        el("td", { class: "num" }, e.score === null ? "–" : e.score.toFixed(2)),
        el("td", {}, e.label),
        resultCell(e.passed),
        el("td", { class: "explanation" }, e.explanation))))));
}

const PAYLOAD_NOTES = {
  off: "Payloads are not shown: no payload store was given (obs ui --payload-db PATH).",
  unavailable: "Payloads could not be read from the payload store just now.",
};

export async function traceView(traceId, backHref) {
  const trace = await api("/api/traces/" + encodeURIComponent(traceId));
  const s = trace.summary;
  const body = el("tbody");
  for (const span of trace.spans) {
    const nameCell = el("td", {}, el("div", { class: "span-name" }, span.name), spanDetails(span));
    nameCell.style.paddingLeft = (0.5 + span.depth * 1.2) + "em"; // CSSOM: allowed by the CSP
    body.append(el("tr", { class: "span-row", "data-span-id": span.span_id, "data-kind": span.kind || "",
      "data-depth": span.depth }, nameCell,
    el("td", {}, span.kind || ""),
    el("td", { class: "num" }, "+" + fmt.ms(span.offset_ms)),
    el("td", { class: "num" }, fmt.ms(span.duration_ms)),
    el("td", { class: "status-" + span.status }, span.status),
    el("td", { class: "waterfall" }, waterfall(span, s.duration_ms))));
  }
  const table = el("table", { id: "span-table" },
    el("thead", {}, el("tr", {}, el("th", {}, "Span"), el("th", {}, "Kind"),
      el("th", { class: "num" }, "Start"), el("th", { class: "num" }, "Duration"),
      el("th", {}, "Status"), el("th", { class: "waterfall" }, "Timeline"))),
    body);
  const cards = [card("Trace", s.trace_id), card("Start", fmt.time(s.start_ms)), card("Duration", fmt.ms(s.duration_ms)),
    card("Tokens", fmt.int(s.total_tokens)), card("Cost", fmt.usd(s.cost_usd)), card("Status", s.status)];
  if (s.agent_step_limit !== null || s.agent_steps) cards.push(card("Agent steps", s.agent_steps + (s.agent_step_limit !== null ? " / " + s.agent_step_limit : "")));
  if (s.session_id) cards.push(card("Session", s.session_id));
  if (s.pipeline_version) cards.push(card("Pipeline", s.pipeline_version));
  return [
    el("p", {}, el("a", { href: backHref, id: "back-to-list" }, "← all traces")),
    el("h1", { id: "trace-title" }, s.root_name, " ",
      s.agent_limit_hit ? badge("limit-hit", "AGENT HIT ITS LIMIT") : null,
      s.hallucination_flagged ? badge("flagged", "HALLUCINATION FLAGGED") : null),
    el("div", { class: "cards" }, cards),
    evaluationsSection(trace.evaluations),
    el("h2", {}, "Spans"),
    PAYLOAD_NOTES[trace.payloads_state] ? el("p", { class: "note", id: "payload-note" }, PAYLOAD_NOTES[trace.payloads_state]) : null,
    table,
  ].filter(Boolean);
}
