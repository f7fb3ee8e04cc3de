import { request } from "node:http";

export interface PlainResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = unknown>(): T;
}

/**
 * One HTTP request whose socket is bound to `localAddress` (any of 127.0.0.0/8 on Linux), so a
 * test can be several clients with their own addresses without forging `X-Forwarded-For`.
 */
export function requestFrom(
  localAddress: string,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<PlainResponse> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? (payload === undefined ? "GET" : "POST"),
        localAddress,
        agent: false,
        headers: { ...(payload === undefined ? {} : { "content-type": "application/json" }), ...options.headers },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: <T>() => JSON.parse(text) as T }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** `POST /api/auth/login` from `localAddress`. */
export function loginFrom(localAddress: string, baseUrl: string, username: string, password: string, loginPath: string): Promise<PlainResponse> {
  return requestFrom(localAddress, `${baseUrl}${loginPath}`, { body: { username, password } });
}
