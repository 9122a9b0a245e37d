/**
 * install and update, end to end: the real CLI against a real registry on
 * loopback, in temporary project and cache folders.
 */
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { parseLockfile, serializeLockfile, sha256Hex } from "@wasm-registry/core";
import { cachedPath, deadUrl, exists, makeProject, noStack, publishAll, runCli, startRegistry } from "../testkit/helpers.js";

type Registry = Awaited<ReturnType<typeof startRegistry>>;
let registry: Registry;

const FIXTURES = [
  { name: "bob:util", version: "1.0.0" },
  { name: "bob:util", version: "1.1.0" },
  { name: "bob:util", version: "2.0.0" },
  { name: "bob:util", version: "2.1.0-beta.1" },
  { name: "bob:math", version: "1.1.0", dependencies: [{ name: "bob:util", version: "^1.0.0" }] },
  {
    name: "bob:math",
    version: "1.2.0",
    dependencies: [
      { name: "bob:util", version: "^1.0.0" },
      { name: "bob:never-published", version: "^1.0.0", optional: true },
    ],
  },
  { name: "alice:app", version: "1.0.0", dependencies: [{ name: "bob:util", version: "^2.0.0" }] },
  { name: "alice:mock", version: "0.3.0" },
];

before(async () => {
  registry = await startRegistry();
  await publishAll(registry.url, FIXTURES);
});
after(() => registry.stop());

const toml = (deps: string, extra = "") => `[project]\nname = "me"\nversion = "0.1.0"\n\n[dependencies]\n${deps}\n${extra}`;

async function lockOf(dir: string) {
  return parseLockfile(await fs.readFile(path.join(dir, "run.lock"), "utf8"));
}

const installed = (dir: string, rel: string) => exists(path.join(dir, ".run", "components", rel));

describe("install from run.toml", () => {
  test("picks the highest allowed versions, transitively, skips prereleases and optional deps, and writes a sorted lockfile", async () => {
    const p = await makeProject(toml('"bob:math" = "1.1"'));
    const r = await runCli(["v2", "install", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /installed 2 components \(2 downloaded, 0 from the cache\)/);
    const lock = await lockOf(p.dir);
    assert.equal(lock.checksumOk, true);
    assert.deepEqual(
      lock.components.map((c) => `${c.name}@${c.version} -> ${c.dependencies.join(",")}`),
      ["bob:math@1.2.0 -> bob:util@1.1.0", "bob:util@1.1.0 -> "],
    );
    for (const c of lock.components) {
      const bytes = await fs.readFile(cachedPath(p.cache, c.sha256));
      assert.equal(sha256Hex(bytes), c.sha256);
    }
    assert.ok(await installed(p.dir, "bob/math@1.2.0.wasm"));
    assert.ok(await installed(p.dir, "bob/util@1.1.0.wasm"));

    // The same inputs give the same bytes; a second install needs nothing new.
    const first = await fs.readFile(path.join(p.dir, "run.lock"), "utf8");
    const again = await runCli(["install", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /0 downloaded, 2 from the cache/);
    assert.equal(await fs.readFile(path.join(p.dir, "run.lock"), "utf8"), first);
  });

  test("a prerelease is chosen only when the range asks for one", async () => {
    const p = await makeProject(toml('"bob:util" = "*"'));
    assert.equal((await runCli(["install", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache })).code, 0);
    assert.equal((await lockOf(p.dir)).components[0]!.version, "2.0.0");
    const q = await makeProject(toml('"bob:util" = "^2.1.0-beta.1"'));
    const r = await runCli(["install", "--registry-url", registry.url], { cwd: q.dir, cache: q.cache });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await lockOf(q.dir)).components[0]!.version, "2.1.0-beta.1");
  });

  test("two requirements no version satisfies: the error names both requirers and changes nothing", async () => {
    const p = await makeProject(toml('"alice:app" = "1.0.0"\n"bob:math" = "^1.0.0"'));
    const r = await runCli(["install", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bob:util/);
    assert.match(r.stderr, /\^2\.0\.0 \(required by alice:app@1\.0\.0\)/);
    assert.match(r.stderr, /\^1\.0\.0 \(required by bob:math@1\.2\.0\)/);
    assert.ok(noStack(r));
    assert.equal(await exists(path.join(p.dir, "run.lock")), false);
  });

  test("an unknown package is named in one sentence", async () => {
    const p = await makeProject(toml('"bob:nothing" = "1.0.0"'));
    const r = await runCli(["install", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bob:nothing .*is not published/);
    assert.ok(noStack(r));
  });

  test("lockfile pins that still satisfy are kept; update moves them and prints each change", async () => {
    const p = await makeProject(toml('"bob:math" = "=1.1.0"'));
    assert.equal((await runCli(["install", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache })).code, 0);
    // Widen the range: run.lock's 1.1.0 still satisfies it, so it stays.
    await fs.writeFile(path.join(p.dir, "run.toml"), toml('"bob:math" = "^1.0.0"\n"bob:util" = "^1.0.0"'));
    const r = await runCli(["install", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(r.code, 0, r.stderr);
    const pinned = (await lockOf(p.dir)).components.map((c) => `${c.name}@${c.version}`);
    assert.deepEqual(pinned, ["bob:math@1.1.0", "bob:util@1.1.0"]);

    const upd = await runCli(["v2", "update", "bob:math", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(upd.code, 0, upd.stderr);
    assert.match(upd.stdout, /^bob:math 1\.1\.0 -> 1\.2\.0$/m);
    assert.deepEqual((await lockOf(p.dir)).components.map((c) => `${c.name}@${c.version}`), ["bob:math@1.2.0", "bob:util@1.1.0"]);
    assert.ok(await installed(p.dir, "bob/math@1.2.0.wasm"));
    assert.equal(await installed(p.dir, "bob/math@1.1.0.wasm"), false, "the old version is removed from .run/components");

    const none = await runCli(["update", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /everything is up to date/);
    const unknown = await runCli(["update", "bob:other", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /bob:other is not a dependency/);

    // A hand-edited run.lock is not trusted by update either, and update says so.
    const lockPath = path.join(p.dir, "run.lock");
    await fs.writeFile(lockPath, (await fs.readFile(lockPath, "utf8")).replace("1.2.0", "1.1.0"));
    const edited = await runCli(["update", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(edited.code, 0, edited.stderr);
    assert.match(edited.stderr, /warning: run\.lock does not match its checksum .* resolving everything again/);
    assert.equal((await lockOf(p.dir)).checksumOk, true);
  });
});

describe("the project's folder", () => {
  test("commands find run.toml in a folder above, and warn of keys they do not know", async () => {
    const p = await makeProject(toml('"bob:util" = "^1.0.0"', '\n[registry]\nurll = "typo"\n'));
    const sub = path.join(p.dir, "src", "deep");
    await fs.mkdir(sub, { recursive: true });
    const r = await runCli(["install", "--registry-url", registry.url], { cwd: sub, cache: p.cache });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(await installed(p.dir, "bob/util@1.1.0.wasm"));
    assert.ok(await exists(path.join(p.dir, "run.lock")));
    assert.equal(await exists(path.join(sub, "run.lock")), false);
    assert.match(r.stderr, /warning: .*run\.toml:\d+: unknown key "urll" in \[registry\] \(did you mean "url"\?\); it is ignored/);
    const v = await runCli(["verify", "--offline"], { cwd: sub, cache: p.cache });
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });
});

describe("install ns:pkg", () => {
  const original = [
    "# my project",
    "[project]",
    'name = "me"   # the namespace',
    'version = "0.1.0"',
    "",
    "[dependencies]",
    '"bob:util" = "1.0.0" # keep me',
    "",
    "# registry settings follow",
    "[registry]",
    "mirrors = []",
    "",
  ].join("\n");

  test("adds one line to run.toml and leaves the rest of the file byte for byte; --dev and --production", async () => {
    const p = await makeProject(original);
    const r = await runCli(["v2", "install", "bob:math", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(r.code, 0, r.stderr);
    const expected = original.replace('"bob:util" = "1.0.0" # keep me\n', '"bob:util" = "1.0.0" # keep me\n"bob:math" = "1.2.0"\n');
    assert.equal(await fs.readFile(path.join(p.dir, "run.toml"), "utf8"), expected);

    const changed = await runCli(["install", "bob:util@~1.0.0", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(changed.code, 0, changed.stderr);
    const afterChange = expected.replace('"bob:util" = "1.0.0" # keep me', '"bob:util" = "~1.0.0" # keep me');
    assert.equal(await fs.readFile(path.join(p.dir, "run.toml"), "utf8"), afterChange);
    assert.ok((await lockOf(p.dir)).components.some((c) => c.name === "bob:util" && c.version === "1.0.0"));

    const dev = await runCli(["install", "alice:mock", "--dev", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(dev.code, 0, dev.stderr);
    assert.equal(await fs.readFile(path.join(p.dir, "run.toml"), "utf8"), `${afterChange}\n[dev-dependencies]\n"alice:mock" = "0.3.0"\n`);
    assert.ok(await installed(p.dir, "alice/mock@0.3.0.wasm"));

    const prod = await runCli(["install", "--production", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(prod.code, 0, prod.stderr);
    assert.equal(await installed(p.dir, "alice/mock@0.3.0.wasm"), false);
    assert.ok(await installed(p.dir, "bob/math@1.2.0.wasm"));
    assert.ok((await lockOf(p.dir)).components.some((c) => c.name === "alice:mock"), "run.lock still records dev-dependencies");

    // verify checks everything run.lock lists, and says why a dev-dependency is missing; --production checks what was installed.
    const all = await runCli(["verify", "--offline"], { cwd: p.dir, cache: p.cache });
    assert.equal(all.code, 1);
    assert.match(all.stdout, /^MISSING\s+alice:mock@0\.3\.0 .*a dev-dependency: after `install --production`, check with `verify --production`/m);
    const production = await runCli(["verify", "--offline", "--production"], { cwd: p.dir, cache: p.cache });
    assert.equal(production.code, 0, production.stdout);
    assert.doesNotMatch(production.stdout, /alice:mock/);
    assert.match(production.stdout, /^OK\s+bob:math@1\.2\.0$/m);
  });

  test("adds several packages at once, and none when one of them does not exist", async () => {
    const p = await makeProject(toml(""));
    const r = await runCli(["install", "bob:util@^1.0.0", "alice:mock", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(r.code, 0, r.stderr);
    const text = await fs.readFile(path.join(p.dir, "run.toml"), "utf8");
    assert.match(text, /^"bob:util" = "\^1\.0\.0"$/m);
    assert.match(text, /^"alice:mock" = "0\.3\.0"$/m);
    assert.deepEqual((await lockOf(p.dir)).components.map((c) => c.name), ["alice:mock", "bob:util"]);

    const failed = await runCli(["install", "bob:math", "bob:ghost", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(failed.code, 1);
    assert.equal(await fs.readFile(path.join(p.dir, "run.toml"), "utf8"), text);
  });

  test("a package that does not exist leaves run.toml untouched", async () => {
    const p = await makeProject(original);
    const r = await runCli(["install", "bob:ghost", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bob:ghost is not published on the registry at http:\/\/127\.0\.0\.1/);
    assert.equal(await fs.readFile(path.join(p.dir, "run.toml"), "utf8"), original);
  });

  test("a bad package name or range is a usage error (exit 2)", async () => {
    const p = await makeProject(original);
    for (const spec of ["Bob:Util", "bob:util@not-a-range!"]) {
      const r = await runCli(["install", spec, "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
      assert.equal(r.code, 2, `${spec}: ${r.stderr}`);
    }
  });
});

describe("offline, cache and integrity", () => {
  test("with the registry stopped, run.lock and the cache are enough; --offline without them fails clearly", async () => {
    const own = await startRegistry();
    await publishAll(own.url, FIXTURES.slice(0, 6));
    const p = await makeProject(toml('"bob:math" = "^1.0.0"'));
    assert.equal((await runCli(["install", "--registry-url", own.url], { cwd: p.dir, cache: p.cache })).code, 0);
    await own.stop();

    // A second checkout of the same project, sharing the cache, nothing installed yet.
    const q = await makeProject(toml('"bob:math" = "^1.0.0"'), p.cache);
    await fs.copyFile(path.join(p.dir, "run.lock"), path.join(q.dir, "run.lock"));
    const r = await runCli(["install", "--registry-url", own.url], { cwd: q.dir, cache: q.cache });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /0 downloaded, 2 from the cache/);
    assert.ok(await installed(q.dir, "bob/util@1.1.0.wasm"));

    const emptyCache = await makeProject(toml('"bob:math" = "^1.0.0"'));
    await fs.copyFile(path.join(p.dir, "run.lock"), path.join(emptyCache.dir, "run.lock"));
    const offline = await runCli(["install", "--offline"], { cwd: emptyCache.dir, cache: emptyCache.cache });
    assert.equal(offline.code, 1);
    assert.match(offline.stderr, /offline, and the cache has no good copy of bob:math@1\.2\.0, bob:util@1\.1\.0/);

    const down = await runCli(["install", "--registry-url", own.url], { cwd: emptyCache.dir, cache: emptyCache.cache });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach the registry: http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED; asked 3 times\)/);
    assert.ok(noStack(down));
  });

  test("a corrupted cached file is caught by verify and repaired by install", async () => {
    const p = await makeProject(toml('"bob:math" = "^1.0.0"'));
    assert.equal((await runCli(["install", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache })).code, 0);
    const ok = await runCli(["verify", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.match(ok.stdout, /^OK\s+bob:math@1\.2\.0$/m);

    const util = (await lockOf(p.dir)).components.find((c) => c.name === "bob:util")!;
    await fs.writeFile(cachedPath(p.cache, util.sha256), "not the component");
    const bad = await runCli(["verify", "--offline", "--json"], { cwd: p.dir, cache: p.cache });
    assert.equal(bad.code, 1);
    const report = JSON.parse(bad.stdout) as { ok: boolean; components: { name: string; status: string; cache: string }[] };
    assert.equal(report.ok, false);
    assert.deepEqual(report.components.map((c) => [c.name, c.status, c.cache]), [["bob:math", "OK", "ok"], ["bob:util", "CORRUPTED", "corrupted"]]);

    const fix = await runCli(["install", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(fix.code, 0, fix.stderr);
    assert.match(fix.stderr, /cached copy of bob:util@1\.1\.0 .* does not match its sha256; fetching it again/);
    assert.equal(sha256Hex(await fs.readFile(cachedPath(p.cache, util.sha256))), util.sha256);

    // The installed copy is checked too, and a missing one is MISSING.
    await fs.writeFile(path.join(p.dir, ".run/components/bob/math@1.2.0.wasm"), "tampered");
    await fs.rm(path.join(p.dir, ".run/components/bob/util@1.1.0.wasm"));
    const local = await runCli(["verify", "--offline"], { cwd: p.dir, cache: p.cache });
    assert.equal(local.code, 1);
    assert.match(local.stdout, /^CORRUPTED\s+bob:math@1\.2\.0 .*\.run\/components: corrupted/m);
    assert.match(local.stdout, /^MISSING\s+bob:util@1\.1\.0/m);
    assert.equal((await runCli(["install", "--offline"], { cwd: p.dir, cache: p.cache })).code, 0);
    assert.equal((await runCli(["verify", "--offline"], { cwd: p.dir, cache: p.cache })).code, 0);
  });

  test("a cache entry that is a folder, or a .run that is a file: one sentence naming the path, not a crash report", async () => {
    const p = await makeProject(toml('"bob:util" = "^1.0.0"'));
    assert.equal((await runCli(["install", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache })).code, 0);
    const util = (await lockOf(p.dir)).components[0]!;
    const entry = cachedPath(p.cache, util.sha256);
    await fs.rm(entry);
    await fs.mkdir(entry);
    const folder = await runCli(["verify", "--offline"], { cwd: p.dir, cache: p.cache });
    assert.equal(folder.code, 1);
    assert.ok(folder.stderr.includes(`error: ${entry} is a folder, where a component file belongs; remove it`), folder.stderr);
    await fs.rm(entry, { recursive: true });

    await fs.rm(path.join(p.dir, ".run"), { recursive: true });
    await fs.writeFile(path.join(p.dir, ".run"), "not a folder");
    const file = await runCli(["install", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(file.code, 1);
    assert.match(file.stderr, /^error: cannot \w+ .*\.run\/components\S*: a part of that path is a file, where a folder was expected \(ENOTDIR\)/m);
    assert.doesNotMatch(file.stderr, /unexpected failure/);
  });

  test("a download whose sha256 differs from run.lock writes nothing", async () => {
    const p = await makeProject(toml('"bob:util" = "^1.0.0"'));
    const wrong = "0".repeat(64);
    // A lockfile with a valid checksum but a digest the registry's bytes do not have.
    await fs.writeFile(
      path.join(p.dir, "run.lock"),
      serializeLockfile([{ name: "bob:util", version: "1.1.0", sha256: wrong, dependencies: [] }]),
    );
    const r = await runCli(["install", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bob:util@1\.1\.0 from .* has sha256 [0-9a-f]{64}, but 0{64} was expected \(pinned in run\.lock, or given by the registry.s metadata\); nothing was written/);
    assert.equal(await exists(cachedPath(p.cache, wrong)), false);
    assert.equal(await installed(p.dir, "bob/util@1.1.0.wasm"), false);
  });

  test("a hand-edited lockfile is reported and not trusted", async () => {
    const p = await makeProject(toml('"bob:util" = "^1.0.0"'));
    assert.equal((await runCli(["install", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache })).code, 0);
    const file = path.join(p.dir, "run.lock");
    await fs.writeFile(file, (await fs.readFile(file, "utf8")).replace('version = "1.1.0"', 'version = "1.0.0"'));
    const v = await runCli(["verify", "--offline"], { cwd: p.dir, cache: p.cache });
    assert.equal(v.code, 1);
    assert.match(v.stderr, /run\.lock does not match its checksum/);
    const offline = await runCli(["install", "--offline"], { cwd: p.dir, cache: p.cache });
    assert.equal(offline.code, 1);
    assert.match(offline.stderr, /edited by hand/);
    const r = await runCli(["install", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /not trusted/);
    const lock = await lockOf(p.dir);
    assert.equal(lock.checksumOk, true);
    assert.equal(lock.components[0]!.version, "1.1.0", "the hand edit's pin was not used");
  });
});

describe("which registry", () => {
  test("flag beats environment beats run.toml; mirrors are the fallback", async () => {
    const dead = await deadUrl();
    const withUrl = (url: string, mirrors = "") =>
      toml('"bob:util" = "^1.0.0"', `\n[registry]\nurl = "${url}"\n${mirrors ? `mirrors = ["${mirrors}"]\n` : ""}`);

    const fromFile = await makeProject(withUrl(registry.url));
    assert.equal((await runCli(["info", "bob:util"], { cwd: fromFile.dir, cache: fromFile.cache })).code, 0);

    const envBeatsFile = await runCli(["info", "bob:util"], { cwd: fromFile.dir, cache: fromFile.cache, env: { RUN_REGISTRY_URL: dead } });
    assert.equal(envBeatsFile.code, 1);
    assert.ok(envBeatsFile.stderr.includes(dead), envBeatsFile.stderr);

    const flagBeatsEnv = await runCli(["info", "bob:util", "--registry-url", registry.url], {
      cwd: fromFile.dir,
      cache: fromFile.cache,
      env: { RUN_REGISTRY_URL: dead },
    });
    assert.equal(flagBeatsEnv.code, 0, flagBeatsEnv.stderr);

    const flagBeatsFile = await runCli(["info", "bob:util", "--registry-url", dead], { cwd: fromFile.dir, cache: fromFile.cache });
    assert.equal(flagBeatsFile.code, 1);
    assert.ok(flagBeatsFile.stderr.includes(dead));

    const mirrored = await makeProject(withUrl(dead, registry.url));
    const r = await runCli(["install"], { cwd: mirrored.dir, cache: mirrored.cache });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(await installed(mirrored.dir, "bob/util@1.1.0.wasm"));
    // Said once, not once per request.
    assert.equal(r.stderr.split(`warning: the registry at ${dead} did not answer; using the mirror ${registry.url}`).length - 1, 1, r.stderr);
  });

  test("a download that breaks off is started again; one that always does fails after three tries, writing nothing", async () => {
    let cutsLeft = 0;
    let downloads = 0;
    // In front of the registry: passes every answer on, but cuts artifact downloads short while cutsLeft > 0.
    const proxy = http.createServer(async (request, response) => {
      const upstream = await fetch(registry.url + request.url);
      const body = Buffer.from(await upstream.arrayBuffer());
      const headers = { "content-type": upstream.headers.get("content-type") ?? "application/octet-stream", "content-length": body.length };
      if (request.url!.endsWith("/artifact.wasm")) {
        downloads++;
        if (cutsLeft-- > 0) {
          response.writeHead(200, headers);
          response.write(body.subarray(0, 10));
          setTimeout(() => response.socket?.destroy(), 20);
          return;
        }
      }
      response.writeHead(upstream.status, headers).end(body);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
      cutsLeft = 1;
      const once = await makeProject(toml('"bob:util" = "^1.0.0"', `\n[registry]\nurl = "${url}"\n`));
      const recovered = await runCli(["install"], { cwd: once.dir, cache: once.cache });
      assert.equal(recovered.code, 0, recovered.stderr);
      assert.equal(downloads, 2);
      assert.ok(await installed(once.dir, "bob/util@1.1.0.wasm"));

      cutsLeft = Infinity;
      downloads = 0;
      const always = await makeProject(toml('"bob:util" = "^1.0.0"', `\n[registry]\nurl = "${url}"\n`));
      const failed = await runCli(["install"], { cwd: always.dir, cache: always.cache });
      assert.equal(failed.code, 1);
      assert.equal(downloads, 3);
      assert.match(failed.stderr, new RegExp(`the download of bob:util@1\\.1\\.0 from ${url.replaceAll(".", "\\.")} broke off 3 times`));
      assert.equal(await exists(path.join(always.dir, "run.lock")), false);
      assert.equal(await installed(always.dir, "bob/util@1.1.0.wasm"), false);
    } finally {
      proxy.close();
    }
  });

  test("a registry that answers 503 is asked three times, then the mirror answers", async () => {
    let hits = 0;
    const failing = http.createServer((_request, response) => {
      hits++;
      response.writeHead(503, { "content-type": "application/json" }).end('{"error":{"code":"busy","message":"try later"}}');
    });
    await new Promise<void>((resolve) => failing.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(failing.address() as { port: number }).port}`;
      const p = await makeProject(toml('"bob:util" = "^1.0.0"', `\n[registry]\nurl = "${url}"\nmirrors = ["${registry.url}"]\n`));
      const r = await runCli(["info", "bob:util"], { cwd: p.dir, cache: p.cache });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^bob:util@2\.0\.0$/m);
      assert.equal(hits, 3);
      const alone = await makeProject(toml('"bob:util" = "^1.0.0"', `\n[registry]\nurl = "${url}"\n`));
      const down = await runCli(["install"], { cwd: alone.dir, cache: alone.cache });
      assert.equal(down.code, 1);
      assert.match(down.stderr, /cannot reach the registry: .* answered 503: try later/);
    } finally {
      failing.close();
    }
  });
});
