// The entry module of a small app: every kind of static import, and things that are not.
import { html, render } from "./vendor/lit-html.js";
import * as store from "../lib/store.js";
import config from "/static/config.json" with { type: "json" };
import sheet from "./app.css" with { type: "css" };
import "./polyfills.js";
import confetti from "https://cdn.example.com/confetti.mjs";
import dayjs from "dayjs";

export { formatDate } from "./util/date.js";
export * from "./components/index.js";

const routes = {
  home: () => import("./pages/home.js"),
  about: () => import("./pages/about.js"),
};

/* Old code, kept for reference:
import legacy from "./legacy.js";
*/
const help = `Use: import x from "./x.js" ${"or"} export * from "./y.js"`;
const re = /import\s+"[^"]+"/g;
const ratio = width / height / 2;

export async function start(root) {
  document.adoptedStyleSheets = [sheet];
  render(html`<p>${config.title}</p>`, root);
  const url = new URL("./worker.js", import.meta.url);
  return routes[location.hash.slice(1)]?.();
}
