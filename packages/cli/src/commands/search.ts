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
    .option("--offset <n>", "skip this many results first, for the next page", "0")
    .option("--json", "print JSON")
    .option("--registry-url <url>", "registry to ask (beats RUN_REGISTRY_URL and run.toml)")
    .action(async (query: string, flags: { limit: string; offset: string; json?: boolean; registryUrl?: string }) => {
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new UsageError(`--limit must be a whole number from 1 to 100, not "${flags.limit}"`);
      const offset = Number(flags.offset);
      if (!/^\d+$/.test(flags.offset) || !Number.isSafeInteger(offset)) throw new UsageError(`--offset must be a whole number, 0 or more, not "${flags.offset}"`);
      const manifest = (await loadProjectIfAny())?.manifest;
      const client = new RegistryClient(registrySettings(flags, manifest));
      const result = await client.search(query, limit, offset);
      if (flags.json) return json(result);
      if (result.packages.length === 0) {
        return out(offset > 0 && result.total > 0 ? `no more results: "${query}" has ${result.total} on ${client.url}` : `no packages match "${query}" on ${client.url}`);
      }
      for (const p of result.packages) out(`${bold(p.name)} ${p.version}${p.description ? `  ${dim(p.description)}` : ""}`);
      const shownTo = offset + result.packages.length;
      if (result.total > shownTo || offset > 0) {
        const more = result.total > shownTo ? `; the next page: --offset ${shownTo}` : "";
        out(dim(`results ${offset + 1} to ${shownTo} of ${result.total}${more}`));
      }
    });
}
