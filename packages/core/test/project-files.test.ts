/** The run.toml and run.lock codecs and the resolver, without any network. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ManifestError,
  type PackageSource,
  lockedClosure,
  normaliseRange,
  parseLockfile,
  parseManifest,
  resolve,
  serializeLockfile,
  setDependency,
} from "../src/index.js";

test("a bare version is a caret range, as in Cargo; anything else is kept", () => {
  assert.equal(normaliseRange("0.2.0"), "^0.2.0");
  assert.equal(normaliseRange("1.0"), "^1.0");
  assert.equal(normaliseRange("2.0.0-beta.1"), "^2.0.0-beta.1");
  assert.equal(normaliseRange("=1.2.3"), "=1.2.3");
  assert.equal(normaliseRange(">=1, <2"), ">=1, <2");
});

test("parseManifest reads every table and names file, line and key on a wrong type", () => {
  const m = parseManifest(
    '[project]\nname = "acme"\nversion = "1.0.0"\n[[component]]\nname = "calc"\npath = "x.wasm"\n' +
      '[dependencies]\n"wasi:http" = "0.2.0"\n"wasi:io" = { version = "0.2", optional = true }\n' +
      '[dev-dependencies]\n"test:mock" = "*"\n[registry]\nurl = "http://127.0.0.1:1"\nmirrors = ["http://127.0.0.1:2"]\n',
  );
  assert.equal(m.project.name, "acme");
  assert.equal(m.components[0]!.path, "x.wasm");
  assert.deepEqual(m.dependencies.map((d) => [d.name, d.range, d.optional]), [["wasi:http", "^0.2.0", false], ["wasi:io", "^0.2", true]]);
  assert.deepEqual(m.devDependencies.map((d) => d.name), ["test:mock"]);
  assert.deepEqual(m.registry.mirrors, ["http://127.0.0.1:2"]);

  assert.throws(() => parseManifest('[project]\nname = "a"\n\n[[component]]\nname = 3\n', "x/run.toml"), (e: unknown) => {
    assert.ok(e instanceof ManifestError);
    assert.equal(e.message, "x/run.toml:5: component[0].name: expected a string, found number 3");
    return true;
  });
  assert.throws(() => parseManifest('[dependencies]\n"Bad Name" = "1"\n'), /run\.toml:2: dependencies\."Bad Name": /);
  assert.throws(() => parseManifest('[dependencies]\n"a:b" = "not a range"\n'), /run\.toml:2: dependencies\."a:b": "not a range" is not a semver range/);
  assert.throws(() => parseManifest('[project]\nversion = "1"\n'), /run\.toml:2: project\.version: "1" is not a semver version/);
});

test("parseManifest warns of every key it does not know, with its line and the key it most likely meant", () => {
  const m = parseManifest(
    '[project]\nnme = "me"\n\n[dependncies]\n"a:b" = "1"\n\n[dev-dependencies]\n"c:d" = { version = "1", optinal = true }\n' +
      '\n[[component]]\nname = "x"\nlanguge = "wat"\n\n[registry]\nurll = "x"\nsomething-else = 1\n',
    "p/run.toml",
  );
  assert.deepEqual(m.warnings, [
    'p/run.toml:4: unknown key "dependncies" in run.toml (did you mean "dependencies"?); it is ignored',
    'p/run.toml:2: unknown key "nme" in [project] (did you mean "name"?); it is ignored',
    'p/run.toml:12: unknown key "languge" in [[component]] (did you mean "language"?); it is ignored',
    'p/run.toml:7: unknown key "optinal" in the c:d entry of [dev-dependencies] (did you mean "optional"?); it is ignored',
    'p/run.toml:15: unknown key "urll" in [registry] (did you mean "url"?); it is ignored',
    'p/run.toml:16: unknown key "something-else" in [registry]; it is ignored',
  ]);
  assert.deepEqual(m.dependencies, []);
  assert.deepEqual(parseManifest('[project]\nname = "a"\n[dependencies]\n"a:b" = { version = "1", optional = true }\n').warnings, []);
});

test("setDependency changes one line, keeps comments, CRLF, inline tables, and adds the table when missing", () => {
  const text = '# top\r\n[dependencies]\r\n"a:b" = "1.0.0"  # pinned for now\r\n"c:d" = { version = "1", optional = true }\r\n\r\n[registry]\r\nurl = "x"\r\n';
  assert.equal(setDependency(text, "dependencies", "a:b", "2.0.0"), text.replace('"a:b" = "1.0.0"', '"a:b" = "2.0.0"'));
  assert.equal(setDependency(text, "dependencies", "c:d", "3"), text.replace('version = "1"', 'version = "3"'));
  assert.equal(setDependency(text, "dependencies", "e:f", "1.0.0"), text.replace('optional = true }\r\n', 'optional = true }\r\n"e:f" = "1.0.0"\r\n'));
  assert.equal(setDependency(text, "dev-dependencies", "e:f", "1"), `${text}\r\n[dev-dependencies]\r\n"e:f" = "1"\r\n`);
  assert.equal(setDependency("", "dependencies", "e:f", "1"), '[dependencies]\n"e:f" = "1"\n');
});

test("the lockfile is sorted and byte-for-byte deterministic, and a hand edit breaks its checksum", () => {
  const sha = (c: string) => c.repeat(64);
  const a = { name: "z:last", version: "1.0.0", sha256: sha("a"), dependencies: ["a:first@2.0.0"] };
  const b = { name: "a:first", version: "2.0.0", sha256: sha("b"), dependencies: [] };
  const text = serializeLockfile([a, b]);
  assert.equal(text, serializeLockfile([b, a]));
  assert.ok(text.indexOf('"a:first"') < text.indexOf('"z:last"'));
  const parsed = parseLockfile(text);
  assert.equal(parsed.checksumOk, true);
  assert.deepEqual(parsed.components, [b, a]);
  assert.equal(parseLockfile(text.replace(sha("a"), sha("c"))).checksumOk, false);
  // Reformatting alone is not an edit.
  assert.equal(parseLockfile(text.replaceAll(" = ", "=")).checksumOk, true);
});

/** An in-memory registry: name -> version -> dependencies. */
function source(graph: Record<string, Record<string, [string, string][]>>): PackageSource {
  return {
    versions: async (name) => (graph[name] ? Object.keys(graph[name]!) : undefined),
    metadata: async (name, version) => ({
      sha256: `${name}@${version}`.padEnd(64, "0"),
      dependencies: graph[name]![version]!.map(([n, v]) => ({ name: n, version: v, optional: false })),
    }),
  };
}

const graph = {
  "x:lib": { "1.0.0": [], "1.5.0": [], "2.0.0": [], "2.1.0-rc.1": [] },
  "x:a": { "1.0.0": [["x:lib", "^1.0.0"]], "1.1.0": [["x:lib", "^2.0.0"]] },
  "x:b": { "1.0.0": [["x:lib", "^1.2.0"]] },
} as Record<string, Record<string, [string, string][]>>;

test("resolve picks the highest version all ranges allow, backing off a requirer when needed", async () => {
  const roots = [
    { name: "x:a", range: "^1.0.0", requiredBy: "run.toml" },
    { name: "x:b", range: "^1.0.0", requiredBy: "run.toml" },
  ];
  // x:a@1.1.0 needs lib ^2, x:b needs lib ^1.2: no version fits both, and the resolver does not backtrack x:a.
  await assert.rejects(resolve(roots, source(graph)), /no single version of x:lib satisfies both \^2\.0\.0 \(required by x:a@1\.1\.0\) and \^1\.2\.0 \(required by x:b@1\.0\.0\)/);
  // With x:a pinned (as run.lock would), the same roots resolve.
  const locked = await resolve(roots, source(graph), new Map([["x:a", "1.0.0"]]));
  assert.deepEqual(locked.map((c) => `${c.name}@${c.version}`).sort(), ["x:a@1.0.0", "x:b@1.0.0", "x:lib@1.5.0"]);
  assert.deepEqual(locked.find((c) => c.name === "x:a")!.dependencies, ["x:lib@1.5.0"]);
  const pre = await resolve([{ name: "x:lib", range: ">=2.0.0", requiredBy: "run.toml" }], source(graph));
  assert.equal(pre[0]!.version, "2.0.0");
  await assert.rejects(resolve([{ name: "x:none", range: "*", requiredBy: "run.toml" }], source(graph)), /x:none \(required by run\.toml\) is not published/);
});

test("resolve skips yanked versions for a range but keeps a preferred (locked) one", async () => {
  const yanked = (names: Record<string, string[]>): PackageSource => ({ ...source(graph), yanked: async (name) => names[name] ?? [] });
  const root = [{ name: "x:lib", range: "^1.0.0", requiredBy: "run.toml" }];
  const withYank = yanked({ "x:lib": ["1.5.0"] });
  assert.equal((await resolve(root, withYank))[0]!.version, "1.0.0");
  assert.equal((await resolve(root, withYank, new Map([["x:lib", "1.5.0"]])))[0]!.version, "1.5.0", "the lockfile's pin holds");
  assert.equal((await resolve(root, source(graph)))[0]!.version, "1.5.0", "a source without yanked() yanks nothing");
  await assert.rejects(
    resolve(root, yanked({ "x:lib": ["1.0.0", "1.5.0"] })),
    /no version of x:lib matches \^1\.0\.0 \(required by run\.toml\); published versions: .*1\.5\.0 \(yanked\)/,
  );
});

test("lockedClosure answers from the lockfile alone, or says why it cannot", () => {
  const sha = "f".repeat(64);
  const locked = [
    { name: "x:a", version: "1.0.0", sha256: sha, dependencies: ["x:lib@1.5.0"] },
    { name: "x:lib", version: "1.5.0", sha256: sha, dependencies: [] },
    { name: "x:old", version: "1.0.0", sha256: sha, dependencies: [] },
  ];
  const ok = lockedClosure([{ name: "x:a", range: "^1", requiredBy: "run.toml" }], locked);
  assert.ok("components" in ok);
  assert.deepEqual(ok.components.map((c) => c.name), ["x:a", "x:lib"]);
  const out = lockedClosure([{ name: "x:a", range: "^2", requiredBy: "run.toml" }], locked);
  assert.ok("problem" in out && /outside \^2/.test(out.problem));
  const gap = lockedClosure([{ name: "x:a", range: "^1", requiredBy: "run.toml" }], locked.filter((c) => c.name !== "x:lib"));
  assert.ok("problem" in gap && /x:lib@1\.5\.0, needed by x:a@1\.0\.0, is not in run\.lock/.test(gap.problem));
});
