/** The one module that imports webextension-polyfill (DESIGN §6); everything else imports `browser` from here. */
import browser from "webextension-polyfill";

export { browser };
export type { Runtime, Scripting } from "webextension-polyfill";
