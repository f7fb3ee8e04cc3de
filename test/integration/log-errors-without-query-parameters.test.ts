import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../server/src/log/logger.js";
import { openDb, type Db } from "../../server/src/store/db.js";

const PRIVATE_BODY = "meet me at the back door 7f3a";
const PRIVATE_EMAIL = "someone.private@example.com";

describe("a real database error in the log (PGlite)", () => {
  let db: Db;
  beforeAll(async () => {
    db = await openDb({ databaseUrl: undefined, dataDir: "memory://" });
    await db.query("CREATE TABLE notes (id serial primary key, email text not null unique, body text not null)");
    await db.query("INSERT INTO notes (email, body) VALUES ($1, $2)", [PRIVATE_EMAIL, "first"]);
  });
  afterAll(async () => db?.close());

  const failures: Array<[string, () => Promise<unknown>]> = [
    ["a NUL in a parameter", () => db.query("INSERT INTO notes (email, body) VALUES ($1, $2)", ["x@example.org", `${PRIVATE_BODY}\u0000`])],
    ["a unique violation (its detail names the value)", () => db.query("INSERT INTO notes (email, body) VALUES ($1, $2)", [PRIVATE_EMAIL, PRIVATE_BODY])],
  ];

  for (const [what, fail] of failures) {
    it(`keeps the error's class, message and code, not the query's parameters or detail: ${what}`, async () => {
      const error = await fail().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      // The driver's error does carry the private values: logging it whole would leak them.
      expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).toContain(PRIVATE_BODY.slice(0, 20));

      let out = "";
      const capture = new PassThrough();
      capture.on("data", (chunk: Buffer) => (out += chunk.toString()));
      const logger = createLogger({ level: "info", destination: capture });
      logger.error({ err: error, route: "/api/messages" }, "unhandled request error");
      logger.warn({ error, nested: { cause: error } }, "session task failed");
      await new Promise((resolve) => setTimeout(resolve, 20));

      const lines = out
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines).toHaveLength(2);
      const logged = lines[0]!.err as Record<string, unknown>;
      expect(logged.message).toBe((error as Error).message.replace(PRIVATE_EMAIL, "s***@example.com"));
      expect(typeof logged.type).toBe("string");
      expect(lines[0]!.route).toBe("/api/messages");
      for (const field of ["parameters", "params", "query", "detail", "where", "internalQuery"]) expect(Object.keys(logged)).not.toContain(field);
      expect(out).not.toContain(PRIVATE_BODY.slice(0, 20));
      expect(out).not.toContain(PRIVATE_EMAIL);
    });
  }
});
