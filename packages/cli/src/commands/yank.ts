/**
 * `run v2 yank ns:pkg@version [--undo]`: marks a version yanked (or not).
 * A yanked version still downloads, so lockfiles that pin it keep working;
 * new resolutions of a range skip it. Needs a token with the yank scope for
 * the namespace, or the admin's.
 */
import type { Command } from "commander";
import type { VersionMetadata } from "@wasm-registry/core";
import { nameProblem, versionProblem } from "@wasm-registry/core";
import { CliError, UsageError } from "../errors.js";
import { green, out } from "../output.js";
import { loadProjectIfAny } from "../project.js";
import { HttpError, RegistryClient, nameInPath } from "../registry-client.js";
import { authToken, registrySettings } from "../settings.js";

export interface WriteFlags {
  token?: string;
  registryUrl?: string;
}

/** The client and token of a write command; run.toml is optional here. */
export async function writeAccess(flags: WriteFlags, what: string): Promise<{ client: RegistryClient; token: string }> {
  const manifest = (await loadProjectIfAny())?.manifest;
  const client = new RegistryClient(registrySettings(flags, manifest));
  const token = authToken(flags, manifest, client.url);
  if (!token) {
    throw new CliError(`${what} needs a token: pass --token, set RUN_AUTH_TOKEN, or save one with \`run v2 login --registry-url ${client.url}\``);
  }
  return { client, token };
}

export function registerYank(program: Command): void {
  program
    .command("yank")
    .description("mark a published version as yanked (still downloadable, skipped by new resolutions), or undo it")
    .argument("<package@version>", "e.g. alice:calc@1.2.0")
    .option("--undo", "unyank: make the version resolvable again")
    .option("--token <token>", "token with the yank scope (beats RUN_AUTH_TOKEN, the token saved by `run v2 login`, and run.toml)")
    .option("--registry-url <url>", "registry to use (beats RUN_REGISTRY_URL and run.toml)")
    .action(async (spec: string, flags: WriteFlags & { undo?: boolean }) => {
      const at = spec.lastIndexOf("@");
      if (at <= 0) throw new UsageError(`"${spec}" names no version; expected ns:pkg@version, e.g. alice:calc@1.2.0`);
      const [name, version] = [spec.slice(0, at), spec.slice(at + 1)];
      const problem = nameProblem(name) ?? versionProblem(version);
      if (problem) throw new UsageError(problem);
      const { client, token } = await writeAccess(flags, "yanking");
      const action = flags.undo ? "unyank" : "yank";
      try {
        await client.send<VersionMetadata>("POST", `/api/v1/packages/${nameInPath(name)}/${encodeURIComponent(version)}/${action}`, token);
      } catch (error) {
        if (error instanceof HttpError && (error.status === 401 || error.status === 403)) {
          throw new CliError(`the registry at ${client.url} refused to ${action} ${name}@${version}: ${error.serverMessage}`);
        }
        throw error;
      }
      out(
        flags.undo
          ? `${green("unyanked")} ${name}@${version}: new resolutions may pick it again`
          : `${green("yanked")} ${name}@${version}: it still downloads for lockfiles that pin it; new resolutions skip it`,
      );
    });
}
