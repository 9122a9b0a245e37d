/**
 * End-to-end helpers: a real registry on a loopback port (the server's own
 * test helper), fixtures published over HTTP, and the real `run` command run
 * as a child process in temporary project and cache folders.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ADMIN_TOKEN, componentBytes, publish, startRegistry } from "@wasm-registry/server/dist/testkit/helpers.js";

export { ADMIN_TOKEN, ALICE_TOKEN, BOB_TOKEN, componentBytes, startRegistry } from "@wasm-registry/server/dist/testkit/helpers.js";

/** dist/test/helpers.js -> dist/src/main.js */
export const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "src", "main.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** A project folder with this run.toml and a cache folder of its own (unless one is given to share). */
export async function makeProject(toml: string, cache?: string): Promise<{ dir: string; cache: string }> {
  const dir = await tempDir("run-project-");
  await fs.writeFile(path.join(dir, "run.toml"), toml);
  return { dir, cache: cache ?? (await tempDir("run-cache-")) };
}

/**
 * Runs the CLI with a clean environment: nothing of the caller's RUN_* or
 * cache settings leaks in, and HOME is a temp folder, so the test sees only
 * what it sets up.
 */
export function runCli(
  args: string[],
  options: { cwd: string; cache: string; env?: Record<string, string>; input?: string },
): Promise<CliResult> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: options.cache,
    XDG_CACHE_HOME: options.cache,
    NO_COLOR: "1",
    ...options.env,
  };
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { cwd: options.cwd, env, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
    // Standard input, when given, is written and closed (as `cmd < file` does).
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** A URL where nothing listens: a port that was free a moment ago, on loopback. */
export async function deadUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

export interface Fixture {
  name: string;
  version: string;
  dependencies?: { name: string; version: string; optional?: boolean }[];
  description?: string;
}

/** Publishes fixtures with the admin token; each gets distinct bytes. */
export async function publishAll(url: string, fixtures: Fixture[]): Promise<void> {
  let seed = 1000;
  for (const f of fixtures) {
    const fields: Record<string, string> = { name: f.name, version: f.version, dependencies: JSON.stringify(f.dependencies ?? []) };
    if (f.description) fields.description = f.description;
    const response = await publish(url, componentBytes(seed++), { token: ADMIN_TOKEN, fields });
    if (response.status !== 201) throw new Error(`fixture ${f.name}@${f.version}: ${response.status} ${await response.text()}`);
  }
}

/** The path of a cached component, as the CLI lays the cache out. */
export function cachedPath(cache: string, sha256: string): string {
  return path.join(cache, "run", "components", "sha256", sha256);
}

export async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false);
}

/** No user-facing failure may show a stack trace. */
export function noStack(result: CliResult): boolean {
  return !/\n\s+at .+:\d+:\d+/.test(result.stderr + result.stdout);
}
