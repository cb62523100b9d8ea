import { mark } from "/js/util.js";
mark(document.querySelector("main"));
