import assert from "node:assert/strict";
import http from "node:http";
import { after, before, beforeEach, describe, it } from "node:test";
import { sha256Hex, type VersionMetadata } from "@wasm-registry/core";
import {
  ALICE_TOKEN,
  BOB_TOKEN,
  type RunningRegistry,
  componentBytes,
  componentOfSize,
  errorOf,
  publish,
  snapshotStore,
  startRegistry,
} from "../testkit/helpers.js";

const ok = { name: "alice:calc", version: "1.0.0" };

/** Sends a raw HTTP request and resolves on the response, even if the server stops reading early. */
function rawRequest(
  url: string,
  headers: Record<string, string | number>,
  writeBody: (request: http.ClientRequest) => void,
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${url}/api/v1/packages`, { method: "POST", headers }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode!, body, headers: response.headers }));
      response.on("error", reject);
    });
    // The server may close the connection while we are still sending: that is the point.
    request.on("error", (error) => (error as NodeJS.ErrnoException).code === "EPIPE" || (error as NodeJS.ErrnoException).code === "ECONNRESET" ? undefined : reject(error));
    writeBody(request);
  });
}

describe("publish", () => {
  let server: RunningRegistry;
  before(async () => {
    // Counts are written only at stop, so that snapshots of the store stay still.
    server = await startRegistry({ MAX_UPLOAD_MB: "1", DOWNLOAD_FLUSH_MS: "600000" });
  });
  after(() => server.stop());

  it("accepts the file in the field 'component' and answers 201 with the metadata", async () => {
    const bytes = componentBytes(10);
    const response = await publish(server.url, bytes, {
      fields: { ...ok, sha256: sha256Hex(bytes), description: "calc", targets: '["wasm32-wasip2","wasm32-wasip1"]' },
    });
    assert.equal(response.status, 201);
    const body = (await response.json()) as VersionMetadata;
    assert.equal(body.name, "alice:calc");
    assert.equal(body.sha256, sha256Hex(bytes));
    assert.equal(body.size, bytes.length);
    assert.deepEqual(body.targets, ["wasm32-wasip2", "wasm32-wasip1"]);
    const download = await fetch(`${server.url}/packages/alice:calc/1.0.0/artifact.wasm`);
    assert.deepEqual(new Uint8Array(await download.arrayBuffer()), bytes);
  });

  it("accepts the file in the field 'artifact', as the seed's curl example sends it", async () => {
    const bytes = componentBytes(11);
    const response = await publish(server.url, bytes, { fileField: "artifact", fields: { ...ok, version: "1.0.1" } });
    assert.equal(response.status, 201);
    const download = await fetch(`${server.url}/packages/alice%3Acalc/1.0.1/artifact.wasm`);
    assert.deepEqual(new Uint8Array(await download.arrayBuffer()), bytes);
  });

  it("lets a namespace token publish into its namespace, and the admin anywhere", async () => {
    assert.equal((await publish(server.url, componentBytes(12), { token: ALICE_TOKEN, fields: { ...ok, version: "1.1.0" } })).status, 201);
    assert.equal((await publish(server.url, componentBytes(13), { fields: { name: "zed:anything", version: "0.0.1" } })).status, 201);
  });

  it("stores the same bytes once when two versions share them", async () => {
    const bytes = componentBytes(14);
    assert.equal((await publish(server.url, bytes, { fields: { name: "alice:twin", version: "1.0.0" } })).status, 201);
    assert.equal((await publish(server.url, bytes, { fields: { name: "alice:twin", version: "1.0.1" } })).status, 201);
    for (const version of ["1.0.0", "1.0.1"]) {
      const download = await fetch(`${server.url}/packages/alice:twin/${version}/artifact.wasm`);
      assert.equal(sha256Hex(new Uint8Array(await download.arrayBuffer())), sha256Hex(bytes));
    }
  });

  it("takes a text field of exactly 64 KiB and a component of exactly MAX_UPLOAD_MB: the limits are inclusive", async () => {
    const description = "é".repeat(32 * 1024); // 64 KiB of UTF-8
    const exact = await publish(server.url, componentOfSize(1024 * 1024), { fields: { name: "alice:edge", version: "1.0.0", description } });
    assert.equal(exact.status, 201, await exact.clone().text());
    const body = (await exact.json()) as VersionMetadata;
    assert.equal(body.size, 1024 * 1024);
    assert.equal(body.description, description);
    const over = await errorOf(await publish(server.url, componentOfSize(1024 * 1024 + 1), { fields: { name: "alice:edge", version: "1.0.1" } }));
    assert.deepEqual([over.status, over.code], [413, "payload_too_large"]);
  });

  describe("refusals change nothing", () => {
    let before: string;
    beforeEach(async () => {
      // Download counts from earlier tests are written on a timer; /api/v1/stats writes them now,
      // so a flush cannot land between the two snapshots and look like a change.
      await (await fetch(`${server.url}/api/v1/stats`)).arrayBuffer();
      before = await snapshotStore(server.dataDir);
    });
    const unchanged = async () => assert.equal(await snapshotStore(server.dataDir), before, "the store changed");

    const cases: [string, () => Promise<Response>, number, string, RegExp?][] = [
      ["no token", () => publish(server.url, componentBytes(20), { token: undefined, fields: ok }), 401, "unauthorized"],
      ["an unknown token", () => publish(server.url, componentBytes(20), { token: "not-a-real-token", fields: ok }), 401, "unauthorized"],
      ["another namespace's token", () => publish(server.url, componentBytes(20), { token: BOB_TOKEN, fields: { ...ok, version: "3.0.0" } }), 403, "forbidden", /"bob".*"alice"/],
      ["an existing version", () => publish(server.url, componentBytes(21), { fields: ok }), 409, "version_exists", /immutable/],
      ["a sha256 that does not match", () => publish(server.url, componentBytes(22), { fields: { ...ok, version: "4.0.0", sha256: "0".repeat(64) } }), 400, "sha256_mismatch"],
      ["a sha256 that is not hex", () => publish(server.url, componentBytes(22), { fields: { ...ok, version: "4.0.0", sha256: "xyz" } }), 400, "invalid_field"],
      ["no file", () => publish(server.url, undefined, { fields: { ...ok, version: "4.0.0" } }), 400, "missing_file"],
      ["an empty file", () => publish(server.url, new Uint8Array(0), { fields: { ...ok, version: "4.0.0" } }), 400, "empty_file"],
      ["a file in an unknown field", () => publish(server.url, componentBytes(23), { fileField: "wasm", fields: { ...ok, version: "4.0.0" } }), 400, "unexpected_file"],
      ["no name", () => publish(server.url, componentBytes(23), { fields: { version: "4.0.0" } }), 400, "missing_field"],
      ["no version", () => publish(server.url, componentBytes(23), { fields: { name: "alice:calc" } }), 400, "missing_field"],
      ["a name without namespace", () => publish(server.url, componentBytes(23), { fields: { name: "calc", version: "4.0.0" } }), 400, "invalid_name", /namespace/],
      ["an uppercase name", () => publish(server.url, componentBytes(23), { fields: { name: "Alice:Calc", version: "4.0.0" } }), 400, "invalid_name"],
      ["a name with ..", () => publish(server.url, componentBytes(23), { fields: { name: "alice:../calc", version: "4.0.0" } }), 400, "invalid_name"],
      ["a name with a NUL", () => publish(server.url, componentBytes(23), { fields: { name: "alice:ca\0lc", version: "4.0.0" } }), 400, "invalid_name"],
      ["a name of 129 characters", () => publish(server.url, componentBytes(23), { fields: { name: `alice:${"a".repeat(123)}`, version: "4.0.0" } }), 400, "invalid_name", /128/],
      ["a version that is not semver", () => publish(server.url, componentBytes(23), { fields: { ...ok, version: "1.0" } }), 400, "invalid_version"],
      ["a version with a leading v", () => publish(server.url, componentBytes(23), { fields: { ...ok, version: "v1.0.0" } }), 400, "invalid_version"],
      ["the tag latest", () => publish(server.url, componentBytes(23), { fields: { ...ok, version: "latest" } }), 400, "invalid_version", /mutable/],
      ["the tag dev", () => publish(server.url, componentBytes(23), { fields: { ...ok, version: "dev" } }), 400, "invalid_version", /mutable/],
      ["the tag stable", () => publish(server.url, componentBytes(23), { fields: { ...ok, version: "stable" } }), 400, "invalid_version", /mutable/],
      ["an absurdly long version", () => publish(server.url, componentBytes(23), { fields: { ...ok, version: `1.0.0-${"a".repeat(100)}` } }), 400, "invalid_version"],
      ["a repository that is not http(s)", () => publish(server.url, componentBytes(23), { fields: { ...ok, version: "4.0.0", repository: "javascript:alert(1)" } }), 400, "invalid_field", /repository/],
      ["dependencies that are not JSON", () => publish(server.url, componentBytes(23), { fields: { ...ok, version: "4.0.0", dependencies: "{nope" } }), 400, "invalid_field", /dependencies/],
      ["dependencies that are not an array", () => publish(server.url, componentBytes(23), { fields: { ...ok, version: "4.0.0", dependencies: '{"a":1}' } }), 400, "invalid_field"],
      ["a dependency with a bad name", () => publish(server.url, componentBytes(23), { fields: { ...ok, version: "4.0.0", dependencies: '[{"name":"Bad","version":"1"}]' } }), 400, "invalid_dependency", /dependencies\[0\]\.name/],
      ["a dependency with a bad range", () => publish(server.url, componentBytes(23), { fields: { ...ok, version: "4.0.0", dependencies: '[{"name":"a:b","version":"not a range"}]' } }), 400, "invalid_dependency", /semver range/],
      ["a dependency with optional not boolean", () => publish(server.url, componentBytes(23), { fields: { ...ok, version: "4.0.0", dependencies: '[{"name":"a:b","version":"1","optional":"yes"}]' } }), 400, "invalid_dependency"],
      ["targets that are not strings", () => publish(server.url, componentBytes(23), { fields: { ...ok, version: "4.0.0", targets: "[1]" } }), 400, "invalid_field", /targets/],
      ["a text field over 64 KiB", () => publish(server.url, componentBytes(23), { fields: { ...ok, version: "4.0.0", description: "x".repeat(64 * 1024 + 1) } }), 400, "field_too_long", /description/],
      ["a duplicated field", () => {
        const form = new FormData();
        form.append("name", "alice:calc");
        form.append("name", "alice:other");
        form.append("version", "4.0.0");
        form.append("component", new Blob([new Uint8Array(componentBytes(24))]));
        return fetch(`${server.url}/api/v1/packages`, { method: "POST", body: form, headers: { authorization: `Bearer ${ALICE_TOKEN}` } });
      }, 400, "duplicate_field"],
      ["two files", () => {
        const form = new FormData();
        form.append("name", "alice:calc");
        form.append("version", "4.0.0");
        form.append("component", new Blob([new Uint8Array(componentBytes(24))]));
        form.append("artifact", new Blob([new Uint8Array(componentBytes(25))]));
        return fetch(`${server.url}/api/v1/packages`, { method: "POST", body: form, headers: { authorization: `Bearer ${ALICE_TOKEN}` } });
      }, 400, "duplicate_file"],
      ["a JSON body", () => fetch(`${server.url}/api/v1/packages`, { method: "POST", body: JSON.stringify(ok), headers: { "content-type": "application/json", authorization: `Bearer ${ALICE_TOKEN}` } }), 415, "unsupported_content_type"],
      ["multipart without a boundary", () => fetch(`${server.url}/api/v1/packages`, { method: "POST", body: "x", headers: { "content-type": "multipart/form-data", authorization: `Bearer ${ALICE_TOKEN}` } }), 400, "bad_multipart"],
      ["a truncated multipart body", () => fetch(`${server.url}/api/v1/packages`, { method: "POST", body: '--b\r\ncontent-disposition: form-data; name="name"\r\n\r\nalice:calc\r\n--b\r\ncontent-disposition: form-data; name="component"; filename="c.wasm"\r\n\r\nabc', headers: { "content-type": "multipart/form-data; boundary=b", authorization: `Bearer ${ALICE_TOKEN}` } }), 400, "bad_multipart"],
    ];
    for (const [what, send, status, code, message] of cases) {
      it(`${status} ${code} for ${what}`, async () => {
        const error = await errorOf(await send());
        assert.deepEqual([error.status, error.code], [status, code], error.message);
        if (message) assert.match(error.message, message);
        await unchanged();
      });
    }

    it("a fetch client that sends a large body sees the 401, not a broken pipe", async () => {
      const big = new Uint8Array(900 * 1024);
      big.set(componentBytes(30));
      for (let i = 0; i < 3; i++) {
        const error = await errorOf(await publish(server.url, big, { token: "wrong-token", fields: ok }));
        assert.deepEqual([error.status, error.code], [401, "unauthorized"]);
      }
      const forbidden = await errorOf(await publish(server.url, big, { token: BOB_TOKEN, fields: { ...ok, version: "7.0.0" } }));
      assert.equal(forbidden.status, 403);
      await unchanged();
    });

    it("413 at once when Content-Length is over the limit, without reading the body", async () => {
      const response = await rawRequest(
        server.url,
        { "content-type": "multipart/form-data; boundary=x", "content-length": 1024 * 1024 * 1024, authorization: `Bearer ${ALICE_TOKEN}` },
        (request) => request.flushHeaders(), // headers only: a 1 GB body is never sent
      );
      assert.equal(response.status, 413);
      assert.equal(JSON.parse(response.body).error.code, "payload_too_large");
      assert.match(JSON.parse(response.body).error.message, /1 MB/);
      await unchanged();
    });

    it("413 when a streamed upload without Content-Length passes the limit", async () => {
      const head = `--x\r\ncontent-disposition: form-data; name="name"\r\n\r\nalice:calc\r\n--x\r\ncontent-disposition: form-data; name="version"\r\n\r\n5.0.0\r\n--x\r\ncontent-disposition: form-data; name="component"; filename="c.wasm"\r\ncontent-type: application/wasm\r\n\r\n`;
      const response = await rawRequest(
        server.url,
        { "content-type": "multipart/form-data; boundary=x", "transfer-encoding": "chunked", authorization: `Bearer ${ALICE_TOKEN}` },
        (request) => {
          request.write(head);
          const chunk = Buffer.alloc(64 * 1024, 1);
          let sent = 0;
          const pump = () => {
            while (sent < 3 * 1024 * 1024) {
              sent += chunk.length;
              if (!request.write(chunk)) return request.once("drain", pump);
            }
            request.end("\r\n--x--\r\n");
          };
          pump();
        },
      );
      assert.equal(response.status, 413);
      assert.equal(response.headers.connection, "close");
      await unchanged();
    });
  });

  it("lets exactly one of many same-version publishes win", async () => {
    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, i) => publish(server.url, componentBytes(100 + i), { fields: { name: "alice:race", version: "1.0.0" } })),
    );
    const statuses = attempts.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409, 409, 409]);
    const winner = (await attempts.find((r) => r.status === 201)!.json()) as VersionMetadata;
    const download = await fetch(`${server.url}/packages/alice:race/1.0.0/artifact.wasm`);
    assert.equal(sha256Hex(new Uint8Array(await download.arrayBuffer())), winner.sha256);
    assert.deepEqual(await (await fetch(`${server.url}/api/v1/packages/alice:race/versions`)).json(), { name: "alice:race", versions: ["1.0.0"], yanked: [] });
  });
});
