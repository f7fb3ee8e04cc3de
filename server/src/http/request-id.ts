import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { REQUEST_ID_HEADER } from "../../../shared/protocol/index.js";

const requestIds = new WeakMap<Request, string>();

/** Gives every request a random id (never derived from the request, so it carries nothing personal). */
export function assignRequestId(req: Request, res: Response, next: NextFunction): void {
  const id = randomUUID();
  requestIds.set(req, id);
  res.setHeader(REQUEST_ID_HEADER, id);
  next();
}

export function requestIdOf(req: Request): string | undefined {
  return requestIds.get(req);
}
