/**
 * Rate limits, timeouts, size caps and page headers, each against a real
 * registry on loopback. Rate windows are fixed minutes; each test that counts
 * starts early in a minute, so no window ends in the middle of it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createTestDatabase, type TestDatabase } from "../testkit/backends.js";
import { ALICE_TOKEN, BOB_TOKEN, type RunningRegistry, componentBytes, errorOf, publish, snapshotStore, startRegistry } from "../testkit/helpers.js";
import { rawExchange, rawRequest } from "../testkit/raw-http.js";

/** Waits, if needed, until at least 10 s of the current minute remain: a window must not roll over mid-test. */
async function freshWindow(): Promise<void> {
  const intoMinute = (Date.now() / 1000) % 60;
  if (intoMinute > 50) await sleep((60 - intoMinute) * 1000 + 50);
}

function assertRateLimited(status: number, retryAfter: string | null | undefined, code: string) {
  assert.equal(status, 429);
  assert.equal(code, "rate_limited");
  const seconds = Number(retryAfter);
  assert.ok(Number.isInteger(seconds) && seconds >= 1 && seconds <= 60, `Retry-After ${retryAfter} is 1 to 60 seconds`);
}

describe("rate limits", () => {
  const servers: RunningRegistry[] = [];
  after(() => Promise.all(servers.map((s) => s.stop())));

  it("reads: off unless REGISTRY_RATE_LIMIT_PER_MIN is set", async () => {
    const server = await startRegistry();
    servers.push(server);
    const statuses = await Promise.all(Array.from({ length: 120 }, () => fetch(`${server.url}/packages`).then((r) => r.status)));
    assert.deepEqual(new Set(statuses), new Set([200]));
  });

  it("reads: cached version metadata counts against the budget too, and is refused past it", async () => {
    await freshWindow();
    const server = await startRegistry({ REGISTRY_RATE_LIMIT_PER_MIN: "4" });
    servers.push(server);
    assert.equal((await publish(server.url, componentBytes(1), { fields: { name: "alice:a", version: "1.0.0" } })).status, 201);
    // The first read fills the metadata cache; the next two are answered from it, before the router.
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${server.url}/api/v1/packages/alice:a/1.0.0`)).status, 200, `read ${i + 1}`);
    const refused = await fetch(`${server.url}/api/v1/packages/alice:a/1.0.0`);
    assertRateLimited(refused.status, refused.headers.get("retry-after"), (await errorOf(refused)).code);
  });

  it("reads: per client address, 429 with Retry-After past the budget; /health stays free", async () => {
    await freshWindow();
    const server = await startRegistry({ REGISTRY_RATE_LIMIT_PER_MIN: "5" });
    servers.push(server);
    for (let i = 0; i < 5; i++) assert.equal((await fetch(`${server.url}/api/v1/search?q=x`)).status, 200, `request ${i + 1}`);
    const refused = await fetch(`${server.url}/packages`);
    const { code, message } = await errorOf(refused.clone());
    assertRateLimited(refused.status, refused.headers.get("retry-after"), code);
    assert.match(message, /5 a minute \(REGISTRY_RATE_LIMIT_PER_MIN\)/);
    // Publishes from the address count too, refused before their token is even looked at.
    assert.equal((await publish(server.url, componentBytes(1), { fields: { name: "alice:a", version: "1.0.0" } })).status, 429);
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  });

  it("publishes: a per-token budget; another token still publishes", async () => {
    await freshWindow();
    const server = await startRegistry({ REGISTRY_PUBLISH_RATE_LIMIT_PER_MIN: "2" });
    servers.push(server);
    const as = (token: string, seed: number) =>
      publish(server.url, componentBytes(seed), { token, fields: { name: token === ALICE_TOKEN ? "alice:p" : "bob:p", version: `1.0.${seed}` } });
    assert.equal((await as(ALICE_TOKEN, 1)).status, 201);
    assert.equal((await as(ALICE_TOKEN, 2)).status, 201);
    const snapshot = await snapshotStore(server.dataDir);
    const refused = await as(ALICE_TOKEN, 3);
    assertRateLimited(refused.status, refused.headers.get("retry-after"), (await errorOf(refused.clone())).code);
    assert.match((await errorOf(refused)).message, /REGISTRY_PUBLISH_RATE_LIMIT_PER_MIN/);
    assert.equal(await snapshotStore(server.dataDir), snapshot, "a refused publish stores nothing");
    assert.equal((await as(BOB_TOKEN, 4)).status, 201);
    // Reads are not charged to the publish budget.
    assert.equal((await fetch(`${server.url}/api/v1/packages/alice:p/versions`)).status, 200);
  });

  describe("on PostgreSQL, every server counts against one budget", () => {
    let db: TestDatabase;
    const pair: RunningRegistry[] = [];
    before(async () => {
      db = await createTestDatabase();
    });
    after(async () => {
      await Promise.all(pair.map((s) => s.stop()));
      await db.drop();
    });

    it("publishes and reads spent on one server are refused on the other", async () => {
      await freshWindow();
      const env = {
        DATABASE_URL: db.url,
        DATABASE_POOL_SIZE: "3",
        REGISTRY_PUBLISH_RATE_LIMIT_PER_MIN: "2",
        REGISTRY_RATE_LIMIT_PER_MIN: "20",
        // Syncs happen when the test asks, so what it sees depends on no timer.
        REGISTRY_RATE_LIMIT_SYNC_MS: "60000",
      };
      const a = await startRegistry(env);
      pair.push(a);
      const b = await startRegistry(env);
      pair.push(b);

      const pub = (server: RunningRegistry, version: string) =>
        publish(server.url, componentBytes(Number(version.split(".")[2])), { token: ALICE_TOKEN, fields: { name: "alice:shared", version } });
      assert.equal((await pub(a, "1.0.1")).status, 201);
      assert.equal((await pub(b, "1.0.2")).status, 201);
      const refused = await pub(a, "1.0.3");
      assertRateLimited(refused.status, refused.headers.get("retry-after"), (await errorOf(refused)).code);
      assert.equal((await pub(b, "1.0.4")).status, 429);

      // Reads (publishes count as requests from the address too): a has seen 2 of its 20, and spends
      // the other 18 without hearing of b's; b learns of a's at its next sync.
      for (let i = 0; i < 18; i++) assert.equal((await fetch(`${a.url}/packages`)).status, 200, `read ${i + 1} on a`);
      assert.equal((await fetch(`${a.url}/packages`)).status, 429, "a's own budget is spent");
      await a.registry.syncRateCounters();
      assert.equal((await fetch(`${b.url}/packages`)).status, 200, "b has not synced yet: it allows the read and counts it");
      await b.registry.syncRateCounters();
      const shared = await fetch(`${b.url}/packages`);
      assertRateLimited(shared.status, shared.headers.get("retry-after"), (await errorOf(shared)).code);
    });
  });
});

describe("limits on slow and oversized requests", () => {
  let server: RunningRegistry;
  before(async () => {
    server = await startRegistry({
      REGISTRY_HEADERS_TIMEOUT_MS: "500",
      REGISTRY_REQUEST_TIMEOUT_MS: "1500",
      REGISTRY_KEEP_ALIVE_TIMEOUT_MS: "300",
      REGISTRY_MAX_HEADER_BYTES: "4096",
    });
    assert.equal((await publish(server.url, componentBytes(1), { fields: { name: "alice:calc", version: "1.0.0" } })).status, 201);
  });
  after(() => server.stop());

  it("a client that never finishes its headers gets 408 and is disconnected", { timeout: 20_000 }, async () => {
    const exchange = rawExchange(server.url, ["GET /packages HTTP/1.1\r\nHost: localhost\r\nX-Slow: "]);
    const response = await exchange.response;
    await exchange.closed;
    assert.equal(response?.status, 408);
    assert.equal(JSON.parse(response!.body).error.code, "request_timeout");
  });

  it("a publish whose body stalls gets 408, is disconnected, and leaves nothing behind", { timeout: 20_000 }, async () => {
    const snapshot = await snapshotStore(server.dataDir);
    const boundary = "----stall";
    const head =
      `--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nalice:slow\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="version"\r\n\r\n1.0.0\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="component"; filename="c.wasm"\r\nContent-Type: application/wasm\r\n\r\n\0asm`;
    const exchange = rawExchange(server.url, [
      `POST /api/v1/packages HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${ALICE_TOKEN}\r\n` +
        `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 100000\r\n\r\n${head}`,
    ]);
    const response = await exchange.response;
    await exchange.closed;
    assert.equal(response?.status, 408);
    assert.equal(JSON.parse(response!.body).error.code, "request_timeout");
    // The staged file goes once the aborted upload is cleaned up; wait for the server to notice.
    for (let i = 0; i < 100 && (await snapshotStore(server.dataDir)) !== snapshot; i++) await sleep(50);
    assert.equal(await snapshotStore(server.dataDir), snapshot);
  });

  it("an idle keep-alive connection is closed", { timeout: 20_000 }, async () => {
    const exchange = rawExchange(server.url, ["GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n"]);
    const response = await exchange.response;
    assert.equal(response?.status, 200);
    assert.equal(response?.closed, false, "the connection is kept alive after the answer");
    await exchange.closed;
  });

  it("headers over REGISTRY_MAX_HEADER_BYTES get 431 in the error shape; smaller ones pass", async () => {
    const big = await rawRequest(server.url, `GET /packages HTTP/1.1\r\nHost: localhost\r\nX-Big: ${"a".repeat(5000)}\r\n\r\n`);
    assert.equal(big?.status, 431);
    assert.equal(JSON.parse(big!.body).error.code, "headers_too_large");
    const fine = await rawRequest(server.url, `GET /packages HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Big: ${"a".repeat(3000)}\r\n\r\n`);
    assert.equal(fine?.status, 200);
  });

  it("bodies are capped on every route: a 2 MiB JSON body gets 413; an unread body closes the connection", async () => {
    const json = `{"pad":"${"x".repeat(2 * 1024 * 1024)}"}`;
    const response = await fetch(`${server.url}/api/v1/packages`, { method: "POST", headers: { "content-type": "application/json" }, body: json });
    assert.equal(response.status, 413);
    assert.equal((await errorOf(response)).code, "ctp_body_too_large");
    // A POST to a page with a body nobody reads: answered, and the connection is not kept to read the rest.
    const exchange = rawExchange(server.url, [
      `POST /browse HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nContent-Length: 50000000\r\n\r\n`,
      Buffer.alloc(64 * 1024),
    ]);
    const answer = await exchange.response;
    assert.ok(answer && answer.status >= 400 && answer.status < 500, `status ${answer?.status}`);
    assert.equal(answer!.headers.connection, "close");
    await exchange.closed;
  });
});

describe("security headers on pages", () => {
  let server: RunningRegistry;
  before(async () => {
    server = await startRegistry();
    assert.equal((await publish(server.url, componentBytes(1), { fields: { name: "alice:calc", version: "1.0.0", description: "<script>x</script>" } })).status, 201);
  });
  after(() => server.stop());

  for (const path of ["/", "/browse", "/browse?q=calc", "/browse/alice:calc", "/browse/nobody:here", "/no/such/page"]) {
    it(`${path}: CSP default-src 'self' with frame-ancestors 'none', nosniff, a referrer policy, and nothing the CSP would block`, async () => {
      const response = await fetch(`${server.url}${path}`, { headers: { accept: "text/html" } });
      assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
      const csp = response.headers.get("content-security-policy") ?? "";
      assert.match(csp, /(^|; )default-src 'self'(;|$)/);
      assert.match(csp, /(^|; )frame-ancestors 'none'(;|$)/);
      assert.equal(response.headers.get("x-content-type-options"), "nosniff");
      assert.equal(response.headers.get("referrer-policy"), "no-referrer");
      assert.equal(response.headers.get("x-frame-options"), "DENY");
      const body = await response.text();
      // What 'self' with no 'unsafe-inline' would block: inline script or style, or anything from elsewhere.
      assert.doesNotMatch(body, /<script|<style|\sstyle=|\son[a-z]+=/i);
      for (const [, url] of body.matchAll(/<(?:link|img|script|iframe)\b[^>]*(?:href|src)="([^"]*)"/g)) {
        assert.ok(url!.startsWith("/") && !url!.startsWith("//"), `${url} is same-origin`);
      }
      assert.match(body, /<link rel="stylesheet" href="\/assets\/style.css\?v=[0-9a-f]{12}"/);
    });
  }

  it("the stylesheet the pages use is served as CSS, nosniff", async () => {
    const response = await fetch(`${server.url}/assets/style.css`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/css/);
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  });
});
