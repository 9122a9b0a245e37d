/**
 * The embedded metadata store: one SQLite file under DATA_DIR, in WAL mode so
 * readers never wait for the writer. better-sqlite3 is synchronous; each call
 * is a few microseconds on an indexed lookup, so it runs on the event loop.
 */
import Database from "better-sqlite3";
import { interfaceUnversioned, sortVersions } from "@wasm-registry/core";
import type {
  DownloadCount,
  InterfaceFilter,
  MetadataStore,
  Page,
  PackageDetail,
  PackageSummary,
  StoreStats,
  TokenRecord,
  VersionRecord,
} from "./types.js";
import {
  TOKEN_COLUMNS,
  type TokenRow,
  VERSION_COLUMNS,
  type VersionRow,
  interfaceRows,
  latestShown,
  toPackageSummary,
  toToken,
  toVersionRecord,
  tokenValues,
  versionValues,
} from "./records.js";
import { searchWords } from "./search-words.js";

/** Versioned schema; entry i brings user_version from i to i + 1. Never edit a shipped entry. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE packages (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    namespace TEXT NOT NULL,
    latest_version TEXT NOT NULL,
    downloads INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE versions (
    id INTEGER PRIMARY KEY,
    package_id INTEGER NOT NULL REFERENCES packages(id),
    version TEXT NOT NULL,
    description TEXT,
    license TEXT,
    repository TEXT,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    wit_url TEXT,
    dependencies TEXT NOT NULL,
    targets TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    downloads INTEGER NOT NULL DEFAULT 0,
    UNIQUE (package_id, version)
  );
  CREATE INDEX versions_sha256 ON versions (sha256);
  CREATE INDEX packages_downloads ON packages (downloads DESC, name);
  -- rowid = packages.id; holds the name and the latest version's description.
  CREATE VIRTUAL TABLE packages_fts USING fts5 (name, description, tokenize = 'unicode61');
  CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    namespace TEXT,
    source TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE uptime (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    up_seconds INTEGER NOT NULL
  );
  `,
  // 2: what component inspection finds at publish (issue 4). Rows from before it stay NULL.
  `
  ALTER TABLE versions ADD COLUMN kind TEXT;       -- 'component' or 'module'
  ALTER TABLE versions ADD COLUMN world TEXT;      -- JSON {"imports": [...], "exports": [...]}
  ALTER TABLE versions ADD COLUMN wit TEXT;        -- the top-level world as WIT text
  ALTER TABLE versions ADD COLUMN producers TEXT;  -- JSON {"language": [{"name", "version"}], ...}
  -- One row per interface (or function) a version imports or exports, for search by interface.
  CREATE TABLE version_interfaces (
    version_id INTEGER NOT NULL REFERENCES versions(id),
    package_id INTEGER NOT NULL REFERENCES packages(id),
    direction TEXT NOT NULL CHECK (direction IN ('import', 'export')),
    interface TEXT NOT NULL,              -- wasi:http/outgoing-handler@0.2.0
    interface_unversioned TEXT NOT NULL,  -- wasi:http/outgoing-handler
    PRIMARY KEY (version_id, direction, interface)
  );
  CREATE INDEX version_interfaces_exact ON version_interfaces (direction, interface);
  CREATE INDEX version_interfaces_unversioned ON version_interfaces (direction, interface_unversioned);
  `,
  // Token scopes, expiry, revocation and last use; yanked versions. Existing tokens keep both scopes.
  `
  ALTER TABLE tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'publish,yank';
  ALTER TABLE tokens ADD COLUMN expires_at INTEGER;
  ALTER TABLE tokens ADD COLUMN revoked_at INTEGER;
  ALTER TABLE tokens ADD COLUMN last_used_at INTEGER;
  ALTER TABLE versions ADD COLUMN yanked INTEGER NOT NULL DEFAULT 0;
  `,
];

/** A version row as SQLite returns it: JSON as text, booleans as 0 or 1. */
interface SqliteVersionRow {
  name: string;
  version: string;
  description: string | null;
  license: string | null;
  repository: string | null;
  size: number;
  sha256: string;
  wit_url: string | null;
  dependencies: string;
  targets: string;
  published_at: number;
  yanked: number;
  downloads: number;
  kind: string | null;
  world: string | null;
  wit: string | null;
  producers: string | null;
}

interface SqliteSummaryRow extends SqliteVersionRow {
  package_downloads: number;
}

/** Decodes SQLite's column types into the shared row shape. */
function decode(row: SqliteVersionRow): VersionRow {
  return {
    ...row,
    dependencies: JSON.parse(row.dependencies),
    targets: JSON.parse(row.targets),
    yanked: row.yanked !== 0,
    kind: row.kind as VersionRow["kind"],
    world: row.world === null ? null : JSON.parse(row.world),
    producers: row.producers === null ? null : JSON.parse(row.producers),
  };
}

const toRecord = (row: SqliteVersionRow) => toVersionRecord(decode(row));
const toSummary = (row: SqliteSummaryRow) => toPackageSummary({ ...decode(row), package_downloads: row.package_downloads });

export function ftsQuery(text: string): string | undefined {
  const words = searchWords(text);
  if (words.length === 0) return undefined;
  return words.map((word) => `"${word}"*`).join(" ");
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE";
}

export class SqliteMetadataStore implements MetadataStore {
  private readonly db: Database.Database;
  private readonly statements;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    // Durable enough with WAL: a power cut can lose the last commits, never corrupt the file.
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.pragma("foreign_keys = ON");
    this.migrate();
    const db = this.db;
    this.statements = {
      packageByName: db.prepare<[string], { id: number; downloads: number }>(
        "SELECT id, downloads FROM packages WHERE name = ?",
      ),
      insertPackage: db.prepare(
        "INSERT INTO packages (name, namespace, latest_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
      ),
      updatePackageLatest: db.prepare("UPDATE packages SET latest_version = ?, updated_at = ? WHERE id = ?"),
      insertVersion: db.prepare(`INSERT INTO versions (package_id, version, description, license, repository,
        size, sha256, wit_url, dependencies, targets, published_at, yanked, kind, world, wit, producers)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      insertInterface: db.prepare(`INSERT OR IGNORE INTO version_interfaces
        (version_id, package_id, direction, interface, interface_unversioned) VALUES (?, ?, ?, ?, ?)`),
      versionStrings: db.prepare<[number], { version: string; yanked: number; description: string | null }>(
        "SELECT version, yanked, description FROM versions WHERE package_id = ?",
      ),
      packageForYank: db.prepare<[string], { id: number; latest_version: string }>(
        "SELECT id, latest_version FROM packages WHERE name = ?",
      ),
      setYanked: db.prepare("UPDATE versions SET yanked = ? WHERE package_id = ? AND version = ?"),
      deleteFts: db.prepare("DELETE FROM packages_fts WHERE rowid = ?"),
      insertFts: db.prepare("INSERT INTO packages_fts (rowid, name, description) VALUES (?, ?, ?)"),
      getVersion: db.prepare<[string, string], SqliteVersionRow>(`SELECT ${VERSION_COLUMNS}
        FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.name = ? AND v.version = ?`),
      listVersions: db.prepare<[string], { version: string }>(
        "SELECT v.version FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.name = ?",
      ),
      yankedVersions: db.prepare<[string], { version: string }>(
        "SELECT v.version FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.name = ? AND v.yanked = 1",
      ),
      packageVersions: db.prepare<[string], SqliteVersionRow>(`SELECT ${VERSION_COLUMNS}
        FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.name = ?`),
      listNames: db.prepare<[], { name: string }>("SELECT name FROM packages ORDER BY name"),
      allSummaries: db.prepare<[number, number], SqliteSummaryRow>(`SELECT ${VERSION_COLUMNS}, p.downloads AS package_downloads
        FROM packages p JOIN versions v ON v.package_id = p.id AND v.version = p.latest_version
        ORDER BY p.downloads DESC, p.name LIMIT ? OFFSET ?`),
      countPackages: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM packages"),
      searchSummaries: db.prepare<[string, string, number, number], SqliteSummaryRow>(`SELECT ${VERSION_COLUMNS},
          p.downloads AS package_downloads
        FROM packages_fts f
        JOIN packages p ON p.id = f.rowid
        JOIN versions v ON v.package_id = p.id AND v.version = p.latest_version
        WHERE packages_fts MATCH ?
        ORDER BY (p.name = ?) DESC, p.downloads DESC, p.name
        LIMIT ? OFFSET ?`),
      countSearch: db.prepare<[string], { n: number }>(
        "SELECT count(*) AS n FROM packages_fts WHERE packages_fts MATCH ?",
      ),
      addVersionDownloads: db.prepare(
        `UPDATE versions SET downloads = downloads + ?
         WHERE version = ? AND package_id = (SELECT id FROM packages WHERE name = ?)`,
      ),
      addPackageDownloads: db.prepare("UPDATE packages SET downloads = downloads + ? WHERE name = ?"),
      stats: db.prepare<[], { packages: number; versions: number; downloads: number | null }>(`SELECT
        (SELECT count(*) FROM packages) AS packages,
        (SELECT count(*) FROM versions) AS versions,
        (SELECT sum(downloads) FROM packages) AS downloads`),
      uptime: db.prepare<[], { first_seen: number; last_seen: number; up_seconds: number }>(
        "SELECT first_seen, last_seen, up_seconds FROM uptime WHERE id = 1",
      ),
      startUptime: db.prepare("INSERT INTO uptime (id, first_seen, last_seen, up_seconds) VALUES (1, ?, ?, 0)"),
      updateUptime: db.prepare("UPDATE uptime SET last_seen = ?, up_seconds = ? WHERE id = 1"),
      tokenByHash: db.prepare<[string], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE hash = ?`),
      tokenById: db.prepare<[string], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE id = ?`),
      listTokens: db.prepare<[], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens ORDER BY created_at, id`),
      countTokens: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM tokens"),
      insertToken: db.prepare(`INSERT INTO tokens (${TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      revokeToken: db.prepare("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"),
      touchToken: db.prepare("UPDATE tokens SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?"),
      deleteEnvTokens: db.prepare("DELETE FROM tokens WHERE source = 'env'"),
      referencedDigests: db.prepare<[], { sha256: string }>("SELECT DISTINCT sha256 FROM versions"),
    };
  }

  private migrate(): void {
    const current = this.db.pragma("user_version", { simple: true }) as number;
    for (let index = current; index < MIGRATIONS.length; index++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[index]!);
        this.db.pragma(`user_version = ${index + 1}`);
      }).immediate();
    }
  }

  async insertVersion(record: VersionRecord): Promise<boolean> {
    const s = this.statements;
    const commit = this.db.transaction((): boolean => {
      const now = Math.floor(Date.now() / 1000);
      let packageId = s.packageByName.get(record.name)?.id;
      if (packageId === undefined) {
        const namespace = record.name.slice(0, record.name.indexOf(":"));
        packageId = Number(s.insertPackage.run(record.name, namespace, record.version, now, now).lastInsertRowid);
      }
      let versionId: number;
      try {
        versionId = Number(s.insertVersion.run(...versionValues(packageId, record, record.yanked ? 1 : 0)).lastInsertRowid);
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
      for (const [direction, name] of interfaceRows(record)) {
        s.insertInterface.run(versionId, packageId, direction, name, interfaceUnversioned(name));
      }
      const versions = s.versionStrings.all(packageId).map((row) => ({ version: row.version, yanked: row.yanked !== 0 }));
      const latest = latestShown(versions) ?? record.version;
      s.updatePackageLatest.run(latest, now, packageId);
      if (latest === record.version) {
        s.deleteFts.run(packageId);
        s.insertFts.run(packageId, record.name, record.description ?? "");
      }
      return true;
    });
    return commit.immediate();
  }

  async setYanked(name: string, version: string, yanked: boolean): Promise<boolean> {
    const s = this.statements;
    const change = this.db.transaction((): boolean => {
      const pkg = s.packageForYank.get(name);
      if (!pkg) return false;
      if (s.setYanked.run(yanked ? 1 : 0, pkg.id, version).changes === 0) return false;
      const rows = s.versionStrings.all(pkg.id);
      const latest = latestShown(rows.map((row) => ({ version: row.version, yanked: row.yanked !== 0 })))!;
      if (latest !== pkg.latest_version) {
        s.updatePackageLatest.run(latest, Math.floor(Date.now() / 1000), pkg.id);
        // Search matches the description of the version it shows.
        s.deleteFts.run(pkg.id);
        s.insertFts.run(pkg.id, name, rows.find((row) => row.version === latest)!.description ?? "");
      }
      return true;
    });
    return change.immediate();
  }

  async getVersion(name: string, version: string): Promise<VersionRecord | undefined> {
    const row = this.statements.getVersion.get(name, version);
    if (!row) return undefined;
    const { downloads: _downloads, ...record } = toRecord(row);
    return record;
  }

  async listVersions(name: string): Promise<string[] | undefined> {
    const rows = this.statements.listVersions.all(name);
    return rows.length === 0 ? undefined : sortVersions(rows.map((row) => row.version));
  }

  async yankedVersions(name: string): Promise<string[]> {
    return sortVersions(this.statements.yankedVersions.all(name).map((row) => row.version));
  }

  async listPackageNames(): Promise<string[]> {
    return this.statements.listNames.all().map((row) => row.name);
  }

  async getPackage(name: string): Promise<PackageDetail | undefined> {
    const pkg = this.statements.packageByName.get(name);
    if (!pkg) return undefined;
    const byVersion = new Map(this.statements.packageVersions.all(name).map((row) => [row.version, toRecord(row)]));
    const newestFirst = sortVersions([...byVersion.keys()]).reverse();
    const versions = newestFirst.map((version) => byVersion.get(version)!);
    const latestName = latestShown(versions)!;
    const { downloads: _downloads, ...latest } = byVersion.get(latestName)!;
    return { latest, downloads: pkg.downloads, versions };
  }

  async searchPackages(query: string, limit: number, offset: number): Promise<Page<PackageSummary>> {
    const s = this.statements;
    const match = ftsQuery(query);
    if (match === undefined) {
      return { items: s.allSummaries.all(limit, offset).map(toSummary), total: s.countPackages.get()!.n };
    }
    const exactName = query.trim().toLowerCase();
    return {
      items: s.searchSummaries.all(match, exactName, limit, offset).map(toSummary),
      total: s.countSearch.get(match)!.n,
    };
  }

  async searchByInterface(filter: InterfaceFilter, query: string, limit: number, offset: number): Promise<Page<PackageSummary>> {
    const conditions: string[] = [];
    const params: (string | number)[] = [];
    for (const [direction, name] of [["import", filter.imports], ["export", filter.exports]] as const) {
      if (!name) continue;
      // With @version, the exact interface; without, any version of it. Both columns are indexed.
      const column = name.includes("@") ? "interface" : "interface_unversioned";
      conditions.push(`v.id IN (SELECT version_id FROM version_interfaces WHERE direction = '${direction}' AND ${column} = ?)`);
      params.push(name);
    }
    const match = ftsQuery(query);
    if (match !== undefined) {
      conditions.push("p.id IN (SELECT rowid FROM packages_fts WHERE packages_fts MATCH ?)");
      params.push(match);
    }
    const from = `FROM packages p JOIN versions v ON v.package_id = p.id AND v.version = p.latest_version
      ${conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : ""}`;
    const rows = this.cachedStatement<SqliteSummaryRow>(`SELECT ${VERSION_COLUMNS}, p.downloads AS package_downloads ${from}
      ORDER BY (p.name = ?) DESC, p.downloads DESC, p.name LIMIT ? OFFSET ?`).all(...params, query.trim().toLowerCase(), limit, offset);
    const total = this.cachedStatement<{ n: number }>(`SELECT count(*) AS n ${from}`).get(...params)!.n;
    return { items: rows.map(toSummary), total };
  }

  /** A handful of query shapes (which filters are given); each is prepared once. */
  private readonly statementCache = new Map<string, Database.Statement>();
  private cachedStatement<Row>(sql: string): Database.Statement<unknown[], Row> {
    let statement = this.statementCache.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statementCache.set(sql, statement);
    }
    return statement as Database.Statement<unknown[], Row>;
  }

  async addDownloads(counts: readonly DownloadCount[]): Promise<void> {
    const s = this.statements;
    this.db.transaction(() => {
      for (const { name, version, count } of counts) {
        s.addVersionDownloads.run(count, version, name);
        s.addPackageDownloads.run(count, name);
      }
    })();
  }

  async stats(): Promise<StoreStats> {
    const row = this.statements.stats.get()!;
    const uptime = this.statements.uptime.get();
    return {
      packageCount: row.packages,
      versionCount: row.versions,
      downloadCount: row.downloads ?? 0,
      uptime: uptime && { firstSeen: uptime.first_seen, lastSeen: uptime.last_seen, upSeconds: uptime.up_seconds },
    };
  }

  async heartbeat(nowSeconds: number, intervalSeconds: number): Promise<void> {
    const s = this.statements;
    this.db.transaction(() => {
      const uptime = s.uptime.get();
      if (!uptime) {
        s.startUptime.run(nowSeconds, nowSeconds);
        return;
      }
      // A gap longer than two beats means no server was up; it does not count.
      const gap = nowSeconds - uptime.last_seen;
      const up = gap > 0 && gap <= intervalSeconds * 2 ? uptime.up_seconds + gap : uptime.up_seconds;
      s.updateUptime.run(Math.max(nowSeconds, uptime.last_seen), up);
    }).immediate();
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | undefined> {
    const row = this.statements.tokenByHash.get(hash);
    return row ? toToken(row) : undefined;
  }

  async findTokenById(id: string): Promise<TokenRecord | undefined> {
    const row = this.statements.tokenById.get(id);
    return row ? toToken(row) : undefined;
  }

  async listTokens(): Promise<TokenRecord[]> {
    return this.statements.listTokens.all().map(toToken);
  }

  async revokeToken(id: string, nowSeconds: number): Promise<boolean> {
    return this.statements.revokeToken.run(nowSeconds, id).changes > 0;
  }

  async touchToken(id: string, nowSeconds: number): Promise<void> {
    this.statements.touchToken.run(nowSeconds, id);
  }

  async countTokens(): Promise<number> {
    return this.statements.countTokens.get()!.n;
  }

  async insertToken(token: TokenRecord): Promise<void> {
    this.statements.insertToken.run(...tokenValues(token));
  }

  async replaceEnvTokens(tokens: readonly TokenRecord[]): Promise<void> {
    const s = this.statements;
    this.db.transaction(() => {
      s.deleteEnvTokens.run();
      for (const token of tokens) {
        s.insertToken.run(...tokenValues(token));
      }
    }).immediate();
  }

  async referencedDigests(): Promise<Set<string>> {
    return new Set(this.statements.referencedDigests.all().map((row) => row.sha256));
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
