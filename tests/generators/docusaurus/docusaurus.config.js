// The Docusaurus site tests/generators builds (tests/generators/builders.py): the
// classic preset, written by hand (create-docusaurus may fetch templates).
export default {
  title: "Demo",
  tagline: "A small Docusaurus site the pushgen suite scans",
  url: "https://example.org",
  baseUrl: "/",
  onBrokenLinks: "throw",
  favicon: "img/logo.png",
  i18n: { defaultLocale: "en", locales: ["en"] },
  presets: [
    [
      "classic",
      {
        docs: { routeBasePath: "/", sidebarPath: "./sidebars.js" },
        blog: false,
        theme: {},
      },
    ],
  ],
  themeConfig: {
    navbar: { title: "Demo", items: [{ to: "/guide/install", label: "Install" }] },
    prism: { additionalLanguages: [] },
  },
};
