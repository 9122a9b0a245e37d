/**
 * The project's side of resolution: which requirements run.toml makes, when
 * run.lock alone can answer, and the registry as the resolver's source.
 * The algorithm itself is pure and lives in @wasm-registry/core.
 */
import {
  type LockedComponent,
  type Manifest,
  type PackageSource,
  type ParsedLockfile,
  type Requirement,
  ResolveError,
  lockedClosure,
  resolve,
} from "@wasm-registry/core";
import { CliError } from "./errors.js";
import type { RegistryClient } from "./registry-client.js";

export function rootRequirements(manifest: Manifest, options: { dev: boolean }): Requirement[] {
  const roots = manifest.dependencies.map((d) => ({ name: d.name, range: d.range, requiredBy: "run.toml [dependencies]" }));
  if (options.dev) {
    roots.push(...manifest.devDependencies.map((d) => ({ name: d.name, range: d.range, requiredBy: "run.toml [dev-dependencies]" })));
  }
  return roots;
}

export function registrySource(client: RegistryClient): PackageSource {
  // One request per package answers both the versions and which are yanked.
  const lists = new Map<string, ReturnType<RegistryClient["versionList"]>>();
  const listOf = (name: string) => {
    let list = lists.get(name);
    if (!list) lists.set(name, (list = client.versionList(name)));
    return list;
  };
  return {
    versions: async (name) => (await listOf(name))?.versions,
    yanked: async (name) => (await listOf(name))?.yanked ?? [],
    metadata: async (name, version) => {
      const meta = await client.metadata(name, version);
      return { sha256: meta.sha256, dependencies: meta.dependencies ?? [] };
    },
  };
}

/** Resolves against the registry, keeping the `preferred` versions where they still fit. */
export async function resolveWithRegistry(
  roots: Requirement[],
  client: RegistryClient,
  preferred: ReadonlyMap<string, string>,
): Promise<LockedComponent[]> {
  try {
    return await resolve(roots, registrySource(client), preferred);
  } catch (error) {
    if (error instanceof ResolveError) throw new CliError(`${error.message} (registry ${client.url})`);
    throw error;
  }
}

/** The lockfile's pins, or none when the lockfile is absent or was edited by hand. */
export function pinsOf(lock: ParsedLockfile | undefined): Map<string, string> {
  if (!lock?.checksumOk) return new Map();
  return new Map(lock.components.map((c) => [c.name, c.version]));
}

/** The part of `components` that `roots` need (e.g. without dev-dependencies). */
export function subsetFor(roots: Requirement[], components: LockedComponent[]): LockedComponent[] {
  const found = lockedClosure(roots, components);
  if ("problem" in found) throw new CliError(`internal: the resolution lacks what run.toml needs (${found.problem})`);
  return found.components;
}
