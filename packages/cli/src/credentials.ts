/**
 * Tokens saved by `run v2 login`, one per registry URL, in
 * $XDG_CONFIG_HOME/run/credentials.toml (~/.config/run/credentials.toml when
 * XDG_CONFIG_HOME is unset). The file is the user's alone (mode 0600, in a
 * 0700 folder); one found readable by others is made private again, with a
 * warning, before it is used. Writes go to a private temporary file that is
 * renamed into place, so the file is never half-written nor briefly public.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse, stringify } from "smol-toml";
import { CliError } from "./errors.js";
import { warn } from "./output.js";

export const PRIVATE_FILE_MODE = 0o600;
const PRIVATE_DIR_MODE = 0o700;

export function credentialsPath(env = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  // The XDG spec: a relative XDG_CONFIG_HOME is invalid and ignored.
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || os.homedir(), ".config");
  return path.join(base, "run", "credentials.toml");
}

/** The key of a registry in the file: its URL without a trailing slash, scheme and host lowercased. */
export function registryKey(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`.replace(/\/+$/, "");
}

type Credentials = Record<string, { token: string }>;

function read(file: string): Credentials {
  let text: string;
  try {
    const stat = fs.statSync(file);
    if ((stat.mode & 0o077) !== 0) {
      fs.chmodSync(file, PRIVATE_FILE_MODE);
      warn(`${file} was readable by other users (mode ${(stat.mode & 0o777).toString(8)}); it is now 0600. Consider its tokens leaked and ask for new ones`);
    }
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = parse(text);
  } catch (error) {
    throw new CliError(`${file} is not valid TOML (${(error as Error).message.split("\n")[0]}); fix it or delete it and run \`run v2 login\` again`);
  }
  const registries = (parsed.registries ?? {}) as Record<string, unknown>;
  const result: Credentials = {};
  for (const [url, entry] of Object.entries(registries)) {
    const token = (entry as { token?: unknown } | undefined)?.token;
    if (typeof token === "string" && token !== "") result[url] = { token };
  }
  return result;
}

function write(file: string, credentials: Credentials): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const text =
    "# Tokens saved by `run v2 login`, one per registry. Keep this file private (mode 0600).\n" +
    stringify({ registries: credentials }) +
    "\n";
  const temporary = path.join(dir, `.credentials-${randomBytes(6).toString("hex")}.tmp`);
  try {
    // Created private: the secret is never in a file that others can read, even for a moment.
    fs.writeFileSync(temporary, text, { mode: PRIVATE_FILE_MODE, flag: "wx" });
    fs.chmodSync(temporary, PRIVATE_FILE_MODE); // a umask cannot widen it, but make sure
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw new CliError(`cannot write ${file}: ${(error as Error).message}`);
  }
}

/** The saved token for this registry, if any. */
export function storedToken(registryUrl: string, env = process.env): string | undefined {
  return read(credentialsPath(env))[registryKey(registryUrl)]?.token;
}

export function saveToken(registryUrl: string, token: string, env = process.env): string {
  const file = credentialsPath(env);
  const credentials = read(file);
  credentials[registryKey(registryUrl)] = { token };
  write(file, credentials);
  return file;
}

/** Forgets this registry's token; false when none was saved. */
export function forgetToken(registryUrl: string, env = process.env): boolean {
  const file = credentialsPath(env);
  const credentials = read(file);
  const key = registryKey(registryUrl);
  if (!(key in credentials)) return false;
  delete credentials[key];
  write(file, credentials);
  return true;
}
