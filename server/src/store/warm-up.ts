import { randomInt, randomUUID } from "node:crypto";
import type { Logger } from "../log/logger.js";
import type { Db } from "./db.js";
import { Store } from "./store.js";

/**
 * Runs the hot statements once before the server takes traffic, so its first messages do not pay
 * for a cold database. V8 compiles PGlite's WebAssembly lazily, a function on its first call, and
 * Postgres' catalog, relation and plpgsql plan caches start empty: cold, the first send batch took
 * 93–135 ms (580 ms while V8 still tiered PGlite up to TurboFan, see `PgliteWorkerData.wasmTierUp`),
 * and in bench:peers (embedded, 1,000 msg/s) the first second of a fresh server backed up to p99
 * 160–373 ms against 20–40 ms for the rest of the run.
 *
 * Everything happens in one transaction that is rolled back: a temporary user (a negative id, which
 * no BIGSERIAL ever hands out, so the users sequence is untouched and nothing collides with real
 * data or with another instance warming up at the same moment), its messages, read receipts and
 * unread counter rows all vanish. What stays visible: the messages sequence skips the ids the
 * warm-up's inserts drew (sequences are not transactional), 73 ids a round, every start.
 *
 * A warm-up that fails is only slower traffic: it logs a warning and start-up goes on.
 *
 * PGlite only (server.ts; not measured with Postgres): Postgres compiles nothing for these statements
 * (its JIT starts at far costlier plans) and keeps its caches per backend,
 * and the pool opens its connections lazily, so one warmed connection would leave nine cold ones.
 */

/**
 * Batch sizes of one round: the sizes the message writer's gathering produces at 1 to 3k msg/s.
 * Each size runs the same plpgsql statements, but the WebAssembly behind them (sorting, the
 * trigger's GROUP BY, the array handling) takes other branches, and other functions, as it grows.
 */
const BATCH_SIZES = [1, 8, 64] as const;

/**
 * Rounds of `BATCH_SIZES` and the reading statements. Measured on the built server (PGlite on
 * Liftoff, 2 cores, load 4.9): the first real batch of 4 messages after 0 / 1 / 3 rounds took
 * 93–135 / 5–6 / 4–32 ms, and the first 250 batches 1,103–1,627 / 863–955 / 2,044–2,055 ms; one
 * round (141–149 ms at start) removes the stall and more rounds add only start-up time. With
 * `PGLITE_WASM_TIER_UP=true` more rounds pay (they let V8 tier the hot functions up before
 * traffic): 3 rounds took 833 ms and left a first batch of 11 ms against 389 ms cold.
 */
export const WARM_UP_ROUNDS = 1;

/** Thrown inside the transaction to roll it back; never escapes `warmUpDatabase`. */
class RollBack extends Error {}

export interface WarmUpResult {
  ok: boolean;
  durationMs: number;
}

export async function warmUpDatabase(db: Db, logger: Pick<Logger, "info" | "warn">, rounds = WARM_UP_ROUNDS): Promise<WarmUpResult> {
  const started = performance.now();
  try {
    await db.transaction(async (tx) => {
      const store = new Store({ engine: db.engine, query: (sql, params) => tx.query(sql, params) });
      const userId = -(1 + randomInt(2 ** 47));
      await tx.query(
        "INSERT INTO users (id, username, password_hash, display_name, email) VALUES ($1, $2, 'not-a-login', 'warm-up', 'warm-up@example.invalid')",
        [userId, `warm-up-${randomUUID()}`],
      );
      let lastId = 0;
      for (let round = 0; round < rounds; round++) {
        for (const size of BATCH_SIZES) {
          const { outcomes } = await store.insertMessages(
            Array.from({ length: size }, (_, i) => ({ from: userId, to: userId, body: "warm-up", clientMsgId: `warm-up-${round}-${size}-${i}` })),
          );
          for (const outcome of outcomes) if (outcome.kind === "created") lastId = Math.max(lastId, outcome.message.id);
        }
        // The other statements a conversation runs: history pages, the unread count, mark-read.
        await store.listMessages(userId, userId, { limit: 50 });
        await store.listMessages(userId, userId, { before: lastId, limit: 50 });
        await store.unreadCounts([userId]);
        await store.markRead(userId, userId, lastId);
      }
      throw new RollBack();
    });
  } catch (error) {
    if (!(error instanceof RollBack)) {
      const durationMs = Math.round(performance.now() - started);
      // The `err` serializer keeps a driver error's query parameters out of the log (log/serialize-error.ts).
      logger.warn({ err: error, durationMs }, "database warm-up failed; starting anyway (the first messages will be slower)");
      return { ok: false, durationMs };
    }
  }
  const durationMs = Math.round(performance.now() - started);
  logger.info({ durationMs, rounds }, "database warmed up");
  return { ok: true, durationMs };
}
