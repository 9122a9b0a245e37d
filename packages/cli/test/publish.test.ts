/**
 * publish, end to end, with the registry's refusals turned into sentences.
 * The registry here accepts at most 1 MB so that 413 is cheap to provoke.
 */
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { sha256Hex } from "@wasm-registry/core";
import { ALICE_TOKEN, BOB_TOKEN, componentBytes, makeProject, noStack, runCli, startRegistry } from "../testkit/helpers.js";

type Registry = Awaited<ReturnType<typeof startRegistry>>;
let registry: Registry;

before(async () => {
  registry = await startRegistry({ MAX_UPLOAD_MB: "1" });
});
after(() => registry.stop());

const project = (version: string, extra = "") =>
  [
    "[project]",
    'name = "alice"',
    `version = "${version}"`,
    'description = "A calculator"',
    'license = "MIT"',
    'repository = "https://example.com/alice/calc"',
    "",
    "[[component]]",
    'name = "calc"',
    'language = "rust"',
    'path = "build/calc.wasm"',
    "",
    "[[component]]",
    'name = "extra"',
    "",
    "[dependencies]",
    '"bob:util" = "1.0.0"',
    '"bob:opt" = { version = "^2", optional = true }',
    extra,
  ].join("\n");

async function withFiles(version: string, extra = "", calc = componentBytes(1), extraBytes = componentBytes(2)) {
  const p = await makeProject(project(version, extra));
  await fs.mkdir(path.join(p.dir, "build"));
  await fs.writeFile(path.join(p.dir, "build/calc.wasm"), calc);
  await fs.mkdir(path.join(p.dir, "target/wasm"), { recursive: true });
  await fs.writeFile(path.join(p.dir, "target/wasm/extra.wasm"), extraBytes);
  return p;
}

test("publishes every component with the project's metadata and dependencies", async () => {
  const p = await withFiles("1.0.0");
  const r = await runCli(["v2", "publish", "--registry-url", registry.url], { ...p, cwd: p.dir, env: { RUN_AUTH_TOKEN: ALICE_TOKEN } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /published alice:calc@1\.0\.0/);
  assert.match(r.stdout, /published alice:extra@1\.0\.0/);
  assert.equal(r.stderr.includes("warning"), false);

  const info = await runCli(["info", "alice:calc@1.0.0", "--json", "--registry-url", registry.url], { ...p, cwd: p.dir });
  assert.equal(info.code, 0, info.stderr);
  const meta = JSON.parse(info.stdout);
  assert.equal(meta.description, "A calculator");
  assert.equal(meta.license, "MIT");
  assert.equal(meta.repository, "https://example.com/alice/calc");
  assert.equal(meta.sha256, sha256Hex(componentBytes(1)));
  assert.deepEqual(meta.dependencies, [
    { name: "bob:opt", version: "^2", optional: true },
    { name: "bob:util", version: "^1.0.0", optional: false },
  ]);
  const extra = JSON.parse((await runCli(["info", "alice:extra", "--json", "--registry-url", registry.url], { ...p, cwd: p.dir })).stdout);
  assert.equal(extra.sha256, sha256Hex(componentBytes(2)), "the default file is target/wasm/NAME.wasm");
});

test("--component publishes one; --token beats RUN_AUTH_TOKEN, which beats run.toml (with a warning)", async () => {
  const p = await withFiles("1.1.0", '\n[registry]\nauth_token = "not-a-valid-token"\n');
  const flag = await runCli(["publish", "--component", "calc", "--token", ALICE_TOKEN, "--registry-url", registry.url], {
    ...p,
    cwd: p.dir,
    env: { RUN_AUTH_TOKEN: "wrong-env-token" },
  });
  assert.equal(flag.code, 0, flag.stderr);
  assert.match(flag.stdout, /published alice:calc@1\.1\.0/);
  assert.doesNotMatch(flag.stdout, /alice:extra/);

  const env = await runCli(["publish", "--component", "extra", "--registry-url", registry.url], { ...p, cwd: p.dir, env: { RUN_AUTH_TOKEN: ALICE_TOKEN } });
  assert.equal(env.code, 0, env.stderr);
  assert.equal(env.stderr.includes("auth_token"), false);

  const q = await withFiles("1.2.0", `\n[registry]\nauth_token = "${ALICE_TOKEN}"\n`);
  const file = await runCli(["publish", "--component", "calc", "--registry-url", registry.url], { ...q, cwd: q.dir });
  assert.equal(file.code, 0, file.stderr);
  assert.match(file.stderr, /warning: using the auth_token from run\.toml/);
});

test("401, 403, 409 and 413 become sentences that say what to do", async () => {
  const p = await withFiles("2.0.0");
  const run = (env: Record<string, string>, ...args: string[]) =>
    runCli(["publish", "--component", "calc", "--registry-url", registry.url, ...args], { ...p, cwd: p.dir, env });

  const none = await run({});
  assert.equal(none.code, 1);
  assert.match(none.stderr, /publishing needs a token: pass --token, or set RUN_AUTH_TOKEN/);

  const unknown = await run({ RUN_AUTH_TOKEN: "nobody-knows-this-token" });
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /did not accept the token .*Check --token or RUN_AUTH_TOKEN/);

  const otherNamespace = await run({ RUN_AUTH_TOKEN: BOB_TOKEN });
  assert.equal(otherNamespace.code, 1);
  assert.match(otherNamespace.stderr, /may not publish alice:calc@2\.0\.0 .*namespace "bob".*Use a token for that namespace/);

  assert.equal((await run({ RUN_AUTH_TOKEN: ALICE_TOKEN })).code, 0);
  const again = await run({ RUN_AUTH_TOKEN: ALICE_TOKEN });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /alice:calc@2\.0\.0 is already published .*Raise \[project\] version in run\.toml/);

  const big = new Uint8Array(1536 * 1024);
  big.set(componentBytes(3));
  await fs.writeFile(path.join(p.dir, "build/calc.wasm"), big);
  await fs.writeFile(path.join(p.dir, "run.toml"), project("2.0.1"));
  const tooLarge = await run({ RUN_AUTH_TOKEN: ALICE_TOKEN });
  assert.equal(tooLarge.code, 1);
  assert.match(tooLarge.stderr, /alice:calc@2\.0\.1 \(1572864 bytes\) is larger than the registry .* accepts .*MAX_UPLOAD_MB/);
  for (const r of [none, unknown, otherNamespace, again, tooLarge]) assert.ok(noStack(r));
});

test("a refusal partway through a project's components says which went out before it", async () => {
  const p = await withFiles("4.0.0");
  const env = { RUN_AUTH_TOKEN: ALICE_TOKEN };
  assert.equal((await runCli(["publish", "--component", "extra", "--registry-url", registry.url], { ...p, cwd: p.dir, env })).code, 0);
  const r = await runCli(["publish", "--registry-url", registry.url], { ...p, cwd: p.dir, env });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /published alice:calc@4\.0\.0/);
  assert.match(r.stderr, /alice:extra@4\.0\.0 is already published .*\(published before this: alice:calc@4\.0\.0; they stay published\)/);
});

test("a missing file, an unknown --component and a --build without its tools are refused before anything is sent", async () => {
  const p = await withFiles("3.0.0");
  await fs.rm(path.join(p.dir, "target/wasm/extra.wasm"));
  const missing = await runCli(["publish", "--registry-url", registry.url], { ...p, cwd: p.dir, env: { RUN_AUTH_TOKEN: ALICE_TOKEN } });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /component "extra" has not been built: .*target\/wasm\/extra\.wasm does not exist/);
  const calc = await runCli(["info", "alice:calc@3.0.0", "--registry-url", registry.url], { ...p, cwd: p.dir });
  assert.equal(calc.code, 1, "calc was not published either: the files are checked first");

  const unknown = await runCli(["publish", "--component", "nope", "--registry-url", registry.url], { ...p, cwd: p.dir, env: { RUN_AUTH_TOKEN: ALICE_TOKEN } });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no \[\[component\]\] named "nope"; it has calc, extra/);

  const build = await runCli(["publish", "--build"], { ...p, cwd: p.dir });
  assert.equal(build.code, 1);
  // The project's components are Rust; no cargo-component here, so the build says what to install.
  assert.match(build.stderr, /cargo-component, which is not installed: install Rust from https:\/\/rustup\.rs/);
});
