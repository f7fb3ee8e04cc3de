/** Reading the server's Prometheus `/metrics` from tests and the tab benchmark. */

/** One sample of a Prometheus metric (`labels` must match exactly as the server prints them); 0 when absent. */
export async function metric(server: { url: string }, name: string, labels = ""): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const prefix = labels ? `${name}{${labels}} ` : `${name} `;
  const line = text.split("\n").find((l) => l.startsWith(prefix));
  return line ? Number(line.slice(prefix.length)) : 0;
}

export const PROFILE_GET_200 = 'route="GET /api/users/profile/me",status="200"';
export const PROFILE_GET_304 = 'route="GET /api/users/profile/me",status="304"';

/** Every conditional and unconditional profile GET the server answered. */
export async function profileGets(server: { url: string }): Promise<number> {
  return (
    (await metric(server, "switchboard_http_requests_total", PROFILE_GET_200)) + (await metric(server, "switchboard_http_requests_total", PROFILE_GET_304))
  );
}

export async function waitFor(predicate: () => Promise<boolean> | boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
