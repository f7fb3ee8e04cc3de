import { mkdir } from "node:fs/promises";
import path from "node:path";

/**
 * One SQL dialect (PostgreSQL), two engines: embedded PGlite in a data folder (the default; it
 * runs in a worker thread, `pglite-worker-db.ts`) or a real Postgres through `pg` when
 * `DATABASE_URL` is set. Everything above this file only sees
 * `Db`.
 */
export interface Db {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  /** Run several statements (migrations); no parameters. */
  exec(sql: string): Promise<void>;
  /** Run `fn` in one transaction on one connection. */
  transaction<T>(fn: (tx: Pick<Db, "query">) => Promise<T>): Promise<T>;
  readonly engine: "pglite" | "postgres";
  close(): Promise<void>;
}

export interface OpenDbOptions {
  databaseUrl?: string;
  /** PGlite data folder; `memory://` for an in-memory database. */
  dataDir?: string;
  /** PGlite only: see `PgliteWorkerData.wasmTierUp`. @default false */
  pgliteWasmTierUp?: boolean;
  onQuery?: () => void;
  /**
   * PGlite only: its worker thread stopped without `close()` (crashed, out of memory). Pending and
   * later calls are rejected; the embedded database is gone for this process.
   */
  onLost?: (error: Error) => void;
}

export async function openDb(options: OpenDbOptions): Promise<Db> {
  return options.databaseUrl
    ? openPostgres(options.databaseUrl, options.onQuery)
    : openPglite(options.dataDir ?? ".data", options.pgliteWasmTierUp ?? false, options.onQuery, options.onLost);
}

/**
 * PGlite keeps Postgres' shared buffers inside the WASM heap, and Postgres touches all of them at
 * start: the default 128 MB was most of the embedded server's resident memory before its first
 * socket. 16 MB holds the working set of the embedded default (one instance, a small team):
 * measured reopening a data folder, RSS 322-343 → 191-215 MiB, 2,000 inserts equally fast.
 */
const PGLITE_SHARED_BUFFERS = "16MB";

async function openPglite(dataDir: string, wasmTierUp: boolean, onQuery?: () => void, onLost?: (error: Error) => void): Promise<Db> {
  const { PgliteWorkerDb } = await import("./pglite-worker-db.js");
  let target = dataDir;
  if (!dataDir.startsWith("memory://")) {
    target = path.resolve(dataDir, "pglite");
    await mkdir(target, { recursive: true });
  }
  return PgliteWorkerDb.open({
    dataDir: target,
    settings: { shared_buffers: PGLITE_SHARED_BUFFERS },
    wasmTierUp,
    ...(onQuery ? { onQuery } : {}),
    ...(onLost ? { onLost } : {}),
  });
}

/**
 * Connections to Postgres, at most, per process. Once opened they stay open while idle
 * (`idleTimeoutMillis: 0`; pg's pool closes a connection idle for 10 s by default): a backend's
 * catalog, relation and plpgsql plan caches and this pool's prepared statements live as long as
 * its connection, so a burst after a quiet spell would otherwise start on cold backends. Measured
 * (2 × AMD EPYC, a send batch of 4): the first batch on a fresh connection took 15–22 ms, the
 * next ones 1.6–3.4 ms. A fixed-size pool once warm, as HikariCP recommends by default.
 */
const POSTGRES_POOL_SIZE = 10;

async function openPostgres(url: string, onQuery?: () => void): Promise<Db> {
  const { default: pg } = await import("pg");
  // Return BIGINT (int8) as JS numbers: ids stay far below 2^53.
  pg.types.setTypeParser(20, (value: string) => Number(value));
  const pool = new pg.Pool({ connectionString: url, max: POSTGRES_POOL_SIZE, idleTimeoutMillis: 0, connectionTimeoutMillis: 5000 });
  // An idle client's error (e.g. Postgres restarted) must not crash the process.
  pool.on("error", () => {});
  await pool.query("select 1");
  const statements = new PreparedStatementNames();
  return {
    engine: "postgres",
    async query<T>(sql: string, params?: unknown[]) {
      onQuery?.();
      const run = (name: string | undefined) =>
        pool.query(name ? { name, text: sql, values: params as unknown[] } : { text: sql, values: params as unknown[] });
      const name = statements.nameOf(sql);
      const result = await run(name).catch((error: unknown) => {
        // Another instance changed the schema under a statement this pool prepared (a rolling
        // deploy's migration): prepare it again under a new name, once.
        if (name === undefined || !isStalePreparedStatement(error)) throw error;
        return run(statements.renew(sql));
      });
      return { rows: result.rows as T[] };
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
    async transaction<T>(fn: (tx: Pick<Db, "query">) => Promise<T>) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await fn({
          async query<R>(sql: string, params?: unknown[]) {
            onQuery?.();
            const r = await client.query(sql, params as unknown[]);
            return { rows: r.rows as R[] };
          },
        });
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}

/**
 * Names for the queries outside transactions, so `pg` prepares each once per pooled connection
 * and later calls send only Bind and Execute: Postgres parses and plans the text once instead of
 * on every call (a batch of sends, the profile read, the unread count). Every query text is
 * written in this codebase (values travel as parameters), so their number is bounded; past
 * `max` distinct texts the rest stay unnamed rather than growing every connection's cache.
 */
class PreparedStatementNames {
  readonly #names = new Map<string, string>();
  #made = 0;

  constructor(private readonly max = 200) {}

  nameOf(sql: string): string | undefined {
    const known = this.#names.get(sql);
    if (known !== undefined || this.#names.size >= this.max) return known;
    return this.renew(sql);
  }

  /** A fresh name for `sql` (its old statement is stale on some connection); it keeps its place in the bound. */
  renew(sql: string): string {
    const name = `sb${++this.#made}`;
    this.#names.set(sql, name);
    return name;
  }
}

/**
 * `cached plan must not change result type` (SQLSTATE 0A000): a prepared statement whose tables
 * changed shape since it was prepared. Postgres re-plans by itself for every other schema change.
 */
function isStalePreparedStatement(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "0A000";
}
