import {
  REFRESH_COOKIE_PATH,
  RETRY_AFTER_HEADER,
  RefreshTransport,
  RestErrorCode,
  RestPath,
  type LoginRequest,
  type LoginResponse,
} from "../protocol/index.js";
import type { RefreshOutcome } from "./connection.js";
import type { AuthTokens, TokenKeeper } from "./token-keeper.js";

/** A REST failure with the server's `{error:{code,message}}` when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** From the response's `Retry-After` (seconds or an HTTP date), when it had one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** `Retry-After` in milliseconds from `now`: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // All three HTTP-date forms start with a day name; Date.parse alone would take "1.5" as a date.
  const at = /^[A-Za-z]{3}/.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface ApiResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

export interface ApiRequest {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** `cache: "no-store"` — used when a `profile` event says the cached copy is stale. */
  bypassCache?: boolean;
}

export interface ApiDeps {
  fetch: typeof fetch;
  serverUrl: string;
  tokens: TokenKeeper;
  /**
   * Cookie transport only: whether a refresh cookie may exist (someone signed in and did not sign
   * out). A new leader then refreshes before its first request; a visitor who never signed in
   * makes no request.
   */
  mayHaveSession?: () => boolean;
  /** The refresh token was refused; the user must sign in again. */
  onAuthLost: () => void;
  /** A request was refused with `session_ended` (logged out elsewhere); the tokens are already forgotten. @default onAuthLost */
  onSessionEnded?: () => void;
}

/**
 * A hub's REST client. An expired access token is refreshed once, single-flight, because refresh
 * tokens rotate and two concurrent refreshes with the same token would revoke the family.
 */
export class Api {
  readonly #deps: ApiDeps;
  readonly #serverUrl: string;
  #refreshing: Promise<RefreshOutcome> | null = null;
  /** Cookie transport: the server refused the cookie; no refresh is tried again before a sign-in. */
  #cookieRefused = false;

  constructor(deps: ApiDeps) {
    this.#deps = deps;
    this.#serverUrl = deps.serverUrl.replace(/\/+$/, "");
  }

  get serverUrl(): string {
    return this.#serverUrl;
  }

  get #cookie(): boolean {
    return this.#deps.tokens.refreshTransport === RefreshTransport.cookie;
  }

  /** The current tokens; with the cookie transport an empty memory is filled by one refresh. */
  async tokens(): Promise<AuthTokens | null> {
    const tokens = await this.#deps.tokens.load();
    if (tokens || !this.#cookie || this.#cookieRefused || !(this.#deps.mayHaveSession?.() ?? false)) return tokens;
    if ((await this.refresh()) !== "refreshed") return null;
    return this.#deps.tokens.load();
  }

  async login(username: string, password: string): Promise<AuthTokens> {
    const body: LoginRequest = this.#cookie ? { username, password, refreshTransport: RefreshTransport.cookie } : { username, password };
    const response = await this.#send<LoginResponse>(RestPath.login, { method: "POST", body }, null);
    const tokens: AuthTokens = { accessToken: response.body.accessToken, refreshToken: response.body.refreshToken, user: response.body.user };
    await this.#deps.tokens.save(tokens);
    this.#cookieRefused = false;
    return tokens;
  }

  /** Drop the stored tokens without telling the server (it ended the session itself). */
  async forget(): Promise<void> {
    await this.#deps.tokens.clear();
  }

  async logout(): Promise<void> {
    const tokens = await this.#deps.tokens.load();
    await this.#deps.tokens.clear();
    if (this.#cookie) {
      // The server revokes the cookie's token and clears the cookie.
      await this.#send(RestPath.logout, { method: "POST", body: {} }, null).catch(() => undefined);
      return;
    }
    if (!tokens?.refreshToken) return;
    await this.#send(RestPath.logout, { method: "POST", body: { refreshToken: tokens.refreshToken } }, null).catch(() => undefined);
  }

  /** Rotate the refresh token. Concurrent callers share one request. */
  refresh(): Promise<RefreshOutcome> {
    this.#refreshing ??= this.#refresh().finally(() => (this.#refreshing = null));
    return this.#refreshing;
  }

  /** An authenticated request; on `token_expired` refresh once and retry. */
  async request<T>(path: string, request: ApiRequest = {}): Promise<ApiResponse<T>> {
    const tokens = await this.tokens();
    if (!tokens) throw new ApiError(401, RestErrorCode.unauthorized, "Not signed in: sign in to Switchboard first.");
    try {
      return await this.#send<T>(path, request, tokens.accessToken);
    } catch (error) {
      if (error instanceof ApiError && error.code === RestErrorCode.sessionEnded) {
        await this.forget();
        (this.#deps.onSessionEnded ?? this.#deps.onAuthLost)();
        throw error;
      }
      if (!(error instanceof ApiError) || error.code !== RestErrorCode.tokenExpired) throw error;
      if ((await this.refresh()) !== "refreshed") throw error;
      const fresh = await this.#deps.tokens.load();
      return this.#send<T>(path, request, fresh?.accessToken ?? null);
    }
  }

  async #refresh(): Promise<RefreshOutcome> {
    const stored = await this.#deps.tokens.load();
    if (!this.#cookie && !stored?.refreshToken) return "login";
    try {
      const body = this.#cookie ? {} : { refreshToken: stored?.refreshToken };
      const response = await this.#send<LoginResponse>(RestPath.refresh, { method: "POST", body }, null);
      const next = response.body;
      const user = next.user ?? stored?.user;
      if (!user) return "login";
      await this.#deps.tokens.save({ accessToken: next.accessToken, refreshToken: next.refreshToken, user });
      return "refreshed";
    } catch (error) {
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
        this.#cookieRefused = this.#cookie;
        await this.#deps.tokens.clear();
        this.#deps.onAuthLost();
        return "login";
      }
      return "retry";
    }
  }

  async #send<T>(path: string, request: ApiRequest, accessToken: string | null): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...request.headers };
    if (request.body !== undefined) headers["content-type"] = "application/json";
    if (accessToken) headers.authorization = `Bearer ${accessToken}`;
    const response = await this.#deps.fetch(this.#serverUrl + path, {
      method: request.method ?? "GET",
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      cache: request.bypassCache ? "no-store" : "default",
      // The refresh cookie is scoped to the auth routes; `include` also covers a server on another origin.
      ...(this.#cookie && path.startsWith(`${REFRESH_COOKIE_PATH}/`) ? { credentials: "include" as const } : {}),
    });
    const text = response.status === 204 || response.status === 304 ? "" : await response.text();
    const body = text ? (JSON.parse(text) as unknown) : null;
    if (!response.ok && response.status !== 304) {
      const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
      throw new ApiError(
        response.status,
        error?.code ?? `http_${response.status}`,
        error?.message ?? `${request.method ?? "GET"} ${path} failed with ${response.status}`,
        parseRetryAfter(response.headers.get(RETRY_AFTER_HEADER), Date.now()),
      );
    }
    return { status: response.status, body: body as T, headers: response.headers };
  }
}
