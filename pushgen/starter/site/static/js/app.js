// A module script (<script type="module">): pushgen pushes it and every module it imports.
import { today } from "./date.js";

for (const element of document.querySelectorAll("[data-built]")) {
  element.textContent = today();
}
