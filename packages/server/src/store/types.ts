/**
 * The two storage interfaces. A backend is chosen once at start-up (see
 * ./index.ts); nothing else in the server knows which one it has.
 */
import type { Readable, Writable } from "node:stream";
import type { ComponentWorld, Dependency, Producers, WasmKind } from "@wasm-registry/core";

/** One published version, as stored. */
export interface VersionRecord {
  name: string;
  version: string;
  description: string | null;
  license: string | null;
  repository: string | null;
  size: number;
  sha256: string;
  witUrl: string | null;
  dependencies: Dependency[];
  targets: string[];
  /** Unix seconds. */
  publishedAt: number;
  /** Yanked: still downloadable (lockfiles keep working), skipped when resolving a range and for "latest". */
  yanked: boolean;
  // What inspection found at publish; absent on versions stored before it existed.
  kind?: WasmKind;
  world?: ComponentWorld;
  /** The top-level world as WIT; null for a core module. */
  wit?: string | null;
  producers?: Producers;
}

/** Which side of a world an interface filter looks at. */
export interface InterfaceFilter {
  /** An interface or function name the package imports, with or without its `@version`. */
  imports?: string;
  /** An interface or function name the package exports, with or without its `@version`. */
  exports?: string;
}

export interface VersionWithDownloads extends VersionRecord {
  downloads: number;
}

/** A package seen through its latest version. */
export interface PackageSummary {
  latest: VersionRecord;
  downloads: number;
}

export interface PackageDetail extends PackageSummary {
  /** Newest first. */
  versions: VersionWithDownloads[];
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface DownloadCount {
  name: string;
  version: string;
  count: number;
}

/** What a token may do; the admin's tokens may do both anywhere. */
export type TokenScope = import("@wasm-registry/core").TokenScope;
export const TOKEN_SCOPES: readonly TokenScope[] = ["publish", "yank"];

export interface TokenRecord {
  id: string;
  /** Null for an admin token, which may publish anywhere. */
  namespace: string | null;
  /** Lowercase hex SHA-256 of the secret; the secret itself is never stored. */
  hash: string;
  /** env: REGISTRY_TOKENS / REGISTRY_ADMIN_TOKEN; generated: the first start's admin token; api: POST /api/v1/tokens. */
  source: "env" | "generated" | "api";
  /** Unix seconds, as every time below. */
  createdAt: number;
  /** Sorted, no duplicates. */
  scopes: TokenScope[];
  /** Null: never expires. */
  expiresAt: number | null;
  /** Null: live. A revoked token stays stored so that it can be refused by name. */
  revokedAt: number | null;
  /** Written at most once a minute per token and server (see auth.ts), so it may lag by that much. */
  lastUsedAt: number | null;
}

export interface StoreStats {
  packageCount: number;
  versionCount: number;
  downloadCount: number;
  /** What the heartbeats recorded; undefined before the first. uptime.ts turns it into a percentage. */
  uptime: UptimeRecord | undefined;
}

/** Seconds since the epoch; `upSeconds` sums the gaps between beats short enough to mean a server was up. */
export interface UptimeRecord {
  firstSeen: number;
  lastSeen: number;
  upSeconds: number;
}

export interface MetadataStore {
  /**
   * Commits a version, creating its package when needed, in one transaction.
   * Returns false, and changes nothing, when that version already exists.
   */
  insertVersion(record: VersionRecord): Promise<boolean>;
  getVersion(name: string, version: string): Promise<VersionRecord | undefined>;
  /** Versions oldest first; undefined when the package is unknown. */
  listVersions(name: string): Promise<string[] | undefined>;
  /** The yanked versions of a package, oldest first; [] when none (or no such package). */
  yankedVersions(name: string): Promise<string[]>;
  listPackageNames(): Promise<string[]>;
  getPackage(name: string): Promise<PackageDetail | undefined>;
  /**
   * Packages whose name or description matches `query` (every word, as a
   * prefix, case-insensitively; all packages when it has no words): the exact
   * name first, then by downloads, then by name.
   */
  searchPackages(query: string, limit: number, offset: number): Promise<Page<PackageSummary>>;
  addDownloads(counts: readonly DownloadCount[]): Promise<void>;
  stats(): Promise<StoreStats>;
  /** Records that a server is up; feeds uptime_percent. */
  heartbeat(nowSeconds: number, intervalSeconds: number): Promise<void>;

  /**
   * Marks a version yanked or not (idempotent) and recomputes its package's
   * latest version, which skips yanked versions while an unyanked one exists.
   * False when the version does not exist.
   */
  setYanked(name: string, version: string, yanked: boolean): Promise<boolean>;

  findTokenByHash(hash: string): Promise<TokenRecord | undefined>;
  findTokenById(id: string): Promise<TokenRecord | undefined>;
  /** Every stored token, revoked ones included, oldest first (hashes only; secrets are never stored). */
  listTokens(): Promise<TokenRecord[]>;
  /** Sets revoked_at on a live token; false when the id is unknown or already revoked. */
  revokeToken(id: string, nowSeconds: number): Promise<boolean>;
  /** Moves last_used_at forward (never back) for a token; unknown ids are ignored. */
  touchToken(id: string, nowSeconds: number): Promise<void>;
  countTokens(): Promise<number>;
  insertToken(token: TokenRecord): Promise<void>;
  /** Makes the tokens from the environment exactly `tokens` (others of source "env" go). */
  replaceEnvTokens(tokens: readonly TokenRecord[]): Promise<void>;

  /** Every digest some version refers to: what `npm run gc` must keep. */
  referencedDigests(): Promise<Set<string>>;

  close(): Promise<void>;

  // --- Added with component inspection (issue 4). ---

  /**
   * Like searchPackages, restricted to packages whose latest version imports
   * and/or exports the interfaces in `filter`. A name given without `@version`
   * matches every version of it; with one, only that version. `query` may be
   * empty. insertVersion indexes `record.world` for this.
   */
  searchByInterface(filter: InterfaceFilter, query: string, limit: number, offset: number): Promise<Page<PackageSummary>>;
}

export interface BlobInfo {
  size: number;
}

export interface StoredBlob {
  sha256: string;
  size: number;
  /** Unix milliseconds of the last store or re-store of these bytes. */
  modifiedAt: number;
}

/**
 * Fixed-window request counters for rate limits. In memory with the embedded
 * store (one server); in the database with PostgreSQL, so every server
 * counting against one budget sees the others' counts.
 */
export interface RateCounter {
  /**
   * Adds `amount` to `key`'s count in the window that starts at `windowStart`
   * (unix seconds) and returns the total after adding, every server's included.
   */
  add(key: string, windowStart: number, amount: number): Promise<number>;
  /** Forgets windows that started before `windowStart`. */
  prune(windowStart: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A blob opened for reading: its bytes are known to be there. Read it once,
 * one way or the other.
 */
export interface BlobContent {
  /** The bytes as a stream, for code that reads them (a migration, a check). */
  stream(): Readable;
  /**
   * Writes the bytes into `destination` and ends it, the fastest way the store
   * has (a download). On a failure `destination` is destroyed and the promise rejects.
   */
  writeTo(destination: Writable): Promise<void>;
}

export interface BlobStore {
  /** A folder for uploads in progress, on the same file system as the store when it has one. */
  readonly stagingDir: string;
  /**
   * Moves a complete, hashed file into the store under its digest. The staged
   * file is consumed. Idempotent: storing bytes that are already there keeps
   * them and only refreshes their modification time, so that `npm run gc`'s
   * grace period protects them until the version that reuses them is committed.
   */
  putFile(sha256: string, stagedPath: string): Promise<void>;
  stat(sha256: string): Promise<BlobInfo | undefined>;
  /** The bytes, opened and ready to be read once; undefined when absent. */
  open(sha256: string): Promise<BlobContent | undefined>;
  /**
   * Where clients can fetch the bytes straight from storage (an object store
   * or a CDN before it), so that downloads skip the server; undefined when
   * they must pass through `open`. Optional: a store without it serves through `open`.
   */
  publicUrl?(sha256: string): string | undefined;
  /** Every stored blob, in no particular order. */
  list(): AsyncIterable<StoredBlob>;
  /** Removes the bytes; no error when they are already gone. Only `npm run gc` calls it. */
  delete(sha256: string): Promise<void>;
  close(): Promise<void>;
}
