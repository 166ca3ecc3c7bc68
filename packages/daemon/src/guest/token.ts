import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** 32 random bytes, base64url. */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * Constant-time and length-independent: both sides are hashed to 32 bytes before the
 * comparison, so neither the content nor the length of the presented token leaks.
 */
export function tokenMatches(presented: string, expectedHash: string): boolean {
  const a = createHash("sha256").update(presented, "utf8").digest();
  const b = Buffer.from(expectedHash, "hex");
  return b.length === a.length && timingSafeEqual(a, b);
}
