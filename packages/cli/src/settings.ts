/**
 * Which registry and which token: a flag beats the environment, which beats
 * (for the token) what `run v2 login` saved, which beats run.toml (DESIGN.md §1). A token found in run.toml is used but warned
 * about, because run.toml is usually committed.
 */
import type { Manifest } from "@wasm-registry/core";
import { storedToken } from "./credentials.js";
import { UsageError } from "./errors.js";
import { warn } from "./output.js";

/** The seed's official registry. */
export const DEFAULT_REGISTRY_URL = "https://registry.esubalew.dev";

export interface RegistrySettings {
  url: string;
  /** Tried in order when the main URL cannot be reached. */
  mirrors: string[];
}

export interface Flags {
  registryUrl?: string | undefined;
  token?: string | undefined;
}

const nonEmpty = (value: string | undefined) => (value !== undefined && value.trim() !== "" ? value.trim() : undefined);

function checkUrl(url: string, where: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${where}: "${url}" is not a URL; expected e.g. https://registry.example.com`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new UsageError(`${where}: "${url}" must be an http or https URL`);
  return url.replace(/\/+$/, "");
}

export function registrySettings(flags: Flags, manifest: Manifest | undefined, env = process.env): RegistrySettings {
  const fromFlag = nonEmpty(flags.registryUrl);
  const fromEnv = nonEmpty(env.RUN_REGISTRY_URL);
  const fromFile = nonEmpty(manifest?.registry.url);
  const url = fromFlag
    ? checkUrl(fromFlag, "--registry-url")
    : fromEnv
      ? checkUrl(fromEnv, "RUN_REGISTRY_URL")
      : fromFile
        ? checkUrl(fromFile, "run.toml [registry] url")
        : DEFAULT_REGISTRY_URL;
  const mirrors = (manifest?.registry.mirrors ?? []).map((m) => checkUrl(m, "run.toml [registry] mirrors")).filter((m) => m !== url);
  return { url, mirrors };
}

/**
 * The token for writes to `registryUrl`, or undefined when none is configured
 * anywhere: --token, then RUN_AUTH_TOKEN, then the one `run v2 login` saved
 * for that registry, then run.toml.
 */
export function authToken(flags: Flags, manifest: Manifest | undefined, registryUrl: string, env = process.env): string | undefined {
  const token = nonEmpty(flags.token) ?? nonEmpty(env.RUN_AUTH_TOKEN) ?? storedToken(registryUrl, env);
  if (token) return token;
  const fromFile = nonEmpty(manifest?.registry.authToken);
  if (fromFile) {
    warn("using the auth_token from run.toml; a token in a committed file is a leaked token. Prefer RUN_AUTH_TOKEN or --token.");
  }
  return fromFile;
}
