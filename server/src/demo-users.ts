import { hashPassword } from "./auth/passwords.js";
import type { Store } from "./store/store.js";

export const DEMO_USERS = [
  { username: "alice", displayName: "Alice Chen", email: "alice@example.com", phone: "13800001111", role: "user", permissions: ["chat"] },
  { username: "bob", displayName: "Bob Li", email: "bob@example.com", phone: "13900002222", role: "user", permissions: ["chat"] },
  { username: "carol", displayName: "Carol Wang", email: "carol@example.com", phone: "13700003333", role: "admin", permissions: ["chat", "admin:roles"] },
] as const;

/**
 * Start-up wiring, not storage: the demo users a development server seeds (never in production;
 * `SEED_DEMO_USERS=false` skips them). Existing users are left as they are.
 */
export async function seedDemoUsers(store: Store, password: string): Promise<void> {
  const passwordHash = await hashPassword(password);
  for (const user of DEMO_USERS) {
    await store.createUser({ ...user, permissions: [...user.permissions], passwordHash });
  }
}
