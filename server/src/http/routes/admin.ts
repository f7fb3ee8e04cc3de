import { Router } from "express";
import { RestErrorCode, RestRoute, type RoleResponse } from "../../../../shared/protocol/index.js";
import type { TokenService } from "../../auth/tokens.js";
import type { ProfileService } from "../../services/profile-service.js";
import { authenticate, principal } from "../authenticate.js";
import { sendError } from "../errors.js";
import { IdParam, RoleBody, parse } from "../validate.js";

export interface AdminRouteDeps {
  tokens: TokenService;
  profiles: ProfileService;
}

const ADMIN_ROLE = "admin";

/** Role changes, for admins only; each pushes a `profile` event to the changed user. */
export function adminRoutes({ tokens, profiles }: AdminRouteDeps): Router {
  const router = Router();

  router.put(RestRoute.adminRole, authenticate(tokens), async (req, res) => {
    if (principal(req).role !== ADMIN_ROLE) return sendError(res, 403, RestErrorCode.forbidden, "Only an admin can change roles");
    const id = parse(IdParam, req.params.id);
    const body = parse(RoleBody, req.body);
    const profile = await profiles.setRole(id, body.role, body.permissions);
    if (!profile) return sendError(res, 404, RestErrorCode.notFound, `No user with id ${id}`);
    const response: RoleResponse = { id: profile.id, role: profile.role, permissions: profile.permissions };
    res.json(response);
  });

  return router;
}
