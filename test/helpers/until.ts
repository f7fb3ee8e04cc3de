import { setTimeout as sleep } from "node:timers/promises";

/** Poll `condition` every `intervalMs` until it holds or `timeoutMs` passed; resolves with its last value. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000, intervalMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}
