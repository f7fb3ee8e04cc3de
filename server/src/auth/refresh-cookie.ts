import { parseCookie } from "cookie";
import type { Request, Response } from "express";
import { REFRESH_COOKIE_NAME, REFRESH_COOKIE_PATH, RestErrorCode } from "../../../shared/protocol/index.js";
import { HttpError } from "../http/errors.js";

/**
 * The refresh token as a cookie, for the web app without the extension (`RefreshTransport.cookie`):
 * `HttpOnly` (page script never reads it), `SameSite=Strict` and scoped to the auth routes (no
 * other request carries it), `Secure` except on a loopback host (a developer's http://localhost).
 * A cookie is sent by the browser on its own, so every request it authenticates must come from an
 * allowed `Origin` (CSRF): browsers always send `Origin` on a cross- or same-origin POST.
 */
export interface RefreshCookieOptions {
  allowedOrigins: readonly string[];
  /** Cookie lifetime: the refresh token's. */
  maxAgeS: number;
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

export function readRefreshCookie(req: Request): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  return parseCookie(header)[REFRESH_COOKIE_NAME];
}

export function setRefreshCookie(req: Request, res: Response, token: string, options: RefreshCookieOptions): void {
  res.cookie(REFRESH_COOKIE_NAME, token, {
    httpOnly: true,
    sameSite: "strict",
    secure: req.secure || !LOOPBACK_HOSTS.has(req.hostname),
    path: REFRESH_COOKIE_PATH,
    maxAge: options.maxAgeS * 1000,
  });
}

export function clearRefreshCookie(req: Request, res: Response): void {
  res.clearCookie(REFRESH_COOKIE_NAME, {
    httpOnly: true,
    sameSite: "strict",
    secure: req.secure || !LOOPBACK_HOSTS.has(req.hostname),
    path: REFRESH_COOKIE_PATH,
  });
}

/** A request the cookie authenticates must name an allowed origin; anything else is a 403, never a refresh. */
export function assertCookieOrigin(req: Request, options: RefreshCookieOptions): void {
  const origin = req.headers.origin;
  if (origin && options.allowedOrigins.includes(origin)) return;
  throw new HttpError(403, RestErrorCode.forbidden, "A refresh with the session cookie must come from an allowed page (Origin header); this one did not.");
}
