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

type Policy = (req: Request, res: Response, next: (error?: unknown) => void) => void;

/**
 * The headers `policy` sets, worked out once: none of ours depends on the request (no CSP nonces,
 * no per-request directives), so each answer gets them in one loop instead of through helmet's
 * chain of a dozen middleware calls — on the most frequent request, the conditional profile
 * refresh, that chain was a tenth of the work.
 */
function headersOf(policy: Policy): ReadonlyArray<readonly [string, string]> {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: unknown) => headers.set(name, String(value)),
    removeHeader: (name: string) => headers.delete(name),
  };
  let done = false;
  policy({} as Request, recorder as unknown as Response, () => {
    done = true;
  });
  if (!done) throw new Error("a security header policy did not finish synchronously");
  return [...headers];
}

const webAppHeaders = headersOf(webAppPolicy);
const dataHeaders = headersOf(dataPolicy);

export function securityHeaders(req: Request, res: Response, next: NextFunction): void {
  const isPage = !req.path.startsWith(`${REST_API_PREFIX}/`) && (req.method === "GET" || req.method === "HEAD");
  for (const [name, value] of isPage ? webAppHeaders : dataHeaders) res.setHeader(name, value);
  next();
}

/** Token responses must never be stored by a browser or a proxy (RFC 6749 §5.1). */
export function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader("Cache-Control", "no-store");
  next();
}
