// Small number helpers shared by the other modules.

export function pad(value, width = 2) {
  return String(value).padStart(width, "0");
}

export function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}
