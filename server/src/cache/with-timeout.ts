export class TimeoutError extends Error {
  constructor(ms: number) {
    super(`Redis did not answer within ${ms} ms; treating the cache as unavailable (see UserCacheOptions.commandTimeoutMs).`);
    this.name = "TimeoutError";
  }
}

/** Settles like `promise`, or rejects with `TimeoutError` after `ms` (the command itself is not cancelled). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(ms)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
