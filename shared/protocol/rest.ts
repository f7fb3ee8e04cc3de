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
