// Imported by app.js: part of its module graph, so pushed with it.
export function today() {
  return new Date().toISOString().slice(0, 10);
}
