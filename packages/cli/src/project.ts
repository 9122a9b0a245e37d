/**
 * The project of the current folder: its run.toml, its run.lock and its
 * .run/components folder. Reading problems become CliErrors naming the file.
 */
import fs from "node:fs/promises";
import path from "node:path";
import {
  LOCKFILE_FILE,
  LockfileError,
  MANIFEST_FILE,
  type LockedComponent,
  type Manifest,
  ManifestError,
  type ParsedLockfile,
  parseLockfile,
  parseManifest,
  serializeLockfile,
} from "@wasm-registry/core";
import { CliError } from "./errors.js";
import { warn } from "./output.js";

export interface Project {
  dir: string;
  manifestPath: string;
  /** The file as it is on disk, for surgical edits. */
  manifestText: string;
  manifest: Manifest;
}

/**
 * The project this folder belongs to: the nearest folder, from `start` up,
 * with a run.toml (as Cargo finds Cargo.toml), so that commands work from a
 * project's subfolders too. Keys run does not know are warned about.
 */
export async function loadProject(start = process.cwd()): Promise<Project> {
  const dir = await findProjectDir(start);
  if (!dir) {
    throw new CliError(`no ${MANIFEST_FILE} in ${start} or any folder above it; run this command in a project folder (one with a ${MANIFEST_FILE})`);
  }
  return loadProjectAt(dir);
}

/** The project when this folder or one above it has a run.toml; undefined when none has (a broken one is still an error). */
export async function loadProjectIfAny(start = process.cwd()): Promise<Project | undefined> {
  const dir = await findProjectDir(start);
  return dir === undefined ? undefined : loadProjectAt(dir);
}

async function loadProjectAt(dir: string): Promise<Project> {
  const manifestPath = path.join(dir, MANIFEST_FILE);
  let manifestText: string;
  try {
    manifestText = await fs.readFile(manifestPath, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${manifestPath}: ${(error as Error).message}`);
  }
  const manifest = parseManifestText(manifestText, manifestPath);
  for (const warning of manifest.warnings) warn(warning);
  return { dir, manifestPath, manifestText, manifest };
}

async function findProjectDir(start: string): Promise<string | undefined> {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    const found = await fs.stat(path.join(dir, MANIFEST_FILE)).then((stat) => stat.isFile(), () => false);
    if (found) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

export function parseManifestText(text: string, file: string): Manifest {
  try {
    return parseManifest(text, file);
  } catch (error) {
    if (error instanceof ManifestError) throw new CliError(error.message);
    throw error;
  }
}

/** The lockfile, or undefined when the project has none yet. */
export async function readLockfile(dir: string): Promise<ParsedLockfile | undefined> {
  const file = path.join(dir, LOCKFILE_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return parseLockfile(text, file);
  } catch (error) {
    if (error instanceof LockfileError) throw new CliError(`${error.message}; delete it and run \`run v2 install\` to write a new one`);
    throw error;
  }
}

/** Writes run.lock only when its bytes change, so an install that changes nothing touches nothing. */
export async function writeLockfile(dir: string, components: readonly LockedComponent[]): Promise<boolean> {
  const file = path.join(dir, LOCKFILE_FILE);
  const text = serializeLockfile(components);
  const old = await fs.readFile(file, "utf8").catch(() => undefined);
  if (old === text) return false;
  await writeFileAtomic(file, text);
  return true;
}

/** Temp file then rename: a crash leaves the old file or the new one, never half of one. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await fs.writeFile(temp, data);
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

/** Where an installed component lives inside the project: `.run/components/ns/pkg@1.0.0.wasm`. */
export function installedPath(dir: string, name: string, version: string): string {
  const [namespace, pkg] = [name.slice(0, name.indexOf(":")), name.slice(name.indexOf(":") + 1)];
  return path.join(dir, ".run", "components", namespace, ...pkg.split("/").slice(0, -1), `${pkg.split("/").at(-1)}@${version}.wasm`);
}

export function componentsDir(dir: string): string {
  return path.join(dir, ".run", "components");
}
