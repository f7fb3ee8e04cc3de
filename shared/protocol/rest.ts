/**
 * REST paths and error codes shared by the server and the clients. Contract: DESIGN.md §3.
 */
export const RestPath = {
  login: "/api/auth/login",
  refresh: "/api/auth/refresh",
  logout: "/api/auth/logout",
  profileMe: "/api/users/profile/me",
  unreadCount: "/api/users/messages/unread/count",
  messages: "/api/messages",
  messagesRead: "/api/messages/read",
  adminRole: (userId: number | string) => `/api/admin/users/${userId}/role`,
  users: "/api/users",
} as const;

export const RestErrorCode = {
  badRequest: "bad_request",
  invalidBody: "invalid_body",
  payloadTooLarge: "payload_too_large",
  unauthorized: "unauthorized",
  tokenExpired: "token_expired",
  invalidCredentials: "invalid_credentials",
  refreshReused: "refresh_token_reused",
  refreshInvalid: "refresh_token_invalid",
  forbidden: "forbidden",
  notFound: "not_found",
  conflict: "conflict",
  rateLimited: "rate_limited",
  internal: "internal",
  unavailable: "unavailable",
} as const;
export type RestErrorCode = (typeof RestErrorCode)[keyof typeof RestErrorCode];

export interface RestError {
  error: { code: RestErrorCode; message: string };
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

export interface LoginResponse {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: { id: number; username: string; displayName: string; role: string };
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

/** The body of `POST /api/auth/login`. `refreshTransport` defaults to `body`. */
export interface LoginRequest {
  username: string;
  password: string;
  refreshTransport?: RefreshTransport;
}

/** The refresh cookie: `HttpOnly; SameSite=Strict; Path=REFRESH_COOKIE_PATH`, `Secure` except on localhost. */
export const REFRESH_COOKIE_NAME = "switchboard_refresh";
/** Sent only to the auth routes (refresh, logout), never with any other request. */
export const REFRESH_COOKIE_PATH = "/api/auth";

/** A login or refresh answered with the cookie transport: the refresh token is in the cookie only. */
export type CookieSessionResponse = Omit<LoginResponse, "refreshToken">;
