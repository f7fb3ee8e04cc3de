/**
 * How a shutting-down instance closes its sockets: in slices over a window sized by the number
 * of sockets, so the instances that take them over see at most `socketsPerSecond` reconnects
 * (plus the clients' own 0–5 s jitter, which only spreads them further) instead of all at once.
 * The window never exceeds `maxWindowMs` (what the shutdown budget leaves), so a large instance
 * drains faster rather than overrunning its budget. `socketsPerSecond` 0 closes all at once.
 */
export interface DrainPlan {
  windowMs: number;
  /** Sockets to close at the start of each slice, one slice every `sliceMs`. */
  slices: number[];
  sliceMs: number;
}

export function planDrain(sockets: number, options: { socketsPerSecond: number; maxWindowMs: number; sliceMs?: number }): DrainPlan {
  const sliceMs = options.sliceMs ?? 100;
  if (sockets <= 0) return { windowMs: 0, slices: [], sliceMs };
  if (options.socketsPerSecond <= 0) return { windowMs: 0, slices: [sockets], sliceMs };
  const windowMs = Math.min((sockets / options.socketsPerSecond) * 1000, Math.max(0, options.maxWindowMs));
  const count = Math.max(1, Math.floor(windowMs / sliceMs));
  // Spread the remainder over the first slices: sizes differ by at most one.
  const base = Math.floor(sockets / count);
  const extra = sockets % count;
  const slices = Array.from({ length: count }, (_, i) => base + (i < extra ? 1 : 0)).filter((n) => n > 0);
  return { windowMs: (slices.length - 1) * sliceMs, slices, sliceMs };
}
