import { describe, expect, it } from "vitest";
import { contentScriptMatches } from "../../extension/src/background/content-script-matches.js";

describe("contentScriptMatches", () => {
  it("is the configured server's exact origin (with its port), whatever the URL's path", () => {
    expect(contentScriptMatches("http://localhost:8080", [])).toEqual(["http://localhost:8080/*"]);
    expect(contentScriptMatches("https://chat.example.com/app/?x=1", [])).toEqual(["https://chat.example.com/*"]);
    expect(contentScriptMatches("http://127.0.0.1:39123/", [])).toEqual(["http://127.0.0.1:39123/*"]);
  });
  it("adds the build's extra patterns once, and nothing else", () => {
    expect(contentScriptMatches("http://localhost:8080", ["https://chat.example.com/*", "http://localhost:8080/*"])).toEqual([
      "http://localhost:8080/*",
      "https://chat.example.com/*",
    ]);
  });
});
