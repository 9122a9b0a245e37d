/**
 * migrate-store: an embedded registry, made through the HTTP API, copied into
 * PostgreSQL and S3; a damaged component is caught by its digest and not
 * copied; a second run (the real command, as a process) copies nothing twice.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { sha256Hex } from "@wasm-registry/core";
import { loadConfig } from "../src/config.js";
import { migrateStore } from "../src/migrate-store.js";
import { openEmbeddedStores, openStores, type Stores } from "../src/store/index.js";
import { createTestDatabase, startS3, type TestDatabase, type TestS3 } from "../testkit/backends.js";
import { componentBytes, publish, startRegistry } from "../testkit/helpers.js";

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "src", "migrate-store.js");

let db: TestDatabase;
let s3: TestS3;
let env: Record<string, string>;
let dataDir: string;

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

async function withStores<T>(work: (source: Stores, target: Stores) => Promise<T>): Promise<T> {
  const source = await openEmbeddedStores(dataDir);
  const target = await openStores(loadConfig({ DATA_DIR: dataDir, ...env }));
  try {
    return await work(source, target);
  } finally {
    await Promise.all([source.metadata.close(), source.blobs.close(), target.metadata.close(), target.blobs.close()]);
  }
}

before(async () => {
  [db, s3] = await Promise.all([createTestDatabase(), startS3()]);
  env = { DATABASE_URL: db.url, ...s3.env(await s3.createBucket()) };

  const registry = await startRegistry();
  dataDir = registry.dataDir;
  const versions: [string, string, number][] = [
    ["alice:calc", "1.0.0", 1],
    ["alice:calc", "1.1.0", 2],
    ["bob:zip", "0.1.0", 3],
    ["alice:calc", "2.0.0", 4],
  ];
  for (const [name, version, seed] of versions) {
    const response = await publish(registry.url, componentBytes(seed), { fields: { name, version, description: `${name} ${version}` } });
    assert.equal(response.status, 201);
  }
  for (const [name, version, times] of [["alice:calc", "1.0.0", 3], ["bob:zip", "0.1.0", 1]] as const) {
    for (let i = 0; i < times; i++) await (await fetch(`${registry.url}/packages/${name}/${version}/artifact.wasm`)).arrayBuffer();
  }
  await registry.stop();
});

after(async () => {
  await Promise.all([db?.drop(), s3?.stop()]);
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

test("migrate-store copies versions, bytes, counts and generated tokens, and refuses damaged bytes", async () => {
  const damaged = sha256Hex(componentBytes(4));
  const damagedPath = path.join(dataDir, "blobs", "sha256", damaged.slice(0, 2), damaged);
  const original = await fs.readFile(damagedPath);
  const broken = Buffer.from(original);
  broken[broken.length - 1] = broken.at(-1)! ^ 0xff;
  await fs.writeFile(damagedPath, broken);

  const base = { namespace: null, createdAt: 1_700_000_000, expiresAt: null, revokedAt: null, lastUsedAt: null };
  const generated = { ...base, id: randomUUID(), hash: "9".repeat(64), source: "generated" as const, scopes: ["publish" as const, "yank" as const] };
  // A token made through the API, with all it carries: namespace, one scope, expiry, revocation, last use.
  const fromApi = {
    ...base,
    id: randomUUID(),
    namespace: "alice",
    hash: "8".repeat(64),
    source: "api" as const,
    scopes: ["yank" as const],
    expiresAt: 1_900_000_000,
    revokedAt: 1_700_000_500,
    lastUsedAt: 1_700_000_100,
  };
  const report = await withStores(async (source, target) => {
    await source.metadata.insertToken(generated);
    await source.metadata.insertToken(fromApi);
    return migrateStore(source, target);
  });
  assert.equal(report.versionsCopied, 3);
  assert.equal(report.blobsCopied, 3);
  assert.equal(report.tokensCopied, 2);
  assert.equal(report.problems.length, 1);
  assert.match(report.problems[0]!, /alice:calc@2\.0\.0: the source's bytes hash to/);

  await withStores(async (source, target) => {
    assert.deepEqual(await target.metadata.getPackage("bob:zip"), await source.metadata.getPackage("bob:zip"));
    const copied = await target.metadata.getPackage("alice:calc");
    const expected = await source.metadata.getPackage("alice:calc");
    assert.deepEqual(
      copied?.versions,
      expected?.versions.filter((v) => v.version !== "2.0.0"),
    );
    assert.equal(copied?.downloads, 3);
    assert.equal(copied?.latest.version, "1.1.0", "the damaged 2.0.0 is not there");
    assert.equal((await target.metadata.stats()).downloadCount, 4);
    assert.deepEqual(await target.metadata.findTokenByHash(generated.hash), generated);
    assert.deepEqual(await target.metadata.findTokenByHash(fromApi.hash), fromApi);
    for (const seed of [1, 2, 3]) {
      const content = await target.blobs.open(sha256Hex(componentBytes(seed)));
      assert.ok(content);
      assert.equal(sha256Hex(await readAll(content.stream())), sha256Hex(componentBytes(seed)));
    }
    assert.equal(await target.blobs.stat(damaged), undefined);
  });

  // The command itself, run again: nothing is copied twice, the damage is still reported.
  const run = promisify(execFile)(process.execPath, [SCRIPT], {
    env: { PATH: process.env.PATH ?? "", DATA_DIR: dataDir, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", ...env },
  });
  const failure = await run.then(
    () => assert.fail("a damaged component must make the command fail"),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
  assert.equal(failure.code, 1);
  assert.match(failure.stdout, /0 versions copied, 3 already there; 0 components uploaded/);
  assert.match(failure.stderr, /alice:calc@2\.0\.0/);

  // Repaired, the last version goes across; the counts did not double on the way.
  await fs.writeFile(damagedPath, original);
  const last = await withStores((source, target) => migrateStore(source, target));
  assert.deepEqual({ ...last, problems: last.problems.length }, {
    versionsCopied: 1,
    versionsSkipped: 3,
    blobsCopied: 1,
    blobsSkipped: 0,
    tokensCopied: 0,
    problems: 0,
  });
  await withStores(async (source, target) => {
    for (const name of await source.metadata.listPackageNames()) {
      assert.deepEqual(await target.metadata.getPackage(name), await source.metadata.getPackage(name));
    }
    assert.equal((await target.metadata.stats()).downloadCount, 4);
  });
});

test("migrate-store refuses to run without a target", async () => {
  const run = promisify(execFile)(process.execPath, [SCRIPT], { env: { PATH: process.env.PATH ?? "", DATA_DIR: dataDir } });
  const failure = await run.then(
    () => assert.fail("it must refuse"),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(failure.code, 2);
  assert.match(failure.stderr, /DATABASE_URL/);
});
