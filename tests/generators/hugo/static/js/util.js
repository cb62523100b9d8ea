export function mark(element) { if (element) element.dataset.ready = "1"; }
