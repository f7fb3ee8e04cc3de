import type { Config } from "../config.js";
import { LocalEventBus } from "./local-event-bus.js";
import { LocalOwnerRegistry } from "./local-owner-registry.js";
import { MemoryEventLog } from "./memory-event-log.js";
import type { Realtime } from "./realtime.js";

/** In-process realtime: correct for one instance only (no Redis needed). */
export function createLocalRealtime(config: Pick<Config, "historyMaxLen" | "historyMaxAgeS">): Realtime {
  const owners = new LocalOwnerRegistry();
  const eventLog = new MemoryEventLog({ maxLen: config.historyMaxLen, maxAgeMs: config.historyMaxAgeS * 1000 });
  const bus = new LocalEventBus();
  return {
    owners,
    eventLog,
    bus,
    async publish(userId, event) {
      const stored = eventLog.appendSync(userId, event);
      bus.publishSync(userId, stored);
      return stored;
    },
    isReady: () => true,
    close: async () => {
      await owners.close();
      await bus.close();
    },
  };
}
