/**
 * The `run.lock` codec. The same components always give the same bytes
 * (sorted, fixed layout), so a lockfile diff shows only real changes. A
 * checksum over the content catches hand edits, which must not be trusted:
 * the sha256 in this file is what every download is checked against.
 */
import semver from "semver";
import { TomlError, parse } from "smol-toml";
import { isSha256Hex, sha256Hex } from "./hash.js";
import { nameProblem, versionProblem } from "./names.js";

export const LOCKFILE_FILE = "run.lock";
export const LOCKFILE_VERSION = 1;

export interface LockedComponent {
  name: string;
  version: string;
  /** Lowercase hex SHA-256 of the component bytes. */
  sha256: string;
  /** The components this one needs, as `name@version`, sorted. */
  dependencies: string[];
}

export interface ParsedLockfile {
  components: LockedComponent[];
  /** False when the file was changed by hand after it was written. */
  checksumOk: boolean;
  checksumInFile: string | undefined;
  checksumOfContent: string;
}

export class LockfileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    problem: string,
  ) {
    super(`${file}${line ? `:${line}` : ""}: ${problem}`);
  }
}

export const lockKey = (name: string, version: string): string => `${name}@${version}`;

export function sortComponents(components: readonly LockedComponent[]): LockedComponent[] {
  return [...components]
    .map((c) => ({ ...c, dependencies: [...new Set(c.dependencies)].sort() }))
    .sort((a, b) => (a.name !== b.name ? (a.name < b.name ? -1 : 1) : semver.compare(a.version, b.version)));
}

function body(components: readonly LockedComponent[]): string {
  return sortComponents(components)
    .map(
      (c) =>
        `[[component]]\nname = ${JSON.stringify(c.name)}\nversion = ${JSON.stringify(c.version)}\n` +
        `sha256 = ${JSON.stringify(c.sha256)}\ndependencies = [${c.dependencies.map((d) => JSON.stringify(d)).join(", ")}]\n`,
    )
    .join("\n");
}

/** SHA-256 of the canonical content, so reformatting alone does not count as an edit. */
export function lockfileChecksum(components: readonly LockedComponent[]): string {
  return sha256Hex(`version = ${LOCKFILE_VERSION}\n${body(components)}`);
}

export function serializeLockfile(components: readonly LockedComponent[]): string {
  const content = body(components);
  return (
    "# Written by `run v2 install`; do not edit by hand (the checksum would no longer match).\n" +
    `version = ${LOCKFILE_VERSION}\nchecksum = "sha256:${lockfileChecksum(components)}"\n` +
    (content ? `\n${content}` : "")
  );
}

export function parseLockfile(text: string, file = LOCKFILE_FILE): ParsedLockfile {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError) throw new LockfileError(file, error.line, `not valid TOML: ${error.message.split("\n")[0]}`);
    throw error;
  }
  if (doc.version !== LOCKFILE_VERSION) {
    throw new LockfileError(file, undefined, `version is ${JSON.stringify(doc.version)}; this run command reads version ${LOCKFILE_VERSION}`);
  }
  const list = doc.component ?? [];
  if (!Array.isArray(list)) throw new LockfileError(file, undefined, "expected [[component]] entries");
  const components = list.map((entry: unknown, index): LockedComponent => {
    const where = `component ${index + 1}`;
    const { name, version, sha256, dependencies } = (entry ?? {}) as Record<string, unknown>;
    if (typeof name !== "string" || nameProblem(name)) throw new LockfileError(file, undefined, `${where}: name is missing or invalid`);
    if (typeof version !== "string" || versionProblem(version)) throw new LockfileError(file, undefined, `${where} (${name}): version is missing or invalid`);
    if (typeof sha256 !== "string" || !isSha256Hex(sha256)) throw new LockfileError(file, undefined, `${where} (${name}): sha256 must be 64 lowercase hex digits`);
    const deps = dependencies ?? [];
    if (!Array.isArray(deps) || deps.some((d) => typeof d !== "string")) {
      throw new LockfileError(file, undefined, `${where} (${name}): dependencies must be an array of "name@version" strings`);
    }
    return { name, version, sha256, dependencies: deps as string[] };
  });
  const checksumOfContent = lockfileChecksum(components);
  const raw = typeof doc.checksum === "string" ? doc.checksum : undefined;
  const checksumInFile = raw?.replace(/^sha256:/, "");
  return { components: sortComponents(components), checksumOk: checksumInFile === checksumOfContent, checksumInFile, checksumOfContent };
}
