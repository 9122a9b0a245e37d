/**
 * npm run gc (dist/src/gc.js, what the script runs) removes stored bytes no
 * version refers to, and only those: never a published version's bytes, never
 * bytes younger than the grace period, never an upload being staged.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { sha256Hex } from "@wasm-registry/core";
import { createTestDatabase, startS3 } from "../testkit/backends.js";
import { type RunningRegistry, componentBytes, publish, startRegistry } from "../testkit/helpers.js";

const GC = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "src", "gc.js");
const run = promisify(execFile);

async function gc(env: Record<string, string>): Promise<string> {
  const { stdout } = await run(process.execPath, [GC], { env: { PATH: process.env.PATH ?? "", ...env } });
  return stdout;
}

async function downloads(server: RunningRegistry, name: string, version: string, bytes: Uint8Array): Promise<boolean> {
  const response = await fetch(`${server.url}/packages/${name}/${version}/artifact.wasm`);
  return response.status === 200 && sha256Hex(new Uint8Array(await response.arrayBuffer())) === sha256Hex(bytes);
}

describe("npm run gc", () => {
  const servers: RunningRegistry[] = [];
  after(() => Promise.all(servers.map((s) => s.stop())));

  it("files: removes old unreferenced blobs only, beside a running server", async () => {
    const server = await startRegistry();
    servers.push(server);
    const published = componentBytes(1);
    assert.equal((await publish(server.url, published, { fields: { name: "alice:calc", version: "1.0.0" } })).status, 201);

    // What a crash between storing bytes and committing their version leaves: a blob no version names.
    const blobPath = (bytes: Uint8Array) => {
      const hex = sha256Hex(bytes);
      return path.join(server.dataDir, "blobs", "sha256", hex.slice(0, 2), hex);
    };
    const orphanOld = componentBytes(2);
    const orphanNew = componentBytes(3);
    for (const bytes of [orphanOld, orphanNew]) {
      await fs.mkdir(path.dirname(blobPath(bytes)), { recursive: true });
      await fs.writeFile(blobPath(bytes), bytes);
    }
    const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000);
    await fs.utimes(blobPath(orphanOld), twoHoursAgo, twoHoursAgo);
    // The published version's file is just as old: age alone never removes it.
    await fs.utimes(blobPath(published), twoHoursAgo, twoHoursAgo);
    const inFlight = path.join(server.dataDir, "tmp", "upload-in-flight.part");
    await fs.writeFile(inFlight, "half an upload");

    const output = await gc({ DATA_DIR: server.dataDir });
    assert.match(output, new RegExp(`removed sha256:${sha256Hex(orphanOld)}`));
    assert.match(output, /removed 1 unreferenced blob\(s\).*kept 1 in use and 1 younger than 3600 s/);
    await assert.rejects(fs.stat(blobPath(orphanOld)));
    await fs.stat(blobPath(orphanNew));
    await fs.stat(inFlight);
    assert.ok(await downloads(server, "alice:calc", "1.0.0", published));

    // With no grace period the young orphan goes too; the published bytes still stay.
    assert.match(await gc({ DATA_DIR: server.dataDir, REGISTRY_GC_GRACE_SECONDS: "0" }), /removed 1 unreferenced/);
    await assert.rejects(fs.stat(blobPath(orphanNew)));
    assert.ok(await downloads(server, "alice:calc", "1.0.0", published));
    assert.match(await gc({ DATA_DIR: server.dataDir, REGISTRY_GC_GRACE_SECONDS: "0" }), /removed 0 unreferenced/);
  });

  it("S3 with PostgreSQL: removes unreferenced objects only", async () => {
    const [db, s3] = await Promise.all([createTestDatabase(), startS3()]);
    try {
      const bucket = await s3.createBucket();
      const env = { DATABASE_URL: db.url, ...s3.env(bucket) };
      const server = await startRegistry(env);
      const published = componentBytes(4);
      try {
        assert.equal((await publish(server.url, published, { fields: { name: "alice:calc", version: "1.0.0" } })).status, 201);
        const orphan = componentBytes(5);
        await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: `sha256/${sha256Hex(orphan)}`, Body: orphan }));
        assert.match(await gc(env), /removed 0 unreferenced .*kept 1 in use and 1 younger/);
        const output = await gc({ ...env, REGISTRY_GC_GRACE_SECONDS: "0" });
        assert.match(output, new RegExp(`removed sha256:${sha256Hex(orphan)}\\n.*removed 1 unreferenced blob\\(s\\), ${orphan.length} bytes; kept 1 in use`));
        assert.ok(await downloads(server, "alice:calc", "1.0.0", published));
      } finally {
        await server.stop();
      }
    } finally {
      await Promise.all([db.drop(), s3.stop()]);
    }
  });
});
