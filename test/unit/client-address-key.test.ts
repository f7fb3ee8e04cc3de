import { describe, expect, it } from "vitest";
import { clientAddressKey } from "../../server/src/http/client-address.js";

describe("clientAddressKey (what the login limits count a client under)", () => {
  it("keeps an IPv4 address, also when Node reports it IPv4-mapped", () => {
    expect(clientAddressKey("203.0.113.7")).toBe("203.0.113.7");
    expect(clientAddressKey("::ffff:203.0.113.7")).toBe("203.0.113.7");
  });

  it("counts IPv6 per /64, so rotating the interface id does not give fresh counters", () => {
    const first = clientAddressKey("2001:db8:aa:bb:1111:2222:3333:4444");
    expect(first).toBe("2001:db8:aa:bb::/64");
    expect(clientAddressKey("2001:db8:aa:bb::9")).toBe(first);
    expect(clientAddressKey("2001:db8:aa:bc::9")).not.toBe(first);
    expect(clientAddressKey("::1")).toBe("::/64");
  });

  it("passes anything that is not an address through unchanged", () => {
    expect(clientAddressKey("unknown")).toBe("unknown");
  });
});
