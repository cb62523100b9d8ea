// Loaded with import() from app.js when the reader opens the example manifest.
// Nothing here is needed for the first paint, so pushgen leaves it out.
import { formatBytes } from "./lib/format.js";

// Roughly what `pushgen build` lists for / (sizes as they were when this was written).
const EXAMPLE = [
  { path: "/static/css/site.css", as: "style", bytes: 3537 },
  { path: "/static/css/base/reset.css", as: "style", bytes: 271 },
  { path: "/static/css/base/typography.css", as: "style", bytes: 1018 },
  { path: "/static/fonts/dejavu-sans.woff2", as: "font", bytes: 9552 },
  { path: "/static/fonts/dejavu-sans-bold.woff2", as: "font", bytes: 8700 },
  { path: "/static/js/app.js", as: "script", bytes: 1627 },
  { path: "/static/js/lib/dom.js", as: "script", bytes: 301 },
  { path: "/static/js/lib/format.js", as: "script", bytes: 947 },
  { path: "/static/js/lib/util.js", as: "script", bytes: 233 },
  { path: "/static/js/analytics.js", as: "script", bytes: 866 },
  { path: "/static/css/print.css", as: "style", bytes: 454, push: false },
  { path: "/static/img/hero-480.png", as: "image", bytes: 3656, push: false },
];

export function renderManifest(table) {
  if (!table || table.tBodies[0].rows.length > 0) return;
  const body = table.tBodies[0];
  for (const entry of EXAMPLE) {
    const row = body.insertRow();
    row.insertCell().textContent = entry.path;
    row.insertCell().textContent = entry.as;
    row.insertCell().textContent = formatBytes(entry.bytes);
    row.insertCell().textContent = entry.push === false ? "hint only" : "push";
  }
}
