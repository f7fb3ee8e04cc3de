import { createHash } from "node:crypto";

/**
 * Masking for logs: personal data never reaches a log line in clear.
 * `alice@example.com` → `a***@example.com`; `13812341234` → `138****1234`.
 */

const EMAIL = /([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/g;
// 7+ digit runs (phones), optionally with a leading +country code; keeps the first 3 and last 4.
const PHONE = /(\+?\d{3})\d{1,8}(\d{4})(?!\d)/g;
// JWTs and our opaque refresh tokens.
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g;

export function maskEmail(email: string): string {
  return email.replace(EMAIL, "$1***@$2");
}

export function maskPhone(phone: string): string {
  return phone.replace(PHONE, (_m, head: string, tail: string) => `${head}****${tail}`);
}

/** Masks e-mails, phone numbers and JWTs anywhere in a string. */
export function maskText(text: string): string {
  return maskPhone(maskEmail(text.replace(JWT, "[token]")));
}

/** A short stable hash to identify a value in logs without showing it. */
export function valueHash(value: Buffer | string): string {
  return createHash("sha256").update(value).digest("hex").slice(0, 16);
}

/** A masked preview of at most `max` bytes of a value (bytes shown as escaped text). */
export function maskedPreview(value: Buffer | string, max = 100): string {
  const buf = typeof value === "string" ? Buffer.from(value) : value;
  const text = buf.subarray(0, max).toString("latin1").replace(/[^\x20-\x7e]/g, ".");
  return maskText(text).slice(0, max);
}
