/**
 * The task module of `examples/password_hashing.ts`: PBKDF2-SHA-256 of one password, with Web
 * Crypto (asynchronous: Deno computes it on a thread of its own) and with `node:crypto`'s
 * `pbkdf2Sync` (synchronous: it holds the calling thread until done).
 *
 * @module
 */

import { pbkdf2Sync } from "node:crypto";

/** One password to hash. */
export interface HashJob {
  password: string;
  salt: string;
  iterations: number;
}

const encoder = new TextEncoder();

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** PBKDF2-SHA-256 with `crypto.subtle.deriveBits`: a 32-byte key, as hex. */
export async function hashPassword({ password, salt, iterations }: HashJob): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: encoder.encode(salt), iterations },
    key,
    256,
  );
  return hex(new Uint8Array(bits));
}

/** The same with `pbkdf2Sync`, which blocks the thread that calls it. */
export function hashPasswordSync({ password, salt, iterations }: HashJob): string {
  return hex(pbkdf2Sync(password, salt, iterations, 32, "sha256"));
}
