/**
 * `run v2 publish [--component NAME] [--token T] [--registry-url URL]`:
 * each built component of run.toml goes up as
 * `project.name:component.name@project.version`, with the project's
 * metadata, the [dependencies] ranges and the file's sha256 (so the registry
 * can refuse a file damaged on the way).
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { DEFAULT_TARGETS, type ErrorBody, type Manifest, type VersionMetadata, nameProblem, sha256Hex, versionProblem } from "@wasm-registry/core";
import { CliError, UsageError } from "../errors.js";
import { green, out } from "../output.js";
import { buildProject } from "./build.js";
import { type Project, loadProject } from "../project.js";
import { RegistryClient } from "../registry-client.js";
import { authToken, registrySettings } from "../settings.js";

interface PublishFlags {
  component?: string;
  token?: string;
  registryUrl?: string;
  build?: boolean;
  release?: boolean;
}

export function registerPublish(program: Command): void {
  program
    .command("publish")
    .description("publish the components of run.toml to the registry")
    .option("--component <name>", "publish only this [[component]]")
    .option("--token <token>", "auth token (beats RUN_AUTH_TOKEN, the token saved by `run v2 login`, and run.toml)")
    .option("--registry-url <url>", "registry to publish to (beats RUN_REGISTRY_URL and run.toml)")
    .option("--build", "run `run v2 build` first (for the same --component)")
    .option("--release", "with --build: an optimised build")
    .action(async (flags: PublishFlags) => {
      const project = await loadProject();
      if (flags.build) {
        const built = await buildProject(project, { ...(flags.component ? { component: flags.component } : {}), release: flags.release === true });
        // What was just built is what goes up, whatever `path` says.
        for (const component of built) {
          const spec = project.manifest.components.find((c) => c.name === component.name);
          if (spec) spec.path = component.file;
        }
      }
      const { manifest } = project;
      const namespace = required(manifest.project.name, "[project] name", "the namespace, e.g. name = \"myorg\"");
      const version = required(manifest.project.version, "[project] version", "e.g. version = \"1.0.0\"");
      const badVersion = versionProblem(version);
      if (badVersion) throw new CliError(`${project.manifestPath}: [project] version: ${badVersion}`);
      const components = flags.component ? manifest.components.filter((c) => c.name === flags.component) : manifest.components;
      if (manifest.components.length === 0) throw new CliError(`${project.manifestPath} has no [[component]] to publish`);
      if (components.length === 0) {
        throw new UsageError(`run.toml has no [[component]] named "${flags.component}"; it has ${manifest.components.map((c) => c.name).join(", ")}`);
      }
      // Check every name and file before sending anything, so a mistake in the second does not leave the first half-published.
      const uploads = await Promise.all(
        components.map(async (component) => {
          const name = `${namespace}:${component.name}`;
          const badName = nameProblem(name);
          if (badName) throw new CliError(`${project.manifestPath}: cannot publish component "${component.name}": ${badName}`);
          const file = await componentFile(project, component.name, component.path);
          return { name, file };
        }),
      );
      const client = new RegistryClient(registrySettings(flags, manifest));
      const token = authToken(flags, manifest, client.url);
      if (!token) {
        throw new CliError(
          `publishing needs a token: pass --token, or set RUN_AUTH_TOKEN, or save one with \`run v2 login --registry-url ${client.url}\` (ask the registry's administrator for one)`,
        );
      }
      const published: string[] = [];
      for (const upload of uploads) {
        let meta: VersionMetadata;
        try {
          meta = await publishOne(client, token, manifest, upload.name, version, upload.file);
        } catch (error) {
          // Versions never change: what went out before this refusal stays published, so say which.
          if (error instanceof CliError && published.length > 0) {
            throw new CliError(`${error.message} (published before this: ${published.join(", ")}; they stay published)`, error.exitCode);
          }
          throw error;
        }
        const sent = sha256Hex(upload.file.bytes);
        if (meta.sha256 !== sent) {
          throw new CliError(
            `${client.url} answered 201 for ${meta.name}@${meta.version} but reports sha256 ${meta.sha256}, not ${sent} of the file sent; is it a component registry?`,
          );
        }
        published.push(`${meta.name}@${meta.version}`);
        out(`${green("published")} ${meta.name}@${meta.version} (${meta.size} bytes, sha256 ${meta.sha256}) to ${client.url}`);
      }
    });
}

function required(value: string | undefined, key: string, example: string): string {
  if (!value) throw new CliError(`run.toml needs ${key} to publish (${example})`);
  return value;
}

/** The component's `path`, else where `run v2 build` puts it. */
async function componentFile(project: Project, name: string, declared: string | undefined): Promise<{ path: string; bytes: Uint8Array }> {
  const file = path.resolve(project.dir, declared ?? path.join("target", "wasm", `${name}.wasm`));
  try {
    return { path: file, bytes: new Uint8Array(await fs.readFile(file)) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
    throw new CliError(
      declared
        ? `component "${name}": its path ${file} does not exist; build it first or fix \`path\` in run.toml`
        : `component "${name}" has not been built: ${file} does not exist. Build it, or set \`path\` in its [[component]] to the built .wasm file`,
    );
  }
}

async function publishOne(
  client: RegistryClient,
  token: string,
  manifest: Manifest,
  name: string,
  version: string,
  file: { path: string; bytes: Uint8Array },
): Promise<VersionMetadata> {
  const form = new FormData();
  const fields: Record<string, string> = {
    name,
    version,
    description: manifest.project.description ?? "",
    license: manifest.project.license ?? "",
    repository: manifest.project.repository ?? "",
    dependencies: JSON.stringify(manifest.dependencies.map((d) => ({ name: d.name, version: d.range, optional: d.optional }))),
    targets: JSON.stringify(DEFAULT_TARGETS),
    sha256: sha256Hex(file.bytes),
  };
  for (const [key, value] of Object.entries(fields)) if (value !== "") form.append(key, value);
  form.append("component", new Blob([new Uint8Array(file.bytes)], { type: "application/wasm" }), path.basename(file.path));

  const response = await client.publish(form, token);
  if (response.status === 201) return JSON.parse(response.text) as VersionMetadata;
  let message = `HTTP ${response.status}`;
  try {
    message = (JSON.parse(response.text) as ErrorBody).error.message;
  } catch {
    // Not the registry's JSON error; the status says enough.
  }
  throw new CliError(refusal(response.status, `${name}@${version}`, client.url, message, file.bytes.length));
}

/** A refusal as a sentence that says what to do next. */
export function refusal(status: number, what: string, url: string, message: string, size: number): string {
  switch (status) {
    case 401:
      return `the registry at ${url} did not accept the token (${message}). Check --token or RUN_AUTH_TOKEN (or the token saved by \`run v2 login\`); the registry's administrator can give you a valid one`;
    case 403:
      return `the token may not publish ${what} (${message}). Use a token for that namespace, or change [project] name in run.toml`;
    case 409:
      return `${what} is already published on ${url}, and versions never change. Raise [project] version in run.toml and publish again`;
    case 413:
      return `${what} (${size} bytes) is larger than the registry at ${url} accepts (${message}). Make the component smaller or ask the registry's administrator to raise MAX_UPLOAD_MB`;
    default:
      return `the registry at ${url} refused ${what} with ${status}: ${message}`;
  }
}
