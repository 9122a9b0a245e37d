/**
 * Several servers on one PostgreSQL database and one bucket: real server
 * processes started at the same moment (their migrations race), a publish
 * through one seen by the other, the cross-server race for one version, and
 * download counts that add up across servers. Then what only S3 promises:
 * no component byte on a server's disk, and redirects to a public URL.
 */
import { sha256Hex } from "@wasm-registry/core";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { ConfigError, loadConfig } from "../src/config.js";
import { createTestDatabase, filesUnder, startS3, type TestDatabase, type TestS3 } from "../testkit/backends.js";
import { PostgresMetadataStore, SCHEMA_VERSION } from "../src/store/pg-metadata.js";
import { PostgresRateCounter } from "../src/store/pg-rate-counter.js";
import { ADMIN_TOKEN, ALICE_TOKEN, type RunningRegistry, componentBytes, publish, startRegistry, tempDir } from "../testkit/helpers.js";
import { type ServerProcess, startServerProcess } from "../testkit/process.js";

type ScaleServer = ServerProcess & { dataDir: string; tmpDir: string };

/** A server process of its own, with its own temp folder so the test sees every byte it leaves on disk. */
async function spawnServer(env: Record<string, string>): Promise<ScaleServer> {
  const [dataDir, tmpDir] = await Promise.all([tempDir("scale-proc-"), tempDir("scale-proc-tmp-")]);
  const server = await startServerProcess({
    TMPDIR: tmpDir,
    DATA_DIR: dataDir,
    LOG_LEVEL: "info",
    REGISTRY_ADMIN_TOKEN: ADMIN_TOKEN,
    REGISTRY_TOKENS: `alice:${ALICE_TOKEN}`,
    DOWNLOAD_FLUSH_MS: "50",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    ...env,
  });
  return { ...server, dataDir, tmpDir };
}

const fields = (name: string, version: string, extra: Record<string, string> = {}) => ({ name, version, description: `${name} for tests`, ...extra });

async function bytesOf(response: Response): Promise<Buffer> {
  return Buffer.from(await response.arrayBuffer());
}

describe("several servers on one PostgreSQL and one bucket", () => {
  let db: TestDatabase;
  let s3: TestS3;
  let bucket: string;
  let a: ScaleServer;
  let b: ScaleServer;

  before(async () => {
    [db, s3] = await Promise.all([createTestDatabase(), startS3()]);
    bucket = await s3.createBucket();
    const env = { DATABASE_URL: db.url, ...s3.env(bucket) };
    // Both start at once on an empty database: the advisory lock must serialize their migrations.
    const started = await Promise.allSettled([spawnServer(env), spawnServer(env)]);
    const failed = started.find((result) => result.status === "rejected");
    if (failed) {
      // Stop the one that did start: it must not outlive the test, nor see its database dropped under it.
      await Promise.all(started.map((result) => (result.status === "fulfilled" ? result.value.stop() : undefined)));
      throw failed.reason;
    }
    [a, b] = started.map((result) => (result as PromiseFulfilledResult<ScaleServer>).value) as [ScaleServer, ScaleServer];
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await Promise.all([db?.drop(), s3?.stop()]);
  });

  test("the schema was migrated once, though two servers started together", async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
      assert.deepEqual(
        rows.map((row) => row.version),
        Array.from({ length: SCHEMA_VERSION }, (_, index) => index + 1),
      );
      // Each server wrote the environment's tokens; the set is there once.
      const tokens = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM tokens");
      assert.equal(tokens.rows[0]!.n, 2);
    } finally {
      await client.end();
    }
  });

  test("a publish through one server is read and downloaded through the other", async () => {
    const bytes = componentBytes(101);
    const created = await publish(a.url, bytes, { fields: fields("alice:shared", "1.0.0", { description: "Shared between servers" }) });
    assert.equal(created.status, 201, await created.clone().text());

    const meta = await fetch(`${b.url}/api/v1/packages/alice:shared/1.0.0`);
    assert.equal(meta.status, 200);
    const body = (await meta.json()) as { sha256: string; size: number; description: string };
    assert.equal(body.sha256, sha256Hex(bytes));
    assert.equal(body.size, bytes.length);
    assert.equal(body.description, "Shared between servers");

    const versions = await (await fetch(`${b.url}/api/v1/packages/alice%3Ashared/versions`)).json();
    assert.deepEqual(versions, { name: "alice:shared", versions: ["1.0.0"], yanked: [] });
    const search = (await (await fetch(`${b.url}/api/v1/search?q=shared`)).json()) as { total: number; packages: { name: string }[] };
    assert.equal(search.total, 1);
    assert.equal(search.packages[0]?.name, "alice:shared");

    const download = await fetch(`${b.url}/packages/alice:shared/1.0.0/artifact.wasm`);
    assert.equal(download.status, 200);
    assert.equal(download.headers.get("content-type"), "application/wasm");
    assert.ok((await bytesOf(download)).equals(Buffer.from(bytes)));

    // The same version again, through the other server: immutable.
    const again = await publish(b.url, componentBytes(102), { fields: fields("alice:shared", "1.0.0") });
    assert.equal(again.status, 409);
  });

  test("the same version sent to both servers at once: exactly one 201, the other 409", async () => {
    for (let round = 0; round < 5; round++) {
      const version = `2.0.${round}`;
      const [first, second] = await Promise.all([
        publish(a.url, componentBytes(200 + round), { fields: fields("alice:race", version, { description: "from a" }) }),
        publish(b.url, componentBytes(300 + round), { fields: fields("alice:race", version, { description: "from b" }) }),
      ]);
      const statuses = [first.status, second.status].sort();
      assert.deepEqual(statuses, [201, 409], `round ${round}`);
      // Both servers agree on the winner, and the stored bytes are the winner's.
      const winner = first.status === 201 ? { seed: 200 + round, from: "a" } : { seed: 300 + round, from: "b" };
      for (const server of [a, b]) {
        const meta = (await (await fetch(`${server.url}/api/v1/packages/alice:race/${version}`)).json()) as { sha256: string; description: string };
        assert.equal(meta.description, `from ${winner.from}`);
        assert.equal(meta.sha256, sha256Hex(componentBytes(winner.seed)));
        const bytes = await bytesOf(await fetch(`${server.url}/packages/alice:race/${version}/artifact.wasm`));
        assert.equal(sha256Hex(bytes), meta.sha256);
      }
    }
    const versions = (await (await fetch(`${a.url}/api/v1/packages/alice:race/versions`)).json()) as { versions: string[] };
    assert.deepEqual(versions.versions, ["2.0.0", "2.0.1", "2.0.2", "2.0.3", "2.0.4"]);
  });

  test("download counts from both servers add up", async () => {
    const created = await publish(a.url, componentBytes(400), { fields: fields("alice:counted", "1.0.0") });
    assert.equal(created.status, 201);
    const statsOf = async (url: string) => ((await (await fetch(`${url}/api/v1/stats`)).json()) as { download_count: number }).download_count;
    // Both servers write what earlier tests left pending, so that the sum starts from here.
    await statsOf(b.url);
    const before = await statsOf(a.url);
    const downloads = [...Array(7).fill(a.url), ...Array(5).fill(b.url)].map(async (url: string) => {
      const response = await fetch(`${url}/packages/alice:counted/1.0.0/artifact.wasm`);
      assert.equal(response.status, 200);
      await response.arrayBuffer();
    });
    await Promise.all(downloads);
    // Reading stats makes a server write its pending counts: once each has, both see the sum.
    await statsOf(a.url);
    assert.equal(await statsOf(b.url), before + 12);
    assert.equal(await statsOf(a.url), before + 12);
    const pkg = await fetch(`${a.url}/browse/alice:counted`);
    assert.equal(pkg.status, 200);
  });

  test("no component byte stays on either server's disk", async () => {
    for (const server of [a, b]) {
      assert.deepEqual(await filesUnder(server.dataDir), []);
      assert.deepEqual(await filesUnder(server.tmpDir), []);
      // The staging folder itself is there: the check above looked in the right place.
      assert.equal((await fs.readdir(server.tmpDir)).filter((name) => name.startsWith("wasm-registry-staging-")).length, 1);
    }
  });
});

describe("S3 blob store on one server", () => {
  let db: TestDatabase;
  let s3: TestS3;
  let registry: RunningRegistry | undefined;
  let bucket: string;

  before(async () => {
    [db, s3] = await Promise.all([createTestDatabase(), startS3()]);
    bucket = await s3.createBucket();
  });
  after(async () => {
    await registry?.stop();
    await Promise.all([db?.drop(), s3?.stop()]);
  });

  test("S3_PUBLIC_URL: downloads redirect to the object, and are counted", async () => {
    registry = await startRegistry({
      DATABASE_URL: db.url,
      ...s3.env(bucket),
      S3_PUBLIC_URL: `${s3.endpoint}/${bucket}/`,
      DOWNLOAD_FLUSH_MS: "20",
    });
    const url = registry.url;
    const bytes = componentBytes(500);
    assert.equal((await publish(url, bytes, { fields: fields("alice:direct", "1.0.0") })).status, 201);

    const response = await fetch(`${url}/packages/alice:direct/1.0.0/artifact.wasm`, { redirect: "manual" });
    assert.equal(response.status, 302);
    const location = response.headers.get("location");
    assert.equal(location, `${s3.endpoint}/${bucket}/sha256/${sha256Hex(bytes)}`);
    assert.equal(response.headers.get("cache-control"), "no-store");
    // s3rver serves objects without signatures, as a public bucket or a CDN would.
    const object = await fetch(location!);
    assert.equal(object.status, 200);
    assert.ok((await bytesOf(object)).equals(Buffer.from(bytes)));
    // Followed by a client, the redirect gives the bytes.
    const followed = await fetch(`${url}/packages/alice:direct/1.0.0/artifact.wasm`);
    assert.ok((await bytesOf(followed)).equals(Buffer.from(bytes)));

    const stats = (await (await fetch(`${url}/api/v1/stats`)).json()) as { download_count: number };
    assert.equal(stats.download_count, 2);
    // A conditional request for what the client has is still a 304, and no download.
    const cached = await fetch(`${url}/packages/alice:direct/1.0.0/artifact.wasm`, {
      redirect: "manual",
      headers: { "if-none-match": `"${sha256Hex(bytes)}"` },
    });
    assert.equal(cached.status, 304);
  });

  test("a refused or failed publish leaves nothing staged, on disk or in the bucket", async () => {
    await registry?.stop();
    registry = await startRegistry({ DATABASE_URL: db.url, ...s3.env(bucket) });
    const url = registry.url;
    const bytes = componentBytes(600);
    const mismatch = await publish(url, bytes, { fields: fields("alice:bad", "1.0.0", { sha256: "0".repeat(64) }) });
    assert.equal(mismatch.status, 400);
    assert.equal((await publish(url, bytes, { token: "not-a-token", fields: fields("alice:bad", "1.0.0") })).status, 401);
    const objects = await filesUnder(path.join(s3.folder, bucket));
    assert.equal(objects.filter((name) => name.includes(sha256Hex(bytes))).length, 0, `objects: ${objects.join(", ")}`);
    assert.deepEqual(await filesUnder(registry.dataDir), []);
    assert.deepEqual(await filesUnder(registry.stagingDir), [], "no staged upload is left");
    const ok = await publish(url, bytes, { fields: fields("alice:good", "1.0.0") });
    assert.equal(ok.status, 201);
    assert.deepEqual(await filesUnder(registry.stagingDir), [], "a published upload is not kept either");

    // The object store goes away mid-publish: a 503 that says so, and still nothing on disk.
    const unreachable = await startRegistry({ DATABASE_URL: db.url, ...s3.env(bucket) });
    try {
      await s3.stop();
      const failed = await publish(unreachable.url, componentBytes(601), { fields: fields("alice:bad", "2.0.0") });
      assert.equal(failed.status, 503);
      assert.equal(((await failed.json()) as { error: { code: string } }).error.code, "storage_unavailable");
      assert.deepEqual(await filesUnder(unreachable.stagingDir), []);
      assert.equal((await fetch(`${unreachable.url}/api/v1/packages/alice:bad/2.0.0`)).status, 404, "no version without its bytes");
    } finally {
      await unreachable.stop();
    }
  });
});

test("six servers opening one empty database at once migrate it once", async () => {
  const fresh = await createTestDatabase();
  try {
    const stores = await Promise.all(Array.from({ length: 6 }, () => PostgresMetadataStore.open(fresh.url, 2)));
    await Promise.all(stores.map((store) => store.close()));
    const client = new pg.Client({ connectionString: fresh.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
      assert.deepEqual(
        rows.map((row) => row.version),
        Array.from({ length: SCHEMA_VERSION }, (_, index) => index + 1),
      );
    } finally {
      await client.end();
    }
  } finally {
    await fresh.drop();
  }
});

test("many servers opening their rate counters on one empty database at once all succeed", async () => {
  // CREATE TABLE IF NOT EXISTS races with itself: two sessions can both miss the table, and the
  // later fails on the table's row type ("type rate_counters already exists").
  for (let round = 0; round < 5; round++) {
    const fresh = await createTestDatabase();
    try {
      const opened = await Promise.allSettled(Array.from({ length: 8 }, () => PostgresRateCounter.open(fresh.url)));
      await Promise.all(opened.map((result) => (result.status === "fulfilled" ? result.value.close() : undefined)));
      const failures = opened.flatMap((result) => (result.status === "rejected" ? [String(result.reason)] : []));
      assert.deepEqual(failures, [], `round ${round + 1}`);
    } finally {
      await fresh.drop();
    }
  }
});

test("the scale-out variables are checked, and a bad value names its variable", () => {
  const bad: [Record<string, string>, string][] = [
    [{ DATABASE_URL: "mysql://db/registry" }, "DATABASE_URL"],
    [{ DATABASE_URL: "not a url" }, "DATABASE_URL"],
    [{ DATABASE_URL: "postgres://db/registry", DATABASE_POOL_SIZE: "zero" }, "DATABASE_POOL_SIZE"],
    [{ S3_BUCKET: "Bad_Bucket" }, "S3_BUCKET"],
    [{ S3_BUCKET: "registry", S3_FORCE_PATH_STYLE: "maybe" }, "S3_FORCE_PATH_STYLE"],
    [{ S3_BUCKET: "registry", S3_ENDPOINT: "ftp://127.0.0.1" }, "S3_ENDPOINT"],
    [{ S3_BUCKET: "registry", S3_PUBLIC_URL: "cdn.example.com" }, "S3_PUBLIC_URL"],
    [{ S3_BUCKET: "registry", AWS_ACCESS_KEY_ID: "key" }, "AWS_SECRET_ACCESS_KEY"],
    [{ S3_BUCKET: "registry", S3_PREFIX: "/abs" }, "S3_PREFIX"],
    [{ S3_ENDPOINT: "http://127.0.0.1:9000" }, "S3_ENDPOINT"],
  ];
  for (const [env, variable] of bad) {
    assert.throws(
      () => loadConfig(env),
      (error: unknown) => error instanceof ConfigError && error.variable === variable,
      `${JSON.stringify(env)} should be refused, naming ${variable}`,
    );
  }
  const password = "hunter2-secret";
  assert.throws(
    () => loadConfig({ DATABASE_URL: `mysql://user:${password}@db/registry` }),
    (error: unknown) => error instanceof ConfigError && !error.message.includes(password),
    "the message does not repeat a password",
  );

  const config = loadConfig({
    DATABASE_URL: "postgresql://db/registry",
    S3_BUCKET: "registry",
    S3_PREFIX: "prod",
    S3_FORCE_PATH_STYLE: "yes",
    S3_PUBLIC_URL: "https://cdn.example.com/",
    AWS_REGION: "eu-west-1",
  });
  assert.deepEqual(config.postgres, { url: "postgresql://db/registry", poolSize: 10 });
  assert.deepEqual(config.s3, {
    bucket: "registry",
    region: "eu-west-1",
    endpoint: undefined,
    forcePathStyle: true,
    prefix: "prod/",
    publicUrl: "https://cdn.example.com",
    credentials: undefined,
  });
  assert.equal(loadConfig({}).postgres, undefined);
  assert.equal(loadConfig({}).s3, undefined);
});
