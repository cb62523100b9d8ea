import { ready } from "./util.js";
ready();
