import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

/**
 * The successor of a used refresh token, kept for the reuse interval so a second, near-simultaneous
 * refresh with the same token (two tabs during a handover) gets the same successor instead of
 * revoking the family. It is sealed with AES-256-GCM under a key derived (HKDF-SHA256) from the
 * used token itself: only a holder of that token can open it, so the database — which stores
 * tokens hashed — never holds a usable refresh token.
 */
const INFO = Buffer.from("switchboard refresh successor v1");
const IV_BYTES = 12;
const TAG_BYTES = 16;

function keyFor(usedToken: string): Buffer {
  return Buffer.from(hkdfSync("sha256", Buffer.from(usedToken), Buffer.alloc(0), INFO, 32));
}

export function sealSuccessor(usedToken: string, successor: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", keyFor(usedToken), iv);
  const sealed = Buffer.concat([cipher.update(successor, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64url");
}

/** The successor, or null when `sealed` was not sealed for `usedToken` (or is damaged). */
export function openSuccessor(usedToken: string, sealed: string): string | null {
  try {
    const bytes = Buffer.from(sealed, "base64url");
    const decipher = createDecipheriv("aes-256-gcm", keyFor(usedToken), bytes.subarray(0, IV_BYTES));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
}
