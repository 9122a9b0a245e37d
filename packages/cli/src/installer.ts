/**
 * Puts resolved components in place: each one into the shared cache (from
 * the registry when the cache lacks it or holds a damaged copy), then into
 * the project's .run/components. Downloads run a few at a time.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { type LockedComponent, lockKey } from "@wasm-registry/core";
import { ComponentCache, DigestMismatch, checkFile, copyAtomic } from "./cache.js";
import { CliError } from "./errors.js";
import { warn } from "./output.js";
import { Progress } from "./progress.js";
import { componentsDir, installedPath } from "./project.js";
import type { RegistryClient } from "./registry-client.js";

const PARALLEL_DOWNLOADS = 4;

export interface InstallOutcome {
  downloaded: number;
  fromCache: number;
}

export interface InstallOptions {
  dir: string;
  cache: ComponentCache;
  /** Undefined when offline: a component that the cache lacks is then an error. */
  client: () => RegistryClient | undefined;
}

export async function installComponents(components: readonly LockedComponent[], options: InstallOptions): Promise<InstallOutcome> {
  const { cache } = options;
  const toDownload: LockedComponent[] = [];
  for (const component of components) {
    const state = await cache.check(component.sha256);
    if (state === "corrupted") {
      warn(`the cached copy of ${lockKey(component.name, component.version)} (${cache.pathOf(component.sha256)}) does not match its sha256; fetching it again`);
    }
    if (state !== "ok") toDownload.push(component);
  }

  if (toDownload.length > 0) {
    const client = options.client();
    if (!client) {
      const names = toDownload.map((c) => lockKey(c.name, c.version)).join(", ");
      throw new CliError(`offline, and the cache has no good copy of ${names}; run the install again without --offline`);
    }
    const progress = new Progress(toDownload.length, "downloaded");
    try {
      await inParallel(toDownload, PARALLEL_DOWNLOADS, async (component) => {
        const label = lockKey(component.name, component.version);
        const bytes = await client.download(component.name, component.version, (received, total) => progress.bytes(label, received, total));
        try {
          await cache.put(component.sha256, bytes);
        } catch (error) {
          if (error instanceof DigestMismatch) {
            throw new CliError(
              `${label} from ${client.url} has sha256 ${error.actual}, but ${error.expected} was expected ` +
                `(pinned in run.lock, or given by the registry's metadata); nothing was written. Try again; if it persists, ` +
                `the registry serves other bytes than were published`,
            );
          }
          throw error;
        }
        progress.finished(label, bytes.length);
      });
    } finally {
      progress.end();
    }
  }

  for (const component of components) {
    const target = installedPath(options.dir, component.name, component.version);
    if ((await checkFile(target, component.sha256)) !== "ok") await copyAtomic(cache.pathOf(component.sha256), target);
  }
  await pruneInstalled(options.dir, new Set(components.map((c) => installedPath(options.dir, c.name, c.version))));
  return { downloaded: toDownload.length, fromCache: components.length - toDownload.length };
}

/** Removes installed components that are no longer wanted, so .run/components matches the install. */
async function pruneInstalled(dir: string, keep: Set<string>): Promise<void> {
  const walk = async (folder: string): Promise<void> => {
    const entries = await fs.readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.name.endsWith(".wasm") && !keep.has(full)) await fs.rm(full, { force: true });
    }
  };
  await walk(componentsDir(dir));
}

/** Runs `work` on every item with at most `limit` at once; the first failure is thrown after all settle. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
}
