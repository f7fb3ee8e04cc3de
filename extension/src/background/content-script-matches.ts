/**
 * The match patterns of the content script: the configured server's exact origin — scheme, host
 * and port; a Chrome match pattern with a port matches only that port — plus the build's extra
 * patterns (`SWITCHBOARD_WEB_ORIGINS`), nothing else.
 */
export function contentScriptMatches(serverUrl: string, extraPatterns: readonly string[]): string[] {
  return [...new Set([`${new URL(serverUrl).origin}/*`, ...extraPatterns])];
}
