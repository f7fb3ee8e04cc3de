import type { NextFunction, Request, Response } from "express";
import { RETRY_AFTER_HEADER, RestErrorCode } from "../../../shared/protocol/index.js";
import type { Metrics } from "../metrics.js";
import { BudgetKind, type UserBudgets } from "../realtime/user-budgets.js";
import { sendError } from "./errors.js";

/**
 * Middleware for `POST /api/messages`: the REST send spends the same per-user `send` budget as
 * the socket's `send` frames, so a client cannot double its rate by alternating the two. Over
 * budget → `429 {"error":{"code":"rate_limited"}}` with `Retry-After` in seconds (RFC 9110 §10.2.3).
 * Runs after authentication: the budget is the user's, not the address's.
 */
export function spendSendBudget(budgets: UserBudgets, metrics: Metrics, userIdOf: (req: Request) => number) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const spent = await budgets.spend(BudgetKind.send, userIdOf(req));
    if (spent.ok) return next();
    metrics.rateLimited.inc({ kind: BudgetKind.send, transport: "rest" });
    res.setHeader(RETRY_AFTER_HEADER, String(Math.ceil(spent.retryAfterMs / 1000)));
    sendError(res, 429, RestErrorCode.rateLimited, `Too many messages sent; retry after ${spent.retryAfterMs} ms (the same clientMsgId never duplicates)`);
  };
}
