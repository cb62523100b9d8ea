// Entry point, loaded with <script type="module">. Its static imports form the
// module graph pushgen pushes; lazy.js is only reached through import(), so it
// is fetched when the reader asks for it and never pushed.
import { $, $$, text } from "./lib/dom.js";
import { clamp, formatDate } from "./lib/format.js";

// Footer year.
for (const element of $$("[data-year]")) {
  text(element, String(new Date().getFullYear()));
}

// Readable dates: <time datetime="2025-03-14" data-format>.
for (const element of $$("time[data-format]")) {
  text(element, formatDate(element.getAttribute("datetime")));
}

// The navigation menu on narrow screens.
const nav = $(".site-nav");
const toggle = $(".nav-toggle");
if (nav && toggle) {
  toggle.addEventListener("click", () => {
    const open = nav.classList.toggle("is-open");
    toggle.setAttribute("aria-expanded", String(open));
  });
}

// Reading progress on the docs pages.
const progress = $(".progress");
if (progress) {
  const update = () => {
    const range = document.documentElement.scrollHeight - window.innerHeight;
    const ratio = range > 0 ? window.scrollY / range : 1;
    progress.style.transform = `scaleX(${clamp(ratio, 0, 1)})`;
  };
  window.addEventListener("scroll", update, { passive: true });
  update();
}

// The example manifest is built on demand, the first time its <details> opens.
for (const details of $$("details[data-manifest]")) {
  details.addEventListener(
    "toggle",
    async () => {
      const { renderManifest } = await import("./lazy.js");
      renderManifest($(".manifest-table", details));
    },
    { once: true },
  );
}
