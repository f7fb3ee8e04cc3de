import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../server/src/log/logger.js";
import { maskEmail, maskPhone, maskText, maskedPreview } from "../../server/src/log/mask.js";

describe("masking", () => {
  it("masks e-mails and phones as the contract shows", () => {
    expect(maskEmail("user10331019.chen@example.com")).toBe("u***@example.com");
    expect(maskPhone("13812341234")).toBe("138****1234");
    expect(maskText("call 13770658948 or mail a.b@example.org")).toBe("call 137****8948 or mail a***@example.org");
    expect(maskText("+8613770658948")).toBe("+861****8948");
    // Ids in keys and hex hashes are not phones.
    expect(maskText("key user:10331019 hash 3fa8b912345678901234cd id 12345678")).toBe("key user:10331019 hash 3fa8b912345678901234cd id 12345678");
  });
  it("keeps previews within 100 bytes and masked", () => {
    const preview = maskedPreview(Buffer.from(`{"email":"someone@example.com","phone":"13800001111"}${"x".repeat(500)}`));
    expect(preview.length).toBeLessThanOrEqual(100);
    expect(preview).not.toContain("someone@");
    expect(preview).not.toContain("13800001111");
  });
});

describe("logger", () => {
  it("never writes a token, a password, or an unmasked e-mail/phone", async () => {
    let out = "";
    const sink = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const logger = createLogger({ level: "info", destination: sink });
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
    logger.info(
      { password: "hunter2", accessToken: jwt, refreshToken: "r-secret", user: { email: "alice@example.com", phone: "13800001111", password: "p" } },
      "login alice@example.com",
    );
    logger.warn({ headers: { authorization: `Bearer ${jwt}`, "sec-websocket-protocol": `switchboard.v1, bearer.${jwt}` } }, `token ${jwt}`);
    await new Promise((r) => setTimeout(r, 50));
    expect(out).not.toContain("hunter2");
    expect(out).not.toContain(jwt);
    expect(out).not.toContain("r-secret");
    expect(out).not.toContain("alice@example.com");
    expect(out).not.toContain("13800001111");
    expect(out).toContain("a***@example.com");
    expect(out).toContain("138****1111");
    for (const line of out.trim().split("\n")) expect(() => JSON.parse(line)).not.toThrow();
  });
});
