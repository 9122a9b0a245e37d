/**
 * `run v2 update [ns:pkg]`: resolves again ignoring run.lock's pins (all of
 * them, or only the named package's), prints each change, installs, and
 * rewrites run.lock.
 */
import type { Command } from "commander";
import { type LockedComponent, nameProblem } from "@wasm-registry/core";
import { ComponentCache } from "../cache.js";
import { CliError, UsageError } from "../errors.js";
import { installComponents } from "../installer.js";
import { green, out, warn } from "../output.js";
import { loadProject, readLockfile, writeLockfile } from "../project.js";
import { pinsOf, resolveWithRegistry, rootRequirements } from "../resolver.js";
import { lazyClient } from "./install.js";

export function registerUpdate(program: Command): void {
  program
    .command("update")
    .description("move dependencies to the newest versions that run.toml's ranges allow")
    .argument("[package]", "update only this package (ns:pkg)")
    .option("--registry-url <url>", "registry to use (beats RUN_REGISTRY_URL and run.toml)")
    .action(async (name: string | undefined, flags: { registryUrl?: string }) => {
      if (name !== undefined) {
        const bad = nameProblem(name);
        if (bad) throw new UsageError(bad);
      }
      const project = await loadProject();
      const lock = await readLockfile(project.dir);
      if (lock && !lock.checksumOk) {
        warn("run.lock does not match its checksum (it was edited by hand), so none of its pins are kept; resolving everything again");
      }
      const before = lock?.checksumOk ? lock.components : [];
      const pins = pinsOf(lock);
      if (name !== undefined) {
        const declared = [...project.manifest.dependencies, ...project.manifest.devDependencies].some((d) => d.name === name);
        if (!declared && !pins.has(name)) throw new CliError(`${name} is not a dependency of this project (not in run.toml nor run.lock)`);
        pins.delete(name);
      } else {
        pins.clear();
      }
      const client = lazyClient(project, flags);
      const after = await resolveWithRegistry(rootRequirements(project.manifest, { dev: true }), client(), pins);
      const changes = describeChanges(before, after);
      await installComponents(after, { dir: project.dir, cache: new ComponentCache(), client });
      await writeLockfile(project.dir, after);
      if (changes.length === 0) out("everything is up to date");
      for (const line of changes) out(line);
      if (changes.length > 0) out(`${green("updated")} ${changes.length} component${changes.length === 1 ? "" : "s"}`);
    });
}

/** `bob:math 1.1.0 -> 1.2.0` per changed package, `+`/`-` for added and removed ones, sorted by name. */
export function describeChanges(before: readonly LockedComponent[], after: readonly LockedComponent[]): string[] {
  const old = new Map(before.map((c) => [c.name, c.version]));
  const now = new Map(after.map((c) => [c.name, c.version]));
  const names = [...new Set([...old.keys(), ...now.keys()])].sort();
  const lines: string[] = [];
  for (const name of names) {
    const [a, b] = [old.get(name), now.get(name)];
    if (a === b) continue;
    if (a === undefined) lines.push(`${name} (new) -> ${b}`);
    else if (b === undefined) lines.push(`${name} ${a} -> (removed)`);
    else lines.push(`${name} ${a} -> ${b}`);
  }
  return lines;
}
