import { jwtVerify } from "jose";
import { importHs256Key } from "../../server/src/auth/hs256-key.js";

/**
 * The comparison peers check the same token Switchboard does: an HS256 JWT with the same issuer
 * and audience, whose subject must be the user the socket is for. The key is imported once, as a
 * well-configured server would; what the peers skip is everything Switchboard adds after that
 * (revocation, the owner claim across instances, storage).
 */
const ISSUER = "switchboard";
const AUDIENCE = "switchboard-chat";

export function peerSecret(): string {
  const secret = process.env.JWT_SECRET;
  if (!secret) throw new Error("JWT_SECRET must be set for a bench peer");
  return secret;
}

// The same key import Switchboard uses (the cheapest jose offers).
const key = importHs256Key(peerSecret());

/** The user id the token was issued to, or null when the token is invalid, expired or names another user. */
export async function verifiedUser(token: string | undefined, expectedUserId: number): Promise<number | null> {
  if (!token) return null;
  try {
    const { payload } = await jwtVerify(token, await key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ["HS256"] });
    const userId = Number(payload.sub);
    return userId === expectedUserId ? userId : null;
  } catch {
    return null;
  }
}

/** What a peer prints once it listens, for the bench to read its port. */
export function announceListening(port: number): void {
  process.stdout.write(`listening ${port}\n`);
}
