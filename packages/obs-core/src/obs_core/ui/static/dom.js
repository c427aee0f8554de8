// Shared helpers of the viewer. Every value from the store is inserted with textContent or as
// an attribute, never as HTML, because span names, payloads and explanations can hold markup.

const SVG_NS = "http://www.w3.org/2000/svg";
const token = new URLSearchParams(window.location.search).get("token");

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

export async function api(path, params) {
  const query = new URLSearchParams(params || {});
  if (token) query.set("token", token);
  const response = await fetch(path + (query.toString() ? "?" + query : ""));
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

export const fmt = {
  ms: (v) => (v === null || v === undefined ? "–" : v >= 1000 ? (v / 1000).toFixed(2) + " s" : v.toFixed(1) + " ms"),
  usd: (v) => "$" + Number(v || 0).toFixed(v >= 1 ? 2 : 5),
  int: (v) => Number(v || 0).toLocaleString("en-US"),
  pct: (v) => (v === null || v === undefined ? "–" : (v * 100).toFixed(1) + "%"),
  time: (ms) => new Date(ms).toISOString().replace("T", " ").slice(0, 19),
  day: (ms) => new Date(ms).toISOString().slice(0, 10),
};

// --- the address: "#/<page>?<params>" holds everything a view shows, so it can be bookmarked

export function parseHash(hash) {
  const text = (hash || "").replace(/^#/, "") || "/traces";
  const at = text.indexOf("?");
  const path = at < 0 ? text : text.slice(0, at);
  return { path: path, params: new URLSearchParams(at < 0 ? "" : text.slice(at + 1)) };
}

export function hashFor(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "" && value !== false) query.set(key, String(value));
  }
  const text = query.toString();
  return "#" + path + (text ? "?" + text : "");
}

// Go to a view; re-render even when the address is already that one (hashchange won't fire).
export function navigate(hash) {
  if (window.location.hash === hash) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else window.location.hash = hash;
}

export function traceHref(id) {
  return "#/trace/" + encodeURIComponent(id);
}

// <input type="datetime-local"> speaks local wall-clock time; the address and API speak epoch ms.
export function localInputValue(ms) {
  if (!ms) return "";
  const date = new Date(Number(ms));
  return new Date(date.getTime() - date.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

export function epochMs(localValue) {
  return localValue ? String(new Date(localValue).getTime()) : "";
}

export function badge(kind, text) {
  return el("span", { class: "badge " + kind }, text);
}

export function card(label, value) {
  return el("div", { class: "card" }, el("div", {}, label), el("div", { class: "value" }, value));
}
