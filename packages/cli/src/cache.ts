/**
 * The user's component cache, shared by every project: files named by their
 * SHA-256, so two projects that need the same bytes download them once and a
 * name can never point at the wrong content. A file is checked against its
 * digest before it is written and written by rename, so the cache never
 * holds half a file or a file under the wrong name.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CliError } from "./errors.js";
import { sha256Hex } from "@wasm-registry/core";

export type CopyState = "ok" | "corrupted" | "missing";

export function cacheRoot(env = process.env): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), ".cache");
  return path.join(base, "run", "components", "sha256");
}

export class DigestMismatch extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`expected sha256 ${expected}, got ${actual}`);
  }
}

export class ComponentCache {
  constructor(readonly root = cacheRoot()) {}

  pathOf(sha256: string): string {
    return path.join(this.root, sha256);
  }

  /** Whether the cached copy is there and still has the bytes its name promises. */
  async check(sha256: string): Promise<CopyState> {
    return checkFile(this.pathOf(sha256), sha256);
  }

  /** Writes bytes under their digest; refuses (writing nothing) when they are not what `sha256` says. */
  async put(sha256: string, bytes: Uint8Array): Promise<string> {
    const actual = sha256Hex(bytes);
    if (actual !== sha256) throw new DigestMismatch(sha256, actual);
    return writeAtomic(this.pathOf(sha256), bytes);
  }
}

export async function checkFile(file: string, sha256: string): Promise<CopyState> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (code === "ENOENT") return "missing";
    // Node's read error names no path: name it here.
    if (code === "EISDIR") throw new CliError(`${file} is a folder, where a component file belongs; remove it and run the command again`);
    throw error;
  }
  return sha256Hex(bytes) === sha256 ? "ok" : "corrupted";
}

/** Copies `from` to `to` through a temp file and a rename. */
export async function copyAtomic(from: string, to: string): Promise<void> {
  await fs.mkdir(path.dirname(to), { recursive: true });
  const temp = `${to}.${randomUUID()}.tmp`;
  try {
    await fs.copyFile(from, temp);
    await fs.rename(temp, to);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

async function writeAtomic(file: string, bytes: Uint8Array): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  // Unique temp names: two installs may fill the same shared cache at once.
  const temp = `${file}.${randomUUID()}.tmp`;
  try {
    await fs.writeFile(temp, bytes);
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
  return file;
}
