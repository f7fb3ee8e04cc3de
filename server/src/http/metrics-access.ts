import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type NextFunction, type Request, type Response } from "express";
import { RestErrorCode, RestPath } from "../../../shared/protocol/index.js";
import type { Logger } from "../log/logger.js";
import type { Metrics } from "../metrics.js";
import { sendError } from "./errors.js";
import { securityHeaders } from "./security-headers.js";

export interface MetricsAccess {
  /** Set → `/metrics` requires `Authorization: Bearer <token>`. */
  token: string | undefined;
  /** false → the public listener answers `/metrics` with a JSON 404 (metrics have their own listener, or are off). */
  onPublicListener: boolean;
}

/**
 * Who may read `/metrics`. The metrics name routes, counts and instance internals that an
 * outsider has no business reading, so in production they are served only on a separate
 * listener (`METRICS_PORT`, default host 127.0.0.1) or with a bearer token (`METRICS_TOKEN`).
 */
export function metricsGuard({ token, onPublicListener }: MetricsAccess) {
  const expected = token === undefined ? undefined : digest(token);
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!onPublicListener) return sendError(res, 404, RestErrorCode.notFound, `No route ${req.method} ${req.path}`);
    if (expected === undefined) return next();
    const presented = /^Bearer (.+)$/i.exec(req.get("authorization") ?? "")?.[1];
    // Compare digests in constant time: equal lengths, and no early exit revealing a prefix.
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) return next();
    res.setHeader("WWW-Authenticate", 'Bearer realm="metrics"');
    sendError(res, 401, RestErrorCode.unauthorized, "Metrics need Authorization: Bearer <METRICS_TOKEN>");
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

export interface MetricsListener {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** A listener that serves only `/metrics` (guarded by the token too when one is set). */
export async function startMetricsListener(options: {
  host: string;
  port: number;
  token: string | undefined;
  metrics: Metrics;
  logger: Logger;
}): Promise<MetricsListener> {
  const app = express();
  app.disable("x-powered-by");
  app.use(securityHeaders);
  app.get(RestPath.metrics, metricsGuard({ token: options.token, onPublicListener: true }), async (_req, res) => {
    res.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
  });
  app.use((req, res) => sendError(res, 404, RestErrorCode.notFound, `No route ${req.method} ${req.path}`));
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, app);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: options.port, host: options.host }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
  options.logger.info({ url: `${url}${RestPath.metrics}`, bearerTokenRequired: options.token !== undefined }, "metrics listener up");
  return {
    server,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
