import ipaddr from "ipaddr.js";

/**
 * The address the login limits count a client under. IPv4 (and IPv4-mapped IPv6, as Node
 * reports IPv4 peers on a dual-stack socket) counts per address; IPv6 per /64, because one
 * subscriber usually holds a whole /64 and could otherwise take a fresh address per guess
 * (RFC 6177 §3; OWASP Credential Stuffing Prevention, "IP-based" mitigations).
 */
export const IPV6_PREFIX_LENGTH = 64;

export function clientAddressKey(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip);
  if (address.kind() === "ipv4") return address.toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/${IPV6_PREFIX_LENGTH}`).toString()}/${IPV6_PREFIX_LENGTH}`;
}
