/**
 * The scale-out metadata store: PostgreSQL through a connection pool, shared
 * by any number of servers. Every promise of the embedded store holds across
 * servers because PostgreSQL keeps it: the unique (package, version) key picks
 * the one winner of a publish race, counts are added in the database
 * (`downloads = downloads + n`), and a publish is one transaction.
 */
import pg from "pg";
import { interfaceUnversioned, sortVersions } from "@wasm-registry/core";
import {
  type SummaryRow,
  TOKEN_COLUMNS,
  type TokenRow,
  VERSION_COLUMNS,
  type VersionRow,
  interfaceRows,
  latestShown,
  toPackageSummary as toSummary,
  toToken,
  toVersionRecord as toRecord,
  tokenValues,
  versionValues,
} from "./records.js";
import { searchWords } from "./search-words.js";
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

/**
 * Versioned schema; entry i brings the schema from version i to i + 1. Never
 * edit a shipped entry: add one. Each runs in its own transaction.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE EXTENSION IF NOT EXISTS pg_trgm;
  CREATE TABLE packages (
    id BIGSERIAL PRIMARY KEY,
    -- Byte order, as SQLite sorts: the same listing and search order on every backend.
    name TEXT COLLATE "C" NOT NULL UNIQUE,
    namespace TEXT NOT NULL,
    latest_version TEXT NOT NULL,
    downloads BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- The name's search words, space-separated with a leading space, so that
    -- "word starts with w" is LIKE '% w%', which the trigram index serves.
    name_words TEXT NOT NULL,
    -- The latest version's description, for full-text search.
    description_tsv TSVECTOR NOT NULL
  );
  CREATE INDEX packages_name_words_trgm ON packages USING gin (name_words gin_trgm_ops);
  CREATE INDEX packages_description_fts ON packages USING gin (description_tsv);
  CREATE INDEX packages_downloads ON packages (downloads DESC, name);
  CREATE TABLE versions (
    id BIGSERIAL PRIMARY KEY,
    package_id BIGINT NOT NULL REFERENCES packages(id),
    version TEXT NOT NULL,
    description TEXT,
    license TEXT,
    repository TEXT,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    wit_url TEXT,
    -- json, not jsonb: gives back the text as written, keys in the order published.
    dependencies JSON NOT NULL,
    targets JSON NOT NULL,
    published_at BIGINT NOT NULL,
    downloads BIGINT NOT NULL DEFAULT 0,
    UNIQUE (package_id, version)
  );
  CREATE INDEX versions_sha256 ON versions (sha256);
  CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    namespace TEXT,
    source TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE uptime (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    up_seconds BIGINT NOT NULL
  );
  `,
  // 2: what component inspection finds at publish (issue 4). Rows from before it stay NULL.
  `
  ALTER TABLE versions ADD COLUMN kind TEXT;
  ALTER TABLE versions ADD COLUMN world JSON;
  ALTER TABLE versions ADD COLUMN wit TEXT;
  ALTER TABLE versions ADD COLUMN producers JSON;
  CREATE TABLE version_interfaces (
    version_id BIGINT NOT NULL REFERENCES versions(id),
    package_id BIGINT NOT NULL REFERENCES packages(id),
    direction TEXT NOT NULL CHECK (direction IN ('import', 'export')),
    interface TEXT NOT NULL,
    interface_unversioned TEXT NOT NULL,
    PRIMARY KEY (version_id, direction, interface)
  );
  CREATE INDEX version_interfaces_exact ON version_interfaces (direction, interface);
  CREATE INDEX version_interfaces_unversioned ON version_interfaces (direction, interface_unversioned);
  `,
  // Token scopes, expiry, revocation and last use; yanked versions. Existing tokens keep both scopes.
  `
  ALTER TABLE tokens
    ADD COLUMN scopes TEXT NOT NULL DEFAULT 'publish,yank',
    ADD COLUMN expires_at BIGINT,
    ADD COLUMN revoked_at BIGINT,
    ADD COLUMN last_used_at BIGINT;
  ALTER TABLE versions ADD COLUMN yanked BOOLEAN NOT NULL DEFAULT false;
  `,
];

/** The schema version a server of this code brings the database to. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Any fixed number, the same in every server: pg_advisory_lock's key for migrations. */
const MIGRATION_LOCK = 7_301_245_581;

/** BIGINT columns come back as numbers: counts and sizes stay far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === pg.types.builtins.INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const INSERT_TOKEN = `INSERT INTO tokens (${TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`;

function nameWords(name: string): string {
  return ` ${searchWords(name).join(" ")}`;
}

function isDeadlock(error: unknown): boolean {
  return (error as { code?: string }).code === "40P01";
}

export class PostgresMetadataStore implements MetadataStore {
  private constructor(private readonly pool: pg.Pool) {}

  /** Connects and brings the schema up to date; safe when several servers start at once. */
  static async open(url: string, poolSize = 10): Promise<PostgresMetadataStore> {
    const pool = new pg.Pool({ connectionString: url, max: poolSize, types });
    // A lost connection (the database restarted, say) must not crash the process. An idle
    // client's error reaches the pool, which replaces the client; a checked-out client's error
    // between two queries reaches the client, and the next query on it fails instead.
    pool.on("error", () => {});
    pool.on("connect", (client) => client.on("error", () => {}));
    try {
      await migrate(pool);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresMetadataStore(pool);
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async insertVersion(record: VersionRecord): Promise<boolean> {
    const inserted = await this.transaction(async (client) => {
      const now = Math.floor(Date.now() / 1000);
      const namespace = record.name.slice(0, record.name.indexOf(":"));
      await client.query(
        `INSERT INTO packages (name, namespace, latest_version, created_at, updated_at, name_words, description_tsv)
         VALUES ($1, $2, $3, $4, $4, $5, ''::tsvector) ON CONFLICT (name) DO NOTHING`,
        [record.name, namespace, record.version, now, nameWords(record.name)],
      );
      // The row lock queues publishes of one package, so each sees the versions before it.
      const pkg = await client.query<{ id: number }>("SELECT id FROM packages WHERE name = $1 FOR UPDATE", [record.name]);
      const packageId = pkg.rows[0]!.id;
      const version = await client.query(
        `INSERT INTO versions (package_id, version, description, license, repository, size, sha256, wit_url,
           dependencies, targets, published_at, yanked, kind, world, wit, producers)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         ON CONFLICT (package_id, version) DO NOTHING RETURNING id`,
        versionValues(packageId, record, record.yanked),
      );
      if (version.rowCount === 0) return false;
      const versionId = (version.rows[0] as { id: number }).id;
      for (const [direction, name] of interfaceRows(record)) {
        await client.query(
          `INSERT INTO version_interfaces (version_id, package_id, direction, interface, interface_unversioned)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
          [versionId, packageId, direction, name, interfaceUnversioned(name)],
        );
      }
      const versions = await client.query<{ version: string; yanked: boolean }>(
        "SELECT version, yanked FROM versions WHERE package_id = $1",
        [packageId],
      );
      const latest = latestShown(versions.rows) ?? record.version;
      if (latest === record.version) {
        await client.query(
          `UPDATE packages SET latest_version = $1, updated_at = $2, description_tsv = to_tsvector('simple', $3) WHERE id = $4`,
          [latest, now, searchWords(record.description ?? "").join(" "), packageId],
        );
      } else {
        await client.query("UPDATE packages SET latest_version = $1, updated_at = $2 WHERE id = $3", [latest, now, packageId]);
      }
      return true;
    });
    return inserted;
  }

  async setYanked(name: string, version: string, yanked: boolean): Promise<boolean> {
    return this.transaction(async (client) => {
      // The row lock queues this after any publish of the package, as insertVersion's does.
      const pkg = await client.query<{ id: number; latest_version: string }>(
        "SELECT id, latest_version FROM packages WHERE name = $1 FOR UPDATE",
        [name],
      );
      const row = pkg.rows[0];
      if (!row) return false;
      const updated = await client.query("UPDATE versions SET yanked = $1 WHERE package_id = $2 AND version = $3", [yanked, row.id, version]);
      if (updated.rowCount === 0) return false;
      const versions = await client.query<{ version: string; yanked: boolean; description: string | null }>(
        "SELECT version, yanked, description FROM versions WHERE package_id = $1",
        [row.id],
      );
      const latest = latestShown(versions.rows)!;
      if (latest !== row.latest_version) {
        // Search matches the description of the version it shows.
        const description = versions.rows.find((v) => v.version === latest)!.description;
        await client.query(
          `UPDATE packages SET latest_version = $1, updated_at = $2, description_tsv = to_tsvector('simple', $3) WHERE id = $4`,
          [latest, Math.floor(Date.now() / 1000), searchWords(description ?? "").join(" "), row.id],
        );
      }
      return true;
    });
  }

  async getVersion(name: string, version: string): Promise<VersionRecord | undefined> {
    // Named: each connection parses and plans the hottest query once.
    const { rows } = await this.pool.query<VersionRow>({
      name: "get-version",
      text: `SELECT ${VERSION_COLUMNS} FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.name = $1 AND v.version = $2`,
      values: [name, version],
    });
    if (rows.length === 0) return undefined;
    const { downloads: _downloads, ...record } = toRecord(rows[0]!);
    return record;
  }

  async listVersions(name: string): Promise<string[] | undefined> {
    const { rows } = await this.pool.query<{ version: string }>(
      "SELECT v.version FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.name = $1",
      [name],
    );
    return rows.length === 0 ? undefined : sortVersions(rows.map((row) => row.version));
  }

  async yankedVersions(name: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ version: string }>(
      "SELECT v.version FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.name = $1 AND v.yanked",
      [name],
    );
    return sortVersions(rows.map((row) => row.version));
  }

  async listPackageNames(): Promise<string[]> {
    const { rows } = await this.pool.query<{ name: string }>("SELECT name FROM packages ORDER BY name");
    return rows.map((row) => row.name);
  }

  async getPackage(name: string): Promise<PackageDetail | undefined> {
    const { rows } = await this.pool.query<SummaryRow>(
      `SELECT ${VERSION_COLUMNS}, p.downloads AS package_downloads
       FROM packages p JOIN versions v ON v.package_id = p.id WHERE p.name = $1`,
      [name],
    );
    if (rows.length === 0) return undefined;
    const byVersion = new Map(rows.map((row) => [row.version, toRecord(row)]));
    const newestFirst = sortVersions([...byVersion.keys()]).reverse();
    const versions = newestFirst.map((version) => byVersion.get(version)!);
    const { downloads: _downloads, ...latest } = byVersion.get(latestShown(versions)!)!;
    return { latest, downloads: rows[0]!.package_downloads, versions };
  }

  /**
   * Every query word must start a word of the name (trigram index) or of the
   * latest description (full-text index), as FTS5 prefix queries do in SQLite.
   */
  async searchPackages(query: string, limit: number, offset: number): Promise<Page<PackageSummary>> {
    return this.searchWhere([], [], query, limit, offset);
  }

  async searchByInterface(filter: InterfaceFilter, query: string, limit: number, offset: number): Promise<Page<PackageSummary>> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    for (const [direction, name] of [["import", filter.imports], ["export", filter.exports]] as const) {
      if (!name) continue;
      // With @version, the exact interface; without, any version of it. Both columns are indexed.
      const column = name.includes("@") ? "interface" : "interface_unversioned";
      params.push(direction, name);
      conditions.push(
        `v.id IN (SELECT version_id FROM version_interfaces WHERE direction = $${params.length - 1} AND ${column} = $${params.length})`,
      );
    }
    return this.searchWhere(conditions, params, query, limit, offset);
  }

  /** Latest versions of the packages that meet `conditions` and match `query`, ranked as in SQLite. */
  private async searchWhere(
    conditions: string[],
    params: unknown[],
    query: string,
    limit: number,
    offset: number,
  ): Promise<Page<PackageSummary>> {
    params = [...params];
    conditions = [...conditions];
    for (const word of searchWords(query)) {
      params.push(`% ${word}%`, `${word}:*`);
      conditions.push(`(p.name_words LIKE $${params.length - 1} OR p.description_tsv @@ to_tsquery('simple', $${params.length}))`);
    }
    const from = `FROM packages p JOIN versions v ON v.package_id = p.id AND v.version = p.latest_version
      ${conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : ""}`;
    const filterParams = [...params];
    params.push(query.trim().toLowerCase(), limit, offset);
    const n = params.length;
    const [items, total] = await Promise.all([
      this.pool.query<SummaryRow>(
        `SELECT ${VERSION_COLUMNS}, p.downloads AS package_downloads ${from}
         ORDER BY (p.name = $${n - 2}) DESC, p.downloads DESC, p.name
         LIMIT $${n - 1} OFFSET $${n}`,
        params,
      ),
      this.pool.query<{ n: number }>(`SELECT count(*)::int AS n ${from}`, filterParams),
    ]);
    return { items: items.rows.map(toSummary), total: total.rows[0]!.n };
  }

  async addDownloads(counts: readonly DownloadCount[]): Promise<void> {
    if (counts.length === 0) return;
    // One lock order for every server's batch, so two flushes never deadlock.
    const sorted = [...counts].sort((a, b) => (a.name === b.name ? (a.version < b.version ? -1 : 1) : a.name < b.name ? -1 : 1));
    for (let attempt = 1; ; attempt++) {
      try {
        await this.transaction(async (client) => {
          for (const { name, version, count } of sorted) {
            const pkg = await client.query<{ id: number }>(
              "UPDATE packages SET downloads = downloads + $1 WHERE name = $2 RETURNING id",
              [count, name],
            );
            if (pkg.rows.length === 0) continue;
            await client.query("UPDATE versions SET downloads = downloads + $1 WHERE package_id = $2 AND version = $3", [
              count,
              pkg.rows[0]!.id,
              version,
            ]);
          }
        });
        return;
      } catch (error) {
        if (!isDeadlock(error) || attempt >= 3) throw error;
      }
    }
  }

  async stats(): Promise<StoreStats> {
    const { rows } = await this.pool.query<{
      packages: number;
      versions: number;
      downloads: number;
      first_seen: number | null;
      last_seen: number | null;
      up_seconds: number | null;
    }>(`SELECT
        (SELECT count(*) FROM packages) AS packages,
        (SELECT count(*) FROM versions) AS versions,
        (SELECT coalesce(sum(downloads), 0)::bigint FROM packages) AS downloads,
        u.first_seen, u.last_seen, u.up_seconds
      FROM (SELECT 1) AS one LEFT JOIN uptime u ON u.id = 1`);
    const row = rows[0]!;
    return {
      packageCount: row.packages,
      versionCount: row.versions,
      downloadCount: row.downloads,
      uptime:
        row.first_seen === null || row.last_seen === null || row.up_seconds === null
          ? undefined
          : { firstSeen: row.first_seen, lastSeen: row.last_seen, upSeconds: row.up_seconds },
    };
  }

  async heartbeat(nowSeconds: number, intervalSeconds: number): Promise<void> {
    await this.transaction(async (client) => {
      await client.query(
        "INSERT INTO uptime (id, first_seen, last_seen, up_seconds) VALUES (1, $1, $1, 0) ON CONFLICT (id) DO NOTHING",
        [nowSeconds],
      );
      const { rows } = await client.query<{ last_seen: number; up_seconds: number }>(
        "SELECT last_seen, up_seconds FROM uptime WHERE id = 1 FOR UPDATE",
      );
      const uptime = rows[0]!;
      // Several servers beat in turn; a gap longer than two beats means none was up, and does not count.
      const gap = nowSeconds - uptime.last_seen;
      const up = gap > 0 && gap <= intervalSeconds * 2 ? uptime.up_seconds + gap : uptime.up_seconds;
      await client.query("UPDATE uptime SET last_seen = $1, up_seconds = $2 WHERE id = 1", [Math.max(nowSeconds, uptime.last_seen), up]);
    });
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | undefined> {
    const { rows } = await this.pool.query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE hash = $1`, [hash]);
    return rows[0] ? toToken(rows[0]) : undefined;
  }

  async findTokenById(id: string): Promise<TokenRecord | undefined> {
    const { rows } = await this.pool.query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE id = $1`, [id]);
    return rows[0] ? toToken(rows[0]) : undefined;
  }

  async listTokens(): Promise<TokenRecord[]> {
    const { rows } = await this.pool.query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens ORDER BY created_at, id`);
    return rows.map(toToken);
  }

  async revokeToken(id: string, nowSeconds: number): Promise<boolean> {
    const result = await this.pool.query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL", [nowSeconds, id]);
    return (result.rowCount ?? 0) > 0;
  }

  async touchToken(id: string, nowSeconds: number): Promise<void> {
    await this.pool.query("UPDATE tokens SET last_used_at = greatest(last_used_at, $1) WHERE id = $2", [nowSeconds, id]);
  }

  async countTokens(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM tokens");
    return rows[0]!.n;
  }

  async insertToken(token: TokenRecord): Promise<void> {
    await this.pool.query(INSERT_TOKEN, tokenValues(token));
  }

  async replaceEnvTokens(tokens: readonly TokenRecord[]): Promise<void> {
    await this.transaction(async (client) => {
      // Servers starting together each replace the set; the lock makes them take turns.
      await client.query("LOCK TABLE tokens IN SHARE ROW EXCLUSIVE MODE");
      await client.query("DELETE FROM tokens WHERE source = 'env'");
      for (const token of tokens) {
        await client.query(INSERT_TOKEN, tokenValues(token));
      }
    });
  }

  async referencedDigests(): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ sha256: string }>("SELECT DISTINCT sha256 FROM versions");
    return new Set(rows.map((row) => row.sha256));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Applies the migrations not yet applied, one server at a time. */
async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);
      const { rows } = await client.query<{ v: number | null }>("SELECT max(version) AS v FROM schema_migrations");
      const current = rows[0]?.v ?? 0;
      if (current > MIGRATIONS.length) {
        throw new Error(
          `DATABASE_URL: the database schema is at version ${current}, newer than this server knows (${MIGRATIONS.length}); upgrade the server`,
        );
      }
      for (let index = current; index < MIGRATIONS.length; index++) {
        await client.query("BEGIN");
        try {
          await client.query(MIGRATIONS[index]!);
          await client.query("INSERT INTO schema_migrations (version) VALUES ($1)", [index + 1]);
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK").catch(() => {});
          throw error;
        }
      }
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => {});
    }
  } finally {
    client.release();
  }
}
