import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sha256Hex } from "@wasm-registry/core";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { paddedComponent } from "../testkit/fixtures.js";
import { type RunningRegistry, componentBytes, errorOf, publish, startRegistry } from "../testkit/helpers.js";

/** How many of this process's file descriptors are open on `file` (Linux's /proc). */
function openDescriptorsOf(file: string): number {
  let count = 0;
  for (const fd of fs.readdirSync("/proc/self/fd")) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) === file) count++;
    } catch {
      // closed while we looked
    }
  }
  return count;
}

describe("downloads", () => {
  let server: RunningRegistry;
  const bytes = componentBytes(42);
  const url = () => `${server.url}/packages/alice:calc/1.0.0/artifact.wasm`;
  const stats = async () => (await (await fetch(`${server.url}/api/v1/stats`)).json()) as { download_count: number };

  before(async () => {
    // A long flush interval: counts must still be exact when read.
    server = await startRegistry({ DOWNLOAD_FLUSH_MS: "600000" });
    assert.equal((await publish(server.url, bytes, { fields: { name: "alice:calc", version: "1.0.0" } })).status, 201);
  });
  after(() => server.stop());

  it("streams the bytes with the wasm type, the digest as ETag and an immutable cache policy", async () => {
    const response = await fetch(url());
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/wasm");
    assert.equal(response.headers.get("etag"), `"${sha256Hex(bytes)}"`);
    assert.equal(response.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.equal(response.headers.get("content-length"), String(bytes.length));
    assert.deepEqual(new Uint8Array(await response.arrayBuffer()), bytes);
  });

  it("answers HEAD with the headers and no body, and does not count it", async () => {
    const before = (await stats()).download_count;
    const response = await fetch(url(), { method: "HEAD" });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-length"), String(bytes.length));
    assert.equal(response.headers.get("etag"), `"${sha256Hex(bytes)}"`);
    assert.equal((await response.arrayBuffer()).byteLength, 0);
    assert.equal((await stats()).download_count, before);
  });

  it("answers If-None-Match with 304 and no body", async () => {
    const response = await fetch(url(), { headers: { "if-none-match": `W/"x", "${sha256Hex(bytes)}"` } });
    assert.equal(response.status, 304);
    assert.equal((await response.arrayBuffer()).byteLength, 0);
    const changed = await fetch(url(), { headers: { "if-none-match": '"something-else"' } });
    assert.equal(changed.status, 200);
    await changed.arrayBuffer();
  });

  it("counts downloads in stats, per version on the page, and in search ranking", async () => {
    const before = (await stats()).download_count;
    await Promise.all(Array.from({ length: 5 }, () => fetch(url()).then((r) => r.arrayBuffer())));
    assert.equal((await stats()).download_count, before + 5);
    const page = await (await fetch(`${server.url}/browse/alice:calc`)).text();
    assert.match(page, new RegExp(`<dt>Downloads</dt><dd>${before + 5}</dd>`));
  });

  it("answers 404 as JSON for an unknown version or package, and a bad path", async () => {
    let error = await errorOf(await fetch(`${server.url}/packages/alice:calc/2.0.0/artifact.wasm`));
    assert.deepEqual([error.status, error.code], [404, "version_not_found"]);
    error = await errorOf(await fetch(`${server.url}/packages/alice:other/1.0.0/artifact.wasm`));
    assert.deepEqual([error.status, error.code], [404, "package_not_found"]);
    error = await errorOf(await fetch(`${server.url}/packages/alice:calc/1.0.0/other.wasm`));
    assert.deepEqual([error.status, error.code], [404, "not_found"]);
  });

  it("writes pending counts when the server stops, so none are lost", async () => {
    const dataDir = server.dataDir;
    const before = (await stats()).download_count;
    await fetch(url()).then((r) => r.arrayBuffer());
    await server.stop();
    server = await startRegistry({}, dataDir);
    assert.equal((await stats()).download_count, before + 1);
  });
});

describe("large downloads", () => {
  let big: RunningRegistry;
  before(async () => (big = await startRegistry()));
  after(() => big.stop());

  it("sends a component of many read chunks whole, with nosniff, and frees its file when a client abandons one", async () => {
    // Several of the server's 256 KiB read chunks, and not a multiple of one.
    const bytes = await paddedComponent(3 * 1024 * 1024 + 12_345, 7);
    assert.equal((await publish(big.url, bytes, { fields: { name: "alice:big", version: "1.0.0" } })).status, 201);
    const bigUrl = `${big.url}/packages/alice:big/1.0.0/artifact.wasm`;
    const whole = await fetch(bigUrl);
    assert.equal(whole.headers.get("x-content-type-options"), "nosniff");
    assert.equal(sha256Hex(new Uint8Array(await whole.arrayBuffer())), sha256Hex(bytes));

    // Three clients read the first bytes and hang up.
    const blobFile = path.join(big.dataDir, "blobs", "sha256", sha256Hex(bytes).slice(0, 2), sha256Hex(bytes));
    await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<void>((resolve, reject) => {
            http.get(bigUrl, (response) => {
              response.once("data", () => {
                response.destroy();
                resolve();
              });
            }).on("error", reject);
          }),
      ),
    );
    // The server closes the files it was sending (this process is the server), and serves on.
    let open = openDescriptorsOf(blobFile);
    for (let attempt = 0; open > 0 && attempt < 100; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      open = openDescriptorsOf(blobFile);
    }
    assert.equal(open, 0, "no descriptor of the abandoned downloads stays open");
    const again = await fetch(bigUrl);
    assert.equal(sha256Hex(new Uint8Array(await again.arrayBuffer())), sha256Hex(bytes));
  });

});

describe("keep-alive", () => {
  it("answers bodiless requests without closing the connection, so clients reuse it", async () => {
    const { default: http } = await import("node:http");
    const server = await startRegistry();
    try {
      assert.equal((await publish(server.url, componentBytes(77), { fields: { name: "alice:kept", version: "1.0.0" } })).status, 201);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const sockets = new Set<unknown>();
      const get = (path: string) =>
        new Promise<string | undefined>((resolve, reject) => {
          const request = http.get(`${server.url}${path}`, { agent }, (response) => {
            response.resume();
            response.on("end", () => resolve(response.headers.connection));
          });
          request.on("socket", (socket) => sockets.add(socket));
          request.on("error", reject);
        });
      for (let i = 0; i < 20; i++) {
        for (const path of ["/api/v1/packages/alice:kept/1.0.0", "/api/v1/packages/alice:kept/9.9.9", "/health"]) {
          assert.notEqual(await get(path), "close", path);
        }
      }
      assert.equal(sockets.size, 1, "every request went over the one connection");
      agent.destroy();
    } finally {
      await server.stop();
    }
  });
});
