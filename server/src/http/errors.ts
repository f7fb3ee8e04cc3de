import type { NextFunction, Request, Response } from "express";
import { RestErrorCode, type RestError } from "../../../shared/protocol/index.js";
import type { Logger } from "../log/logger.js";
import { requestIdOf } from "./request-id.js";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: RestErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export function sendError(res: Response, status: number, code: RestErrorCode, message: string, requestId?: string): void {
  const body: RestError = { error: requestId ? { code, message, requestId } : { code, message } };
  res.status(status).json(body);
}

/** JSON `{error:{code,message}}` for everything; never a stack trace. */
export function errorHandler(logger: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) {
      res.end();
      return;
    }
    if (error instanceof HttpError) return sendError(res, error.status, error.code, error.message);
    const e = error as { type?: string; status?: number; expose?: boolean; message?: string };
    // body-parser errors carry a `type` and a 4xx status.
    if (e?.type === "entity.too.large") return sendError(res, 413, RestErrorCode.payloadTooLarge, "Request body is too large");
    if (e?.type === "entity.parse.failed") return sendError(res, 400, RestErrorCode.invalidBody, "Request body is not valid JSON");
    if (typeof e?.status === "number" && e.status >= 400 && e.status < 500) {
      return sendError(res, e.status, RestErrorCode.badRequest, e.expose && e.message ? e.message : "Bad request");
    }
    // The route pattern, not the path: a path can carry an id or a typed value.
    const requestId = requestIdOf(req);
    const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : "unmatched";
    logger.error({ err: error, requestId, method: req.method, route }, "unhandled request error");
    sendError(res, 500, RestErrorCode.internal, "Internal error; try again later (quote the request id when reporting it)", requestId);
  };
}
