import { existsSync } from "node:fs";
import path from "node:path";
import cors from "cors";
import express, { type NextFunction, type Request, type Response } from "express";
import { RestErrorCode, RestPath, type LoginResponse } from "../../../shared/protocol/index.js";
import { verifyPassword } from "../auth/passwords.js";
import type { TokenService } from "../auth/tokens.js";
import type { Logger } from "../log/logger.js";
import type { Metrics } from "../metrics.js";
import { MessageService, RecipientNotFoundError } from "../services/message-service.js";
import { renderProfile, type ProfileService } from "../services/profile-service.js";
import type { PublicUser, Store } from "../store/store.js";
import { HttpError, errorHandler, sendError } from "./errors.js";
import {
  IdParam,
  ListMessagesQuery,
  LoginBody,
  ProfilePatchBody,
  ReadBody,
  RefreshBody,
  RoleBody,
  SendMessageBody,
  parse,
} from "./validate.js";

export interface AppDeps {
  store: Store;
  tokens: TokenService;
  profiles: ProfileService;
  messages: MessageService;
  metrics: Metrics;
  logger: Logger;
  allowedOrigins: readonly string[];
  maxBodyBytes: number;
  webAppDir?: string;
  /** Redis and database reachability for `/readyz`. */
  readiness: () => Promise<Record<string, boolean>>;
}

interface Principal {
  userId: number;
  role: string;
}

declare module "express-serve-static-core" {
  interface Request {
    principal?: Principal;
  }
}

/** Profile responses: private (per user), cached by the browser for 5 min, keyed by credentials. */
const PROFILE_CACHE_CONTROL = "private, max-age=300";
const PROFILE_VARY = "Authorization, Cookie";
const ADMIN_ROLE = "admin";

export function createApp(deps: AppDeps): express.Express {
  const { store, tokens, profiles, messages, metrics, logger } = deps;
  const app = express();
  app.disable("x-powered-by");
  // Strong ETags from Express's own machinery (etag + fresh); `req.fresh` answers 304.
  app.set("etag", "strong");
  app.set("trust proxy", "loopback");

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      const route = req.route?.path ? `${req.method} ${req.baseUrl}${String(req.route.path)}` : req.path.startsWith("/api") ? `${req.method} unmatched` : "static";
      metrics.httpRequests.inc({ route, status: String(res.statusCode) });
      metrics.httpDuration.observe({ route }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  });
  app.use(
    "/api",
    cors({
      origin: (origin, callback) => callback(null, !origin || deps.allowedOrigins.includes(origin) ? origin ?? false : false),
      allowedHeaders: ["Authorization", "Content-Type", "If-None-Match"],
      exposedHeaders: ["ETag"],
      maxAge: 600,
    }),
  );
  app.use("/api", express.json({ limit: deps.maxBodyBytes, strict: true }));

  const authenticate = async (req: Request, _res: Response, next: NextFunction) => {
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
  const principal = (req: Request): Principal => req.principal!;

  async function issueSession(user: Pick<PublicUser, "id" | "username" | "display_name" | "role">, refreshToken?: string): Promise<LoginResponse> {
    return {
      accessToken: await tokens.issueAccess({ userId: user.id, role: user.role }),
      refreshToken: refreshToken ?? (await tokens.issueRefresh(user.id)),
      expiresIn: tokens.accessTtlS,
      user: { id: user.id, username: user.username, displayName: user.display_name, role: user.role },
    };
  }

  // ---- auth --------------------------------------------------------------------------------
  app.post(RestPath.login, async (req, res) => {
    const body = parse(LoginBody, req.body);
    const user = await store.findUserByUsername(body.username);
    // Verify against a dummy hash when the user is unknown, so timing does not reveal usernames.
    const ok = user ? await verifyPassword(body.password, user.password_hash) : (await verifyPassword(body.password, DUMMY_HASH), false);
    if (!user || !ok || !user.is_active) {
      logger.info({ username: body.username }, "login failed");
      return sendError(res, 401, RestErrorCode.invalidCredentials, "Wrong username or password");
    }
    res.json(await issueSession(user));
  });

  app.post(RestPath.refresh, async (req, res) => {
    const body = parse(RefreshBody, req.body);
    const result = await tokens.rotateRefresh(body.refreshToken);
    if (!result.ok) {
      return result.reason === "reused"
        ? sendError(res, 401, RestErrorCode.refreshReused, "Refresh token was already used; all sessions of this login were revoked. Log in again.")
        : sendError(res, 401, RestErrorCode.refreshInvalid, "Refresh token is invalid or expired; log in again");
    }
    const user = await store.findUserById(result.userId);
    if (!user || !user.is_active) return sendError(res, 401, RestErrorCode.refreshInvalid, "Account is not active; log in again");
    res.json(await issueSession(user, result.refreshToken));
  });

  app.post(RestPath.logout, async (req, res) => {
    const body = parse(RefreshBody, req.body);
    await tokens.revokeRefresh(body.refreshToken);
    res.status(204).end();
  });

  // ---- users and profile -------------------------------------------------------------------
  app.get(RestPath.users, authenticate, async (_req, res) => {
    res.json({ users: await store.listUsers() });
  });

  app.get(RestPath.profileMe, authenticate, async (req, res) => {
    const profile = await profiles.get(principal(req).userId);
    if (!profile) return sendError(res, 404, RestErrorCode.notFound, "User no longer exists");
    const { body, etag } = renderProfile(profile);
    res.set({ ETag: etag, "Cache-Control": PROFILE_CACHE_CONTROL, Vary: PROFILE_VARY });
    // `res.send` keeps our ETag and, when `req.fresh` (If-None-Match matches), answers 304 with no body.
    res.type("application/json").send(body);
    metrics.profileRequests.inc({ result: res.statusCode === 200 || res.statusCode === 304 ? String(res.statusCode) : "other" });
  });

  app.patch(RestPath.profileMe, authenticate, async (req, res) => {
    const patch = parse(ProfilePatchBody, req.body);
    const profile = await profiles.update(principal(req).userId, patch);
    if (!profile) return sendError(res, 404, RestErrorCode.notFound, "User no longer exists");
    const { body, etag } = renderProfile(profile);
    res.set({ ETag: etag, "Cache-Control": "no-store", Vary: PROFILE_VARY }).type("application/json").send(body);
  });

  app.put("/api/admin/users/:id/role", authenticate, async (req, res) => {
    if (principal(req).role !== ADMIN_ROLE) return sendError(res, 403, RestErrorCode.forbidden, "Only an admin can change roles");
    const id = parse(IdParam, req.params.id);
    const body = parse(RoleBody, req.body);
    const profile = await profiles.setRole(id, body.role, body.permissions);
    if (!profile) return sendError(res, 404, RestErrorCode.notFound, `No user with id ${id}`);
    res.json({ id: profile.id, role: profile.role, permissions: profile.permissions });
  });

  // ---- messages ----------------------------------------------------------------------------
  app.get(RestPath.unreadCount, authenticate, async (req, res) => {
    // From the auth principal only: no profile needed.
    res.json({ unread_count: await store.unreadCount(principal(req).userId) });
  });

  app.get(`${RestPath.messages}/conversations`, authenticate, async (req, res) => {
    res.json({ conversations: await store.conversations(principal(req).userId) });
  });

  app.get(RestPath.messages, authenticate, async (req, res) => {
    const query = parse(ListMessagesQuery, req.query);
    res.json({ messages: await store.listMessages(principal(req).userId, query.peerId, { before: query.before, limit: query.limit }) });
  });

  app.post(RestPath.messages, authenticate, async (req, res) => {
    const body = parse(SendMessageBody, req.body);
    try {
      const { message, created } = await messages.send(principal(req).userId, body.to, body.body, body.clientMsgId ?? null);
      res.status(created ? 201 : 200).json({ message });
    } catch (error) {
      if (error instanceof RecipientNotFoundError) return sendError(res, 404, RestErrorCode.notFound, error.message);
      throw error;
    }
  });

  app.post(RestPath.messagesRead, authenticate, async (req, res) => {
    const body = parse(ReadBody, req.body);
    res.json({ unread_count: await messages.markRead(principal(req).userId, body.peerId, body.upToMessageId) });
  });

  // ---- operations --------------------------------------------------------------------------
  app.get("/metrics", async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", async (_req, res) => {
    const checks = await deps.readiness();
    const ready = Object.values(checks).every(Boolean);
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not ready", checks });
  });

  app.use("/api", (req, res) => sendError(res, 404, RestErrorCode.notFound, `No route ${req.method} ${req.baseUrl}${req.path}`));

  if (deps.webAppDir && existsSync(deps.webAppDir)) {
    const root = path.resolve(deps.webAppDir);
    app.use(express.static(root, { index: "index.html", maxAge: "1h", setHeaders: (res, file) => file.endsWith(".html") && res.setHeader("Cache-Control", "no-cache") }));
  } else {
    app.get("/", (_req, res) => {
      res.type("text/plain").send("Switchboard server is running. Build the web app with `npm run build:web` to serve it here.\n");
    });
  }

  app.use(errorHandler(logger));
  return app;
}

// scrypt hash of a random string, used only to spend the same time on unknown usernames.
const DUMMY_HASH = "scrypt$32768$8$1$c3dpdGNoYm9hcmQtZHVtbXk=$3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
