/** `run v2 search QUERY`: the registry's search, latest version of each hit. */
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { bold, dim, json, out } from "../output.js";
import { loadProjectIfAny } from "../project.js";
import { RegistryClient } from "../registry-client.js";
import { registrySettings } from "../settings.js";

export function registerSearch(program: Command): void {
  program
    .command("search")
    .description("search the registry's packages")
    .argument("<query>", "words to look for in names and descriptions")
    .option("--limit <n>", "at most this many results (1 to 100)", "20")
    .option("--json", "print JSON")
    .option("--registry-url <url>", "registry to ask (beats RUN_REGISTRY_URL and run.toml)")
    .action(async (query: string, flags: { limit: string; json?: boolean; registryUrl?: string }) => {
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new UsageError(`--limit must be a whole number from 1 to 100, not "${flags.limit}"`);
      const manifest = (await loadProjectIfAny())?.manifest;
      const client = new RegistryClient(registrySettings(flags, manifest));
      const result = await client.search(query, limit);
      if (flags.json) return json(result);
      if (result.packages.length === 0) return out(`no packages match "${query}" on ${client.url}`);
      for (const p of result.packages) out(`${bold(p.name)} ${p.version}${p.description ? `  ${dim(p.description)}` : ""}`);
      if (result.total > result.packages.length) out(dim(`${result.packages.length} of ${result.total} shown; use --limit for more`));
    });
}
