import type { Db } from "./db.js";

/**
 * Schema migrations, applied in order at start inside one transaction holding an advisory lock,
 * so several instances starting together apply each exactly once. Append only: never edit a
 * released migration.
 */
export const MIGRATIONS: Array<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: "users, messages, refresh tokens",
    sql: `
      CREATE TABLE users (
        id            BIGSERIAL PRIMARY KEY,
        username      TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        display_name  TEXT NOT NULL,
        email         TEXT NOT NULL,
        phone         TEXT,
        avatar_url    TEXT,
        bio           TEXT NOT NULL DEFAULT '',
        role          TEXT NOT NULL DEFAULT 'user',
        permissions   TEXT[] NOT NULL DEFAULT '{}',
        user_level    TEXT NOT NULL DEFAULT 'normal',
        is_active     BOOLEAN NOT NULL DEFAULT TRUE,
        created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
      );
      CREATE TABLE messages (
        id            BIGSERIAL PRIMARY KEY,
        sender_id     BIGINT NOT NULL REFERENCES users(id),
        recipient_id  BIGINT NOT NULL REFERENCES users(id),
        body          TEXT NOT NULL,
        client_msg_id TEXT,
        created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
        read_at       TIMESTAMPTZ
      );
      CREATE UNIQUE INDEX messages_idempotency ON messages (sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL;
      CREATE INDEX messages_unread ON messages (recipient_id, sender_id) WHERE read_at IS NULL;
      CREATE INDEX messages_pair ON messages (LEAST(sender_id, recipient_id), GREATEST(sender_id, recipient_id), id);
      CREATE TABLE refresh_tokens (
        token_hash  TEXT PRIMARY KEY,
        family_id   TEXT NOT NULL,
        user_id     BIGINT NOT NULL REFERENCES users(id),
        expires_at  TIMESTAMPTZ NOT NULL,
        used_at     TIMESTAMPTZ,
        revoked_at  TIMESTAMPTZ,
        created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
      );
      CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
    `,
  },
  {
    version: 2,
    name: "unread counters kept by triggers",
    // Counting a user's unread rows on every send grew with the unread backlog (≈50 ms per batch of
    // recipients once each had a few thousand, in bench:cluster). The count is now a row per user,
    // kept by statement-level triggers — whichever code (or an older instance during a rolling
    // deploy) writes `messages`. Upserts lock counters in user-id order, so concurrent batches
    // cannot deadlock. The triggers exist before the backfill: CREATE TRIGGER blocks writers until
    // this transaction commits, so no message is counted twice or missed. (Function bodies stay on
    // one line: statements here are split at a semicolon that ends a line.)
    sql: `
      CREATE TABLE unread_counts (
        user_id BIGINT PRIMARY KEY REFERENCES users(id),
        n       BIGINT NOT NULL
      );
      CREATE FUNCTION unread_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP IN ('INSERT', 'UPDATE') THEN INSERT INTO unread_counts (user_id, n) SELECT recipient_id, count(*) FROM new_rows WHERE read_at IS NULL GROUP BY recipient_id ORDER BY recipient_id ON CONFLICT (user_id) DO UPDATE SET n = unread_counts.n + EXCLUDED.n; END IF; IF TG_OP IN ('UPDATE', 'DELETE') THEN UPDATE unread_counts c SET n = c.n - d.n FROM (SELECT recipient_id, count(*) AS n FROM old_rows WHERE read_at IS NULL GROUP BY recipient_id ORDER BY recipient_id) d WHERE c.user_id = d.recipient_id; END IF; RETURN NULL; END $$;
      CREATE TRIGGER messages_unread_insert AFTER INSERT ON messages REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION unread_counts_add();
      CREATE TRIGGER messages_unread_update AFTER UPDATE ON messages REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION unread_counts_add();
      CREATE TRIGGER messages_unread_delete AFTER DELETE ON messages REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION unread_counts_add();
      INSERT INTO unread_counts (user_id, n)
        SELECT recipient_id, count(*) FROM messages WHERE read_at IS NULL GROUP BY recipient_id;
    `,
  },
  {
    version: 3,
    name: "refresh token successor for the reuse interval",
    // A used token's successor, sealed under the used token (auth/refresh-successor.ts): a second
    // refresh with it within REFRESH_REUSE_INTERVAL_S gets the same successor instead of revoking.
    sql: `
      ALTER TABLE refresh_tokens ADD COLUMN successor_sealed TEXT;
    `,
  },
  {
    version: 4,
    name: "insert messages and read their recipients' unread counts in one call",
    // A batch of sends was two round trips: the INSERT, then the recipients' counters. This function
    // does both in one call: the INSERT is its own statement, so the counter triggers have run when
    // the second statement reads the counters, and the counter rows stay locked by this transaction
    // until it commits — a concurrent batch for the same recipient waits and reads a count that
    // includes this one. Inside plpgsql both statements' plans are cached per connection. The
    // triggers stay: an older instance during a rolling deploy still inserts directly.
    sql: `
      CREATE FUNCTION insert_messages_counted(senders BIGINT[], recipients BIGINT[], bodies TEXT[], keys TEXT[]) RETURNS TABLE (id BIGINT, sender_id BIGINT, recipient_id BIGINT, body TEXT, client_msg_id TEXT, created_at TIMESTAMPTZ, read_at TIMESTAMPTZ, unread BIGINT) LANGUAGE plpgsql AS $$ #variable_conflict use_column
 DECLARE ids BIGINT[]; BEGIN WITH input AS (SELECT * FROM unnest(senders, recipients, bodies, keys) WITH ORDINALITY AS t(sender_id, recipient_id, body, client_msg_id, ord)), ins AS (INSERT INTO messages (sender_id, recipient_id, body, client_msg_id) SELECT i.sender_id, i.recipient_id, i.body, i.client_msg_id FROM input i WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = i.recipient_id) ORDER BY i.ord ON CONFLICT (sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL DO NOTHING RETURNING messages.id) SELECT array_agg(ins.id) INTO ids FROM ins; RETURN QUERY SELECT m.id, m.sender_id, m.recipient_id, m.body, m.client_msg_id, m.created_at, m.read_at, COALESCE(c.n, 0) FROM messages m LEFT JOIN unread_counts c ON c.user_id = m.recipient_id WHERE m.id = ANY(ids) ORDER BY m.id; END $$;
    `,
  },
  {
    version: 5,
    name: "insert_messages_counted returns the inserted rows instead of reading them again",
    // Version 4 read the inserted rows back with `WHERE m.id = ANY(ids)`. plpgsql caches that plan
    // per connection, planned while `messages` was small (a new database, and autovacuum's first
    // ANALYZE is a minute away): it can be a sequential scan comparing every row with every id, so
    // a batch's cost grows with the table until an ANALYZE replans it (seen in one bench:cluster
    // run: Postgres took 62 % of the machine at 10,000 msg/s, 38 % of it in
    // ExecEvalScalarArrayOp + int8eq under a hash join over a scan of messages). The INSERT's RETURNING gives the rows themselves; only the
    // counters are read by a second statement (after the counter triggers ran, as before). And
    // every plan inside it is made with sequential scans off: all its lookups have an index (the
    // recipient check on users, the conflict check, the counters), and a plan cached while a table
    // was small must not scan it whole once it is large (the recipient check was a hash join over
    // a sequential scan of users, planned with 200 rows). Same signature and result, so an older
    // instance during a rolling deploy calls it unchanged.
    sql: `
      CREATE OR REPLACE FUNCTION insert_messages_counted(senders BIGINT[], recipients BIGINT[], bodies TEXT[], keys TEXT[]) RETURNS TABLE (id BIGINT, sender_id BIGINT, recipient_id BIGINT, body TEXT, client_msg_id TEXT, created_at TIMESTAMPTZ, read_at TIMESTAMPTZ, unread BIGINT) LANGUAGE plpgsql SET enable_seqscan = off AS $$ #variable_conflict use_column
 DECLARE inserted messages[]; BEGIN WITH input AS (SELECT * FROM unnest(senders, recipients, bodies, keys) WITH ORDINALITY AS t(sender_id, recipient_id, body, client_msg_id, ord)), ins AS (INSERT INTO messages AS m (sender_id, recipient_id, body, client_msg_id) SELECT i.sender_id, i.recipient_id, i.body, i.client_msg_id FROM input i WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = i.recipient_id) ORDER BY i.ord ON CONFLICT (sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL DO NOTHING RETURNING m) SELECT array_agg(ins.m) INTO inserted FROM ins; RETURN QUERY SELECT r.id, r.sender_id, r.recipient_id, r.body, r.client_msg_id, r.created_at, r.read_at, COALESCE(c.n, 0) FROM unnest(inserted) AS r LEFT JOIN unread_counts c ON c.user_id = r.recipient_id ORDER BY r.id; END $$;
    `,
  },
];

const LOCK_KEY = 7_263_001;

export async function migrate(db: Db): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [LOCK_KEY]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    const { rows } = await tx.query<{ version: number }>("SELECT version FROM schema_migrations");
    const done = new Set(rows.map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.sql
        .split(/;\s*\n/)
        .map((s) => s.trim())
        .filter(Boolean)) {
        await tx.query(statement);
      }
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name]);
      applied.push(migration.version);
    }
    return applied;
  });
}
