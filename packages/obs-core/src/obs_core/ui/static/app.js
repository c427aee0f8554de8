// obs ui: a read-only trace viewer. The address hash names the view and all of its state
// ("#/traces?status=ERROR&sort=cost", "#/trace/<id>", "#/overview?days=30"), so a reload,
// the back button or a bookmark shows the same thing again.

import { el, parseHash } from "/static/dom.js";
import { listView } from "/static/list.js";
import { traceView } from "/static/trace.js";
import { overviewView } from "/static/overview.js";

const app = document.getElementById("app");
let lastList = "#/traces";
let latest = 0;

// Views build their nodes off-screen and hand them back; only the newest navigation's result
// is shown, so a slow answer never replaces a newer view. `data-loaded` names the address
// the page shows once it is complete (tests and scripts wait for it).
async function route() {
  const hash = window.location.hash;
  const seq = ++latest;
  app.dataset.loading = "true";
  const { path, params } = parseHash(hash);
  let nodes;
  try {
    if (path.startsWith("/trace/")) {
      nodes = await traceView(decodeURIComponent(path.slice("/trace/".length)), lastList);
    } else if (path === "/overview") {
      nodes = await overviewView(params);
    } else {
      lastList = hash || "#/traces";
      nodes = await listView(params);
    }
  } catch (error) {
    nodes = [el("p", { class: "error" }, "Could not load: " + error.message)];
  }
  if (seq !== latest) return;
  app.replaceChildren(...nodes);
  app.dataset.loaded = hash;
  delete app.dataset.loading;
}

window.addEventListener("hashchange", route);
route();
