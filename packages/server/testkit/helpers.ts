/**
 * Test helpers: a real registry on a loopback port, on a fresh data folder,
 * and a multipart publish that speaks HTTP as a client would.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { sha256Hex } from "@wasm-registry/core";
import { buildRegistry, type Registry } from "../src/app.js";
import { bootstrapTokens } from "../src/auth.js";
import { loadConfig } from "../src/config.js";
import { openStores } from "../src/store/index.js";

export const ADMIN_TOKEN = "admin-secret-token";
export const ALICE_TOKEN = "alice-secret-token";
export const BOB_TOKEN = "bob-secret-token";

export interface RunningRegistry {
  url: string;
  dataDir: string;
  /** Where uploads in progress are staged (a temp folder with S3). */
  stagingDir: string;
  registry: Registry;
  generatedToken: string | undefined;
  stop(): Promise<void>;
}

export async function tempDir(prefix = "registry-test-"): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Starts a registry in this process, listening on 127.0.0.1 on a free port. */
export async function startRegistry(env: Record<string, string> = {}, dataDir?: string): Promise<RunningRegistry> {
  const dir = dataDir ?? (await tempDir());
  const config = loadConfig({
    DATA_DIR: dir,
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    REGISTRY_ADMIN_TOKEN: ADMIN_TOKEN,
    REGISTRY_TOKENS: `alice:${ALICE_TOKEN},bob:${BOB_TOKEN}`,
    ...env,
  });
  const stores = await openStores(config);
  const generatedToken = await bootstrapTokens(config, stores.metadata);
  const registry = await buildRegistry(config, stores);
  const address = await registry.listen();
  let stopped = false;
  return {
    url: address,
    dataDir: dir,
    stagingDir: stores.blobs.stagingDir,
    registry,
    generatedToken,
    async stop() {
      if (stopped) return;
      stopped = true;
      await registry.close();
    },
  };
}

export interface PublishOptions {
  token?: string | undefined;
  fileField?: string;
  fileName?: string;
  fields?: Record<string, string>;
}

/** POSTs a multipart publish with fetch, the way a client does. */
export async function publish(url: string, bytes: Uint8Array | undefined, options: PublishOptions = {}): Promise<Response> {
  const form = new FormData();
  for (const [key, value] of Object.entries(options.fields ?? {})) form.append(key, value);
  if (bytes) form.append(options.fileField ?? "component", new Blob([new Uint8Array(bytes)]), options.fileName ?? "component.wasm");
  const headers: Record<string, string> = {};
  const token = "token" in options ? options.token : ADMIN_TOKEN;
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return fetch(`${url}/api/v1/packages`, { method: "POST", body: form, headers });
}

/**
 * The bytes of a minimal valid component: the component preamble and one
 * custom section, an empty world (inspection accepts it: see
 * components.test.ts). For components with a real world, see ./fixtures.ts.
 */
export function componentBytes(seed = 0): Uint8Array {
  const preamble = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
  // A custom section named "seed" makes each fixture's digest different.
  const payload = new TextEncoder().encode(`fixture-${seed}`);
  const name = new TextEncoder().encode("seed");
  const body = [name.length, ...name, ...payload];
  return Uint8Array.from([...preamble, 0x00, body.length, ...body]);
}

/** A valid component of exactly `size` bytes (at least 16): componentBytes' custom section, padded. */
export function componentOfSize(size: number): Uint8Array {
  const name = new TextEncoder().encode("pad");
  // preamble (8) + section id (1) + body length (LEB128) + body (name length, name, padding)
  for (let lengthBytes = 1; lengthBytes <= 5; lengthBytes++) {
    const body = size - 9 - lengthBytes;
    const encoded = leb128(body);
    if (encoded.length !== lengthBytes) continue;
    const bytes = new Uint8Array(size);
    bytes.set([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x00, ...encoded, name.length, ...name]);
    return bytes;
  }
  throw new Error(`no component of exactly ${size} bytes`);
}

function leb128(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

export async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await response.json()) as { error: { code: string; message: string } };
  return { status: response.status, code: body.error.code, message: body.error.message };
}

/**
 * What the embedded store holds: every table's rows and every file under the
 * data folder except SQLite's own journal files, which change on reads too.
 * Equal snapshots before and after a refused request show it changed nothing.
 */
export async function snapshotStore(dataDir: string): Promise<string> {
  const db = new Database(path.join(dataDir, "registry.db"), { readonly: true });
  const tables = db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'packages_fts_%' ORDER BY name")
    .all()
    .map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}"`).all()]);
  db.close();
  const files: [string, string][] = [];
  const walk = async (folder: string) => {
    for (const entry of await fs.readdir(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (!/registry\.db(-wal|-shm)?$/.test(entry.name)) files.push([path.relative(dataDir, full), sha256Hex(await fs.readFile(full))]);
    }
  };
  await walk(dataDir);
  // The uptime heartbeat is the one row that changes with time alone.
  return sha256Hex(JSON.stringify({ tables: tables.filter(([name]) => name !== "uptime"), files: files.sort() }));
}
