/**
 * Package names and versions as the registry and the `run` command accept them.
 *
 * A name is `namespace:package`, both parts lowercase kebab-case words as in WIT
 * package names (`wasi:http`, `my-org:json-utils`); the package part may have `/`
 * segments (`run:calc/calculator`). Versions are strict semver.
 */
import semver from "semver";

/** Longest accepted package name, in characters. */
export const MAX_NAME_LENGTH = 128;

/** Longest accepted version string: semver allows more, nobody needs it. */
export const MAX_VERSION_LENGTH = 64;

/** Tags that other registries treat as mutable pointers; a version here never moves. */
const MUTABLE_TAGS = new Set(["latest", "dev", "stable", "next", "nightly", "head", "main", "master"]);

// A WIT identifier: words of a lowercase letter then lowercase letters or digits, joined by `-`.
const WORD = "[a-z][a-z0-9]*";
const IDENT = `${WORD}(?:-${WORD})*`;
const NAME_PATTERN = new RegExp(`^(${IDENT}):(${IDENT}(?:/${IDENT})*)$`);

export interface ParsedName {
  namespace: string;
  package: string;
}

/** Why a name is not acceptable, or null when it is. */
export function nameProblem(name: string): string | null {
  if (name.length === 0) return "the package name is empty; expected namespace:package, e.g. alice:calc";
  if (name.length > MAX_NAME_LENGTH) {
    return `the package name is ${name.length} characters long; at most ${MAX_NAME_LENGTH} are allowed`;
  }
  if (!name.includes(":")) {
    // Suggest the name itself under a namespace only where that would be valid.
    const example = NAME_PATTERN.test(`alice:${name}`) ? `alice:${name}` : "alice:calc";
    return `"${name}" has no namespace; expected namespace:package, e.g. ${example}`;
  }
  if (!NAME_PATTERN.test(name)) {
    return (
      `"${name}" is not a valid package name; expected namespace:package in lowercase ` +
      `kebab-case words (letters a-z, digits, single hyphens, each word starting with a letter), ` +
      `e.g. my-org:json-utils`
    );
  }
  return null;
}

export function isValidName(name: string): boolean {
  return nameProblem(name) === null;
}

/** Splits a valid name; throws on an invalid one. */
export function parseName(name: string): ParsedName {
  const match = NAME_PATTERN.exec(name);
  if (!match || name.length > MAX_NAME_LENGTH) throw new Error(nameProblem(name) ?? `invalid name ${name}`);
  return { namespace: match[1]!, package: match[2]! };
}

/** Why a version is not acceptable for publishing, or null when it is. */
export function versionProblem(version: string): string | null {
  if (version.length === 0) return "the version is empty; expected semver such as 1.0.0";
  if (MUTABLE_TAGS.has(version.toLowerCase())) {
    return `"${version}" is a mutable tag; published versions are immutable, so give an exact semver version such as 1.0.0`;
  }
  if (version.length > MAX_VERSION_LENGTH) {
    return `the version is ${version.length} characters long; at most ${MAX_VERSION_LENGTH} are allowed`;
  }
  const build = version.indexOf("+");
  // semver.valid drops build metadata it could parse: "1.0.0+b" gives "1.0.0", "1.0.0+" gives null.
  if (build !== -1 && semver.valid(version) === version.slice(0, build)) {
    // Semver ignores build metadata when ordering, so 1.0.0+a and 1.0.0+b could not be told apart by a range.
    return (
      `"${version}" has build metadata ("${version.slice(build)}"), which this registry does not accept: ` +
      `versions that differ only in it would be the same version to every range; publish it as ${version.slice(0, build)}`
    );
  }
  // semver.valid accepts a leading "v" and "=" in loose mode only; strict mode is the default.
  if (semver.valid(version) !== version) {
    return `"${version}" is not a semver version; expected MAJOR.MINOR.PATCH such as 1.2.3 or 2.0.0-beta.1`;
  }
  return null;
}

export function isValidVersion(version: string): boolean {
  return versionProblem(version) === null;
}

/** Why a dependency requirement is not a usable semver range, or null when it is. */
export function rangeProblem(range: string): string | null {
  if (range.length === 0) return "the version range is empty; use * for any version";
  if (range.length > MAX_VERSION_LENGTH * 2) return `the version range is longer than ${MAX_VERSION_LENGTH * 2} characters`;
  if (semver.validRange(range) === null) return `"${range}" is not a semver range (e.g. ^1.2.0, ~0.3, >=1.0.0 <2.0.0, *)`;
  return null;
}

/**
 * The version that counts as "latest": the highest release, or the highest
 * prerelease when a package has nothing else.
 */
export function latestVersion(versions: readonly string[]): string | undefined {
  const releases = versions.filter((v) => semver.prerelease(v) === null);
  const pool = releases.length > 0 ? releases : versions;
  return [...pool].sort(semver.rcompare)[0];
}

/** Sorts versions oldest first, by semver precedence. */
export function sortVersions(versions: readonly string[]): string[] {
  return [...versions].sort(semver.compare);
}
