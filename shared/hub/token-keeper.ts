import { RefreshTransport } from "../protocol/index.js";
import type { SessionUser } from "../sdk/snapshot.js";
import type { KeyValueArea } from "./key-value-area.js";

export interface AuthTokens {
  accessToken: string;
  /** Absent with the cookie transport: the server keeps it in an `HttpOnly` cookie. */
  refreshToken?: string;
  user: SessionUser;
}

/** Where a hub keeps its tokens, and how its refresh token travels (see `RefreshTransport`). */
export interface TokenKeeper {
  readonly refreshTransport: RefreshTransport;
  load(): Promise<AuthTokens | null>;
  save(tokens: AuthTokens): Promise<void>;
  clear(): Promise<void>;
}

/** Key of the tokens in the extension's `storage.local`. */
export const AUTH_KEY = "auth";

/** The extension: both tokens in `storage.local` (a sign-in survives a browser restart; pages cannot read it). */
export function storedTokens(area: KeyValueArea, key = AUTH_KEY): TokenKeeper {
  return {
    refreshTransport: RefreshTransport.body,
    load: async () => ((await area.get(key)) as AuthTokens | undefined) ?? null,
    save: (tokens) => area.set(key, tokens),
    clear: () => area.remove(key),
  };
}

/**
 * The elected web-app tab: the access token only in this tab's memory, the refresh token in the
 * server's `HttpOnly` cookie. A new leader starts empty and refreshes.
 */
export function memoryTokens(): TokenKeeper {
  let tokens: AuthTokens | null = null;
  return {
    refreshTransport: RefreshTransport.cookie,
    load: async () => tokens,
    save: async (next) => {
      tokens = { accessToken: next.accessToken, user: next.user };
    },
    clear: async () => {
      tokens = null;
    },
  };
}
