import { Router } from "express";
import { RestPath } from "../../../../shared/protocol/index.js";
import type { TokenService } from "../../auth/tokens.js";
import { authenticate, principal } from "../authenticate.js";

export interface SessionRouteDeps {
  tokens: TokenService;
}

/**
 * "Log out everywhere": every session of the caller ends — refresh tokens revoked, access tokens
 * refused at once on every instance, sockets closed with `1008 Session ended`. Authenticated by
 * the access token (the caller may have lost the refresh token of a stolen device's session).
 */
export function sessionRoutes({ tokens }: SessionRouteDeps): Router {
  const router = Router();

  router.post(RestPath.logoutAll, authenticate(tokens), async (req, res) => {
    const { userId, sessionId } = principal(req);
    await tokens.endAllSessions(userId, sessionId);
    res.status(204).end();
  });

  return router;
}
