import { RestErrorCode, RestPath, type LoginResponse } from "../../../shared/protocol/index.js";
import type { SessionUser } from "../../../shared/sdk/snapshot.js";
import type { RefreshOutcome } from "./connection.js";
import type { KeyValueArea } from "./storage.js";

export interface AuthTokens {
  accessToken: string;
  refreshToken: string;
  user: SessionUser;
}

/** A REST failure with the server's `{error:{code,message}}` when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
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

/** `storage.local` key of the tokens. */
export const AUTH_KEY = "auth";

/**
 * The worker's REST client. Tokens live in `storage.local` (a sign-in survives a browser
 * restart); an expired access token is refreshed once, single-flight, because refresh tokens
 * rotate and two concurrent refreshes with the same token would revoke the family.
 */
export class Api {
  readonly #fetch: typeof fetch;
  readonly #serverUrl: string;
  readonly #local: KeyValueArea;
  readonly #onAuthLost: () => void;
  readonly #onSessionEnded: () => void;
  #refreshing: Promise<RefreshOutcome> | null = null;

  /**
   * `onAuthLost`: the refresh token was refused; the user must sign in again.
   * `onSessionEnded`: a request was refused with `session_ended` (logged out elsewhere); the tokens are already forgotten.
   */
  constructor(deps: { fetch: typeof fetch; serverUrl: string; local: KeyValueArea; onAuthLost: () => void; onSessionEnded?: () => void }) {
    this.#fetch = deps.fetch;
    this.#onAuthLost = deps.onAuthLost;
    this.#onSessionEnded = deps.onSessionEnded ?? deps.onAuthLost;
    this.#serverUrl = deps.serverUrl.replace(/\/+$/, "");
    this.#local = deps.local;
  }

  get serverUrl(): string {
    return this.#serverUrl;
  }

  async tokens(): Promise<AuthTokens | null> {
    return ((await this.#local.get(AUTH_KEY)) as AuthTokens | undefined) ?? null;
  }

  async login(username: string, password: string): Promise<AuthTokens> {
    const response = await this.#send<LoginResponse>(RestPath.login, { method: "POST", body: { username, password } }, null);
    const tokens = { accessToken: response.body.accessToken, refreshToken: response.body.refreshToken, user: response.body.user };
    await this.#local.set(AUTH_KEY, tokens);
    return tokens;
  }

  /** Drop the stored tokens without telling the server (it ended the session itself). */
  async forget(): Promise<void> {
    await this.#local.remove(AUTH_KEY);
  }

  async logout(): Promise<void> {
    const tokens = await this.tokens();
    await this.#local.remove(AUTH_KEY);
    if (!tokens) return;
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
    if (!tokens) throw new ApiError(401, RestErrorCode.unauthorized, "Not signed in: sign in from the Switchboard extension.");
    try {
      return await this.#send<T>(path, request, tokens.accessToken);
    } catch (error) {
      if (error instanceof ApiError && error.code === RestErrorCode.sessionEnded) {
        await this.forget();
        this.#onSessionEnded();
        throw error;
      }
      if (!(error instanceof ApiError) || error.code !== RestErrorCode.tokenExpired) throw error;
      if ((await this.refresh()) !== "refreshed") throw error;
      const fresh = await this.tokens();
      return this.#send<T>(path, request, fresh?.accessToken ?? null);
    }
  }

  async #refresh(): Promise<RefreshOutcome> {
    const tokens = await this.tokens();
    if (!tokens) return "login";
    try {
      const response = await this.#send<LoginResponse>(RestPath.refresh, { method: "POST", body: { refreshToken: tokens.refreshToken } }, null);
      const body = response.body;
      await this.#local.set(AUTH_KEY, { accessToken: body.accessToken, refreshToken: body.refreshToken, user: body.user ?? tokens.user });
      return "refreshed";
    } catch (error) {
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
        await this.#local.remove(AUTH_KEY);
        this.#onAuthLost();
        return "login";
      }
      return "retry";
    }
  }

  async #send<T>(path: string, request: ApiRequest, accessToken: string | null): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...request.headers };
    if (request.body !== undefined) headers["content-type"] = "application/json";
    if (accessToken) headers.authorization = `Bearer ${accessToken}`;
    const response = await this.#fetch(this.#serverUrl + path, {
      method: request.method ?? "GET",
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      cache: request.bypassCache ? "no-store" : "default",
    });
    const text = response.status === 204 || response.status === 304 ? "" : await response.text();
    const body = text ? (JSON.parse(text) as unknown) : null;
    if (!response.ok && response.status !== 304) {
      const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
      throw new ApiError(
        response.status,
        error?.code ?? `http_${response.status}`,
        error?.message ?? `${request.method ?? "GET"} ${path} failed with ${response.status}`,
      );
    }
    return { status: response.status, body: body as T, headers: response.headers };
  }
}
