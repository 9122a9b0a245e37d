/**
 * What both metadata stores share: how a row becomes a record, how tokens
 * and interfaces are laid out, and which version counts as latest. Each store
 * decodes its own column types (SQLite keeps JSON as text, PostgreSQL as json)
 * into a VersionRow, and the rest is here, once.
 */
import type { TokenScope } from "@wasm-registry/core";
import type { PackageSummary, TokenRecord, VersionRecord, VersionWithDownloads } from "./types.js";

/**
 * Which version a package shows as its latest, on every backend alike: the
 * highest by semver (a release over any prerelease) among the versions that
 * are not yanked; only when every version is yanked, the highest of all.
 */
import { latestVersion } from "@wasm-registry/core";

export function latestShown(versions: readonly { version: string; yanked: boolean }[]): string | undefined {
  const live = versions.filter((v) => !v.yanked).map((v) => v.version);
  return latestVersion(live.length > 0 ? live : versions.map((v) => v.version));
}

/** Scopes as stored: a comma-separated, sorted list. */
export function scopesToText(scopes: readonly string[]): string {
  return [...new Set(scopes)].sort().join(",");
}

export function scopesFromText<T extends string>(text: string): T[] {
  return (text === "" ? [] : text.split(",")) as T[];
}

/** A version as selected by VERSION_COLUMNS, its column types decoded. */
export interface VersionRow {
  name: string;
  version: string;
  description: string | null;
  license: string | null;
  repository: string | null;
  size: number;
  sha256: string;
  wit_url: string | null;
  dependencies: VersionRecord["dependencies"];
  targets: string[];
  published_at: number;
  yanked: boolean;
  downloads: number;
  kind: VersionRecord["kind"] | null;
  world: VersionRecord["world"] | null;
  wit: string | null;
  producers: VersionRecord["producers"] | null;
}

export interface SummaryRow extends VersionRow {
  package_downloads: number;
}

/** The columns of a VersionRow, from `versions v JOIN packages p`. */
export const VERSION_COLUMNS = `p.name, v.version, v.description, v.license, v.repository, v.size, v.sha256,
  v.wit_url, v.dependencies, v.targets, v.published_at, v.yanked, v.downloads, v.kind, v.world, v.wit, v.producers`;

export function toVersionRecord(row: VersionRow): VersionWithDownloads {
  const record: VersionWithDownloads = {
    name: row.name,
    version: row.version,
    description: row.description,
    license: row.license,
    repository: row.repository,
    size: row.size,
    sha256: row.sha256,
    witUrl: row.wit_url,
    dependencies: row.dependencies,
    targets: row.targets,
    publishedAt: row.published_at,
    yanked: row.yanked,
    downloads: row.downloads,
  };
  // The inspection fields are absent (not null) on versions stored before inspection existed.
  if (row.kind !== null) {
    record.kind = row.kind;
    record.wit = row.wit;
    if (row.world !== null) record.world = row.world;
    if (row.producers !== null) record.producers = row.producers;
  }
  return record;
}

export function toPackageSummary(row: VersionRow & { package_downloads: number }): PackageSummary {
  const { downloads: _versionDownloads, ...latest } = toVersionRecord(row);
  return { latest, downloads: row.package_downloads };
}

/**
 * A version's values for `INSERT INTO versions (package_id, version, description, license,
 * repository, size, sha256, wit_url, dependencies, targets, published_at, yanked, kind,
 * world, wit, producers)`, JSON columns as text. `yanked` is given as the store stores it
 * (SQLite has no booleans).
 */
export function versionValues(packageId: number, record: VersionRecord, yanked: boolean | number): unknown[] {
  return [
    packageId,
    record.version,
    record.description,
    record.license,
    record.repository,
    record.size,
    record.sha256,
    record.witUrl,
    JSON.stringify(record.dependencies),
    JSON.stringify(record.targets),
    record.publishedAt,
    yanked,
    record.kind ?? null,
    record.world ? JSON.stringify(record.world) : null,
    record.wit ?? null,
    record.producers ? JSON.stringify(record.producers) : null,
  ];
}

/** One row per interface (or function) a version imports or exports, for search by interface. */
export function interfaceRows(record: VersionRecord): [direction: "import" | "export", name: string][] {
  if (!record.world) return [];
  return [
    ...record.world.imports.map((name) => ["import", name] as ["import", string]),
    ...record.world.exports.map((name) => ["export", name] as ["export", string]),
  ];
}

export interface TokenRow {
  id: string;
  namespace: string | null;
  hash: string;
  source: string;
  created_at: number;
  scopes: string;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

export const TOKEN_COLUMNS = "id, namespace, hash, source, created_at, scopes, expires_at, revoked_at, last_used_at";

export function toToken(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    namespace: row.namespace,
    hash: row.hash,
    source: row.source as TokenRecord["source"],
    createdAt: row.created_at,
    scopes: scopesFromText<TokenScope>(row.scopes),
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

/** A token's values in TOKEN_COLUMNS order. */
export function tokenValues(
  token: TokenRecord,
): [string, string | null, string, string, number, string, number | null, number | null, number | null] {
  return [
    token.id,
    token.namespace,
    token.hash,
    token.source,
    token.createdAt,
    scopesToText(token.scopes),
    token.expiresAt,
    token.revokedAt,
    token.lastUsedAt,
  ];
}
