/**
 * Dependency resolution, without any network: the registry is reached
 * through a PackageSource that the caller supplies. One version per package
 * (a component graph links each package once), the highest that every range
 * allows, prereleases only when a range names one (semver's own rule), and a
 * preferred (locked) version kept while it still satisfies. Yanked versions
 * are never picked for a range, but a preferred (locked) one stays: yanking
 * does not break the lockfiles that pin it (cargo's rule).
 */
import semver from "semver";
import type { Dependency } from "./wire.js";
import { type LockedComponent, lockKey } from "./lockfile.js";

export interface Requirement {
  name: string;
  range: string;
  /** Who asks, for error messages: `run.toml` or `name@version`. */
  requiredBy: string;
}

export interface PackageSource {
  /** Every published version, or undefined when the package is unknown. */
  versions(name: string): Promise<string[] | undefined>;
  metadata(name: string, version: string): Promise<{ sha256: string; dependencies: Dependency[] }>;
  /** The yanked ones among `versions`; a source without it has none. */
  yanked?(name: string): Promise<readonly string[]>;
}

export class ResolveError extends Error {}

/** Rounds of re-picking before giving up; real graphs settle in two or three. */
const MAX_ROUNDS = 100;

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function describeRequirement(r: Requirement): string {
  return `${r.range} (required by ${r.requiredBy})`;
}

function conflictMessage(name: string, requirements: Requirement[], versions: string[], yanked: ReadonlySet<string>): string {
  const withYanked = [...versions, ...yanked];
  const published = semver.sort([...withYanked]).slice(-10).map((v) => (yanked.has(v) ? `${v} (yanked)` : v));
  const shown = published.length > 0 ? `published versions: ${published.join(", ")}` : "it has no versions";
  for (const r of requirements) {
    if (!versions.some((v) => semver.satisfies(v, r.range))) {
      return `no version of ${name} matches ${describeRequirement(r)}; ${shown}`;
    }
  }
  for (let i = 0; i < requirements.length; i++) {
    for (let j = i + 1; j < requirements.length; j++) {
      const [a, b] = [requirements[i]!, requirements[j]!];
      if (!versions.some((v) => semver.satisfies(v, a.range) && semver.satisfies(v, b.range))) {
        return `no single version of ${name} satisfies both ${describeRequirement(a)} and ${describeRequirement(b)}; ${shown}`;
      }
    }
  }
  return `no single version of ${name} satisfies all of ${requirements.map(describeRequirement).join(", ")}; ${shown}`;
}

/**
 * Resolves the roots and everything they need. Optional dependencies of
 * published components are left out: the publisher marked them as not needed.
 */
export async function resolve(
  roots: readonly Requirement[],
  source: PackageSource,
  preferred: ReadonlyMap<string, string> = new Map(),
): Promise<LockedComponent[]> {
  const versionsOf = memo((name: string) => source.versions(name));
  const yankedOf = memo(async (name: string) => new Set(source.yanked ? await source.yanked(name) : []));
  const metadataOf = memo((key: string) => {
    const at = key.lastIndexOf("@");
    return source.metadata(key.slice(0, at), key.slice(at + 1));
  });
  const choice = new Map<string, string>();

  for (let round = 0; round < MAX_ROUNDS; round++) {
    // Every requirement reachable from the roots through the current choices.
    const requirements = new Map<string, Requirement[]>();
    const expanded = new Set<string>();
    let frontier = [...roots];
    while (frontier.length > 0) {
      const next: Requirement[] = [];
      for (const r of frontier) {
        const list = requirements.get(r.name) ?? [];
        list.push(r);
        requirements.set(r.name, list);
        const chosen = choice.get(r.name);
        if (chosen === undefined || expanded.has(r.name)) continue;
        expanded.add(r.name);
        const { dependencies } = await metadataOf(lockKey(r.name, chosen));
        for (const d of dependencies) {
          if (!d.optional) next.push({ name: d.name, range: d.version, requiredBy: lockKey(r.name, chosen) });
        }
      }
      frontier = next;
    }

    let changed = false;
    for (const name of [...requirements.keys()].sort(byName)) {
      const wanted = requirements.get(name)!;
      const fits = (v: string) => wanted.every((r) => semver.satisfies(v, r.range));
      const current = choice.get(name);
      if (current !== undefined && fits(current)) continue;
      const versions = await versionsOf(name);
      if (versions === undefined) {
        throw new ResolveError(`${name} (required by ${wanted[0]!.requiredBy}) is not published on this registry`);
      }
      const pinned = preferred.get(name);
      const yanked = await yankedOf(name);
      const candidates = versions.filter((v) => !yanked.has(v));
      const pick = pinned !== undefined && versions.includes(pinned) && fits(pinned) ? pinned : semver.sort(candidates.filter(fits)).at(-1);
      if (pick === undefined) throw new ResolveError(conflictMessage(name, wanted, candidates, yanked));
      choice.set(name, pick);
      changed = true;
    }
    for (const name of [...choice.keys()]) if (!requirements.has(name)) choice.delete(name);
    if (changed) continue;

    const result: LockedComponent[] = [];
    for (const [name, version] of choice) {
      const meta = await metadataOf(lockKey(name, version));
      const dependencies = meta.dependencies.filter((d) => !d.optional).map((d) => lockKey(d.name, choice.get(d.name)!));
      result.push({ name, version, sha256: meta.sha256, dependencies });
    }
    return result;
  }
  throw new ResolveError(`the dependency graph did not settle after ${MAX_ROUNDS} rounds; pin the ranges in run.toml more tightly`);
}

/**
 * The locked components that the roots need, when the lockfile alone can
 * answer (no network): every root has a locked version in its range and every
 * locked dependency is present. Otherwise the reason it cannot.
 */
export function lockedClosure(
  roots: readonly Requirement[],
  locked: readonly LockedComponent[],
): { components: LockedComponent[] } | { problem: string } {
  const byKey = new Map(locked.map((c) => [lockKey(c.name, c.version), c]));
  const byPackage = new Map(locked.map((c) => [c.name, c]));
  const keep = new Map<string, LockedComponent>();
  const visit = (component: LockedComponent): string | undefined => {
    const key = lockKey(component.name, component.version);
    if (keep.has(key)) return undefined;
    keep.set(key, component);
    for (const dep of component.dependencies) {
      const found = byKey.get(dep);
      if (!found) return `${dep}, needed by ${key}, is not in run.lock`;
      const problem = visit(found);
      if (problem) return problem;
    }
    return undefined;
  };
  for (const root of roots) {
    const component = byPackage.get(root.name);
    if (!component) return { problem: `${root.name} is not in run.lock` };
    if (!semver.satisfies(component.version, root.range)) {
      return { problem: `run.lock has ${lockKey(root.name, component.version)}, outside ${root.range} (${root.requiredBy})` };
    }
    const problem = visit(component);
    if (problem) return { problem };
  }
  return { components: [...keep.values()] };
}

function memo<T>(load: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (key) => {
    let hit = cache.get(key);
    if (!hit) {
      hit = load(key);
      cache.set(key, hit);
    }
    return hit;
  };
}
