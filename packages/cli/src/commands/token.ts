/**
 * `run v2 token create|list|revoke`: the registry's token API, for its
 * administrator. `token create` prints the new secret alone on stdout (it is
 * shown this once), so it can be piped: `run v2 token create --namespace
 * alice | ssh alice@host run v2 login`.
 */
import type { Command } from "commander";
import type { CreatedToken, TokenInfo, TokenList } from "@wasm-registry/core";
import { UsageError } from "../errors.js";
import { dim, json, note, out } from "../output.js";
import { type WriteFlags, writeAccess } from "./yank.js";

const SCOPES = ["publish", "yank"];

/** Repeated --scope values; no default value, so that --help shows only the description's "(default: both)". */
const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];
const when = (seconds: number | null) => (seconds === null ? "-" : new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, "Z"));

function withAccessOptions(command: Command): Command {
  return command
    .option("--token <token>", "an admin token (beats RUN_AUTH_TOKEN, the token saved by `run v2 login`, and run.toml)")
    .option("--registry-url <url>", "registry to use (beats RUN_REGISTRY_URL and run.toml)");
}

export function registerToken(program: Command): void {
  const token = program.command("token").description("create, list and revoke the registry's tokens (admin only)");

  withAccessOptions(
    token
      .command("create")
      .description("create a token for a namespace; its secret is printed once")
      .requiredOption("--namespace <ns>", "the namespace the token may act in")
      .option("--scope <scope>", "publish or yank; repeat for both (default: both)", collect)
      .option("--expires-in-days <n>", "the token stops working after this many days (default: never)")
      .option("--json", "print the whole answer as JSON (secret included)"),
  ).action(async (flags: WriteFlags & { namespace: string; scope?: string[]; expiresInDays?: string; json?: boolean }) => {
    const scopes = flags.scope ?? [];
    for (const scope of scopes) {
      if (!SCOPES.includes(scope)) throw new UsageError(`--scope must be publish or yank, not "${scope}"`);
    }
    const body: Record<string, unknown> = { namespace: flags.namespace };
    if (scopes.length > 0) body.scopes = [...new Set(scopes)];
    if (flags.expiresInDays !== undefined) {
      if (!/^\d+$/.test(flags.expiresInDays)) throw new UsageError(`--expires-in-days must be a whole number, not "${flags.expiresInDays}"`);
      body.expires_in_days = Number(flags.expiresInDays);
    }
    const { client, token: admin } = await writeAccess(flags, "creating a token");
    const made = await client.send<CreatedToken>("POST", "/api/v1/tokens", admin, body);
    if (flags.json) return json(made);
    note(
      `created token ${made.id} for ${made.namespace} (scopes: ${made.scopes.join(", ")}; expires: ${when(made.expires_at)}). ` +
        "This is the only time its secret is shown:",
    );
    out(made.token);
  });

  withAccessOptions(
    token.command("list").description("list the registry's tokens (never their secrets)").option("--json", "print JSON"),
  ).action(async (flags: WriteFlags & { json?: boolean }) => {
    const { client, token: admin } = await writeAccess(flags, "listing tokens");
    const { tokens } = await client.send<TokenList>("GET", "/api/v1/tokens", admin);
    if (flags.json) return json(tokens);
    const rows = tokens.map((t: TokenInfo) => [
      t.id,
      t.namespace ?? "* (admin)",
      t.scopes.join(","),
      t.source,
      when(t.created_at),
      when(t.last_used_at),
      when(t.expires_at),
    ]);
    const header = ["ID", "NAMESPACE", "SCOPES", "SOURCE", "CREATED", "LAST USED", "EXPIRES"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
    out(dim(line(header)));
    for (const row of rows) out(line(row));
  });

  withAccessOptions(token.command("revoke").description("revoke a token: it stops working at once").argument("<id>", "the token's id (see token list)")).action(
    async (id: string, flags: WriteFlags) => {
      const { client, token: admin } = await writeAccess(flags, "revoking a token");
      await client.send("DELETE", `/api/v1/tokens/${encodeURIComponent(id)}`, admin);
      out(`revoked token ${id}`);
    },
  );
}
