/**
 * The metadata fast path in front of a real node:http server on loopback,
 * with a router stand-in that answers 299 and records what reached it: what
 * the fast path answers, and what it must leave untouched to the router.
 */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { AccessLog } from "../src/access-log.js";
import { MetadataCache } from "../src/metadata-cache.js";
import { MetadataFastPath } from "../src/metadata-fast-path.js";
import { requestIdSequence } from "../src/request-id.js";
import { rawRequest } from "../testkit/raw-http.js";

const PATH = "/api/v1/packages/alice:calc/1.0.0";
const JSON_BYTES = Buffer.from('{"name":"alice:calc","version":"1.0.0","description":"π"}');

describe("metadata fast path", () => {
  let server: http.Server;
  let url: string;
  let fastPath: MetadataFastPath;
  let admitted: string[];
  let budget: number;
  const lines: string[] = [];
  const routed: string[] = [];

  before(async () => {
    const cache = new MetadataCache(60_000);
    cache.set(PATH, "alice:calc", "1.0.0", JSON_BYTES);
    fastPath = new MetadataFastPath({
      cache,
      log: new AccessLog({ write: (line) => lines.push(line) }, "info"),
      nextRequestId: requestIdSequence(),
      admit: (address) => {
        admitted.push(address);
        return budget-- > 0;
      },
    });
    server = http.createServer((request, response) => {
      if (fastPath.answer(request, response)) return;
      routed.push(`${request.method} ${request.url}`);
      request.resume();
      response.writeHead(299).end();
    });
    server.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    lines.length = 0;
    routed.length = 0;
    admitted = [];
    budget = 100;
  });

  it("answers a cached path with its bytes, JSON headers and nosniff, and logs one request line per answer", async () => {
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${url}${PATH}`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
      assert.equal(response.headers.get("x-content-type-options"), "nosniff");
      assert.equal(response.headers.get("content-length"), String(JSON_BYTES.length));
      assert.deepEqual(Buffer.from(await response.arrayBuffer()), JSON_BYTES);
    }
    assert.deepEqual(routed, []);
    assert.deepEqual(admitted, ["127.0.0.1", "127.0.0.1"]);
    const logged = lines.map((line) => JSON.parse(line));
    assert.equal(logged.length, 2);
    for (const line of logged) {
      assert.equal(line.msg, "request");
      assert.equal(line.level, 30);
      assert.equal(line.method, "GET");
      assert.equal(line.url, PATH);
      assert.equal(line.status, 200);
      assert.equal(typeof line.ms, "number");
    }
    assert.notEqual(logged[0].reqId, logged[1].reqId);
  });

  it("leaves to the router a path it does not hold, and every method but GET", async () => {
    assert.equal((await fetch(`${url}/api/v1/packages/alice:calc/9.9.9`)).status, 299);
    assert.equal((await fetch(`${url}${PATH}`, { method: "HEAD" })).status, 299);
    assert.equal((await fetch(`${url}${PATH}`, { method: "POST", body: "x" })).status, 299);
    assert.deepEqual(routed, ["GET /api/v1/packages/alice:calc/9.9.9", `HEAD ${PATH}`, `POST ${PATH}`]);
    assert.deepEqual(lines, []);
  });

  it("leaves to the router a GET with a body, and one with more headers than the registry accepts", async () => {
    const withBody = await rawRequest(url, `GET ${PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi`);
    assert.equal(withBody?.status, 299);
    const manyHeaders = Array.from({ length: 101 }, (_, i) => `X-H${i}: ${i}\r\n`).join("");
    const crowded = await rawRequest(url, `GET ${PATH} HTTP/1.1\r\nHost: x\r\n${manyHeaders}Connection: close\r\n\r\n`);
    assert.equal(crowded?.status, 299);
    assert.equal(routed.length, 2);
  });

  it("leaves to the router a read over the address's budget, so that the router refuses it", async () => {
    budget = 1;
    assert.equal((await fetch(`${url}${PATH}`)).status, 200);
    assert.equal((await fetch(`${url}${PATH}`)).status, 299);
    assert.deepEqual(routed, [`GET ${PATH}`]);
  });

  it("answers nothing once closed: a closing registry refuses through its router", async () => {
    fastPath.close();
    assert.equal((await fetch(`${url}${PATH}`)).status, 299);
    assert.deepEqual(lines, []);
  });
});
