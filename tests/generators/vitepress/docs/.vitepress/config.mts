// The VitePress site tests/generators builds (tests/generators/builders.py), for /docs/.
import { defineConfig } from "vitepress";

export default defineConfig({
  title: "Demo",
  description: "A small VitePress site the pushgen suite scans",
  base: "/docs/",
  lastUpdated: false,
  themeConfig: {
    nav: [{ text: "Guide", link: "/guide/" }],
    sidebar: [
      {
        text: "Guide",
        items: [
          { text: "Introduction", link: "/guide/" },
          { text: "Install", link: "/guide/install" },
          { text: "Reference", link: "/guide/reference" },
        ],
      },
    ],
  },
});
