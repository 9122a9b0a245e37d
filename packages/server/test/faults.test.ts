/**
 * Faults: the server process killed with SIGKILL in the middle of many
 * publishes, a full disk, an object store that fails. Every publish either
 * happened whole or left nothing visible.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawnSync } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { DeleteBucketCommand } from "@aws-sdk/client-s3";
import { sha256Hex } from "@wasm-registry/core";
import { startS3 } from "../testkit/backends.js";
import { paddedComponent } from "../testkit/fixtures.js";
import { ADMIN_TOKEN, errorOf, publish, snapshotStore, startRegistry, tempDir } from "../testkit/helpers.js";
import { startServerProcess } from "../testkit/process.js";

/** A valid component of about `size` bytes, different per seed. */
const payload = (seed: number, size: number) => paddedComponent(size, seed);

function multipartParts(name: string, version: string, bytes: Uint8Array): { head: Buffer; tail: Buffer; boundary: string } {
  const boundary = `----fault${version}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n${name}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="version"\r\n\r\n${version}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="component"; filename="c.wasm"\r\nContent-Type: application/wasm\r\n\r\n`,
  );
  return { head: Buffer.concat([head, bytes]), tail: Buffer.from(`\r\n--${boundary}--\r\n`), boundary };
}

/** Sends a publish and answers its status, or "interrupted" when the connection dies first. `hold` sends only half and waits. */
function sendPublish(url: string, version: string, bytes: Uint8Array, hold: boolean): { result: Promise<number | "interrupted">; sentHalf: Promise<void> } {
  const { head, tail, boundary } = multipartParts("alice:crash", version, bytes);
  const body = Buffer.concat([head, tail]);
  let markHalf!: () => void;
  const sentHalf = new Promise<void>((resolve) => (markHalf = resolve));
  const result = new Promise<number | "interrupted">((resolve) => {
    const request = http.request(`${url}/api/v1/packages`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": body.length },
    });
    request.on("response", (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode!));
      response.on("error", () => resolve("interrupted"));
    });
    request.on("error", () => resolve("interrupted"));
    const half = Math.floor(body.length / 2);
    request.write(body.subarray(0, half), () => markHalf());
    if (!hold) request.end(body.subarray(half));
  });
  return { result, sentHalf };
}

async function download(url: string, version: string): Promise<{ status: number; sha256: string }> {
  const response = await fetch(`${url}/packages/alice:crash/${version}/artifact.wasm`);
  return { status: response.status, sha256: sha256Hex(new Uint8Array(await response.arrayBuffer())) };
}

describe("faults", () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });

  it("SIGKILL during many concurrent publishes: every 201 is whole, nothing half-written shows, retries succeed or find the version whole", { timeout: 60_000 }, async () => {
    const dataDir = await tempDir();
    const env = { DATA_DIR: dataDir, REGISTRY_PUBLISH_RATE_LIMIT_PER_MIN: "0" };
    const first = await startServerProcess({ REGISTRY_ADMIN_TOKEN: ADMIN_TOKEN, ...env });
    children.push(first.child);

    const versions = Array.from({ length: 40 }, (_, i) => `1.0.${i}`);
    const bytesOf = new Map(await Promise.all(versions.map(async (version, i) => [version, await payload(i, 256 * 1024 + i)] as const)));
    // A quarter are held half-sent, so some uploads are surely in flight when the server dies;
    // the rest race the kill, which comes as soon as the first of them is answered 201.
    const sends = versions.map((version, i) => ({ version, ...sendPublish(first.url, version, bytesOf.get(version)!, i % 4 === 0) }));
    await Promise.all(sends.map((s) => s.sentHalf));
    await Promise.race(sends.filter((_, i) => i % 4 !== 0).map((s) => s.result.then((r) => (r === 201 ? undefined : new Promise(() => {})))));
    first.child.kill("SIGKILL");
    await once(first.child, "exit");
    const results = await Promise.all(sends.map(async (s) => ({ version: s.version, result: await s.result })));

    const answered = results.filter((r) => r.result === 201).map((r) => r.version);
    const interrupted = results.filter((r) => r.result === "interrupted").map((r) => r.version);
    assert.ok(answered.length >= 1, "some publishes were answered before the kill");
    assert.ok(interrupted.length >= 10, `some publishes were cut off by the kill (${interrupted.length})`);
    assert.deepEqual(results.filter((r) => r.result !== 201 && r.result !== "interrupted"), [], "no other answers");

    const second = await startServerProcess({ REGISTRY_ADMIN_TOKEN: ADMIN_TOKEN, ...env });
    children.push(second.child);
    // Every 201 is whole.
    for (const version of answered) {
      assert.deepEqual(await download(second.url, version), { status: 200, sha256: sha256Hex(bytesOf.get(version)!) }, version);
    }
    // Nothing half-written is visible: every listed version downloads whole, its metadata agrees.
    const listed = ((await (await fetch(`${second.url}/api/v1/packages/alice:crash/versions`)).json()) as { versions: string[] }).versions;
    for (const version of answered) assert.ok(listed.includes(version));
    for (const version of listed) {
      const meta = (await (await fetch(`${second.url}/api/v1/packages/alice:crash/${version}`)).json()) as { sha256: string; size: number };
      const expected = bytesOf.get(version)!;
      assert.equal(meta.sha256, sha256Hex(expected), `${version} metadata`);
      assert.equal(meta.size, expected.length);
      assert.deepEqual(await download(second.url, version), { status: 200, sha256: sha256Hex(expected) }, `${version} bytes`);
    }
    // Every stored file is whole (named by its own hash), and nothing is left staged.
    const blobRoot = path.join(dataDir, "blobs", "sha256");
    for (const fanOut of await fs.readdir(blobRoot)) {
      for (const name of await fs.readdir(path.join(blobRoot, fanOut))) {
        assert.equal(sha256Hex(await fs.readFile(path.join(blobRoot, fanOut, name))), name);
      }
    }
    assert.deepEqual(await fs.readdir(path.join(dataDir, "tmp")), []);

    // Each interrupted publish, retried: 201, or 409 because its version is already there, whole.
    for (const version of interrupted) {
      const retry = await publish(second.url, bytesOf.get(version)!, { fields: { name: "alice:crash", version } });
      assert.ok(retry.status === 201 || retry.status === 409, `${version}: ${retry.status}`);
      if (retry.status === 409) assert.ok(listed.includes(version), `${version} was refused as existing, so it was listed`);
      assert.deepEqual(await download(second.url, version), { status: 200, sha256: sha256Hex(bytesOf.get(version)!) });
    }
    await second.stop();
  });

  it("a full disk: 507 that says so, and nothing visible (a real 2 MiB tmpfs in a user namespace)", { timeout: 60_000 }, async (t) => {
    const probe = spawnSync("unshare", ["--user", "--map-root-user", "--mount", "true"]);
    if (probe.status !== 0) {
      t.skip("unprivileged user namespaces are not available here, so no tmpfs can be mounted without root");
      return;
    }
    const dataDir = await tempDir();
    // The server runs in its own mount namespace with DATA_DIR on a 2 MiB tmpfs: ENOSPC comes from the kernel.
    const script = `mount -t tmpfs -o size=2m tmpfs "$DATA_DIR" && exec "$@"`;
    const server = await startServerProcess(
      { REGISTRY_ADMIN_TOKEN: ADMIN_TOKEN, DATA_DIR: dataDir, MAX_UPLOAD_MB: "8" },
      { wrap: ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh"] },
    );
    children.push(server.child);
    const small = await payload(1, 10_000);
    assert.equal((await publish(server.url, small, { fields: { name: "alice:crash", version: "1.0.0" } })).status, 201);

    const big = await payload(2, 4 * 1024 * 1024);
    const refused = await publish(server.url, big, { fields: { name: "alice:crash", version: "2.0.0" } });
    const error = await errorOf(refused);
    assert.equal(error.status, 507);
    assert.equal(error.code, "insufficient_storage");
    assert.match(error.message, /disk is full/);
    // Nothing of it is visible, and the space is given back: a small publish fits again.
    const listed = (await (await fetch(`${server.url}/api/v1/packages/alice:crash/versions`)).json()) as { versions: string[] };
    assert.deepEqual(listed.versions, ["1.0.0"]);
    assert.equal((await fetch(`${server.url}/packages/alice:crash/2.0.0/artifact.wasm`)).status, 404);
    assert.equal((await publish(server.url, await payload(3, 10_000), { fields: { name: "alice:crash", version: "1.0.1" } })).status, 201);
    assert.equal((await download(server.url, "1.0.0")).sha256, sha256Hex(small));
    await server.stop();
  });

  it("the object store fails during a publish: 503 that says so, and nothing visible", async () => {
    const s3 = await startS3();
    try {
      const bucket = await s3.createBucket();
      const server = await startRegistry(s3.env(bucket));
      try {
        const bytes = await payload(4, 50_000);
        const snapshot = await snapshotStore(server.dataDir);
        // The bucket disappears under the running registry (deleted, as an operator's mistake would).
        await s3.client.send(new DeleteBucketCommand({ Bucket: bucket }));
        const refused = await publish(server.url, bytes, { fields: { name: "alice:crash", version: "1.0.0" } });
        const error = await errorOf(refused);
        assert.equal(error.status, 503);
        assert.equal(error.code, "storage_unavailable");
        assert.match(error.message, /object store failed .*NoSuchBucket.*nothing was published/);
        assert.equal(refused.headers.get("retry-after"), "30");
        assert.equal((await fetch(`${server.url}/api/v1/packages/alice:crash/versions`)).status, 404);
        assert.equal(await snapshotStore(server.dataDir), snapshot, "no metadata, no file");
        // Once the bucket is back, the same publish goes through whole.
        await s3.createBucket(bucket);
        assert.equal((await publish(server.url, bytes, { fields: { name: "alice:crash", version: "1.0.0" } })).status, 201);
      } finally {
        await server.stop();
      }
    } finally {
      await s3.stop();
    }
  });
});
