import type { NextFunction, Request, RequestHandler, Response } from "express";
import { RestErrorCode, RestPath } from "../../../shared/protocol/index.js";
import type { TokenService } from "../auth/tokens.js";
import { HttpError } from "./errors.js";

/**
 * Who is calling, from a verified access token of a session that has not ended. No role here on
 * purpose: the token's role claim may be stale (a demotion takes effect at once), so whatever
 * authorises by role reads the current one from the store (`routes/admin.ts`).
 */
export interface Principal {
  userId: number;
  /** The session (refresh-token family) the token belongs to. */
  sessionId: string;
}

declare module "express-serve-static-core" {
  interface Request {
    principal?: Principal;
  }
}

/** `Authorization: Bearer <accessToken>` → `req.principal`, or a 401 that says what to do. */
export function authenticate(tokens: TokenService): RequestHandler {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    const token = header?.startsWith("Bearer ") ? header.slice(7).trim() : null;
    if (!token) return next(new HttpError(401, RestErrorCode.unauthorized, "Missing bearer token: send Authorization: Bearer <accessToken>"));
    const verdict = await tokens.verifyAccess(token);
    if (!verdict.ok) return next(refusal(verdict.reason));
    req.principal = { userId: verdict.claims.userId, sessionId: verdict.claims.sessionId };
    next();
  };
}

function refusal(reason: "expired" | "invalid" | "revoked" | "sessionless"): HttpError {
  switch (reason) {
    case "expired":
      return new HttpError(401, RestErrorCode.tokenExpired, `Access token expired; refresh it at ${RestPath.refresh}`);
    case "sessionless":
      // Issued before tokens named their session: the client's usual refresh gets one that does.
      return new HttpError(401, RestErrorCode.tokenExpired, `Access token predates session ids; refresh it at ${RestPath.refresh}`);
    case "revoked":
      return new HttpError(401, RestErrorCode.sessionEnded, "This session was logged out (here or on another device); log in again");
    case "invalid":
      return new HttpError(401, RestErrorCode.unauthorized, "Access token invalid; log in again");
  }
}

/** The principal of a request that passed `authenticate`. */
export function principal(req: Request): Principal {
  if (!req.principal) throw new Error("principal() called on a route without authenticate()");
  return req.principal;
}
