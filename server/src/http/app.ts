import { existsSync } from "node:fs";
import path from "node:path";
import cors from "cors";
import express, { type NextFunction, type Request, type Response } from "express";
import { RestErrorCode } from "../../../shared/protocol/index.js";
import type { TokenService } from "../auth/tokens.js";
import type { Logger } from "../log/logger.js";
import type { Metrics } from "../metrics.js";
import type { MessageService } from "../services/message-service.js";
import type { ProfileService } from "../services/profile-service.js";
import type { Store } from "../store/store.js";
import { errorHandler, sendError } from "./errors.js";
import { adminRoutes } from "./routes/admin.js";
import { authRoutes } from "./routes/auth.js";
import { messageRoutes } from "./routes/messages.js";
import { operationsRoutes } from "./routes/operations.js";
import { profileRoutes } from "./routes/profile.js";

export interface AppDeps {
  store: Store;
  tokens: TokenService;
  profiles: ProfileService;
  messages: MessageService;
  metrics: Metrics;
  logger: Logger;
  allowedOrigins: readonly string[];
  /** Lifetime of the refresh cookie (the refresh token's). @default 30 days */
  refreshTokenTtlS?: number;
  maxBodyBytes: number;
  webAppDir?: string;
  /** Redis and database reachability for `/readyz`. */
  readiness: () => Promise<Record<string, boolean>>;
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
      // The refresh cookie of a web app served from another allowed origin (fetch credentials: "include").
      credentials: true,
      maxAge: 600,
    }),
  );
  app.use("/api", express.json({ limit: deps.maxBodyBytes, strict: true }));

  app.use(authRoutes({ store, tokens, logger, refreshCookie: { allowedOrigins: deps.allowedOrigins, maxAgeS: deps.refreshTokenTtlS ?? 30 * 24 * 3600 } }));
  app.use(profileRoutes({ store, tokens, profiles }));
  app.use(adminRoutes({ tokens, profiles }));
  app.use(messageRoutes({ store, tokens, messages }));
  app.use(operationsRoutes({ metrics, readiness: deps.readiness }));

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
