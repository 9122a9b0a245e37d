/**
 * init, build, publish, install and info of real components, end to end:
 * the real CLI against a real registry on loopback. The JavaScript build
 * (componentize-js, the slow one) runs once and its output is reused.
 */
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { type VersionMetadata, inspectWasm, sha256Hex } from "@wasm-registry/core";
import { ALICE_TOKEN, type CliResult, makeProject, noStack, runCli, startRegistry, tempDir } from "../testkit/helpers.js";

type Registry = Awaited<ReturnType<typeof startRegistry>>;

async function metadata(url: string, name: string, version: string): Promise<VersionMetadata> {
  const response = await fetch(`${url}/api/v1/packages/${name}/${version}`);
  assert.equal(response.status, 200);
  return (await response.json()) as VersionMetadata;
}

function ok(result: CliResult, what: string): void {
  assert.equal(result.code, 0, `${what}: ${result.stderr}${result.stdout}`);
}

describe("components from source", () => {
  let registry: Registry;
  let work: string;
  let cache: string;
  before(async () => {
    registry = await startRegistry();
    work = await tempDir("run-components-");
    cache = await tempDir("run-cache-");
  });
  after(() => registry.stop());

  it("init, then build, then publish, then install the same component (WAT)", async () => {
    ok(await runCli(["v2", "init", "alice:hello"], { cwd: work, cache }), "init");
    const dir = path.join(work, "hello");
    assert.match(await fs.readFile(path.join(dir, "run.toml"), "utf8"), /language = "wat"/);

    const build = await runCli(["v2", "build"], { cwd: dir, cache });
    ok(build, "build");
    assert.match(build.stdout, /built hello → target\/wasm\/hello\.wasm \(\d+ bytes; imports nothing; exports greet\)/);
    const built = new Uint8Array(await fs.readFile(path.join(dir, "target/wasm/hello.wasm")));
    const info = await inspectWasm(built);
    assert.equal(info.kind, "component");
    assert.deepEqual(info.world, { imports: [], exports: ["greet"] });

    const env = { RUN_AUTH_TOKEN: ALICE_TOKEN, RUN_REGISTRY_URL: registry.url };
    const publish = await runCli(["v2", "publish", "--build"], { cwd: dir, cache, env });
    ok(publish, "publish --build");
    assert.match(publish.stdout, /built hello[\s\S]*published alice:hello@0\.1\.0/);
    const meta = await metadata(registry.url, "alice:hello", "0.1.0");
    assert.equal(meta.sha256, sha256Hex(built), "the same build gives the same bytes");
    assert.equal(meta.kind, "component");
    assert.deepEqual(meta.world, { imports: [], exports: ["greet"] });
    assert.match(meta.wit!, /export greet: func\(name: string\) -> string;/);

    const consumer = await makeProject('[project]\nname = "consumer"\nversion = "0.1.0"\n', cache);
    ok(await runCli(["v2", "install", "alice:hello@0.1.0"], { cwd: consumer.dir, cache, env }), "install");
    const installed = new Uint8Array(await fs.readFile(path.join(consumer.dir, ".run/components/alice/hello@0.1.0.wasm")));
    assert.equal(sha256Hex(installed), sha256Hex(built));

    const remote = await runCli(["v2", "info", "alice:hello"], { cwd: consumer.dir, cache, env });
    ok(remote, "info package");
    assert.match(remote.stdout, /kind\s+component/);
    assert.match(remote.stdout, /imports\s+none\nexports\s*\n  greet\n/);
    assert.match(remote.stdout, /wit\s+http:\/\/.*\/packages\/alice:hello\/0\.1\.0\/world\.wit/);
  });

  it("builds a JavaScript component with componentize-js, which the registry accepts and describes", async () => {
    ok(await runCli(["v2", "init", "alice:js-greeter", "--language", "javascript"], { cwd: work, cache }), "init");
    const dir = path.join(work, "js-greeter");
    const build = await runCli(["v2", "build", "--component", "js-greeter"], { cwd: dir, cache });
    ok(build, "build");
    const file = path.join(dir, "target/wasm/js-greeter.wasm");

    const local = await runCli(["v2", "info", file, "--json"], { cwd: dir, cache });
    ok(local, "info file");
    const summary = JSON.parse(local.stdout) as { kind: string; world: { imports: string[]; exports: string[] }; producers: Record<string, { name: string }[]> };
    assert.equal(summary.kind, "component");
    assert.deepEqual(summary.world.exports, ["greet"]);
    assert.ok(summary.world.imports.some((name) => name.startsWith("wasi:cli/stdout@")), summary.world.imports.join(", "));
    assert.ok(summary.producers.language?.some((tool) => tool.name === "JavaScript"));

    const publish = await runCli(["v2", "publish"], { cwd: dir, cache, env: { RUN_AUTH_TOKEN: ALICE_TOKEN, RUN_REGISTRY_URL: registry.url } });
    ok(publish, "publish");
    const meta = await metadata(registry.url, "alice:js-greeter", "0.1.0");
    assert.equal(meta.kind, "component");
    assert.deepEqual(meta.world?.exports, ["greet"]);
    assert.ok(meta.producers?.language?.some((tool) => tool.name === "JavaScript"));
    const search = (await (await fetch(`${registry.url}/api/v1/search?import=wasi:cli/stdout&export=greet`)).json()) as { packages: VersionMetadata[] };
    assert.deepEqual(search.packages.map((pkg) => pkg.name), ["alice:js-greeter"]);
  });

  it("names the missing tool for Rust, Python and Go, and explains a broken WAT source", async () => {
    const p = await makeProject(
      [
        '[project]\nname = "alice"\nversion = "1.0.0"',
        '[[component]]\nname = "rs"\nlanguage = "rust"',
        '[[component]]\nname = "py"\nlanguage = "python"\nwit = "wit"',
        '[[component]]\nname = "go"\nlanguage = "go"\nwit = "wit"',
        '[[component]]\nname = "bad"\nlanguage = "wat"\nsource = "bad.wat"',
      ].join("\n\n"),
      cache,
    );
    await fs.writeFile(path.join(p.dir, "bad.wat"), "(module (func (result i32)");
    const expected: [string, RegExp][] = [
      ["rs", /cargo-component, which is not installed: install Rust from https:\/\/rustup\.rs, then run `rustup target add wasm32-wasip1 && cargo install cargo-component`/],
      ["py", /componentize-py, which is not installed: run `pip install componentize-py`/],
      ["go", /needs tinygo and wasm-tools, not installed: get TinyGo from https:\/\/tinygo\.org/],
      // Where and what, as a compiler says it: not wasm-tools' debug dump of its error value.
      ["bad", /\[\[component\]\] "bad": .*bad\.wat is not valid WAT: line 1, column 27: expected `\)`\n {4}\(module \(func \(result i32\)\n {30}\^/],
    ];
    for (const [component, message] of expected) {
      const result = await runCli(["v2", "build", "--component", component], { cwd: p.dir, cache: p.cache });
      assert.equal(result.code, 1, component);
      assert.match(result.stderr, message);
      assert.ok(noStack(result));
      assert.doesNotMatch(result.stderr, /Error \{|ErrorInner/);
    }
    assert.equal(await fs.stat(path.join(p.dir, "target")).then(() => true, () => false), false, "nothing was written");
  });
});
