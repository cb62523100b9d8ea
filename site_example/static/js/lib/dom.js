// Tiny DOM helpers.

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $$(selector, root = document) {
  return Array.from(root.querySelectorAll(selector));
}

export function text(element, value) {
  if (element) element.textContent = value;
}
