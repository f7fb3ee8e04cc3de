/** The one module that imports webextension-polyfill (one place to swap it out); everything else imports `browser` from here. */
import browser from "webextension-polyfill";

export { browser };
export type { Runtime, Scripting } from "webextension-polyfill";
