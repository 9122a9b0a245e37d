import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sha256Hex } from "@wasm-registry/core";
import { type RunningRegistry, componentBytes, errorOf, publish, startRegistry } from "../testkit/helpers.js";

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
