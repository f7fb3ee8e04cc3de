import type { ConsoleMessage, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { ConnectionState } from "../../shared/sdk/connection-state.js";
import { configureAndSignIn } from "../helpers/chromium.js";
import { useBrowserWorld } from "./support/browser-world.js";
import { sleep } from "./support/metrics.js";
import { banner } from "./support/tabs.js";

interface Violation {
  directive: string;
  blocked: string;
}

// Every CSP violation of the page, recorded from its first script on.
function recordViolations() {
  const violations: Violation[] = [];
  (window as unknown as { __cspViolations: Violation[] }).__cspViolations = violations;
  document.addEventListener("securitypolicyviolation", (event) => violations.push({ directive: event.violatedDirective, blocked: event.blockedURI }));
}

const violationsOf = (page: Page) => page.evaluate(() => (window as unknown as { __cspViolations: Violation[] }).__cspViolations);

describe("the web app under its Content-Security-Policy (real Chromium, extension loaded)", () => {
  const world = useBrowserWorld();

  it("loads, signs in, connects and edits the profile with no CSP violation; an inline script is blocked", { timeout: 90_000 }, async () => {
    const { server, driven } = world;
    await driven.context.addInitScript(recordViolations);
    const appPage = await configureAndSignIn(driven, server.url, "alice");

    const cspConsole: string[] = [];
    const onConsole = (message: ConsoleMessage) => {
      if (/Content.Security.Policy/i.test(message.text())) cspConsole.push(message.text());
    };
    const page = await driven.open(`${server.url}/`);
    page.on("console", onConsole);
    const response = await page.reload();
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");
    await banner(page, ConnectionState.open).waitFor({ timeout: 15_000 });
    await page.getByTestId("profile-edit").click();
    await page.getByTestId("profile-form").waitFor();
    await sleep(300); // late reports (images, styles) arrive asynchronously

    expect(await violationsOf(page)).toEqual([]);
    expect(cspConsole).toEqual([]);
    // The extension's own app page runs under Chrome's extension-page CSP: no violation there either.
    expect(await violationsOf(appPage)).toEqual([]);

    // The recorder does see a violation: an inline script is refused and does not run.
    const ran = await page.evaluate(async () => {
      const script = document.createElement("script");
      script.textContent = "window.__inlineRan = true";
      document.body.append(script);
      await new Promise((resolve) => setTimeout(resolve, 100));
      return (window as unknown as { __inlineRan?: boolean }).__inlineRan === true;
    });
    expect(ran).toBe(false);
    const after = await violationsOf(page);
    expect(after.map((violation) => violation.directive)).toContain("script-src-elem");
  });
});
