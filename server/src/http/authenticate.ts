import type { NextFunction, Request, RequestHandler, Response } from "express";
import { RestErrorCode, RestPath } from "../../../shared/protocol/index.js";
import type { TokenService } from "../auth/tokens.js";
import { HttpError } from "./errors.js";

/** Who is calling, from a verified access token. */
export interface Principal {
  userId: number;
  role: string;
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
    if (!verdict.ok) {
      return next(
        verdict.reason === "expired"
          ? new HttpError(401, RestErrorCode.tokenExpired, `Access token expired; refresh it at ${RestPath.refresh}`)
          : new HttpError(401, RestErrorCode.unauthorized, "Access token invalid; log in again"),
      );
    }
    req.principal = verdict.claims;
    next();
  };
}

/** The principal of a request that passed `authenticate`. */
export function principal(req: Request): Principal {
  if (!req.principal) throw new Error("principal() called on a route without authenticate()");
  return req.principal;
}
