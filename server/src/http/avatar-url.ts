/**
 * Which avatar URLs a profile may hold. The URL ends up in an `<img src>` of every tab that
 * shows the user, so only web addresses are allowed: `https:` anywhere, `http:` only for this
 * machine (development). `javascript:`, `data:`, `vbscript:`, `file:` and the rest are refused.
 */
export const AVATAR_URL_RULE = "must be an https: URL (http: only for localhost)";

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

export function isAllowedAvatarUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol === "https:") return true;
  return url.protocol === "http:" && LOCAL_HOSTS.has(url.hostname);
}
