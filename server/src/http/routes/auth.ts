import { type Request, type Response, Router } from "express";
import {
  RETRY_AFTER_HEADER,
  RefreshTransport,
  RestErrorCode,
  RestPath,
  type CookieSessionResponse,
  type LoginResponse,
} from "../../../../shared/protocol/index.js";
import { PasswordHashingBusyError, type PasswordHashing } from "../../auth/password-hashing.js";
import { assertCookieOrigin, clearRefreshCookie, readRefreshCookie, setRefreshCookie, type RefreshCookieOptions } from "../../auth/refresh-cookie.js";
import type { StartedSession, TokenService } from "../../auth/tokens.js";
import type { Logger } from "../../log/logger.js";
import type { Metrics } from "../../metrics.js";
import type { PublicUser, Store } from "../../store/store.js";
import { sendError } from "../errors.js";
import { usernameKey, type LoginLimiter } from "../login-limiter.js";
import { LoginBody, RefreshBody, parse } from "../validate.js";

export interface AuthRouteDeps {
  store: Store;
  tokens: TokenService;
  logger: Logger;
  loginLimiter: LoginLimiter;
  passwordHashing: PasswordHashing;
  metrics: Pick<Metrics, "loginRateLimited">;
  /** The cookie transport of the refresh token (the web app without the extension). */
  refreshCookie: RefreshCookieOptions;
}

/** Login, refresh-token rotation and logout. */
export function authRoutes({ store, tokens, logger, loginLimiter, passwordHashing, metrics, refreshCookie }: AuthRouteDeps): Router {
  const router = Router();

  /** With the cookie transport the refresh token goes into the cookie and out of the body. */
  function answer(req: Request, res: Response, session: LoginResponse, cookie: boolean): void {
    if (!cookie) return void res.json(session);
    setRefreshCookie(req, res, session.refreshToken, refreshCookie);
    const { refreshToken: _inCookie, ...body } = session;
    res.json(body satisfies CookieSessionResponse);
  }

  /** A login starts a session; a refresh passes the rotated one on (its access token names the same session). */
  async function issueSession(user: Pick<PublicUser, "id" | "username" | "display_name" | "role">, rotated?: StartedSession): Promise<LoginResponse> {
    const session = rotated ?? (await tokens.startSession(user.id));
    return {
      accessToken: await tokens.issueAccess({ userId: user.id, role: user.role, sessionId: session.sessionId }),
      refreshToken: session.refreshToken,
      expiresIn: tokens.accessTtlS,
      user: { id: user.id, username: user.username, displayName: user.display_name, role: user.role },
    };
  }

  router.post(RestPath.login, async (req, res) => {
    const body = parse(LoginBody, req.body);
    // `req.ip` honours `trust proxy`: the client's address behind a trusted proxy, else the peer's.
    const ip = req.ip ?? req.socket.remoteAddress ?? "unknown";
    // Log a hash, never the username: people type passwords into the username field.
    const usernameHash = usernameKey(body.username);
    const verdict = await loginLimiter.check(ip, body.username);
    if (!verdict.allowed) {
      metrics.loginRateLimited.inc({ scope: verdict.scope });
      // debug: an attacker who keeps trying would otherwise write a line per attempt (the counter has them all).
      logger.debug({ usernameHash, scope: verdict.scope, retryAfterS: verdict.retryAfterS }, "login refused: too many failed attempts");
      res.setHeader(RETRY_AFTER_HEADER, String(verdict.retryAfterS));
      return sendError(res, 429, RestErrorCode.rateLimited, `Too many failed logins; try again in ${verdict.retryAfterS} s`);
    }
    const user = await store.findUserByUsername(body.username);
    let ok: boolean;
    try {
      // Verify against a dummy hash when the user is unknown, so timing does not reveal usernames.
      ok = user ? await passwordHashing.verify(body.password, user.password_hash) : (await passwordHashing.verify(body.password, DUMMY_HASH), false);
    } catch (error) {
      if (!(error instanceof PasswordHashingBusyError)) throw error;
      res.setHeader(RETRY_AFTER_HEADER, "1");
      return sendError(res, 503, RestErrorCode.unavailable, "The server is busy checking other logins; try again in a moment");
    }
    if (!user || !ok || !user.is_active) {
      await loginLimiter.recordFailure(ip, body.username);
      logger.info({ usernameHash }, "login failed");
      return sendError(res, 401, RestErrorCode.invalidCredentials, "Wrong username or password");
    }
    await loginLimiter.recordSuccess(ip, body.username);
    const cookie = body.refreshTransport === RefreshTransport.cookie;
    if (cookie) assertCookieOrigin(req, refreshCookie);
    answer(req, res, await issueSession(user), cookie);
  });

  router.post(RestPath.refresh, async (req, res) => {
    const body = parse(RefreshBody, req.body ?? {});
    // No token in the body: the cookie transport (checked for its origin, as a cookie rides along by itself).
    const cookie = body.refreshToken === undefined;
    if (cookie) assertCookieOrigin(req, refreshCookie);
    const token = body.refreshToken ?? readRefreshCookie(req);
    if (token === undefined)
      return sendError(res, 401, RestErrorCode.refreshInvalid, "No refresh token (neither in the body nor as the session cookie); log in again");
    const result = await tokens.rotateRefresh(token);
    if (!result.ok) {
      if (cookie) clearRefreshCookie(req, res);
      return result.reason === "reused"
        ? sendError(res, 401, RestErrorCode.refreshReused, "Refresh token was already used; all sessions of this login were revoked. Log in again.")
        : sendError(res, 401, RestErrorCode.refreshInvalid, "Refresh token is invalid or expired; log in again");
    }
    const user = await store.findUserById(result.userId);
    if (!user || !user.is_active) return sendError(res, 401, RestErrorCode.refreshInvalid, "Account is not active; log in again");
    answer(req, res, await issueSession(user, result), cookie);
  });

  // Ends the session: its refresh tokens, its access tokens (at once, on every instance) and its sockets.
  router.post(RestPath.logout, async (req, res) => {
    const body = parse(RefreshBody, req.body ?? {});
    if (body.refreshToken === undefined) {
      assertCookieOrigin(req, refreshCookie);
      const token = readRefreshCookie(req);
      if (token !== undefined) await tokens.revokeRefresh(token);
      clearRefreshCookie(req, res);
    } else {
      await tokens.revokeRefresh(body.refreshToken);
    }
    res.status(204).end();
  });

  return router;
}

// scrypt hash of a random string, used only to spend the same time on unknown usernames.
const DUMMY_HASH = "scrypt$32768$8$1$c3dpdGNoYm9hcmQtZHVtbXk=$3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
