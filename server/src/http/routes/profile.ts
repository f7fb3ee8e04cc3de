import { type RequestHandler, Router } from "express";
import { RestErrorCode, RestPath, type UsersResponse } from "../../../../shared/protocol/index.js";
import type { TokenService } from "../../auth/tokens.js";
import type { Metrics } from "../../metrics.js";
import { renderProfile, type ProfileService } from "../../services/profile-service.js";
import type { Store } from "../../store/store.js";
import { authenticate, principal } from "../authenticate.js";
import { sendError } from "../errors.js";
import { ProfilePatchBody, parse } from "../validate.js";

export interface ProfileRouteDeps {
  store: Store;
  tokens: TokenService;
  profiles: ProfileService;
  metrics: Pick<Metrics, "profileRequests">;
  /** The app's JSON body parser: these routes are mounted before it (`app.ts`). */
  jsonBody: RequestHandler;
}

/** Profile responses: private (per user), cached by the browser for 5 min, keyed by credentials. */
const PROFILE_CACHE_CONTROL = "private, max-age=300";
const PROFILE_VARY = "Authorization, Cookie";

/** The caller's profile (strong ETag, 304) and the people they can chat with. */
export function profileRoutes({ store, tokens, profiles, metrics, jsonBody }: ProfileRouteDeps): Router {
  const router = Router();
  const signedIn = authenticate(tokens);

  router.get(RestPath.users, signedIn, async (_req, res) => {
    const body: UsersResponse = { users: await store.listUsers() };
    res.json(body);
  });

  router.get(RestPath.profileMe, signedIn, async (req, res) => {
    const { userId } = principal(req);
    // The conditional refresh: answered from the ETag this instance knows is current, if any.
    if (req.headers["if-none-match"]) {
      const known = await profiles.knownEtag(userId);
      if (known) {
        res.set({ ETag: known, "Cache-Control": PROFILE_CACHE_CONTROL, Vary: PROFILE_VARY });
        // `fresh` (through `req.fresh`) compares If-None-Match with the ETag just set.
        if (req.fresh) {
          res.status(304).end();
          metrics.profileRequests.inc({ result: "304" });
          return;
        }
      }
    }
    const rendered = await profiles.render(userId);
    if (!rendered) return sendError(res, 404, RestErrorCode.notFound, "User no longer exists");
    res.set({ ETag: rendered.etag, "Cache-Control": PROFILE_CACHE_CONTROL, Vary: PROFILE_VARY });
    // `res.send` keeps our ETag and, when `req.fresh` (If-None-Match matches), answers 304 with no body.
    res.type("application/json").send(rendered.body);
    metrics.profileRequests.inc({ result: res.statusCode === 200 || res.statusCode === 304 ? String(res.statusCode) : "other" });
  });

  router.patch(RestPath.profileMe, jsonBody, signedIn, async (req, res) => {
    const patch = parse(ProfilePatchBody, req.body);
    const profile = await profiles.update(principal(req).userId, patch);
    if (!profile) return sendError(res, 404, RestErrorCode.notFound, "User no longer exists");
    const { body, etag } = renderProfile(profile);
    res.set({ ETag: etag, "Cache-Control": "no-store", Vary: PROFILE_VARY }).type("application/json").send(body);
  });

  return router;
}
