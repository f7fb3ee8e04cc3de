import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * Prometheus metrics (every one described in docs/metrics.md). One registry per app instance, so several servers can run
 * in one test process without clashing.
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  // Sampled at scrape time from the live sockets (the chat socket server registers the source).
  let bufferedBytesSource: () => number = () => 0;
  // Read at scrape time: the chat socket server installs its tracker here.
  let replacementLoopUsers = () => 0;
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: "switchboard_process_" });
  const metrics = {
    registry,
    wsConnections: new Gauge({ name: "switchboard_ws_connections", help: "Open authenticated chat sockets on this instance", registers: [registry] }),
    wsReplacements: new Counter({
      name: "switchboard_ws_replacements_total",
      help: "Sockets closed because a newer connection of the same user took over",
      registers: [registry],
    }),
    wsHeartbeatTimeouts: new Counter({
      name: "switchboard_ws_heartbeat_timeouts_total",
      help: "Sockets closed with 4001 after missed pongs",
      registers: [registry],
    }),
    wsCloses: new Counter({ name: "switchboard_ws_closes_total", help: "Socket closes by code", labelNames: ["code"] as const, registers: [registry] }),
    wsConnects: new Counter({ name: "switchboard_ws_connects_total", help: "Accepted (authenticated) chat sockets", registers: [registry] }),
    wsBadFrames: new Counter({
      name: "switchboard_ws_bad_frames_total",
      help: "Frames rejected with an error frame",
      labelNames: ["code"] as const,
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: "switchboard_http_requests_total",
      help: "HTTP requests by route and status",
      labelNames: ["route", "status"] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "switchboard_http_request_duration_seconds",
      help: "HTTP request duration",
      labelNames: ["route"] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    cacheReads: new Counter({
      name: "switchboard_cache_reads_total",
      help: "user:{id} cache reads by detected format and result (hit, miss, error)",
      labelNames: ["format", "result"] as const,
      registers: [registry],
    }),
    cacheMigrations: new Counter({
      name: "switchboard_cache_migrations_total",
      help: "Lazy rewrites of legacy cache values to v2, by source format",
      labelNames: ["from"] as const,
      registers: [registry],
    }),
    dbQueries: new Counter({ name: "switchboard_db_queries_total", help: "Database queries issued", registers: [registry] }),
    eventsPublished: new Counter({
      name: "switchboard_events_published_total",
      help: "Events appended for users",
      labelNames: ["kind"] as const,
      registers: [registry],
    }),
    wsBufferedBytes: new Gauge({
      name: "switchboard_ws_buffered_bytes",
      help: "Bytes queued for sending and not yet taken by the kernel, summed over this instance's sockets (each is capped by WS_MAX_BUFFERED_BYTES)",
      registers: [registry],
      collect() {
        this.set(bufferedBytesSource());
      },
    }),
    /** Where `switchboard_ws_buffered_bytes` reads from; returns the function that unregisters it. */
    sampleBufferedBytes(source: () => number): () => void {
      bufferedBytesSource = source;
      return () => {
        if (bufferedBytesSource === source) bufferedBytesSource = () => 0;
      };
    },
    wsBackpressureCloses: new Counter({
      name: "switchboard_ws_backpressure_closes_total",
      help: "Sockets closed with 4002 Slow consumer: unsent data over WS_MAX_BUFFERED_BYTES, or a replay not drained in time",
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: "switchboard_rate_limited_total",
      help: "Frames and REST sends refused for being over the user's budget, by kind and transport",
      labelNames: ["kind", "transport"] as const,
      registers: [registry],
    }),
    wsRateLimitCloses: new Counter({
      name: "switchboard_ws_rate_limit_closes_total",
      help: "Sockets closed with 4029 Rate limited after too many refused frames",
      registers: [registry],
    }),
    passwordHashesActive: new Gauge({
      name: "switchboard_password_hashes_active",
      help: "Password hashes (scrypt) being computed now; bounded by PASSWORD_HASH_CONCURRENCY",
      registers: [registry],
    }),
    passwordHashesQueued: new Gauge({ name: "switchboard_password_hashes_queued", help: "Password checks waiting for a hashing slot", registers: [registry] }),
    loginRateLimited: new Counter({
      name: "switchboard_login_rate_limited_total",
      help: "Login attempts refused with 429, by the limit that refused them",
      labelNames: ["scope"] as const,
      registers: [registry],
    }),
    wsReconnects: new Counter({
      name: "switchboard_ws_reconnects_total",
      help: "Accepted sockets of a user whose previous socket on this instance closed within RECONNECT_WINDOW_S",
      registers: [registry],
    }),
    wsReplacementLoopUsers: new Gauge({
      name: "switchboard_ws_replacement_loop_users",
      help: "Users replaced more than REPLACEMENT_LOOP_THRESHOLD times within the last REPLACEMENT_LOOP_WINDOW_S on this instance (the reconnect-loop signature)",
      registers: [registry],
      collect() {
        this.set(replacementLoopUsers());
      },
    }),
    setReplacementLoopSource(source: () => number) {
      replacementLoopUsers = source;
    },
    deliveryLatency: new Histogram({
      name: "switchboard_delivery_latency_seconds",
      help: "Live message events: time from the message being stored to its event frame being written to the recipient's socket",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    profileRequests: new Counter({
      name: "switchboard_profile_requests_total",
      help: "GET /api/users/profile/me answers by result (200 full body, 304 not modified, other)",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    redisUp: new Gauge({ name: "switchboard_redis_up", help: "1 when Redis answers, 0 when this instance runs degraded", registers: [registry] }),
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
