import { createHash } from "node:crypto";

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Lowercase hex SHA-256 of some bytes or text. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export function isSha256Hex(text: string): boolean {
  return SHA256_HEX.test(text);
}
