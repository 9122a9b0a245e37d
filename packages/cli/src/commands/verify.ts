/**
 * `run v2 verify [--offline] [--production]`: every component of run.lock (or,
 * with --production, those that `install --production` puts in place), checked against
 * its sha256 in the cache and in .run/components; online, also against what
 * the registry says the digest is. Prints OK, CORRUPTED or MISSING for each;
 * exits 1 if any is not OK (or the lockfile itself was edited by hand).
 *
 * A component missing only from the cache is OK: the cache is shared and may
 * be cleaned, while the project's installed copy is what it runs.
 */
import type { Command } from "commander";
import { lockKey } from "@wasm-registry/core";
import { ComponentCache, type CopyState, checkFile } from "../cache.js";
import { CliError } from "../errors.js";
import { green, json, out, red, warn, yellow } from "../output.js";
import { installedPath, loadProject, readLockfile } from "../project.js";
import { HttpError } from "../registry-client.js";
import { rootRequirements, subsetFor } from "../resolver.js";
import { lazyClient } from "./install.js";

type Status = "OK" | "CORRUPTED" | "MISSING";

interface Finding {
  name: string;
  version: string;
  sha256: string;
  status: Status;
  cache: CopyState;
  installed: CopyState;
  registry: "ok" | "differs" | "unknown" | "not checked";
  /** Needed only by [dev-dependencies]: `install --production` leaves it out. */
  devOnly: boolean;
}

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .description("check every component of run.lock against its sha256")
    .option("--offline", "check local files only; do not ask the registry")
    .option("--production", "check only what `install --production` installs (no [dev-dependencies])")
    .option("--json", "print JSON")
    .option("--registry-url <url>", "registry to ask (beats RUN_REGISTRY_URL and run.toml)")
    .action(async (flags: { offline?: boolean; production?: boolean; json?: boolean; registryUrl?: string }) => {
      const project = await loadProject();
      const lock = await readLockfile(project.dir);
      if (!lock) throw new CliError("there is no run.lock to verify; run `run v2 install` first");
      const cache = new ComponentCache();
      const client = lazyClient(project, flags);
      const production = new Set(subsetFor(rootRequirements(project.manifest, { dev: false }), lock.components).map((c) => lockKey(c.name, c.version)));
      const checked = flags.production ? lock.components.filter((c) => production.has(lockKey(c.name, c.version))) : lock.components;
      const findings: Finding[] = [];
      for (const c of checked) {
        const cacheState = await cache.check(c.sha256);
        const installed = await checkFile(installedPath(project.dir, c.name, c.version), c.sha256);
        let registry: Finding["registry"] = "not checked";
        if (!flags.offline) {
          try {
            registry = (await client().metadata(c.name, c.version)).sha256 === c.sha256 ? "ok" : "differs";
          } catch (error) {
            if (!(error instanceof HttpError) && !(error instanceof CliError && /is not on the registry/.test(error.message))) {
              throw new CliError(`${(error as Error).message}; use --offline to check the local files only`);
            }
            registry = "unknown";
          }
        }
        const status: Status =
          cacheState === "corrupted" || installed === "corrupted" || registry === "differs" ? "CORRUPTED" : installed === "missing" ? "MISSING" : "OK";
        const devOnly = !production.has(lockKey(c.name, c.version));
        findings.push({ name: c.name, version: c.version, sha256: c.sha256, status, cache: cacheState, installed, registry, devOnly });
      }
      const ok = lock.checksumOk && findings.every((f) => f.status === "OK");
      if (flags.json) {
        json({ ok, lockfile_checksum_ok: lock.checksumOk, components: findings });
      } else {
        if (!lock.checksumOk) warn("run.lock does not match its checksum: it was edited by hand, so its sha256 values are not trustworthy");
        for (const f of findings) {
          const colour = f.status === "OK" ? green : f.status === "MISSING" ? yellow : red;
          out(`${colour(f.status.padEnd(9))} ${lockKey(f.name, f.version)}${detail(f)}`);
        }
        out(ok ? verified(findings.length) : "verification failed");
      }
      if (!ok) process.exitCode = 1;
    });
}

function verified(count: number): string {
  if (count === 0) return "nothing to verify: run.lock lists no components";
  return count === 1 ? "the 1 component verified" : `all ${count} components verified`;
}

function detail(f: Finding): string {
  const parts: string[] = [];
  if (f.cache !== "ok") parts.push(`cache: ${f.cache}`);
  if (f.installed !== "ok") parts.push(`.run/components: ${f.installed}`);
  if (f.registry === "differs") parts.push("the registry has a different sha256 for this version");
  if (f.registry === "unknown") parts.push("the registry does not know this version");
  if (f.status === "MISSING" && f.devOnly) parts.push("a dev-dependency: after `install --production`, check with `verify --production`");
  return parts.length > 0 ? `  (${parts.join("; ")})` : "";
}
