// A classic script, loaded with `defer`: it runs after the document is parsed.
// "Analytics" that never leave the browser: it reads the Navigation Timing entry
// and shows how long this page took, which is the number server push is for.
(function () {
  "use strict";

  function show() {
    var output = document.getElementById("load-time");
    var entries = performance.getEntriesByType ? performance.getEntriesByType("navigation") : [];
    var entry = entries[0];
    if (!output || !entry) return;
    var end = entry.loadEventEnd || entry.domContentLoadedEventEnd;
    if (end > 0) output.textContent = Math.round(end) + " ms";
  }

  if (document.readyState === "complete") {
    show();
  } else {
    // loadEventEnd is only set once the load handlers have returned.
    window.addEventListener("load", function () { setTimeout(show, 0); });
  }
})();
