/**
 * The store contract: the same cases against every backend that openStores
 * can choose, SQLite with files and PostgreSQL with S3. A backend passes when
 * nothing a client sees depends on which one it is.
 */
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig } from "../src/config.js";
import { openRateCounter, openStores, type Stores } from "../src/store/index.js";
import type { RateCounter, StoredBlob, TokenRecord, VersionRecord } from "../src/store/types.js";
import { createTestDatabase, filesUnder, startS3, truncateAll, type TestDatabase, type TestS3 } from "../testkit/backends.js";
import { tempDir } from "../testkit/helpers.js";

interface Backend {
  name: string;
  setup(): Promise<void>;
  /** Fresh, empty stores. */
  open(): Promise<Stores>;
  /** The rate counter openRateCounter chooses for this backend's configuration. */
  counter(): Promise<RateCounter>;
  teardown(): Promise<void>;
}

const dirs: string[] = [];

const sqliteBackend: Backend = {
  name: "SQLite + files",
  async setup() {},
  async open() {
    const dir = await tempDir("contract-sqlite-");
    dirs.push(dir);
    return openStores(loadConfig({ DATA_DIR: dir }));
  },
  async counter() {
    return openRateCounter(loadConfig({ DATA_DIR: "/nonexistent" }));
  },
  async teardown() {},
};

function postgresS3Backend(): Backend {
  let db: TestDatabase;
  let s3: TestS3;
  return {
    name: "PostgreSQL + S3",
    async setup() {
      [db, s3] = await Promise.all([createTestDatabase(), startS3()]);
    },
    async open() {
      const dir = await tempDir("contract-pg-");
      dirs.push(dir);
      const config = loadConfig({ DATA_DIR: dir, DATABASE_URL: db.url, DATABASE_POOL_SIZE: "4", ...s3.env(await s3.createBucket()) });
      const stores = await openStores(config);
      await truncateAll(db.url);
      return stores;
    },
    async counter() {
      return openRateCounter(loadConfig({ DATABASE_URL: db.url }));
    },
    async teardown() {
      await Promise.all([db?.drop(), s3?.stop()]);
    },
  };
}

function record(name: string, version: string, extra: Partial<VersionRecord> = {}): VersionRecord {
  return {
    name,
    version,
    description: `${name} at ${version}`,
    license: "MIT",
    repository: "https://example.com/repo",
    size: 42,
    sha256: createHash("sha256").update(`${name}@${version}`).digest("hex"),
    witUrl: null,
    dependencies: [{ name: "wasi:io", version: "^0.2.0", optional: false }],
    targets: ["wasm32-wasip2"],
    publishedAt: 1_700_000_000,
    yanked: false,
    ...extra,
  };
}

function token(hash: string, namespace: string | null, source: TokenRecord["source"]): TokenRecord {
  return { id: randomUUID(), namespace, hash, source, createdAt: 1_700_000_000, scopes: ["publish", "yank"], expiresAt: null, revokedAt: null, lastUsedAt: null };
}

async function staged(stores: Stores, bytes: Buffer): Promise<{ path: string; sha256: string }> {
  const file = path.join(stores.blobs.stagingDir, `upload-${randomUUID()}.part`);
  await fs.writeFile(file, bytes);
  return { path: file, sha256: createHash("sha256").update(bytes).digest("hex") };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

for (const backend of [sqliteBackend, postgresS3Backend()]) {
  describe(`store contract: ${backend.name}`, () => {
    let stores: Stores;
    before(() => backend.setup());
    after(() => backend.teardown());
    beforeEach(async () => {
      stores = await backend.open();
    });
    afterEach(async () => {
      await stores.metadata.close();
      await stores.blobs.close();
    });

    test("a version goes in whole and comes back as it went in", async () => {
      const { metadata } = stores;
      const first = record("alice:calc", "1.10.0", { witUrl: "https://example.com/calc.wit", license: null });
      assert.equal(await metadata.insertVersion(first), true);
      assert.equal(await metadata.insertVersion(record("alice:calc", "1.2.0")), true);
      assert.equal(await metadata.insertVersion(record("bob:zip", "0.1.0", { dependencies: [], targets: ["a", "b"] })), true);

      assert.deepEqual(await metadata.getVersion("alice:calc", "1.10.0"), first);
      assert.equal(await metadata.getVersion("alice:calc", "9.9.9"), undefined);
      assert.equal(await metadata.getVersion("nobody:here", "1.0.0"), undefined);
      assert.deepEqual(await metadata.listVersions("alice:calc"), ["1.2.0", "1.10.0"]);
      assert.equal(await metadata.listVersions("nobody:here"), undefined);
      assert.deepEqual(await metadata.listPackageNames(), ["alice:calc", "bob:zip"]);

      const detail = await metadata.getPackage("alice:calc");
      assert.ok(detail);
      assert.deepEqual(
        detail.versions.map((v) => [v.version, v.downloads]),
        [
          ["1.10.0", 0],
          ["1.2.0", 0],
        ],
      );
      assert.deepEqual(detail.latest, first);
      assert.equal(detail.downloads, 0);
      assert.equal(await metadata.getPackage("nobody:here"), undefined);
      assert.deepEqual((await metadata.getVersion("bob:zip", "0.1.0"))?.targets, ["a", "b"]);

      const stats = await metadata.stats();
      assert.equal(stats.packageCount, 2);
      assert.equal(stats.versionCount, 3);
      assert.equal(stats.downloadCount, 0);
    });

    test("what inspection found comes back, and search by interface finds the latest versions that import or export it", async () => {
      const { metadata } = stores;
      const world = (imports: string[], exports: string[]) => ({ kind: "component" as const, world: { imports, exports }, wit: "world w {}" });
      const client = record("alice:client", "1.0.0", {
        ...world(["wasi:http/outgoing-handler@0.2.0", "wasi:io/streams@0.2.0"], ["greet"]),
        producers: { language: [{ name: "JavaScript", version: "" }] },
      });
      assert.equal(await metadata.insertVersion(client), true);
      assert.equal(await metadata.insertVersion(record("bob:server", "1.0.0", world(["wasi:io/streams@0.2.0"], ["wasi:http/incoming-handler@0.2.0"]))), true);
      // The old version imported http; the latest does not, so it must not be found by that import.
      assert.equal(await metadata.insertVersion(record("carol:old", "1.0.0", world(["wasi:http/outgoing-handler@0.2.0"], []))), true);
      assert.equal(await metadata.insertVersion(record("carol:old", "2.0.0", world([], ["run"]))), true);
      assert.equal(await metadata.insertVersion(record("dave:legacy", "1.0.0")), true);

      assert.deepEqual(await metadata.getVersion("alice:client", "1.0.0"), client);
      const legacy = await metadata.getVersion("dave:legacy", "1.0.0");
      assert.equal(legacy?.kind, undefined, "versions without inspection have no inspection fields");

      const names = async (filter: { imports?: string; exports?: string }, query = "") =>
        (await metadata.searchByInterface(filter, query, 10, 0)).items.map((hit) => hit.latest.name).sort();
      assert.deepEqual(await names({ imports: "wasi:http/outgoing-handler" }), ["alice:client"]);
      assert.deepEqual(await names({ imports: "wasi:http/outgoing-handler@0.2.0" }), ["alice:client"]);
      assert.deepEqual(await names({ imports: "wasi:http/outgoing-handler@0.3.0" }), []);
      assert.deepEqual(await names({ imports: "wasi:io/streams" }), ["alice:client", "bob:server"]);
      assert.deepEqual(await names({ exports: "wasi:http/incoming-handler" }), ["bob:server"]);
      assert.deepEqual(await names({ imports: "wasi:io/streams", exports: "greet" }), ["alice:client"]);
      assert.deepEqual(await names({ imports: "wasi:io/streams" }, "server"), ["bob:server"]);
      const paged = await metadata.searchByInterface({ imports: "wasi:io/streams" }, "", 1, 1);
      assert.equal(paged.total, 2);
      assert.equal(paged.items.length, 1);
    });

    test("a duplicate version is refused and changes nothing", async () => {
      const { metadata } = stores;
      const original = record("alice:calc", "1.0.0", { description: "the original" });
      assert.equal(await metadata.insertVersion(original), true);
      const before = { stats: await metadata.stats(), pkg: await metadata.getPackage("alice:calc") };

      assert.equal(await metadata.insertVersion(record("alice:calc", "1.0.0", { description: "an impostor", sha256: "f".repeat(64) })), false);
      assert.deepEqual(await metadata.getVersion("alice:calc", "1.0.0"), original);
      assert.deepEqual({ stats: await metadata.stats(), pkg: await metadata.getPackage("alice:calc") }, before);
      assert.equal((await metadata.searchPackages("impostor", 10, 0)).total, 0);
      assert.equal((await metadata.searchPackages("original", 10, 0)).total, 1);
    });

    test("concurrent inserts of one version have exactly one winner", async () => {
      const { metadata } = stores;
      const attempts = Array.from({ length: 8 }, (_, i) => metadata.insertVersion(record("race:pkg", "1.0.0", { description: `attempt ${i}` })));
      const results = await Promise.all(attempts);
      assert.equal(results.filter(Boolean).length, 1);
      assert.deepEqual(await metadata.listVersions("race:pkg"), ["1.0.0"]);
      const winner = results.indexOf(true);
      assert.equal((await metadata.getVersion("race:pkg", "1.0.0"))?.description, `attempt ${winner}`);
      // Different versions of one new package, at once: all of them land.
      const many = await Promise.all(["2.0.0", "2.1.0", "2.2.0", "2.3.0"].map((v) => metadata.insertVersion(record("race:many", v))));
      assert.deepEqual(many, [true, true, true, true]);
      assert.equal((await metadata.getPackage("race:many"))?.latest.version, "2.3.0");
      assert.equal((await metadata.stats()).packageCount, 2);
    });

    test("the latest version is the highest release, whatever the order of publishing", async () => {
      const { metadata } = stores;
      const latest = async () => (await metadata.getPackage("alice:calc"))?.latest.version;
      await metadata.insertVersion(record("alice:calc", "1.0.0-alpha.1"));
      assert.equal(await latest(), "1.0.0-alpha.1", "only prereleases: the highest prerelease");
      await metadata.insertVersion(record("alice:calc", "1.0.0-beta.2"));
      assert.equal(await latest(), "1.0.0-beta.2");
      await metadata.insertVersion(record("alice:calc", "0.9.0"));
      assert.equal(await latest(), "0.9.0", "a release beats any prerelease");
      await metadata.insertVersion(record("alice:calc", "2.0.0-rc.1"));
      assert.equal(await latest(), "0.9.0");
      await metadata.insertVersion(record("alice:calc", "1.10.0"));
      await metadata.insertVersion(record("alice:calc", "1.9.0"));
      assert.equal(await latest(), "1.10.0", "semver order, not string order");
      // Search shows the latest version, and matches its description, not an older one's.
      const hit = await metadata.searchPackages("alice:calc", 10, 0);
      assert.equal(hit.items[0]?.latest.version, "1.10.0");
      assert.equal((await metadata.searchPackages("1.9.0", 10, 0)).total, 0);
      assert.equal((await metadata.searchPackages("calc at 1.10", 10, 0)).total, 1);
    });

    test("search matches word prefixes in names and descriptions, exact name first, then downloads, then name", async () => {
      const { metadata } = stores;
      await metadata.insertVersion(record("wasi:http", "0.2.0", { description: "HTTP types and handlers" }));
      await metadata.insertVersion(record("acme:http-client", "1.0.0", { description: "A client for the web" }));
      await metadata.insertVersion(record("acme:server", "1.0.0", { description: "Serves HTTP requests quickly" }));
      await metadata.insertVersion(record("zed:httpd", "3.0.0", { description: "A tiny daemon" }));
      await metadata.insertVersion(record("acme:json", "1.0.0", { description: "JSON parsing" }));
      await metadata.insertVersion(record("wasi:http-extra", "1.0.0", { description: "More for wasi:http" }));
      await metadata.insertVersion(record("bob:café", "1.0.0", { description: "Ünïcode naïve words" }));
      await metadata.addDownloads([
        { name: "acme:http-client", version: "1.0.0", count: 50 },
        { name: "acme:server", version: "1.0.0", count: 50 },
        { name: "zed:httpd", version: "3.0.0", count: 70 },
        { name: "wasi:http", version: "0.2.0", count: 1 },
        { name: "acme:json", version: "1.0.0", count: 99 },
        { name: "wasi:http-extra", version: "1.0.0", count: 10 },
      ]);
      const names = async (q: string, limit = 10, offset = 0) => {
        const page = await metadata.searchPackages(q, limit, offset);
        return { names: page.items.map((item) => item.latest.name), total: page.total };
      };

      // The exact name beats more downloads; downloads then order the rest, names break ties.
      assert.deepEqual(await names("wasi:http"), { names: ["wasi:http", "wasi:http-extra"], total: 2 });
      assert.deepEqual(await names(" WASI:HTTP "), await names("wasi:http"), "the exact name, whatever its case and spaces");
      assert.deepEqual(await names("http"), {
        names: ["zed:httpd", "acme:http-client", "acme:server", "wasi:http-extra", "wasi:http"],
        total: 5,
      });
      assert.deepEqual(await names("HTTP"), await names("http"), "case does not matter");
      assert.deepEqual(await names("acme:http-client"), { names: ["acme:http-client"], total: 1 });
      // Every word must match, as a prefix, in the name or the description.
      assert.deepEqual(await names("acme ser"), { names: ["acme:server"], total: 1 });
      assert.deepEqual(await names("serves http"), { names: ["acme:server"], total: 1 });
      assert.deepEqual(await names("clie web"), { names: ["acme:http-client"], total: 1 });
      assert.deepEqual(await names("daemon"), { names: ["zed:httpd"], total: 1 });
      assert.deepEqual(await names("ttp"), { names: [], total: 0 }, "a word matches at its start only");
      assert.deepEqual(await names("nothing-like-this"), { names: [], total: 0 });
      assert.deepEqual(await names("naïve"), { names: ["bob:café"], total: 1 });
      assert.deepEqual(await names("caf"), { names: ["bob:café"], total: 1 });
      assert.deepEqual(await names("naive CAFE"), { names: ["bob:café"], total: 1 }, "accents do not matter");
      // Punctuation alone is no words: everything, by downloads then name.
      const all = ["acme:json", "zed:httpd", "acme:http-client", "acme:server", "wasi:http-extra", "wasi:http", "bob:café"];
      assert.deepEqual(await names(" :: "), { names: all, total: 7 });
      assert.deepEqual(await names(""), { names: all, total: 7 });
      // Pages: the total counts every hit, the page only its slice.
      assert.deepEqual(await names("http", 2, 0), { names: ["zed:httpd", "acme:http-client"], total: 5 });
      assert.deepEqual(await names("http", 2, 2), { names: ["acme:server", "wasi:http-extra"], total: 5 });
      assert.deepEqual(await names("http", 2, 4), { names: ["wasi:http"], total: 5 });
      assert.deepEqual(await names("http", 2, 6), { names: [], total: 5 });
      assert.deepEqual(await names("", 3, 1), { names: all.slice(1, 4), total: 7 });
      // Each hit carries its package's download count and its latest version's metadata.
      const page = await metadata.searchPackages("json", 10, 0);
      assert.equal(page.items[0]?.downloads, 99);
      assert.deepEqual(page.items[0]?.latest, record("acme:json", "1.0.0", { description: "JSON parsing" }));
    });

    test("download counts add up, per version and per package, however they arrive", async () => {
      const { metadata } = stores;
      await metadata.insertVersion(record("alice:calc", "1.0.0"));
      await metadata.insertVersion(record("alice:calc", "2.0.0"));
      await metadata.insertVersion(record("bob:zip", "0.1.0"));
      await metadata.addDownloads([
        { name: "alice:calc", version: "1.0.0", count: 3 },
        { name: "bob:zip", version: "0.1.0", count: 1 },
      ]);
      // Many flushes at once, as from many servers: none is lost.
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          metadata.addDownloads(
            i % 2 === 0
              ? [
                  { name: "alice:calc", version: "2.0.0", count: 1 },
                  { name: "bob:zip", version: "0.1.0", count: 2 },
                ]
              : [
                  { name: "bob:zip", version: "0.1.0", count: 2 },
                  { name: "alice:calc", version: "2.0.0", count: 1 },
                ],
          ),
        ),
      );
      // Counts for what does not exist are dropped, not stored and not an error.
      await metadata.addDownloads([{ name: "ghost:pkg", version: "1.0.0", count: 5 }]);
      await metadata.addDownloads([{ name: "alice:calc", version: "9.9.9", count: 0 }]);
      await metadata.addDownloads([]);

      const calc = await metadata.getPackage("alice:calc");
      assert.equal(calc?.downloads, 23);
      assert.deepEqual(
        calc?.versions.map((v) => [v.version, v.downloads]),
        [
          ["2.0.0", 20],
          ["1.0.0", 3],
        ],
      );
      assert.equal((await metadata.getPackage("bob:zip"))?.downloads, 41);
      assert.equal((await metadata.stats()).downloadCount, 64);
      assert.deepEqual(
        (await metadata.searchPackages("", 10, 0)).items.map((item) => [item.latest.name, item.downloads]),
        [
          ["bob:zip", 41],
          ["alice:calc", 23],
        ],
      );
    });

    test("tokens are found by hash; the environment's set is replaced, generated ones stay", async () => {
      const { metadata } = stores;
      assert.equal(await metadata.countTokens(), 0);
      assert.equal(await metadata.findTokenByHash("a".repeat(64)), undefined);
      const generated = token("a".repeat(64), null, "generated");
      await metadata.insertToken(generated);
      assert.deepEqual(await metadata.findTokenByHash("a".repeat(64)), generated);
      await assert.rejects(metadata.insertToken(token("a".repeat(64), "x", "generated")), "a hash is stored once");

      const alice = token("b".repeat(64), "alice", "env");
      await metadata.replaceEnvTokens([alice, token("c".repeat(64), "bob", "env")]);
      assert.equal(await metadata.countTokens(), 3);
      assert.deepEqual(await metadata.findTokenByHash("b".repeat(64)), alice);
      await metadata.replaceEnvTokens([token("d".repeat(64), "carol", "env")]);
      assert.equal(await metadata.findTokenByHash("b".repeat(64)), undefined);
      assert.equal((await metadata.findTokenByHash("d".repeat(64)))?.namespace, "carol");
      assert.deepEqual(await metadata.findTokenByHash("a".repeat(64)), generated);
      assert.deepEqual(
        (await metadata.listTokens()).map((t) => t.hash).sort(),
        ["a".repeat(64), "d".repeat(64)],
      );
      // Servers starting together each put the same set: it ends up there once.
      const fromEnv = [token("e".repeat(64), "dave", "env")];
      await Promise.all([metadata.replaceEnvTokens(fromEnv), metadata.replaceEnvTokens(fromEnv), metadata.replaceEnvTokens(fromEnv)]);
      assert.equal(await metadata.countTokens(), 2);
    });

    test("a yanked version stays readable, is listed as yanked, and is no longer the latest while another is not", async () => {
      const { metadata } = stores;
      const latest = async () => (await metadata.getPackage("alice:calc"))?.latest.version;
      await metadata.insertVersion(record("alice:calc", "1.0.0", { description: "old and steady" }));
      await metadata.insertVersion(record("alice:calc", "1.1.0", { description: "new and broken" }));
      await metadata.insertVersion(record("alice:calc", "2.0.0-rc.1"));
      assert.equal(await latest(), "1.1.0");
      assert.deepEqual(await metadata.yankedVersions("alice:calc"), []);

      assert.equal(await metadata.setYanked("alice:calc", "1.1.0", true), true);
      assert.deepEqual(await metadata.getVersion("alice:calc", "1.1.0"), record("alice:calc", "1.1.0", { description: "new and broken", yanked: true }));
      assert.deepEqual(await metadata.listVersions("alice:calc"), ["1.0.0", "1.1.0", "2.0.0-rc.1"], "yanked, not deleted");
      assert.deepEqual(await metadata.yankedVersions("alice:calc"), ["1.1.0"]);
      assert.equal(await latest(), "1.0.0", "the highest release that is not yanked");
      const detail = await metadata.getPackage("alice:calc");
      assert.deepEqual(detail?.versions.map((v) => [v.version, v.yanked]), [
        ["2.0.0-rc.1", false],
        ["1.1.0", true],
        ["1.0.0", false],
      ]);
      // Search shows the version it now calls latest, and matches that version's description.
      const hit = await metadata.searchPackages("calc", 10, 0);
      assert.equal(hit.items[0]?.latest.version, "1.0.0");
      assert.equal((await metadata.searchPackages("steady", 10, 0)).total, 1);
      assert.equal((await metadata.searchPackages("broken", 10, 0)).total, 0);
      assert.equal((await metadata.searchPackages("", 10, 0)).items[0]?.latest.version, "1.0.0");

      assert.equal(await metadata.setYanked("alice:calc", "1.1.0", true), true, "yanking twice is fine");
      assert.equal(await metadata.setYanked("alice:calc", "9.9.9", true), false);
      assert.equal(await metadata.setYanked("nobody:here", "1.0.0", true), false);

      // Every version yanked: the latest is the highest of them all, as if none were.
      await metadata.setYanked("alice:calc", "1.0.0", true);
      await metadata.setYanked("alice:calc", "2.0.0-rc.1", true);
      assert.equal(await latest(), "1.1.0");
      assert.equal((await metadata.getPackage("alice:calc"))?.latest.yanked, true);
      // A new version is the latest; a yanked one inserted (as migrate-store does) is not.
      await metadata.insertVersion(record("alice:calc", "1.0.1"));
      assert.equal(await latest(), "1.0.1");
      await metadata.insertVersion(record("alice:calc", "3.0.0", { yanked: true }));
      assert.equal(await latest(), "1.0.1");
      assert.equal((await metadata.getVersion("alice:calc", "3.0.0"))?.yanked, true);

      assert.equal(await metadata.setYanked("alice:calc", "1.1.0", false), true);
      assert.equal(await latest(), "1.1.0", "unyanked, it is the latest again");
      assert.equal((await metadata.searchPackages("broken", 10, 0)).total, 1);
      assert.deepEqual(await metadata.yankedVersions("alice:calc"), ["1.0.0", "2.0.0-rc.1", "3.0.0"]);
      assert.deepEqual(await metadata.yankedVersions("nobody:here"), []);
    });

    test("tokens keep scopes and expiry; revocation and last use are recorded", async () => {
      const { metadata } = stores;
      const made: TokenRecord = { ...token("f".repeat(64), "alice", "api"), scopes: ["yank"], expiresAt: 1_800_000_000 };
      await metadata.insertToken(made);
      assert.deepEqual(await metadata.findTokenByHash(made.hash), made);
      assert.deepEqual(await metadata.findTokenById(made.id), made);
      assert.equal(await metadata.findTokenById(randomUUID()), undefined);

      await metadata.touchToken(made.id, 1_700_000_100);
      assert.equal((await metadata.findTokenById(made.id))?.lastUsedAt, 1_700_000_100);
      await metadata.touchToken(made.id, 1_700_000_050);
      assert.equal((await metadata.findTokenById(made.id))?.lastUsedAt, 1_700_000_100, "never moves back");
      await metadata.touchToken(randomUUID(), 1_700_000_100);

      assert.equal(await metadata.revokeToken(made.id, 1_700_000_200), true);
      assert.equal(await metadata.revokeToken(made.id, 1_700_000_300), false, "already revoked");
      assert.equal(await metadata.revokeToken(randomUUID(), 1_700_000_300), false);
      assert.deepEqual(await metadata.findTokenByHash(made.hash), { ...made, lastUsedAt: 1_700_000_100, revokedAt: 1_700_000_200 });

      // Replacing the environment's tokens leaves API-made ones, revoked or not.
      await metadata.replaceEnvTokens([token("1".repeat(64), "bob", "env")]);
      assert.equal((await metadata.findTokenById(made.id))?.revokedAt, 1_700_000_200);
      assert.deepEqual((await metadata.listTokens()).map((t) => t.source).sort(), ["api", "env"]);
    });

    test("uptime: nothing before the first heartbeat, then the seconds between beats that were close enough", async () => {
      const { metadata } = stores;
      assert.equal((await metadata.stats()).uptime, undefined);
      const now = 1_700_000_000;
      await metadata.heartbeat(now - 100, 10);
      assert.deepEqual((await metadata.stats()).uptime, { firstSeen: now - 100, lastSeen: now - 100, upSeconds: 0 });
      // Beats 10 s apart for 50 s, then a 50 s silence that does not count.
      for (let t = now - 90; t <= now - 50; t += 10) await metadata.heartbeat(t, 10);
      await metadata.heartbeat(now, 10);
      assert.deepEqual((await metadata.stats()).uptime, { firstSeen: now - 100, lastSeen: now, upSeconds: 50 });
      // A beat from the past (a server whose clock lags) neither moves lastSeen back nor adds time.
      await metadata.heartbeat(now - 5, 10);
      assert.deepEqual((await metadata.stats()).uptime, { firstSeen: now - 100, lastSeen: now, upSeconds: 50 });
    });

    test("blobs: stored under their digest, streamed back, stored once; the staged file is consumed", async () => {
      const { blobs } = stores;
      // Bigger than one multipart part, so S3 takes the multipart path.
      const bytes = Buffer.alloc(9 * 1024 * 1024 + 123);
      for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i / 4096) % 251;
      const first = await staged(stores, bytes);
      assert.equal(await blobs.stat(first.sha256), undefined);
      assert.equal(await blobs.open(first.sha256), undefined);

      await blobs.putFile(first.sha256, first.path);
      assert.equal(await exists(first.path), false, "the staged file is consumed");
      assert.deepEqual(await blobs.stat(first.sha256), { size: bytes.length });
      const content = await blobs.open(first.sha256);
      assert.ok(content);
      assert.ok((await readAll(content.stream())).equals(bytes));

      // The same bytes again: a no-op that still consumes the staged file.
      const again = await staged(stores, bytes);
      await blobs.putFile(again.sha256, again.path);
      assert.equal(await exists(again.path), false);
      assert.deepEqual(await blobs.stat(first.sha256), { size: bytes.length });

      const small = await staged(stores, Buffer.from("\0asm\r\0\x01\0tiny"));
      await blobs.putFile(small.sha256, small.path);
      assert.deepEqual(await blobs.stat(small.sha256), { size: 12 });
      assert.deepEqual(await filesUnder(blobs.stagingDir), [], "nothing is left staged");
    });

    test("referencedDigests is every digest a version names, once", async () => {
      const { metadata } = stores;
      assert.deepEqual(await metadata.referencedDigests(), new Set());
      const shared = "a".repeat(64);
      await metadata.insertVersion(record("alice:calc", "1.0.0", { sha256: shared }));
      await metadata.insertVersion(record("bob:calc", "1.0.0", { sha256: shared }));
      await metadata.insertVersion(record("bob:calc", "2.0.0", { sha256: "b".repeat(64) }));
      assert.deepEqual(await metadata.referencedDigests(), new Set([shared, "b".repeat(64)]));
    });

    test("blobs: listed with size and time, deleted one by one; a re-store refreshes the time", async () => {
      const { blobs } = stores;
      // Before staging: a file store keeps the time the bytes were written.
      const before = Date.now();
      const one = await staged(stores, Buffer.from("one blob"));
      const two = await staged(stores, Buffer.from("another blob"));
      await blobs.putFile(one.sha256, one.path);
      await blobs.putFile(two.sha256, two.path);
      const listed = await listAll(stores);
      assert.deepEqual(
        listed.map((b) => [b.sha256, b.size]),
        [
          [one.sha256, 8],
          [two.sha256, 12],
        ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
      );
      // Object stores keep whole seconds.
      for (const blob of listed) assert.ok(blob.modifiedAt >= Math.floor(before / 1000) * 1000 && blob.modifiedAt <= Date.now() + 1000);

      await blobs.delete(one.sha256);
      await blobs.delete(one.sha256); // already gone: no error
      assert.equal(await blobs.stat(one.sha256), undefined);
      assert.deepEqual((await listAll(stores)).map((b) => b.sha256), [two.sha256]);

      // Stored again while it exists: the time moves on, so gc's grace period covers the publish reusing it.
      const firstTime = (await listAll(stores))[0]!.modifiedAt;
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const again = await staged(stores, Buffer.from("another blob"));
      await blobs.putFile(again.sha256, again.path);
      assert.ok((await listAll(stores))[0]!.modifiedAt > firstTime, "re-storing refreshes the modification time");
      assert.deepEqual(await blobs.stat(two.sha256), { size: 12 });
    });

    test("rate counters add up per key and window, and prune old windows", async () => {
      const counter = await backend.counter();
      const other = await backend.counter();
      try {
        const key = `test:${randomUUID()}`;
        assert.equal(await counter.add(key, 600, 1), 1);
        assert.equal(await counter.add(key, 600, 4), 5);
        assert.equal(await counter.add(`${key}-b`, 600, 2), 2, "keys count apart");
        assert.equal(await counter.add(key, 660, 1), 1, "a new window starts from zero");
        await counter.prune(660);
        assert.equal(await counter.add(key, 660, 1), 2, "the current window survives pruning");
        // Concurrent adds lose nothing.
        const totals = await Promise.all(Array.from({ length: 10 }, () => counter.add(`${key}-c`, 660, 1)));
        assert.deepEqual([...totals].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        // A second counter on the same configuration: shared through the database, apart in memory.
        assert.equal(await other.add(`${key}-c`, 660, 1), backend.name.startsWith("PostgreSQL") ? 11 : 1);
      } finally {
        await counter.close();
        await other.close();
      }
    });
  });
}

async function listAll(stores: Stores): Promise<StoredBlob[]> {
  const all: StoredBlob[] = [];
  for await (const blob of stores.blobs.list()) all.push(blob);
  return all.sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1));
}

after(async () => {
  await Promise.all(dirs.map((dir) => fs.rm(dir, { recursive: true, force: true })));
});
