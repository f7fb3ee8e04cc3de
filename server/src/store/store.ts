import type { ChatMessage, Conversation, DirectoryUser, ProfilePatch } from "../../../shared/protocol/index.js";

export type { ProfilePatch };
import type { Db } from "./db.js";

/** The one store module: every SQL statement the server runs lives here. */

export interface UserRow {
  id: number;
  username: string;
  password_hash: string;
  display_name: string;
  email: string;
  phone: string | null;
  avatar_url: string | null;
  bio: string;
  role: string;
  permissions: string[];
  user_level: string;
  is_active: boolean;
  created_at: string;
  updated_at: string;
}

export type PublicUser = Omit<UserRow, "password_hash">;

export type { Conversation };

export interface RefreshTokenRow {
  token_hash: string;
  family_id: string;
  user_id: number;
  expires_at: string;
  used_at: string | null;
  revoked_at: string | null;
  /** The successor sealed under the used token (see auth/refresh-successor.ts); null before use. */
  successor_sealed?: string | null;
}

export interface NewMessage {
  from: number;
  to: number;
  body: string;
  clientMsgId: string | null;
}

export type InsertOutcome = { kind: "created"; message: ChatMessage } | { kind: "duplicate"; message: ChatMessage } | { kind: "recipientNotFound" };

function idempotencyKey(from: number, clientMsgId: string): string {
  return `${from}\u0000${clientMsgId}`;
}

const USER_COLUMNS = "id, username, display_name, email, phone, avatar_url, bio, role, permissions, user_level, is_active, created_at, updated_at";

function iso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}

function toPublicUser(row: Record<string, unknown>): PublicUser {
  return {
    id: Number(row.id),
    username: String(row.username),
    display_name: String(row.display_name),
    email: String(row.email),
    phone: (row.phone as string | null) ?? null,
    avatar_url: (row.avatar_url as string | null) ?? null,
    bio: String(row.bio ?? ""),
    role: String(row.role),
    permissions: Array.isArray(row.permissions) ? (row.permissions as string[]) : [],
    user_level: String(row.user_level),
    is_active: Boolean(row.is_active),
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

function toMessage(row: Record<string, unknown>): ChatMessage {
  return {
    id: Number(row.id),
    from: Number(row.sender_id),
    to: Number(row.recipient_id),
    body: String(row.body),
    clientMsgId: (row.client_msg_id as string | null) ?? null,
    createdAt: iso(row.created_at),
    readAt: row.read_at ? iso(row.read_at) : null,
  };
}

export class Store {
  /** Only `query` is used here (a transaction's `query` will do: `warm-up.ts`); `engine` tells the message writer what it writes to. */
  constructor(readonly db: Pick<Db, "query" | "engine">) {}

  // ---- users -------------------------------------------------------------------------------

  async createUser(user: {
    username: string;
    passwordHash: string;
    displayName: string;
    email: string;
    phone?: string | null;
    role?: string;
    permissions?: string[];
  }): Promise<PublicUser> {
    const { rows } = await this.db.query(
      `INSERT INTO users (username, password_hash, display_name, email, phone, role, permissions)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (username) DO NOTHING
       RETURNING ${USER_COLUMNS}`,
      [user.username, user.passwordHash, user.displayName, user.email, user.phone ?? null, user.role ?? "user", user.permissions ?? []],
    );
    if (rows[0]) return toPublicUser(rows[0]);
    const existing = await this.findUserByUsername(user.username);
    if (!existing) throw new Error(`user ${user.username} could not be created`);
    const { password_hash: _omit, ...rest } = existing;
    return rest;
  }

  async findUserByUsername(username: string): Promise<UserRow | null> {
    const { rows } = await this.db.query(`SELECT password_hash, ${USER_COLUMNS} FROM users WHERE username = $1`, [username]);
    const row = rows[0];
    return row ? { ...toPublicUser(row), password_hash: String(row.password_hash) } : null;
  }

  async findUserById(id: number): Promise<PublicUser | null> {
    const { rows } = await this.db.query(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
    return rows[0] ? toPublicUser(rows[0]) : null;
  }

  async listUsers(): Promise<DirectoryUser[]> {
    const { rows } = await this.db.query<{ id: number; username: string; display_name: string }>(
      "SELECT id, username, display_name FROM users WHERE is_active ORDER BY id LIMIT 500",
    );
    return rows.map((r) => ({ id: Number(r.id), username: r.username, displayName: r.display_name }));
  }

  async updateProfile(id: number, patch: ProfilePatch): Promise<PublicUser | null> {
    const { rows } = await this.db.query(
      `UPDATE users SET
         display_name = COALESCE($2, display_name),
         bio          = COALESCE($3, bio),
         avatar_url   = CASE WHEN $4::boolean THEN $5 ELSE avatar_url END,
         phone        = CASE WHEN $6::boolean THEN $7 ELSE phone END,
         email        = COALESCE($8, email),
         updated_at   = clock_timestamp()
       WHERE id = $1
       RETURNING ${USER_COLUMNS}`,
      [
        id,
        patch.displayName ?? null,
        patch.bio ?? null,
        patch.avatarUrl !== undefined,
        patch.avatarUrl ?? null,
        patch.phone !== undefined,
        patch.phone ?? null,
        patch.email ?? null,
      ],
    );
    return rows[0] ? toPublicUser(rows[0]) : null;
  }

  async setRole(id: number, role: string, permissions: string[] | undefined): Promise<PublicUser | null> {
    const { rows } = await this.db.query(
      `UPDATE users SET role = $2, permissions = COALESCE($3, permissions), updated_at = clock_timestamp()
       WHERE id = $1 RETURNING ${USER_COLUMNS}`,
      [id, role, permissions ?? null],
    );
    return rows[0] ? toPublicUser(rows[0]) : null;
  }

  // ---- messages ----------------------------------------------------------------------------

  /**
   * Insert many messages in one call (the write-coalescing path, `message-writer.ts`). Ids are
   * assigned in input order, so a sender's messages are stored in the order given. Per input, in
   * order: `created`, `duplicate` (the same sender already used the clientMsgId — earlier, or
   * earlier in this batch — and this is that first message) or `recipientNotFound`. With them, the
   * unread count of each recipient of a created message right after this batch (read in the same
   * call, after the counter triggers ran: `insert_messages_counted`, migrations 4 and 5).
   */
  async insertMessages(inputs: readonly NewMessage[]): Promise<{ outcomes: InsertOutcome[]; unreadAfter: Map<number, number> }> {
    const { rows } = await this.db.query<Record<string, unknown> & { unread: number | string }>(
      "SELECT * FROM insert_messages_counted($1::bigint[], $2::bigint[], $3::text[], $4::text[])",
      [inputs.map((m) => m.from), inputs.map((m) => m.to), inputs.map((m) => m.body), inputs.map((m) => m.clientMsgId)],
    );
    const unreadAfter = new Map<number, number>();
    for (const row of rows) unreadAfter.set(Number(row.recipient_id), Number(row.unread));
    // Rows come back matched by (sender, clientMsgId); rows without a clientMsgId never conflict,
    // so they are the remaining inserted rows, in id (= input) order.
    const inserted = rows.map(toMessage).sort((x, y) => x.id - y.id);
    const byKey = new Map<string, ChatMessage>();
    const withoutKey: ChatMessage[] = [];
    for (const message of inserted) {
      if (message.clientMsgId === null) withoutKey.push(message);
      else byKey.set(idempotencyKey(message.from, message.clientMsgId), message);
    }
    const outcomes: Array<InsertOutcome | undefined> = [];
    const missing: number[] = [];
    for (const [index, input] of inputs.entries()) {
      if (input.clientMsgId === null) {
        const message = withoutKey[0]?.from === input.from && withoutKey[0].to === input.to ? withoutKey.shift() : undefined;
        if (message) outcomes.push({ kind: "created", message });
        else {
          outcomes.push(undefined);
          missing.push(index);
        }
        continue;
      }
      const key = idempotencyKey(input.from, input.clientMsgId);
      const message = byKey.get(key);
      if (message) {
        byKey.delete(key); // a second use of the key in this batch is a duplicate of this one
        outcomes.push({ kind: "created", message });
      } else {
        outcomes.push(undefined);
        missing.push(index);
      }
    }
    if (missing.length > 0) await this.#explainMissing(inputs, missing, outcomes);
    return { outcomes: outcomes as InsertOutcome[], unreadAfter };
  }

  /** Inputs that were not inserted: an unknown recipient, or a clientMsgId used before (return that message). */
  async #explainMissing(inputs: readonly NewMessage[], missing: number[], outcomes: Array<InsertOutcome | undefined>): Promise<void> {
    const recipients = [...new Set(missing.map((i) => inputs[i]!.to))];
    const known = await this.db.query<{ id: number }>("SELECT id FROM users WHERE id = ANY($1::bigint[])", [recipients]);
    const knownIds = new Set(known.rows.map((r) => Number(r.id)));
    const keyed = missing.filter((i) => knownIds.has(inputs[i]!.to) && inputs[i]!.clientMsgId !== null);
    const existing = new Map<string, ChatMessage>();
    if (keyed.length > 0) {
      const found = await this.db.query(
        `SELECT m.* FROM messages m
         JOIN unnest($1::bigint[], $2::text[]) AS k(sender_id, client_msg_id)
           ON m.sender_id = k.sender_id AND m.client_msg_id = k.client_msg_id`,
        [keyed.map((i) => inputs[i]!.from), keyed.map((i) => inputs[i]!.clientMsgId)],
      );
      for (const row of found.rows.map(toMessage)) existing.set(idempotencyKey(row.from, row.clientMsgId!), row);
    }
    for (const index of missing) {
      const input = inputs[index]!;
      if (!knownIds.has(input.to)) {
        outcomes[index] = { kind: "recipientNotFound" };
        continue;
      }
      const message = input.clientMsgId === null ? undefined : existing.get(idempotencyKey(input.from, input.clientMsgId));
      if (!message) throw new Error("idempotent insert found no row");
      outcomes[index] = { kind: "duplicate", message };
    }
  }

  /** Unread counts of several users in one query (users with none are 0); kept by triggers (migration 2). */
  async unreadCounts(userIds: readonly number[]): Promise<Map<number, number>> {
    const { rows } = await this.db.query<{ user_id: number | string; n: number | string }>(
      "SELECT user_id, n FROM unread_counts WHERE user_id = ANY($1::bigint[])",
      [userIds],
    );
    const counts = new Map(userIds.map((id) => [id, 0]));
    for (const row of rows) counts.set(Number(row.user_id), Number(row.n));
    return counts;
  }

  async listMessages(userId: number, peerId: number, options: { before?: number; limit: number }): Promise<ChatMessage[]> {
    const { rows } = await this.db.query(
      `SELECT * FROM messages
       WHERE LEAST(sender_id, recipient_id) = LEAST($1::bigint, $2::bigint)
         AND GREATEST(sender_id, recipient_id) = GREATEST($1::bigint, $2::bigint)
         AND ($3::bigint IS NULL OR id < $3)
       ORDER BY id DESC LIMIT $4`,
      [userId, peerId, options.before ?? null, options.limit],
    );
    return rows.map(toMessage).reverse();
  }

  /** The most recent messages to or from the user (any peer), oldest first. */
  async recentMessages(userId: number, limit: number): Promise<ChatMessage[]> {
    const { rows } = await this.db.query("SELECT * FROM messages WHERE sender_id = $1 OR recipient_id = $1 ORDER BY id DESC LIMIT $2", [userId, limit]);
    return rows.map(toMessage).reverse();
  }

  async markRead(userId: number, peerId: number, upToMessageId: number): Promise<number> {
    const { rows } = await this.db.query(
      `UPDATE messages SET read_at = clock_timestamp()
       WHERE recipient_id = $1 AND sender_id = $2 AND id <= $3 AND read_at IS NULL RETURNING id`,
      [userId, peerId, upToMessageId],
    );
    return rows.length;
  }

  async unreadCount(userId: number): Promise<number> {
    return (await this.unreadCounts([userId])).get(userId) ?? 0;
  }

  async conversations(userId: number): Promise<Conversation[]> {
    const { rows } = await this.db.query(
      `SELECT u.id AS peer_id, u.display_name AS peer_name,
              (SELECT count(*)::int FROM messages m
                 WHERE m.recipient_id = $1 AND m.sender_id = u.id AND m.read_at IS NULL) AS unread,
              last.*
       FROM users u
       LEFT JOIN LATERAL (
         SELECT m.id, m.sender_id, m.recipient_id, m.body, m.client_msg_id, m.created_at, m.read_at FROM messages m
         WHERE LEAST(m.sender_id, m.recipient_id) = LEAST($1::bigint, u.id)
           AND GREATEST(m.sender_id, m.recipient_id) = GREATEST($1::bigint, u.id)
         ORDER BY m.id DESC LIMIT 1
       ) last ON TRUE
       WHERE u.id <> $1 AND u.is_active
       ORDER BY last.id DESC NULLS LAST, u.id
       LIMIT 200`,
      [userId],
    );
    return rows.map((row) => ({
      peerId: Number(row.peer_id),
      peerName: String(row.peer_name),
      unread: Number(row.unread),
      lastMessage: row.id === null || row.id === undefined ? null : toMessage(row),
    }));
  }

  // ---- refresh tokens ----------------------------------------------------------------------

  async insertRefreshToken(tokenHash: string, familyId: string, userId: number, expiresAt: Date): Promise<void> {
    await this.db.query("INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at) VALUES ($1, $2, $3, $4)", [
      tokenHash,
      familyId,
      userId,
      expiresAt.toISOString(),
    ]);
  }

  /**
   * Mark a refresh token used, atomically. Returns the row when this call used it; otherwise the
   * row as it is (already used, revoked or expired) or null when it never existed. `successorSealed`
   * is stored in the same statement, for a reuse within the reuse interval.
   */
  async consumeRefreshToken(tokenHash: string, successorSealed: string | null = null): Promise<{ consumed: boolean; row: RefreshTokenRow | null }> {
    const { rows } = await this.db.query<RefreshTokenRow>(
      `UPDATE refresh_tokens SET used_at = clock_timestamp(), successor_sealed = $2
       WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > clock_timestamp()
       RETURNING *`,
      [tokenHash, successorSealed],
    );
    if (rows[0]) return { consumed: true, row: { ...rows[0], user_id: Number(rows[0].user_id) } };
    const existing = await this.db.query<RefreshTokenRow>("SELECT * FROM refresh_tokens WHERE token_hash = $1", [tokenHash]);
    return { consumed: false, row: existing.rows[0] ?? null };
  }

  async revokeRefreshFamily(familyId: string): Promise<void> {
    await this.db.query("UPDATE refresh_tokens SET revoked_at = clock_timestamp() WHERE family_id = $1 AND revoked_at IS NULL", [familyId]);
  }

  /** Whether any token of the family was revoked (the family is then over). */
  async refreshFamilyRevoked(familyId: string): Promise<boolean> {
    const { rows } = await this.db.query("SELECT 1 FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NOT NULL LIMIT 1", [familyId]);
    return rows.length > 0;
  }

  /**
   * Revoke every live refresh token of the user; returns their families (sessions). A family
   * whose tokens all expired has no access token left either (refresh TTL ≥ access TTL).
   */
  async revokeUserRefreshFamilies(userId: number): Promise<string[]> {
    const { rows } = await this.db.query<{ family_id: string }>(
      `UPDATE refresh_tokens SET revoked_at = clock_timestamp()
       WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > clock_timestamp()
       RETURNING family_id`,
      [userId],
    );
    return [...new Set(rows.map((row) => row.family_id))];
  }
}
