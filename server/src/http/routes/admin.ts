import { Router, type RequestHandler } from "express";
import { RestErrorCode, RestRoute, type RoleResponse } from "../../../../shared/protocol/index.js";
import type { TokenService } from "../../auth/tokens.js";
import type { ProfileService } from "../../services/profile-service.js";
import type { Store } from "../../store/store.js";
import { authenticate, principal } from "../authenticate.js";
import { sendError } from "../errors.js";
import { IdParam, RoleBody, parse } from "../validate.js";

export interface AdminRouteDeps {
  store: Store;
  tokens: TokenService;
  profiles: ProfileService;
}

const ADMIN_ROLE = "admin";

/**
 * The caller must be an active admin *now*: the role is read from the database on every admin
 * request, never from the token's claim, so a demotion takes effect at once (not when the
 * caller's access token expires). Admin routes are rare; one primary-key read each is cheap.
 */
function currentAdmin(store: Store): RequestHandler {
  return async (req, res, next) => {
    const caller = await store.findUserById(principal(req).userId);
    if (!caller || !caller.is_active || caller.role !== ADMIN_ROLE) return sendError(res, 403, RestErrorCode.forbidden, "Only an admin can change roles");
    next();
  };
}

/** Role changes, for admins only; each pushes a `profile` event to the changed user. */
export function adminRoutes({ store, tokens, profiles }: AdminRouteDeps): Router {
  const router = Router();

  router.put(RestRoute.adminRole, authenticate(tokens), currentAdmin(store), async (req, res) => {
    const id = parse(IdParam, req.params.id);
    const body = parse(RoleBody, req.body);
    const profile = await profiles.setRole(id, body.role, body.permissions);
    if (!profile) return sendError(res, 404, RestErrorCode.notFound, `No user with id ${id}`);
    const response: RoleResponse = { id: profile.id, role: profile.role, permissions: profile.permissions };
    res.json(response);
  });

  return router;
}
