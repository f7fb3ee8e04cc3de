import { Router } from "express";
import { RestPath, type ReadinessResponse } from "../../../../shared/protocol/index.js";
import type { Metrics } from "../../metrics.js";

export interface OperationsRouteDeps {
  metrics: Metrics;
  /** Redis and database reachability for `/readyz`. */
  readiness: () => Promise<Record<string, boolean>>;
}

/** Prometheus metrics, liveness and readiness. */
export function operationsRoutes({ metrics, readiness }: OperationsRouteDeps): Router {
  const router = Router();

  router.get(RestPath.metrics, async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  router.get(RestPath.healthz, (_req, res) => {
    res.json({ status: "ok" });
  });

  router.get(RestPath.readyz, async (_req, res) => {
    const checks = await readiness();
    const ready = Object.values(checks).every(Boolean);
    const body: ReadinessResponse = { status: ready ? "ready" : "not ready", checks };
    res.status(ready ? 200 : 503).json(body);
  });

  return router;
}
