export function ready() { document.documentElement.dataset.ready = "1"; }
