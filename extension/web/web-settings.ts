import { OUTBOX_MAX_AGE_MS, OUTBOX_MAX_MESSAGES } from "../../shared/hub/outbox-queue.js";
import type { HubSettings } from "../../shared/hub/settings.js";

/** The web-app leader's defaults: the same as the extension's build defaults. */
const DEFAULTS = {
  keepaliveMs: 20_000,
  profileFreshMs: 300_000,
  backoffBaseMs: 1000,
  outboxMaxMessages: OUTBOX_MAX_MESSAGES,
  outboxMaxAgeMs: OUTBOX_MAX_AGE_MS,
} satisfies Omit<Required<HubSettings>, "serverUrl">;

/**
 * The hub settings of a web-app tab: the server is the page's own origin (it serves the app);
 * tests and `npm run bench:tabs` shorten the timers with query parameters of the same names
 * (`/?profileFreshMs=10000`), which a user never needs.
 */
export function webSettings(location: Location): HubSettings {
  const query = new URLSearchParams(location.search);
  const number = (name: keyof typeof DEFAULTS) => {
    const value = Number(query.get(name));
    return Number.isFinite(value) && value > 0 ? value : DEFAULTS[name];
  };
  return {
    serverUrl: location.origin,
    keepaliveMs: number("keepaliveMs"),
    profileFreshMs: number("profileFreshMs"),
    backoffBaseMs: number("backoffBaseMs"),
    outboxMaxMessages: number("outboxMaxMessages"),
    outboxMaxAgeMs: number("outboxMaxAgeMs"),
  };
}
