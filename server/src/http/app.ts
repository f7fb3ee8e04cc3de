import { existsSync } from "node:fs";
import path from "node:path";
import cors from "cors";
import express, { type NextFunction, type Request, type Response } from "express";
import { REQUEST_ID_HEADER, REST_API_PREFIX, RETRY_AFTER_HEADER, RestErrorCode, RestPath } from "../../../shared/protocol/index.js";
import type { PasswordHashing } from "../auth/password-hashing.js";
import type { TokenService } from "../auth/tokens.js";
import type { Logger } from "../log/logger.js";
import type { Metrics } from "../metrics.js";
import type { UserBudgets } from "../realtime/user-budgets.js";
import type { MessageService } from "../services/message-service.js";
import type { ProfileService } from "../services/profile-service.js";
import type { Store } from "../store/store.js";
import { errorHandler, sendError } from "./errors.js";
import type { LoginLimiter } from "./login-limiter.js";
import { metricsGuard, type MetricsAccess } from "./metrics-access.js";
import { assignRequestId } from "./request-id.js";
import { adminRoutes } from "./routes/admin.js";
import { authRoutes } from "./routes/auth.js";
import { messageRoutes } from "./routes/messages.js";
import { operationsRoutes } from "./routes/operations.js";
import { profileRoutes } from "./routes/profile.js";
import { sessionRoutes } from "./routes/sessions.js";
import { noStore, securityHeaders } from "./security-headers.js";

export interface AppDeps {
  store: Store;
  tokens: TokenService;
  profiles: ProfileService;
  messages: MessageService;
  metrics: Metrics;
  logger: Logger;
  /** Per-user budgets shared with the socket; the REST send spends `send`. Unset: unlimited. */
  budgets?: UserBudgets;
  allowedOrigins: readonly string[];
  /** Lifetime of the refresh cookie (the refresh token's). @default 30 days */
  refreshTokenTtlS?: number;
  maxBodyBytes: number;
  webAppDir?: string;
  /** Redis and database reachability for `/readyz`. */
  readiness: () => Promise<Record<string, boolean>>;
  loginLimiter: LoginLimiter;
  passwordHashing: PasswordHashing;
  metricsAccess: MetricsAccess;
  /** Express `trust proxy` (`TRUST_PROXY`). @default "loopback" */
  trustProxy?: string;
}

/**
 * The HTTP side: shared middleware, then one router per concern (`routes/`), then JSON 404s,
 * the web app's static files and the JSON error handler.
 */
export function createApp(deps: AppDeps): express.Express {
  const { store, tokens, profiles, messages, metrics, logger } = deps;
  const app = express();
  app.disable("x-powered-by");
  // Strong ETags from Express's own machinery (etag + fresh); `req.fresh` answers 304.
  app.set("etag", "strong");
  app.set("trust proxy", trustProxySetting(deps.trustProxy ?? "loopback"));
  app.use(assignRequestId);
  app.use(securityHeaders);

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      const route = req.route?.path
        ? `${req.method} ${req.baseUrl}${String(req.route.path)}`
        : req.path.startsWith("/api")
          ? `${req.method} unmatched`
          : "static";
      metrics.httpRequests.inc({ route, status: String(res.statusCode) });
      metrics.httpDuration.observe({ route }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  });
  app.use(
    "/api",
    cors({
      origin: (origin, callback) => callback(null, !origin || deps.allowedOrigins.includes(origin) ? (origin ?? false) : false),
      allowedHeaders: ["Authorization", "Content-Type", "If-None-Match"],
      // The extension calls cross-origin: let it read the request id and a 429's wait.
      exposedHeaders: ["ETag", REQUEST_ID_HEADER, RETRY_AFTER_HEADER],
      // The refresh cookie of a web app served from another allowed origin (fetch credentials: "include").
      credentials: true,
      maxAge: 600,
    }),
  );
  const jsonBody = express.json({ limit: deps.maxBodyBytes, strict: true });
  // Before the body parser and the path-scoped middleware below (the PATCH brings its own
  // parser): the conditional profile refresh is the most frequent request — every tab, every
  // 5 minutes — and each layer before it costs every request its path matching.
  app.use(profileRoutes({ store, tokens, profiles, metrics, jsonBody }));
  app.use(REST_API_PREFIX, jsonBody);
  app.use([RestPath.login, RestPath.refresh, RestPath.logout, RestPath.logoutAll], noStore);
  app.use(RestPath.metrics, metricsGuard(deps.metricsAccess));

  app.use(
    authRoutes({
      store,
      tokens,
      logger,
      loginLimiter: deps.loginLimiter,
      passwordHashing: deps.passwordHashing,
      metrics,
      refreshCookie: { allowedOrigins: deps.allowedOrigins, maxAgeS: deps.refreshTokenTtlS ?? 30 * 24 * 3600 },
    }),
  );
  app.use(sessionRoutes({ tokens }));
  app.use(adminRoutes({ store, tokens, profiles }));
  app.use(messageRoutes({ store, tokens, messages, metrics, ...(deps.budgets ? { budgets: deps.budgets } : {}) }));
  app.use(operationsRoutes({ metrics, readiness: deps.readiness }));

  app.use(REST_API_PREFIX, (req, res) => sendError(res, 404, RestErrorCode.notFound, `No route ${req.method} ${req.baseUrl}${req.path}`));

  if (deps.webAppDir && existsSync(deps.webAppDir)) {
    const root = path.resolve(deps.webAppDir);
    // The web app has one page, at `/` (its state lives in the extension, not in the URL), so
    // no SPA fallback is needed: a path that is neither a file nor an API route is a JSON 404.
    app.use(
      express.static(root, {
        index: "index.html",
        maxAge: "1h",
        setHeaders: (res, file) => file.endsWith(".html") && res.setHeader("Cache-Control", "no-cache"),
      }),
    );
  } else {
    app.get("/", (_req, res) => {
      res.type("text/plain").send("Switchboard server is running. Build the web app with `npm run build:web` to serve it here.\n");
    });
  }
  app.use((req, res) => sendError(res, 404, RestErrorCode.notFound, `No route ${req.method} ${req.path}`));

  app.use(errorHandler(logger));
  return app;
}

/** `TRUST_PROXY` as Express reads it: `true`/`false`, a hop count, or addresses/subnets/names (`loopback, 10.0.0.0/8`). */
function trustProxySetting(value: string): boolean | number | string {
  if (value === "true" || value === "false") return value === "true";
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}
