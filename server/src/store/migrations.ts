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
      for (const statement of migration.sql.split(/;\s*\n/).map((s) => s.trim()).filter(Boolean)) {
        await tx.query(statement);
      }
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name]);
      applied.push(migration.version);
    }
    return applied;
  });
}
