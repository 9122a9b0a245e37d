/**
 * The command line itself (help, version, exit codes, colour, errors) and
 * the read-only commands info and search.
 */
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { sha256Hex } from "@wasm-registry/core";
import { componentBytes, deadUrl, makeProject, noStack, publishAll, runCli, startRegistry, tempDir } from "../testkit/helpers.js";

type Registry = Awaited<ReturnType<typeof startRegistry>>;
let registry: Registry;
let cwd: string;
let cache: string;

before(async () => {
  registry = await startRegistry();
  await publishAll(registry.url, [
    { name: "wasi:http", version: "0.2.0", description: "HTTP types and handlers" },
    { name: "wasi:http", version: "0.2.1", description: "HTTP types and handlers", dependencies: [{ name: "wasi:io", version: "^0.2.0" }] },
    { name: "wasi:http", version: "0.3.0-rc.1", description: "HTTP types and handlers" },
    { name: "wasi:io", version: "0.2.0", description: "Streams and polling" },
  ]);
  cwd = await tempDir("run-empty-");
  cache = await tempDir("run-cache-");
});
after(() => registry.stop());

const COMMANDS = ["install", "update", "publish", "info", "verify", "search"];

test("--help on the program and on every command, in both the v2 and the short form", async () => {
  const top = await runCli(["v2", "--help"], { cwd, cache });
  assert.equal(top.code, 0);
  for (const command of COMMANDS) assert.match(top.stdout, new RegExp(`^  ${command} `, "m"));
  const results = await Promise.all(COMMANDS.flatMap((c) => [runCli(["v2", c, "--help"], { cwd, cache }), runCli([c, "--help"], { cwd, cache })]));
  results.forEach((r, i) => {
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Usage: run ${COMMANDS[Math.floor(i / 2)]} `, "m"));
  });
  const search = results[COMMANDS.indexOf("search") * 2]!;
  assert.match(search.stdout, /--json/);
  assert.match(search.stdout, /--limit/);
});

test("--version prints the package's version", async () => {
  const { version } = JSON.parse(await fs.readFile(new URL("../../package.json", import.meta.url), "utf8"));
  const r = await runCli(["--version"], { cwd, cache });
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), version);
});

test("usage errors exit 2, failures exit 1, never with a stack trace", async () => {
  const cases: [string[], number, RegExp][] = [
    [[], 2, /Usage: run/],
    [["v2", "frobnicate"], 2, /unknown command 'frobnicate'/],
    [["search"], 2, /missing required argument 'query'/],
    [["info", "--colour"], 2, /unknown option '--colour'/],
    [["install", "--dev"], 2, /--dev needs a package/],
    [["search", "x", "--limit", "0"], 2, /--limit must be a whole number/],
    [["info", "not-a-name"], 2, /"not-a-name" has no namespace/],
    [["install"], 1, /no run\.toml in .* or any folder above it; run this command in a project folder/],
    [["verify"], 1, /no run\.toml/],
  ];
  for (const [args, code, message] of cases) {
    const r = await runCli(args, { cwd, cache });
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.ok(noStack(r), r.stderr);
  }
});

test("an unreachable registry and an unknown package are one sentence naming the URL or the package", async () => {
  const dead = await deadUrl();
  const down = await runCli(["search", "http", "--registry-url", dead], { cwd, cache });
  assert.equal(down.code, 1);
  assert.equal(down.stderr.trim().split("\n").length, 1);
  assert.match(down.stderr, new RegExp(`^error: cannot reach the registry: ${dead} \\(ECONNREFUSED; asked 3 times\\)`));
  const unknown = await runCli(["info", "wasi:nothing", "--registry-url", registry.url], { cwd, cache });
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /wasi:nothing is not published on the registry at http:\/\/127\.0\.0\.1/);
  const notUrl = await runCli(["search", "x", "--registry-url", "ftp://example"], { cwd, cache });
  assert.equal(notUrl.code, 2);
  assert.match(notUrl.stderr, /--registry-url: "ftp:\/\/example" must be an http or https URL/);
});

test("run.toml mistakes name the file, the line and the key", async () => {
  const syntax = await makeProject('[project]\nname = "me"\n\n[dependencies]\n"wasi:http" = = "1"\n');
  const s = await runCli(["install", "--registry-url", registry.url], { cwd: syntax.dir, cache });
  assert.equal(s.code, 1);
  assert.match(s.stderr, /run\.toml:5: not valid TOML/);
  const type = await makeProject('[project]\nname = "me"\n\n[dependencies]\n"wasi:io" = "0.2"\n"wasi:http" = 2\n');
  const t = await runCli(["install", "--registry-url", registry.url], { cwd: type.dir, cache });
  assert.equal(t.code, 1);
  assert.match(t.stderr, /run\.toml:6: dependencies\."wasi:http": expected a version range string/);
});

test("NO_COLOR is honoured even when colour is forced", async () => {
  const coloured = await runCli(["search", "http", "--registry-url", registry.url], { cwd, cache, env: { NO_COLOR: "", FORCE_COLOR: "1" } });
  assert.match(coloured.stdout, /\x1b\[1mwasi:http\x1b\[0m/);
  const plain = await runCli(["search", "http", "--registry-url", registry.url], { cwd, cache, env: { NO_COLOR: "1", FORCE_COLOR: "1" } });
  assert.equal(plain.code, 0);
  assert.doesNotMatch(plain.stdout + plain.stderr, /\x1b\[/);
});

test("info ns:pkg shows the latest release (not a prerelease), info ns:pkg@version that one, --json the metadata", async () => {
  const latest = await runCli(["info", "wasi:http", "--registry-url", registry.url], { cwd, cache });
  assert.equal(latest.code, 0, latest.stderr);
  assert.match(latest.stdout, /^wasi:http@0\.2\.1$/m);
  assert.match(latest.stdout, /HTTP types and handlers/);
  assert.match(latest.stdout, /^  wasi:io \^0\.2\.0$/m);
  assert.match(latest.stdout, /versions\s+0\.2\.0, 0\.2\.1, 0\.3\.0-rc\.1/);
  const pinned = await runCli(["info", "wasi:http@0.2.0", "--json", "--registry-url", registry.url], { cwd, cache });
  const meta = JSON.parse(pinned.stdout);
  assert.equal(meta.version, "0.2.0");
  assert.equal(meta.sha256.length, 64);
  assert.deepEqual(meta.versions, ["0.2.0", "0.2.1", "0.3.0-rc.1"]);
  const missing = await runCli(["info", "wasi:http@9.9.9", "--registry-url", registry.url], { cwd, cache });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /wasi:http has no version 9\.9\.9/);
});

test("info path/to/file.wasm says what the file is; info alone describes the project", async () => {
  const dir = await tempDir("run-file-");
  const file = path.join(dir, "thing.wasm");
  await fs.writeFile(file, componentBytes(7));
  const r = await runCli(["info", file, "--json"], { cwd, cache });
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.kind, "component");
  assert.equal(summary.sha256, sha256Hex(componentBytes(7)));
  assert.deepEqual(summary.customSections, ["seed"]);
  await fs.writeFile(file, "plain text");
  const text = await runCli(["info", file], { cwd, cache });
  assert.match(text.stdout, /kind\s+not WebAssembly/);
  const gone = await runCli(["info", path.join(dir, "gone.wasm")], { cwd, cache });
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /cannot read .*gone\.wasm: no such file/);

  const p = await makeProject(
    '[project]\nname = "acme"\nversion = "1.0.0"\n\n[[component]]\nname = "calc"\nlanguage = "rust"\n\n[dependencies]\n"wasi:io" = "0.2"\n\n[dev-dependencies]\n"wasi:http" = "0.2"\n',
  );
  const project = await runCli(["v2", "info", "--json", "--registry-url", registry.url], { cwd: p.dir, cache });
  assert.equal(project.code, 0, project.stderr);
  const info = JSON.parse(project.stdout);
  assert.equal(info.project.name, "acme");
  assert.equal(info.components[0].name, "acme:calc");
  assert.equal(info.components[0].built, false);
  assert.deepEqual(info.dependencies, { "wasi:io": "0.2" });
  assert.deepEqual(info.dev_dependencies, { "wasi:http": "0.2" });
  assert.equal(info.registry, registry.url);
});

test("search prints matches, --json the registry's answer, and says so when nothing matches", async () => {
  const r = await runCli(["v2", "search", "streams", "--registry-url", registry.url], { cwd, cache });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^wasi:io 0\.2\.0 {2}Streams and polling$/m);
  assert.doesNotMatch(r.stdout, /wasi:http/);
  const j = JSON.parse((await runCli(["search", "wasi", "--json", "--limit", "1", "--registry-url", registry.url], { cwd, cache })).stdout);
  assert.equal(j.packages.length, 1);
  assert.equal(j.total, 2);
  const none = await runCli(["search", "zebra", "--registry-url", registry.url], { cwd, cache });
  assert.equal(none.code, 0);
  assert.match(none.stdout, /no packages match "zebra"/);

  // Pages: --limit and --offset, with the way to the next page.
  const first = await runCli(["search", "wasi", "--limit", "1", "--registry-url", registry.url], { cwd, cache });
  assert.match(first.stdout, /results 1 to 1 of 2; the next page: --offset 1/);
  const second = await runCli(["search", "wasi", "--limit", "1", "--offset", "1", "--registry-url", registry.url], { cwd, cache });
  const firstName = (output: string) => output.split(" ")[0];
  assert.deepEqual([firstName(first.stdout), firstName(second.stdout)].sort(), ["wasi:http", "wasi:io"], "the two pages hold the two packages");
  assert.match(second.stdout, /results 2 to 2 of 2$/m);
  const past = await runCli(["search", "wasi", "--offset", "5", "--registry-url", registry.url], { cwd, cache });
  assert.match(past.stdout, /no more results: "wasi" has 2/);
  const bad = await runCli(["search", "wasi", "--offset", "-1", "--registry-url", registry.url], { cwd, cache });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--offset must be a whole number, 0 or more/);
});
