/**
 * The token API and yank, over HTTP against a real registry on loopback:
 * every route, every refusal, and what a token may and may not do.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import type { CreatedToken, TokenInfo, VersionList, VersionMetadata } from "@wasm-registry/core";
import { sha256Hex } from "@wasm-registry/core";
import { Authenticator, LAST_USED_WRITE_SECONDS, tokenRecord } from "../src/auth.js";
import type { MetadataStore, TokenRecord } from "../src/store/types.js";
import {
  ADMIN_TOKEN,
  ALICE_TOKEN,
  BOB_TOKEN,
  type RunningRegistry,
  componentBytes,
  errorOf,
  publish,
  snapshotStore,
  startRegistry,
} from "../testkit/helpers.js";

let server: RunningRegistry;
before(async () => {
  server = await startRegistry();
});
after(() => server.stop());

const auth = (token: string | undefined): Record<string, string> => (token === undefined ? {} : { authorization: `Bearer ${token}` });

/** `null` sends no Authorization header. */
function createToken(body: unknown, token: string | null = ADMIN_TOKEN): Promise<Response> {
  return fetch(`${server.url}/api/v1/tokens`, {
    method: "POST",
    headers: { ...auth(token ?? undefined), "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function created(body: unknown): Promise<CreatedToken> {
  const response = await createToken(body);
  assert.equal(response.status, 201, await response.clone().text());
  return (await response.json()) as CreatedToken;
}

async function listTokens(token = ADMIN_TOKEN): Promise<TokenInfo[]> {
  const response = await fetch(`${server.url}/api/v1/tokens`, { headers: auth(token) });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("cache-control"), "no-store");
  return ((await response.json()) as { tokens: TokenInfo[] }).tokens;
}

const revoke = (id: string, token: string | null = ADMIN_TOKEN) =>
  fetch(`${server.url}/api/v1/tokens/${id}`, { method: "DELETE", headers: auth(token ?? undefined) });

const yank = (name: string, version: string, token: string | undefined, action = "yank") =>
  fetch(`${server.url}/api/v1/packages/${name}/${version}/${action}`, { method: "POST", headers: auth(token) });

/** Time passing, done to the stored row: the server must then refuse the token. */
function expireInStore(id: string): void {
  const db = new Database(path.join(server.dataDir, "registry.db"));
  try {
    db.pragma("busy_timeout = 5000");
    assert.equal(db.prepare("UPDATE tokens SET expires_at = ? WHERE id = ?").run(Math.floor(Date.now() / 1000) - 1, id).changes, 1);
  } finally {
    db.close();
  }
}

let seed = 500;
async function publishAs(token: string, name: string, version: string, description = `${name} ${version}`): Promise<Response> {
  return publish(server.url, componentBytes(seed++), { token, fields: { name, version, description } });
}

describe("token API", () => {
  it("creates a token that is shown once, works in its namespace, and is listed without its secret", async () => {
    const response = await createToken({ namespace: "carol", scopes: ["publish"], expires_in_days: 30 });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get("cache-control"), "no-store");
    const body = (await response.json()) as CreatedToken;
    assert.match(body.token, /^wcr_[A-Za-z0-9_-]{43}$/);
    assert.match(body.id, /^[0-9a-f-]{36}$/);
    assert.equal(body.namespace, "carol");
    assert.deepEqual(body.scopes, ["publish"]);
    assert.equal(body.source, "api");
    assert.equal(body.last_used_at, null);
    assert.equal(body.expires_at! - body.created_at, 30 * 86_400);

    assert.equal((await publishAs(body.token, "carol:tool", "1.0.0")).status, 201);
    const elsewhere = await errorOf(await publishAs(body.token, "alice:tool", "1.0.0"));
    assert.deepEqual([elsewhere.status, elsewhere.code], [403, "forbidden"]);
    assert.match(elsewhere.message, /"carol".*"alice"/);

    const listed = await listTokens();
    const mine = listed.find((t) => t.id === body.id);
    assert.ok(mine);
    assert.deepEqual(Object.keys(mine).sort(), ["created_at", "expires_at", "id", "last_used_at", "namespace", "scopes", "source"]);
    assert.ok(mine.last_used_at !== null && mine.last_used_at >= body.created_at, "the publish counts as a use");
    const text = JSON.stringify(listed);
    for (const secret of [body.token, ADMIN_TOKEN, ALICE_TOKEN, BOB_TOKEN]) {
      assert.equal(text.includes(secret), false, "no secret in the list");
      assert.equal(text.includes(sha256Hex(secret)), false, "no hash in the list");
    }
  });

  it("lists the environment's tokens with both scopes, the admin's with no namespace", async () => {
    const fromEnv = (await listTokens()).filter((t) => t.source === "env");
    assert.deepEqual(
      fromEnv.map((t) => [t.namespace, t.scopes, t.expires_at]).sort(),
      [
        ["alice", ["publish", "yank"], null],
        ["bob", ["publish", "yank"], null],
        [null, ["publish", "yank"], null],
      ].sort(),
    );
  });

  it("defaults to both scopes and no expiry; takes expires_at in unix seconds", async () => {
    const plain = await created({ namespace: "dave" });
    assert.deepEqual([plain.scopes, plain.expires_at], [["publish", "yank"], null]);
    const at = Math.floor(Date.now() / 1000) + 3600;
    const timed = await created({ namespace: "dave", scopes: ["yank", "publish"], expires_at: at });
    assert.deepEqual([timed.scopes, timed.expires_at], [["publish", "yank"], at]);
    assert.notEqual(plain.token, timed.token);
  });

  it("refuses bad input with a 400 that names the problem", async () => {
    const future = Math.floor(Date.now() / 1000) + 3600;
    const cases: [unknown, string, RegExp][] = [
      [[], "invalid_body", /JSON object/],
      ["alice", "invalid_body", /JSON object/],
      [null, "invalid_body", /JSON object/],
      [{ namespace: "alice", admin: true }, "unknown_field", /"admin"/],
      [{}, "missing_namespace", /namespace/],
      [{ namespace: "Alice" }, "invalid_namespace", /kebab-case/],
      [{ namespace: "../etc" }, "invalid_namespace", /kebab-case/],
      [{ namespace: "alice:calc" }, "invalid_namespace", /kebab-case/],
      [{ namespace: "a".repeat(65) }, "invalid_namespace", /64/],
      [{ namespace: 7 }, "invalid_namespace", /namespace/],
      [{ namespace: "alice", scopes: [] }, "invalid_scopes", /non-empty/],
      [{ namespace: "alice", scopes: "publish" }, "invalid_scopes", /array/],
      [{ namespace: "alice", scopes: ["delete"] }, "invalid_scopes", /"delete" is not a scope/],
      [{ namespace: "alice", scopes: ["publish", "publish"] }, "invalid_scopes", /twice/],
      [{ namespace: "alice", expires_in_days: 0 }, "invalid_expiry", /1 to 3650/],
      [{ namespace: "alice", expires_in_days: 1.5 }, "invalid_expiry", /whole number/],
      [{ namespace: "alice", expires_in_days: "7" }, "invalid_expiry", /whole number/],
      [{ namespace: "alice", expires_in_days: 4000 }, "invalid_expiry", /3650/],
      [{ namespace: "alice", expires_at: 1_000 }, "invalid_expiry", /not in the future/],
      [{ namespace: "alice", expires_at: "2030-01-01" }, "invalid_expiry", /unix seconds/],
      [{ namespace: "alice", expires_at: future + 20 * 365 * 86_400 }, "invalid_expiry", /3650 days/],
      [{ namespace: "alice", expires_at: future, expires_in_days: 3 }, "invalid_expiry", /not both/],
    ];
    const before = (await listTokens()).length;
    for (const [body, code, message] of cases) {
      const response = await createToken(body);
      assert.equal(response.headers.get("cache-control"), "no-store", JSON.stringify(body));
      const error = await errorOf(response);
      assert.deepEqual([error.status, error.code], [400, code], JSON.stringify(body));
      assert.match(error.message, message, JSON.stringify(body));
    }
    const form = await fetch(`${server.url}/api/v1/tokens`, {
      method: "POST",
      headers: { ...auth(ADMIN_TOKEN), "content-type": "application/x-www-form-urlencoded" },
      body: "namespace=alice",
    });
    assert.equal((await errorOf(form)).status, 415);
    const text = await fetch(`${server.url}/api/v1/tokens`, {
      method: "POST",
      headers: { ...auth(ADMIN_TOKEN), "content-type": "text/plain" },
      body: "namespace=alice",
    });
    assert.equal((await errorOf(text)).code, "invalid_body");
    const broken = await fetch(`${server.url}/api/v1/tokens`, {
      method: "POST",
      headers: { ...auth(ADMIN_TOKEN), "content-type": "application/json" },
      body: '{"namespace": ',
    });
    assert.equal((await errorOf(broken)).status, 400);
    const empty = await fetch(`${server.url}/api/v1/tokens`, { method: "POST", headers: auth(ADMIN_TOKEN) });
    assert.equal((await errorOf(empty)).code, "invalid_body");
    assert.equal((await listTokens()).length, before, "no refused request made a token");
  });

  it("is for the admin alone: 401 without a known token, 403 for a namespace token", async () => {
    const requests: [string, () => Promise<Response>][] = [
      ["create", () => createToken({ namespace: "alice" }, ALICE_TOKEN)],
      ["list", () => fetch(`${server.url}/api/v1/tokens`, { headers: auth(ALICE_TOKEN) })],
      ["revoke", () => revoke("00000000-0000-4000-8000-000000000000", BOB_TOKEN)],
    ];
    for (const [what, send] of requests) {
      const error = await errorOf(await send());
      assert.deepEqual([error.status, error.code], [403, "forbidden"], what);
      assert.match(error.message, /only an admin token/, what);
    }
    for (const token of [null, "wcr_not-a-token-of-this-registry"]) {
      const create = await createToken({ namespace: "alice" }, token);
      assert.equal(create.status, 401);
      assert.equal(create.headers.get("cache-control"), "no-store");
      assert.equal((await fetch(`${server.url}/api/v1/tokens`, { headers: auth(token ?? undefined) })).status, 401);
      assert.equal((await revoke("00000000-0000-4000-8000-000000000000", token)).status, 401);
    }
  });

  it("revokes: the token then gets 401, and is gone from the list; env tokens and unknown ids are refused", async () => {
    const victim = await created({ namespace: "erin" });
    assert.equal((await publishAs(victim.token, "erin:app", "1.0.0")).status, 201);
    const response = await revoke(victim.id);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("cache-control"), "no-store");
    const body = (await response.json()) as TokenInfo & { revoked_at: number };
    assert.equal(body.id, victim.id);
    assert.equal(typeof body.revoked_at, "number");

    const refused = await errorOf(await publishAs(victim.token, "erin:app", "1.0.1"));
    assert.deepEqual([refused.status, refused.code], [401, "unauthorized"]);
    assert.match(refused.message, /revoked/);
    assert.equal((await listTokens()).some((t) => t.id === victim.id), false);

    const again = await errorOf(await revoke(victim.id));
    assert.deepEqual([again.status, again.code], [404, "token_not_found"]);
    assert.match(again.message, /already revoked/);
    const unknown = await errorOf(await revoke("00000000-0000-4000-8000-000000000000"));
    assert.deepEqual([unknown.status, unknown.code], [404, "token_not_found"]);
    const bad = await errorOf(await revoke("not-an-id"));
    assert.deepEqual([bad.status, bad.code], [400, "invalid_token_id"]);

    const alice = (await listTokens()).find((t) => t.namespace === "alice" && t.source === "env")!;
    const env = await errorOf(await revoke(alice.id));
    assert.deepEqual([env.status, env.code], [409, "env_token"]);
    assert.match(env.message, /REGISTRY_TOKENS/);
    assert.equal((await publishAs(ALICE_TOKEN, "alice:still", "1.0.0")).status, 201, "the env token still works");
  });

  it("an expired token gets 401", async () => {
    const soon = await created({ namespace: "frank", expires_in_days: 1 });
    assert.equal((await publishAs(soon.token, "frank:app", "1.0.0")).status, 201, "works before it expires");
    expireInStore(soon.id);
    const refused = await errorOf(await publishAs(soon.token, "frank:app", "1.0.1"));
    assert.deepEqual([refused.status, refused.code], [401, "unauthorized"]);
    assert.match(refused.message, /expired/);
    assert.equal((await yank("frank:app", "1.0.0", soon.token)).status, 401);
    assert.ok((await listTokens()).some((t) => t.id === soon.id), "an expired token stays listed, with its expiry");
  });

  it("scopes are enforced: publish needs publish, yank needs yank", async () => {
    const publisher = await created({ namespace: "gina", scopes: ["publish"] });
    const yanker = await created({ namespace: "gina", scopes: ["yank"] });
    assert.equal((await publishAs(publisher.token, "gina:lib", "1.0.0")).status, 201);
    const noPublish = await errorOf(await publishAs(yanker.token, "gina:lib", "1.0.1"));
    assert.deepEqual([noPublish.status, noPublish.code], [403, "forbidden"]);
    assert.match(noPublish.message, /lacks the "publish" scope/);
    const noYank = await errorOf(await yank("gina:lib", "1.0.0", publisher.token));
    assert.deepEqual([noYank.status, noYank.code], [403, "forbidden"]);
    assert.match(noYank.message, /lacks the "yank" scope/);
    assert.equal((await yank("gina:lib", "1.0.0", yanker.token)).status, 200);
  });
});

describe("last use", () => {
  /** A store that counts touchToken calls; the rest is never reached. */
  function countingStore(token: TokenRecord) {
    const touches: number[] = [];
    const store = {
      findTokenByHash: async (hash: string) => (hash === token.hash ? token : undefined),
      touchToken: async (_id: string, now: number) => {
        touches.push(now);
      },
    } as unknown as MetadataStore;
    return { store, touches };
  }

  it("is written at most once a minute per token, yet the answer knows the latest use", async () => {
    const token = tokenRecord("a-secret-for-this-test", "alice", "api", { now: 1_000 });
    const { store, touches } = countingStore(token);
    let now = 1_000;
    const authenticator = new Authenticator(store, () => now);
    const use = async () => authenticator.used(await authenticator.identify("Bearer a-secret-for-this-test"));
    await authenticator.identify("Bearer a-secret-for-this-test");
    assert.deepEqual(touches, [], "identifying alone is no use: a refused request writes nothing");
    for (let i = 0; i < 50; i++) {
      await use();
      now += 1;
    }
    assert.deepEqual(touches, [1_000], "50 uses in 50 s: one write");
    assert.equal(authenticator.lastUsedAt(token), 1_049, "the list still shows the last use");
    now = 1_000 + LAST_USED_WRITE_SECONDS;
    await use();
    assert.deepEqual(touches, [1_000, 1_060]);
    now += 5;
    await use();
    await authenticator.flushUses();
    assert.deepEqual(touches, [1_000, 1_060, 1_065], "shutdown writes what is pending");
    await authenticator.flushUses();
    assert.equal(touches.length, 3, "and only once");
  });
});

describe("yank", () => {
  let url: string;
  before(async () => {
    url = server.url;
    for (const version of ["1.0.0", "1.1.0"]) {
      const response = await publishAs(ALICE_TOKEN, "alice:yanky", version, version === "1.0.0" ? "steady release" : "broken release");
      assert.equal(response.status, 201);
    }
  });

  const meta = async (version: string, name = "alice:yanky") =>
    (await (await fetch(`${url}/api/v1/packages/${name}/${version}`)).json()) as VersionMetadata;

  it("marks a version yanked, keeps it downloadable, and skips it for latest and search; unyank undoes it", async () => {
    // Read first, raw and percent-encoded, so that the server caches both paths: the yank must clear each.
    assert.equal((await meta("1.1.0")).yanked, false);
    assert.equal((await meta("1.1.0", "alice%3Ayanky")).yanked, false);
    const response = await yank("alice:yanky", "1.1.0", ALICE_TOKEN);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.equal(((await response.json()) as VersionMetadata).yanked, true);
    assert.equal((await meta("1.1.0")).yanked, true);
    assert.equal((await meta("1.1.0", "alice%3Ayanky")).yanked, true);
    assert.equal((await meta("1.0.0")).yanked, false);
    const list = (await (await fetch(`${url}/api/v1/packages/alice:yanky/versions`)).json()) as VersionList;
    assert.deepEqual(list, { name: "alice:yanky", versions: ["1.0.0", "1.1.0"], yanked: ["1.1.0"] });

    const download = await fetch(`${url}/packages/alice:yanky/1.1.0/artifact.wasm`);
    assert.equal(download.status, 200, "a yanked version keeps downloading");
    assert.equal(sha256Hex(new Uint8Array(await download.arrayBuffer())), (await meta("1.1.0")).sha256);

    const search = (await (await fetch(`${url}/api/v1/search?q=alice:yanky`)).json()) as { packages: VersionMetadata[] };
    assert.deepEqual(search.packages.map((p) => [p.name, p.version, p.yanked]), [["alice:yanky", "1.0.0", false]]);
    const page = await (await fetch(`${url}/browse/alice:yanky`)).text();
    assert.match(page, /<dt>Latest version<\/dt><dd>1\.0\.0<\/dd>/);
    assert.match(page, /<tr class="yanked"><td>1\.1\.0 <span class="badge"[^>]*>yanked<\/span><\/td>/);
    assert.doesNotMatch(page, /<td>1\.0\.0 <span class="badge"/);

    // Percent-encoded names work as elsewhere; the admin may yank anywhere; both are idempotent.
    assert.equal((await yank("alice%3Ayanky", "1.1.0", ADMIN_TOKEN, "unyank")).status, 200);
    assert.equal((await yank("alice%3Ayanky", "1.1.0", ADMIN_TOKEN, "unyank")).status, 200);
    assert.equal((await meta("1.1.0")).yanked, false);
    const back = (await (await fetch(`${url}/api/v1/search?q=alice:yanky`)).json()) as { packages: VersionMetadata[] };
    assert.equal(back.packages[0]?.version, "1.1.0");
    assert.doesNotMatch(await (await fetch(`${url}/browse/alice:yanky`)).text(), /class="badge"/);
  });

  it("refuses other namespaces, missing tokens, bad names and versions, and unknown versions", async () => {
    const cases: [() => Promise<Response>, number, string, RegExp][] = [
      [() => yank("alice:yanky", "1.0.0", BOB_TOKEN), 403, "forbidden", /"bob".*"alice"/],
      [() => yank("alice:yanky", "1.0.0", undefined), 401, "unauthorized", /needs a token/],
      [() => yank("alice:yanky", "1.0.0", "wcr_unknown-token"), 401, "unauthorized", /not known/],
      [() => yank("alice:yanky", "9.9.9", ALICE_TOKEN), 404, "version_not_found", /no version 9\.9\.9/],
      [() => yank("alice:nothing", "1.0.0", ALICE_TOKEN), 404, "package_not_found", /no package named alice:nothing/],
      [() => yank("alice:yanky", "latest", ALICE_TOKEN), 400, "invalid_version", /./],
      [() => yank("Alice:Yanky", "1.0.0", ALICE_TOKEN), 400, "invalid_name", /./],
      [() => yank("alice:yanky", "1.0.0", ALICE_TOKEN, "delete"), 404, "not_found", /yank or …\/unyank/],
    ];
    await fetch(`${url}/api/v1/stats`); // writes pending download counts, which would change the store on their own
    const before = await snapshotStore(server.dataDir);
    for (const [send, status, code, message] of cases) {
      const error = await errorOf(await send());
      assert.deepEqual([error.status, error.code], [status, code], error.message);
      assert.match(error.message, message);
    }
    assert.equal(await snapshotStore(server.dataDir), before, "a refused request changes nothing stored, not even a token's last use");
    assert.equal((await meta("1.0.0")).yanked, false);
  });
});
