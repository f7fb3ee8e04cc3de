import { accessTokenCodec } from "../../server/src/auth/access-token-codec.js";

/**
 * The comparison peers check the same token Switchboard does, with the same code: an HS256 JWT
 * with the same issuer and audience (`accessTokenCodec`), whose subject must be the user the
 * socket is for. What the peers skip is everything Switchboard adds after that (revocation, the
 * owner claim across instances, storage).
 */
export function peerSecret(): string {
  const secret = process.env.JWT_SECRET;
  if (!secret) throw new Error("JWT_SECRET must be set for a bench peer");
  return secret;
}

const codec = accessTokenCodec(peerSecret());

// The bench ends a peer with SIGTERM: exiting through `process.exit` (not the signal's default)
// lets Node write the profile that `BENCH_SERVER_NODE_ARGS="--cpu-prof"` asked for.
process.once("SIGTERM", () => process.exit(0));

/** The user id the token was issued to, or null when the token is invalid, expired or names another user. */
export async function verifiedUser(token: string | undefined, expectedUserId: number): Promise<number | null> {
  if (!token) return null;
  const decoded = codec.verify(token);
  if (!decoded.ok) return null;
  const userId = Number(decoded.payload.sub);
  return userId === expectedUserId ? userId : null;
}

/** What a peer prints once it listens, for the bench to read its port. */
export function announceListening(port: number): void {
  process.stdout.write(`listening ${port}\n`);
}
