/**
 * `run v2 login [--registry-url URL] [--token T]` saves a token for one
 * registry in the user's config folder (see ../credentials.ts), read from
 * standard input unless --token is given (so it stays out of shell history:
 * `run v2 login < token.txt` or paste it). `run v2 logout` forgets it.
 */
import type { Command } from "commander";
import { credentialsPath, forgetToken, saveToken } from "../credentials.js";
import { UsageError } from "../errors.js";
import { green, note, out } from "../output.js";
import { loadProjectIfAny } from "../project.js";
import { registrySettings } from "../settings.js";

const MAX_TOKEN_LENGTH = 4096;

async function registryUrl(flags: { registryUrl?: string }): Promise<string> {
  return registrySettings(flags, (await loadProjectIfAny())?.manifest).url;
}

/** The first line of standard input, without waiting for more. */
async function readLine(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.includes("\n") || text.length > MAX_TOKEN_LENGTH) break;
  }
  process.stdin.destroy();
  return text.split(/\r?\n/)[0] ?? "";
}

export function registerLogin(program: Command): void {
  program
    .command("login")
    .description("save a token for a registry, read from standard input (or --token), in a file only you can read")
    .option("--registry-url <url>", "the registry the token is for (beats RUN_REGISTRY_URL and run.toml)")
    .option("--token <token>", "the token itself; without it, the first line of standard input is read")
    .addHelpText("after", `\nThe token is kept in ${credentialsPath()} (mode 0600), one per registry URL.\npublish, yank and token use it after --token and RUN_AUTH_TOKEN, before run.toml.`)
    .action(async (flags: { registryUrl?: string; token?: string }) => {
      const url = await registryUrl(flags);
      let token = flags.token;
      if (token === undefined) {
        if (process.stdin.isTTY) note(`paste the token for ${url} and press Enter:`);
        token = await readLine();
      }
      token = token.trim();
      if (token === "") throw new UsageError("no token given: pass --token, or write it on standard input (e.g. run v2 login < token.txt)");
      if (/\s/.test(token) || token.length > MAX_TOKEN_LENGTH) {
        throw new UsageError(`that is not a token: a token is one word of at most ${MAX_TOKEN_LENGTH} characters, with no spaces`);
      }
      const file = saveToken(url, token);
      out(`${green("saved")} the token for ${url} in ${file}`);
    });

  program
    .command("logout")
    .description("forget the token saved for a registry")
    .option("--registry-url <url>", "the registry to forget (beats RUN_REGISTRY_URL and run.toml)")
    .action(async (flags: { registryUrl?: string }) => {
      const url = await registryUrl(flags);
      if (forgetToken(url)) out(`forgot the token for ${url}`);
      else out(`no token was saved for ${url}; nothing to forget`);
    });
}
