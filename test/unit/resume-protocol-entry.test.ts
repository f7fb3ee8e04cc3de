import { describe, expect, it } from "vitest";
import { RESUME_PROTOCOL_PREFIX, resumeFromProtocols, resumeProtocol } from "../../shared/protocol/index.js";

describe("the upgrade's resume entry (`resume.{epoch}.{seq}`)", () => {
  it("pins the wire form and reads back what it wrote", () => {
    expect(RESUME_PROTOCOL_PREFIX).toBe("resume.");
    const epoch = "0b9f6a0e-4f7c-4a4e-9d1e-3c2a1b0f9e8d";
    expect(resumeProtocol({ epoch, seq: 42 })).toBe(`resume.${epoch}.42`);
    expect(resumeProtocol({ epoch: "", seq: 0 })).toBe("resume..0");
    expect(resumeFromProtocols(["switchboard.v1", "bearer.x.y.z", `resume.${epoch}.42`])).toEqual({ epoch, seq: 42 });
    expect(resumeFromProtocols(["resume..0"])).toEqual({ epoch: "", seq: 0 });
    expect(resumeFromProtocols(["switchboard.v1", "bearer.t"])).toBeNull();
  });

  it("an epoch that cannot travel in a header token, or a bad seq, is not written (the client sends the frame instead)", () => {
    for (const epoch of ["has space", "a.b", "ü", "e".repeat(65)]) expect(resumeProtocol({ epoch, seq: 1 }), epoch).toBeNull();
    for (const seq of [-1, 1.5, Number.MAX_SAFE_INTEGER + 2]) expect(resumeProtocol({ epoch: "e", seq }), String(seq)).toBeNull();
  });

  it("a malformed entry reads as none", () => {
    for (const entry of [
      "resume.",
      "resume.e",
      "resume.e.",
      "resume.e.01",
      "resume.e.-1",
      "resume.e.1x",
      `resume.${"e".repeat(65)}.1`,
      "resume.a.b.1",
      "resume.e.99999999999999999",
    ]) {
      expect(resumeFromProtocols([entry]), entry).toBeNull();
    }
  });
});
