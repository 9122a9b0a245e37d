/**
 * `run v2 install [ns:pkg[@range]...] [--dev] [--production] [--offline]`.
 * With packages, first changes their lines of run.toml. Then: run.lock
 * answers when it can (no network at all), else the registry resolves, then
 * everything needed is put in the cache and in .run/components.
 */
import fs from "node:fs/promises";
import type { Command } from "commander";
import { type DependencyTable, type LockedComponent, nameProblem, rangeProblem, setDependency } from "@wasm-registry/core";
import { lockedClosure, latestVersion } from "@wasm-registry/core";
import { ComponentCache } from "../cache.js";
import { CliError, UsageError } from "../errors.js";
import { installComponents } from "../installer.js";
import { green, note, out, warn } from "../output.js";
import { type Project, loadProject, parseManifestText, readLockfile, writeLockfile } from "../project.js";
import { RegistryClient } from "../registry-client.js";
import { pinsOf, resolveWithRegistry, rootRequirements, subsetFor } from "../resolver.js";
import { registrySettings } from "../settings.js";

interface InstallFlags {
  dev?: boolean;
  production?: boolean;
  offline?: boolean;
  registryUrl?: string;
}

export function registerInstall(program: Command): void {
  program
    .command("install")
    .description("install the dependencies of run.toml, or add one and install")
    .argument("[packages...]", "ns:pkg or ns:pkg@range to add to run.toml, one or more (a bare version such as 1.2.0 means ^1.2.0)")
    .option("--dev", "add the package to [dev-dependencies] instead of [dependencies]")
    .option("--production", "skip [dev-dependencies]")
    .option("--offline", "use only run.lock and the cache; never contact the registry")
    .option("--registry-url <url>", "registry to use (beats RUN_REGISTRY_URL and run.toml)")
    .action(async (specs: string[], flags: InstallFlags) => {
      if (flags.dev && specs.length === 0) throw new UsageError("--dev needs a package to add, e.g. run v2 install test:mock --dev");
      if (specs.length > 0 && flags.offline) throw new UsageError("adding a package needs the registry; drop --offline");
      let project = await loadProject();
      const client = lazyClient(project, flags);
      let newManifestText: string | undefined;
      // Each package edits the text the one before it left; the file is written once, after the install worked.
      for (const spec of specs) {
        newManifestText = await addDependency(project, spec, flags.dev ? "dev-dependencies" : "dependencies", client);
        project = { ...project, manifestText: newManifestText, manifest: parseManifestText(newManifestText, project.manifestPath) };
      }
      const components = await lockedOrResolved(project, flags.offline === true, client);
      const wanted = flags.production ? subsetFor(rootRequirements(project.manifest, { dev: false }), components) : components;
      const outcome = await installComponents(wanted, { dir: project.dir, cache: new ComponentCache(), client: () => (flags.offline ? undefined : client()) });
      // run.toml changes only once the new dependency really installed.
      if (newManifestText !== undefined) await fs.writeFile(project.manifestPath, newManifestText);
      const lockChanged = await writeLockfile(project.dir, components);
      out(
        `${green("installed")} ${wanted.length} component${wanted.length === 1 ? "" : "s"} ` +
          `(${outcome.downloaded} downloaded, ${outcome.fromCache} from the cache)${lockChanged ? "; run.lock updated" : ""}`,
      );
    });
}

/** The registry client, made on first use: an install that needs no network builds none. */
export function lazyClient(project: Project, flags: { registryUrl?: string }): () => RegistryClient {
  let client: RegistryClient | undefined;
  return () => (client ??= new RegistryClient(registrySettings(flags, project.manifest)));
}

/** Edits run.toml's text for `ns:pkg[@range]` and returns the new text (not yet written). */
async function addDependency(project: Project, spec: string, table: DependencyTable, client: () => RegistryClient): Promise<string> {
  const at = spec.indexOf("@");
  const name = at === -1 ? spec : spec.slice(0, at);
  let written = at === -1 ? undefined : spec.slice(at + 1);
  const badName = nameProblem(name);
  if (badName) throw new UsageError(badName);
  if (written !== undefined) {
    const badRange = rangeProblem(written);
    if (badRange) throw new UsageError(`${name}: ${badRange}`);
  } else {
    const registry = client();
    const list = await registry.versionList(name);
    if (!list || list.versions.length === 0) throw new CliError(`${name} is not published on the registry at ${registry.url}`);
    const yanked = new Set(list.yanked ?? []);
    const live = list.versions.filter((v) => !yanked.has(v));
    if (live.length === 0) {
      throw new CliError(`every version of ${name} is yanked on ${registry.url}; name one explicitly (e.g. ${name}@${latestVersion(list.versions)}) if you really want it`);
    }
    written = latestVersion(live)!;
  }
  try {
    return setDependency(project.manifestText, table, name, written);
  } catch (error) {
    throw new CliError(`${project.manifestPath}: ${(error as Error).message}`);
  }
}

/** What run.lock pins when it covers run.toml; otherwise a fresh resolution (never when offline). */
async function lockedOrResolved(project: Project, offline: boolean, client: () => RegistryClient): Promise<LockedComponent[]> {
  const roots = rootRequirements(project.manifest, { dev: true });
  const lock = await readLockfile(project.dir);
  if (lock && !lock.checksumOk) {
    warn("run.lock does not match its checksum (it was edited by hand), so it is not trusted; resolving again from the registry");
    if (offline) throw new CliError("run.lock was edited by hand and --offline forbids resolving again; drop --offline or restore run.lock");
  }
  if (lock?.checksumOk) {
    const locked = lockedClosure(roots, lock.components);
    if ("components" in locked) return locked.components;
    if (offline) throw new CliError(`--offline, but run.lock does not cover run.toml: ${locked.problem}; install once without --offline`);
    note(`run.lock is out of date (${locked.problem}); resolving`);
  } else if (offline) {
    throw new CliError("--offline, but there is no run.lock to install from; install once without --offline");
  }
  return resolveWithRegistry(roots, client(), pinsOf(lock));
}
