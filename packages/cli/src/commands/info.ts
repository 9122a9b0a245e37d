/**
 * `run v2 info ns:pkg[@version]` (the registry's metadata), `run v2 info
 * path/to/file.wasm` (what the file is), `run v2 info` (the project).
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { type ComponentInfo, type ComponentWorld, type VersionMetadata, inspectWasm, latestVersion, nameProblem, sha256Hex, versionProblem } from "@wasm-registry/core";
import { CliError, UsageError } from "../errors.js";
import { bold, dim, json, out } from "../output.js";
import { loadProject, loadProjectIfAny, readLockfile } from "../project.js";
import { RegistryClient } from "../registry-client.js";
import { registrySettings } from "../settings.js";
import { summarise } from "../wasm-file.js";

interface InfoFlags {
  json?: boolean;
  registryUrl?: string;
}

export function registerInfo(program: Command): void {
  program
    .command("info")
    .description("show a package's metadata, what a .wasm file is, or (with no argument) the project")
    .argument("[target]", "ns:pkg, ns:pkg@version, or a path to a .wasm file")
    .option("--json", "print JSON")
    .option("--registry-url <url>", "registry to ask (beats RUN_REGISTRY_URL and run.toml)")
    .action(async (target: string | undefined, flags: InfoFlags) => {
      if (target === undefined) return projectInfo(flags);
      if (target.endsWith(".wasm") || target.includes(path.sep) || (await isFile(target))) return fileInfo(target, flags);
      return packageInfo(target, flags);
    });
}

async function isFile(target: string): Promise<boolean> {
  return fs.stat(target).then((s) => s.isFile(), () => false);
}

/** run.toml is optional here: it only supplies the registry URL. */
async function optionalManifest() {
  return (await loadProjectIfAny())?.manifest;
}

async function packageInfo(spec: string, flags: InfoFlags): Promise<void> {
  const at = spec.indexOf("@");
  const name = at === -1 ? spec : spec.slice(0, at);
  const requested = at === -1 ? undefined : spec.slice(at + 1);
  const badName = nameProblem(name);
  if (badName) throw new UsageError(badName);
  if (requested !== undefined) {
    const badVersion = versionProblem(requested);
    if (badVersion) throw new UsageError(badVersion);
  }
  const client = new RegistryClient(registrySettings(flags, await optionalManifest()));
  const list = await client.versionList(name);
  if (!list) throw new CliError(`${name} is not published on the registry at ${client.url}`);
  const { versions } = list;
  const yanked = new Set(list.yanked ?? []);
  const live = versions.filter((v) => !yanked.has(v));
  // The latest that is not yanked, as the registry itself shows it.
  const version = requested ?? latestVersion(live.length > 0 ? live : versions);
  if (version === undefined) throw new CliError(`${name} has no versions on ${client.url}`);
  if (!versions.includes(version)) throw new CliError(`${name} has no version ${version} on ${client.url}; it has ${versions.join(", ")}`);
  const meta = await client.metadata(name, version);
  if (flags.json) return json({ ...meta, versions });
  printMetadata(meta, versions.map((v) => (yanked.has(v) ? `${v} (yanked)` : v)));
}

function printMetadata(meta: VersionMetadata, versions: string[]): void {
  out(bold(`${meta.name}@${meta.version}${meta.yanked === true ? " (yanked)" : ""}`));
  if (meta.description) out(meta.description);
  out();
  const rows: [string, string][] = [
    ["license", meta.license ?? "-"],
    ["repository", meta.repository ?? "-"],
    ["size", `${meta.size} bytes`],
    ["sha256", meta.sha256],
    ["published", new Date(meta.published_at * 1000).toISOString()],
    ["targets", meta.targets.join(", ")],
    ["download", meta.download_url],
    ["versions", versions.join(", ")],
  ];
  for (const [key, value] of rows) out(`${dim(key.padEnd(13))}${value}`);
  out(`${dim("dependencies".padEnd(13))}${meta.dependencies.length === 0 ? "none" : ""}`);
  for (const d of meta.dependencies) out(`  ${d.name} ${d.version}${d.optional ? " (optional)" : ""}`);
  if (meta.kind) out(`${dim("kind".padEnd(13))}${meta.kind}`);
  if (meta.world) printWorld(meta.world);
  if (meta.wit_url) out(`${dim("wit".padEnd(13))}${meta.wit_url}`);
}

/** Imports and exports, one per line: what a component needs and what it provides. */
function printWorld(world: ComponentWorld): void {
  for (const [title, list] of [["imports", world.imports], ["exports", world.exports]] as const) {
    out(`${dim(title.padEnd(13))}${list.length === 0 ? "none" : ""}`);
    for (const name of list) out(`  ${name}`);
  }
}

async function fileInfo(file: string, flags: InfoFlags): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(file));
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
  const summary = summarise(bytes);
  const sha256 = sha256Hex(bytes);
  // The world comes from wasm-tools, loaded only here; a file it refuses still gets the summary, and why.
  let inspected: ComponentInfo | undefined;
  let problem: string | undefined;
  if (summary.kind !== "not WebAssembly") {
    try {
      inspected = await inspectWasm(bytes);
    } catch (error) {
      problem = (error as Error).message;
    }
  }
  // If this file is one the project locked, say which: it answers "where did this come from?".
  const lock = await readLockfile(process.cwd()).catch(() => undefined);
  const locked = lock?.components.find((c) => c.sha256 === sha256);
  const result = {
    file,
    ...summary,
    sha256,
    locked_as: locked ? `${locked.name}@${locked.version}` : null,
    world: inspected?.world ?? null,
    wit: inspected?.wit ?? null,
    producers: inspected?.producers ?? null,
    problem: problem ?? null,
  };
  if (flags.json) return json(result);
  out(bold(file));
  out(`${dim("kind".padEnd(13))}${summary.kind}`);
  out(`${dim("size".padEnd(13))}${summary.size} bytes`);
  out(`${dim("sha256".padEnd(13))}${sha256}`);
  if (Object.keys(summary.sections).length > 0) {
    out(`${dim("sections".padEnd(13))}${Object.entries(summary.sections).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  }
  if (summary.customSections.length > 0) out(`${dim("custom".padEnd(13))}${summary.customSections.join(", ")}`);
  if (locked) out(`${dim("locked as".padEnd(13))}${locked.name}@${locked.version} in run.lock`);
  if (problem) out(`${dim("invalid".padEnd(13))}${problem}`);
  if (inspected) {
    printWorld(inspected.world);
    for (const [field, tools] of Object.entries(inspected.producers ?? {})) {
      out(`${dim(`${field} `.padEnd(13))}${tools.map((tool) => `${tool.name} ${tool.version}`.trim()).join(", ")}`);
    }
  }
}

async function projectInfo(flags: InfoFlags): Promise<void> {
  const project = await loadProject();
  const { manifest } = project;
  const lock = await readLockfile(project.dir);
  const registry = registrySettings(flags, manifest);
  const components = await Promise.all(
    manifest.components.map(async (c) => {
      const file = path.resolve(project.dir, c.path ?? path.join("target", "wasm", `${c.name}.wasm`));
      return { name: manifest.project.name ? `${manifest.project.name}:${c.name}` : c.name, language: c.language ?? null, file, built: await isFile(file) };
    }),
  );
  const result = {
    project: manifest.project,
    components,
    dependencies: Object.fromEntries(manifest.dependencies.map((d) => [d.name, d.written])),
    dev_dependencies: Object.fromEntries(manifest.devDependencies.map((d) => [d.name, d.written])),
    registry: registry.url,
    lockfile: lock ? { components: lock.components.length, checksum_ok: lock.checksumOk } : null,
  };
  if (flags.json) return json(result);
  const p = manifest.project;
  out(bold(`${p.name ?? "(no [project] name)"}${p.version ? ` ${p.version}` : ""}`));
  if (p.description) out(p.description);
  out();
  out(`${dim("license".padEnd(13))}${p.license ?? "-"}`);
  out(`${dim("repository".padEnd(13))}${p.repository ?? "-"}`);
  out(`${dim("registry".padEnd(13))}${registry.url}`);
  out(`${dim("run.lock".padEnd(13))}${lock ? `${lock.components.length} component${lock.components.length === 1 ? "" : "s"}${lock.checksumOk ? "" : " (checksum does NOT match: edited by hand)"}` : "none yet"}`);
  out(`${dim("components".padEnd(13))}${components.length === 0 ? "none" : ""}`);
  for (const c of components) out(`  ${c.name}${c.language ? ` (${c.language})` : ""}: ${c.built ? path.relative(project.dir, c.file) : "not built"}`);
  for (const [title, list] of [["dependencies", manifest.dependencies], ["dev-deps", manifest.devDependencies]] as const) {
    out(`${dim(title.padEnd(13))}${list.length === 0 ? "none" : ""}`);
    for (const d of list) out(`  ${d.name} ${d.written}${d.optional ? " (optional)" : ""}`);
  }
}
