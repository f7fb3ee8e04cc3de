import type { ChatMessage } from "./frames.js";

/**
 * The whole REST contract: every path, error code, request and response body the server and the
 * clients exchange. The server's routes (`server/src/http/routes/`), the hub and the tests all
 * import it from here; nothing else spells a path. See `docs/protocol.md#rest`.
 */

/** Every REST path starts with this; anything under it answers JSON (an unknown one a JSON 404). */
export const REST_API_PREFIX = "/api";

/** Express route patterns of the paths that carry a parameter (`RestPath` builds the concrete ones). */
export const RestRoute = {
  adminRole: "/api/admin/users/:id/role",
} as const;

export const RestPath = {
  login: "/api/auth/login",
  refresh: "/api/auth/refresh",
  logout: "/api/auth/logout",
  /** Revoke every session of the caller (authenticated by the access token) and close all their sockets. */
  logoutAll: "/api/auth/logout-all",
  profileMe: "/api/users/profile/me",
  unreadCount: "/api/users/messages/unread/count",
  messages: "/api/messages",
  messagesRead: "/api/messages/read",
  conversations: "/api/messages/conversations",
  adminRole: (userId: number | string) => RestRoute.adminRole.replace(":id", encodeURIComponent(String(userId))),
  users: "/api/users",
  metrics: "/metrics",
  healthz: "/healthz",
  readyz: "/readyz",
} as const;

/** Response header on every HTTP answer naming the request, so a user's report can be matched with the server's log line. */
export const REQUEST_ID_HEADER = "X-Request-Id";

/** Response header of a `429 rate_limited`: seconds until the next attempt may succeed (RFC 9110 §10.2.3). */
export const RETRY_AFTER_HEADER = "Retry-After";

export const RestErrorCode = {
  badRequest: "bad_request",
  invalidBody: "invalid_body",
  payloadTooLarge: "payload_too_large",
  unauthorized: "unauthorized",
  tokenExpired: "token_expired",
  invalidCredentials: "invalid_credentials",
  refreshReused: "refresh_token_reused",
  refreshInvalid: "refresh_token_invalid",
  /** The access token's session was logged out (logout, "log out everywhere", or a reused refresh token). */
  sessionEnded: "session_ended",
  forbidden: "forbidden",
  notFound: "not_found",
  conflict: "conflict",
  rateLimited: "rate_limited",
  internal: "internal",
  unavailable: "unavailable",
} as const;
export type RestErrorCode = (typeof RestErrorCode)[keyof typeof RestErrorCode];

export interface RestError {
  /** `requestId` (on `500 internal`): the id in the `X-Request-Id` header and in the server's log line. */
  error: { code: RestErrorCode; message: string; requestId?: string };
}

/** The profile a user sees of themself (`GET /api/users/profile/me`). */
export interface Profile {
  id: number;
  username: string;
  displayName: string;
  email: string;
  phone: string | null;
  avatarUrl: string | null;
  bio: string;
  role: string;
  permissions: string[];
  updatedAt: string;
}

/** The body of `PATCH /api/users/profile/me`: only the fields to change. */
export interface ProfilePatch {
  displayName?: string;
  bio?: string;
  avatarUrl?: string | null;
  phone?: string | null;
  email?: string;
}

/** `POST /api/auth/login`. `refreshTransport` defaults to `body`. */
export interface LoginRequest {
  username: string;
  password: string;
  refreshTransport?: RefreshTransport;
}

/** `POST /api/auth/refresh` and `POST /api/auth/logout`; with the cookie transport the body is `{}`. */
export interface RefreshRequest {
  refreshToken?: string;
}

/** `POST /api/auth/login` and `POST /api/auth/refresh`. */
export interface LoginResponse {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: { id: number; username: string; displayName: string; role: string };
}

/** One person the user can chat with (`GET /api/users`). */
export interface DirectoryUser {
  id: number;
  username: string;
  displayName: string;
}

/** `GET /api/users`. */
export interface UsersResponse {
  users: DirectoryUser[];
}

/** One row of the conversation list: a person to chat with and what is unread from them. */
export interface Conversation {
  peerId: number;
  peerName: string;
  lastMessage: ChatMessage | null;
  unread: number;
}

/** `GET /api/messages/conversations`. */
export interface ConversationsResponse {
  conversations: Conversation[];
}

/** `GET /api/messages?peerId=&limit=&before=`: oldest first. */
export interface MessagesQuery {
  peerId: number;
  limit?: number;
  before?: number;
}

/** `GET /api/messages`. */
export interface MessagesResponse {
  messages: ChatMessage[];
}

/** `POST /api/messages`. */
export interface SendMessageRequest {
  to: number;
  body: string;
  clientMsgId?: string | null;
}

/** `POST /api/messages`: `201` the first time, `200` with the same message for a repeated `clientMsgId`. */
export interface SendMessageResponse {
  message: ChatMessage;
}

/** `POST /api/messages/read`. */
export interface ReadRequest {
  peerId: number;
  upToMessageId: number;
}

/** `GET /api/users/messages/unread/count` and `POST /api/messages/read`. */
export interface UnreadCountResponse {
  unread_count: number;
}

/** `PUT /api/admin/users/{id}/role`. */
export interface RoleRequest {
  role: string;
  permissions?: string[];
}

/** `PUT /api/admin/users/{id}/role`. */
export interface RoleResponse {
  id: number;
  role: string;
  permissions: string[];
}

/** `GET /readyz`: `200` when every check is true, `503` otherwise. */
export interface ReadinessResponse {
  status: "ready" | "not ready";
  checks: Record<string, boolean>;
}

/**
 * How the refresh token travels. `body`: in the JSON of login/refresh/logout (the extension,
 * whose storage page script cannot read). `cookie`: an `HttpOnly` cookie the server sets on
 * login and refresh and reads on refresh and logout, so page script never holds it (the web app
 * without the extension); the response body then carries no `refreshToken`.
 */
export const RefreshTransport = {
  body: "body",
  cookie: "cookie",
} as const;
export type RefreshTransport = (typeof RefreshTransport)[keyof typeof RefreshTransport];

/** The refresh cookie: `HttpOnly; SameSite=Strict; Path=REFRESH_COOKIE_PATH`, `Secure` except on localhost. */
export const REFRESH_COOKIE_NAME = "switchboard_refresh";
/** Sent only to the auth routes (refresh, logout), never with any other request. */
export const REFRESH_COOKIE_PATH = "/api/auth";

/** A login or refresh answered with the cookie transport: the refresh token is in the cookie only. */
export type CookieSessionResponse = Omit<LoginResponse, "refreshToken">;
