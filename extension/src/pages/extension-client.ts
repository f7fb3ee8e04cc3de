import { extensionPageTransport, SwitchboardClient } from "../../../shared/sdk/index.js";
import { browser } from "../browser.js";

/** A tab SDK client for an extension page (app tab, popup, side panel). */
export function extensionPageClient(): SwitchboardClient {
  return new SwitchboardClient(extensionPageTransport({ connect: (name) => browser.runtime.connect({ name }) }));
}
