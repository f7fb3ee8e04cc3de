import type { ChatMessage, ProfilePatch } from "../../../shared/protocol/index.js";

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

export interface Conversation {
  peerId: number;
  peerName: string;
  lastMessage: ChatMessage | null;
  unread: number;
}

export interface RefreshTokenRow {
  token_hash: string;
  family_id: string;
  user_id: number;
  expires_at: string;
  used_at: string | null;
  revoked_at: string | null;
}

const USER_COLUMNS =
  "id, username, display_name, email, phone, avatar_url, bio, role, permissions, user_level, is_active, created_at, updated_at";

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
  constructor(readonly db: Db) {}

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

  async listUsers(): Promise<Array<{ id: number; username: string; displayName: string }>> {
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

  /** Insert a message; the same (sender, clientMsgId) returns the first one (`created: false`). */
  async sendMessage(from: number, to: number, body: string, clientMsgId: string | null): Promise<{ message: ChatMessage; created: boolean }> {
    const { rows } = await this.db.query(
      `INSERT INTO messages (sender_id, recipient_id, body, client_msg_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL DO NOTHING
       RETURNING *`,
      [from, to, body, clientMsgId],
    );
    if (rows[0]) return { message: toMessage(rows[0]), created: true };
    const existing = await this.db.query("SELECT * FROM messages WHERE sender_id = $1 AND client_msg_id = $2", [from, clientMsgId]);
    if (!existing.rows[0]) throw new Error("idempotent insert found no row");
    return { message: toMessage(existing.rows[0]), created: false };
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
    const { rows } = await this.db.query(
      "SELECT * FROM messages WHERE sender_id = $1 OR recipient_id = $1 ORDER BY id DESC LIMIT $2",
      [userId, limit],
    );
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
    const { rows } = await this.db.query<{ n: number | string }>(
      "SELECT count(*)::int AS n FROM messages WHERE recipient_id = $1 AND read_at IS NULL",
      [userId],
    );
    return Number(rows[0]?.n ?? 0);
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
   * row as it is (already used, revoked or expired) or null when it never existed.
   */
  async consumeRefreshToken(tokenHash: string): Promise<{ consumed: boolean; row: RefreshTokenRow | null }> {
    const { rows } = await this.db.query<RefreshTokenRow>(
      `UPDATE refresh_tokens SET used_at = clock_timestamp()
       WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > clock_timestamp()
       RETURNING *`,
      [tokenHash],
    );
    if (rows[0]) return { consumed: true, row: { ...rows[0], user_id: Number(rows[0].user_id) } };
    const existing = await this.db.query<RefreshTokenRow>("SELECT * FROM refresh_tokens WHERE token_hash = $1", [tokenHash]);
    return { consumed: false, row: existing.rows[0] ?? null };
  }

  async revokeRefreshFamily(familyId: string): Promise<void> {
    await this.db.query("UPDATE refresh_tokens SET revoked_at = clock_timestamp() WHERE family_id = $1 AND revoked_at IS NULL", [familyId]);
  }
}
