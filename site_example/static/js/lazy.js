// Loaded with import() from app.js when the reader opens the example manifest.
// Nothing here is needed for the first paint, so pushgen leaves it out.
import { formatBytes } from "./lib/format.js";

const EXAMPLE = [
  { path: "/static/css/site.css", as: "style", bytes: 3612 },
  { path: "/static/css/base/reset.css", as: "style", bytes: 262 },
  { path: "/static/css/base/typography.css", as: "style", bytes: 1049 },
  { path: "/static/fonts/dejavu-sans.woff2", as: "font", bytes: 9552 },
  { path: "/static/js/app.js", as: "script", bytes: 1903 },
  { path: "/static/js/lib/dom.js", as: "script", bytes: 331 },
  { path: "/static/img/hero-960.png", as: "image", bytes: 8793, push: false },
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
