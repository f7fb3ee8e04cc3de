import type { NextFunction, Request, Response } from "express";
import helmet from "helmet";
import { REST_API_PREFIX } from "../../../shared/protocol/index.js";

/**
 * Security headers from helmet (nosniff, frame protection, Referrer-Policy, HSTS, COOP/CORP, …)
 * with a Content-Security-Policy per kind of answer:
 *
 * - the web app: only its own files. Its build (`dist/web`) has no inline script or style (one
 *   module script and one stylesheet under `/assets/`; React sets styles through the CSSOM, which
 *   CSP allows), avatars are `https:` images, and it talks to this origin only (REST and, in the
 *   naive mode, the socket — CSP Level 3 lets `'self'` match `ws:`/`wss:` to the same host).
 *   `test/e2e/web-app-csp.test.ts` loads it in Chromium and fails on any violation.
 * - everything else (JSON, metrics): nothing may load, nothing may frame it.
 *
 * `upgrade-insecure-requests` stays off: the server is also run over plain http on loopback,
 * where it would break every request.
 */
const webAppPolicy = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      scriptSrcAttr: ["'none'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", "https:"],
      fontSrc: ["'self'"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  xFrameOptions: { action: "deny" },
});

const dataPolicy = helmet({
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  xFrameOptions: { action: "deny" },
});

export function securityHeaders(req: Request, res: Response, next: NextFunction): void {
  const isPage = !req.path.startsWith(`${REST_API_PREFIX}/`) && (req.method === "GET" || req.method === "HEAD");
  (isPage ? webAppPolicy : dataPolicy)(req, res, next);
}

/** Token responses must never be stored by a browser or a proxy (RFC 6749 §5.1). */
export function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader("Cache-Control", "no-store");
  next();
}
