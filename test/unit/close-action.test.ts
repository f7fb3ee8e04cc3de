import { describe, expect, it } from "vitest";
import { CloseAction, CloseCode, CloseReason, closeAction, isSessionEnded, ServerClose } from "../../shared/protocol/index.js";

// Every row of docs/protocol.md#close-codes, pinned with literal wire values on purpose.
describe("closeAction(code, reason)", () => {
  const rows: Array<[number, string, CloseAction]> = [
    [1000, "New connection established", "stay-closed-replaced"],
    [1000, "", "stay-closed"],
    [1000, "bye", "stay-closed"],
    [1000, "new connection established", "stay-closed"], // exact, case-sensitive
    [4001, "Heartbeat timeout", "reconnect"],
    [4001, "", "reconnect"],
    [1008, "Token expired", "refresh-then-reconnect"],
    [1008, "Token invalid", "login"],
    [1008, "Authentication failed", "login"],
    [1008, "Session ended", "login"],
    [1008, "session ended", "reconnect"], // exact, case-sensitive: not an authentication verdict
    [1000, "Session ended", "stay-closed"],
    [1012, "Service restart", "reconnect"],
    [4002, "Slow consumer", "reconnect"],
    [4029, "Rate limited", "reconnect-after-cooldown"],
    [4029, "rate limited", "reconnect"], // exact reason only; anything else is an ordinary abnormal close
    [1001, "", "reconnect"],
    [1006, "", "reconnect"],
    [1009, "", "reconnect"],
    [1011, "Internal error", "reconnect"],
    [4999, "whatever", "reconnect"],
  ];
  it.each(rows)("(%i, %j) → %s", (code, reason, action) => {
    expect(closeAction(code, reason)).toBe(action);
  });

  it("maps every pair the server sends to a defined action", () => {
    const actions = Object.values(CloseAction) as string[];
    for (const { code, reason } of Object.values(ServerClose)) {
      expect(actions).toContain(closeAction(code, reason));
    }
  });

  it("uses the exact constants of the contract", () => {
    expect(CloseCode.normal).toBe(1000);
    expect(CloseCode.heartbeatTimeout).toBe(4001);
    expect(CloseCode.policyViolation).toBe(1008);
    expect(CloseCode.serviceRestart).toBe(1012);
    expect(CloseReason.replaced).toBe("New connection established");
    expect(CloseReason.heartbeatTimeout).toBe("Heartbeat timeout");
    expect(CloseReason.tokenExpired).toBe("Token expired");
    expect(CloseReason.tokenInvalid).toBe("Token invalid");
    expect(CloseReason.authenticationFailed).toBe("Authentication failed");
    expect(CloseReason.serviceRestart).toBe("Service restart");
    expect(CloseCode.slowConsumer).toBe(4002);
    expect(CloseReason.slowConsumer).toBe("Slow consumer");
    expect(CloseCode.rateLimited).toBe(4029);
    expect(CloseReason.rateLimited).toBe("Rate limited");
    expect(CloseReason.sessionEnded).toBe("Session ended");
    expect(ServerClose.sessionEnded).toEqual({ code: 1008, reason: "Session ended" });
  });

  it("tells a server-ended session (sign out, forget the credentials) from other login verdicts", () => {
    expect(isSessionEnded(1008, "Session ended")).toBe(true);
    expect(isSessionEnded(1008, "Token invalid")).toBe(false);
    expect(isSessionEnded(1000, "Session ended")).toBe(false);
  });
});
