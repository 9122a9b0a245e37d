import type { ComponentWorld, Producers, WasmKind } from "./component.js";

/**
 * The JSON that crosses the wire between the registry and its clients.
 * Field names are a contract with existing Run 2.0 clients: add, never rename.
 */

export interface Dependency {
  name: string;
  /** A semver range. */
  version: string;
  optional: boolean;
}

export interface VersionMetadata {
  name: string;
  version: string;
  description: string | null;
  license: string | null;
  repository: string | null;
  size: number;
  /** Lowercase hex SHA-256 of the component bytes. */
  sha256: string;
  download_url: string;
  wit_url: string | null;
  dependencies: Dependency[];
  targets: string[];
  /** Unix seconds. */
  published_at: number;
  /**
   * What the registry found inside the bytes at publish. Optional on the wire:
   * older registries do not send them; null for versions published before
   * the registry inspected uploads.
   */
  kind?: WasmKind | null;
  world?: ComponentWorld | null;
  /** The top-level world as WIT text (null for a core module). */
  wit?: string | null;
  producers?: Producers | null;
  /**
   * A yanked version still downloads (lockfiles that pin it keep working) but
   * is skipped when a range is resolved. Added after Run 2.0: absent means false.
   */
  yanked: boolean;
}

export interface PackageList {
  packages: string[];
}

export interface VersionList {
  name: string;
  versions: string[];
  /** The yanked ones among `versions` (added after Run 2.0: absent means none). */
  yanked?: string[];
}

export type TokenScope = "publish" | "yank";

/** A token as GET /api/v1/tokens lists it: never its secret nor its hash. Times in unix seconds. */
export interface TokenInfo {
  id: string;
  /** Null for an admin token, which may act in every namespace. */
  namespace: string | null;
  scopes: TokenScope[];
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
  /** env: REGISTRY_TOKENS or REGISTRY_ADMIN_TOKEN; generated: made at first start; api: POST /api/v1/tokens. */
  source: "env" | "generated" | "api";
}

export interface TokenList {
  tokens: TokenInfo[];
}

/** POST /api/v1/tokens's answer: the secret, shown this once. */
export interface CreatedToken extends TokenInfo {
  token: string;
}

export interface SearchResult {
  packages: VersionMetadata[];
  total: number;
}

export interface RegistryStats {
  package_count: number;
  version_count: number;
  download_count: number;
  uptime_percent: number;
}

export interface ErrorBody {
  error: { code: string; message: string };
}

export const DEFAULT_TARGETS: readonly string[] = ["wasm32-wasip2"];
