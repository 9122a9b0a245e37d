/** Component inspection at publish, the WIT endpoint, search by interface and the pages that show worlds. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type VersionMetadata, inspectWasm } from "@wasm-registry/core";
import {
  componentOfWorld,
  coreModule,
  greeterComponent,
  greeterWithBrokenCode,
} from "../testkit/fixtures.js";
import { type RunningRegistry, errorOf, publish, snapshotStore, startRegistry } from "../testkit/helpers.js";

/** Worlds for search: an HTTP handler that calls out, a plain HTTP handler, a CLI command. */
const SEARCH_WIT = `package test:shapes@1.0.0;

world proxy {
  import wasi:http/outgoing-handler@0.2.0;
  export wasi:http/incoming-handler@0.2.0;
}
world handler {
  export wasi:http/incoming-handler@0.2.3;
}
world command {
  import wasi:http/outgoing-handler@0.2.3;
  export wasi:cli/run@0.2.0;
}

package wasi:http@0.2.0 {
  interface outgoing-handler { send: func() -> u32; }
  interface incoming-handler { handle: func(); }
}
package wasi:http@0.2.3 {
  interface outgoing-handler { send: func() -> u32; }
  interface incoming-handler { handle: func(); }
}
package wasi:cli@0.2.0 {
  interface run { run: func() -> result; }
}
`;

async function names(url: string, query: string): Promise<{ names: string[]; total: number }> {
  const response = await fetch(`${url}/api/v1/search?${query}`);
  assert.equal(response.status, 200, query);
  const body = (await response.json()) as { packages: VersionMetadata[]; total: number };
  return { names: body.packages.map((pkg) => pkg.name).sort(), total: body.total };
}

describe("components", () => {
  let server: RunningRegistry;
  let greeter: Uint8Array;

  before(async () => {
    server = await startRegistry();
    greeter = await greeterComponent(1);
  });
  after(() => server.stop());

  it("stores what a component built from WAT says about itself and serves its WIT", async () => {
    const response = await publish(server.url, greeter, { fields: { name: "test:greeter", version: "0.1.0", description: "says hello" } });
    assert.equal(response.status, 201);
    const body = (await response.json()) as VersionMetadata;
    assert.equal(body.kind, "component");
    assert.deepEqual(body.world, { imports: ["wasi:cli/environment@0.2.3"], exports: ["version", "test:greeter/greet@0.1.0"] });
    assert.match(body.wit!, /world root \{\s+import wasi:cli\/environment@0\.2\.3;\s+export version: func\(\) -> u32;\s+export test:greeter\/greet@0\.1\.0;\s+\}/);
    assert.deepEqual(body.producers?.["processed-by"]?.map((tool) => tool.name), ["wit-component"]);
    assert.equal(body.wit_url, `${server.url}/packages/test:greeter/0.1.0/world.wit`);

    const stored = (await (await fetch(`${server.url}/api/v1/packages/test:greeter/0.1.0`)).json()) as VersionMetadata;
    assert.deepEqual({ ...stored, published_at: 0 }, { ...body, published_at: 0 });

    const wit = await fetch(`${server.url}/packages/test%3Agreeter/0.1.0/world.wit`);
    assert.equal(wit.status, 200);
    assert.equal(wit.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await wit.text(), body.wit);
    assert.equal((await fetch(`${server.url}/packages/test:greeter/9.9.9/world.wit`)).status, 404);
  });

  it("keeps the publisher's wit_url when one is given", async () => {
    const response = await publish(server.url, await greeterComponent(2), {
      fields: { name: "test:documented", version: "1.0.0", wit_url: "https://example.com/greeter.wit" },
    });
    assert.equal(response.status, 201);
    assert.equal(((await response.json()) as VersionMetadata).wit_url, "https://example.com/greeter.wit");
  });

  it("refuses a core module without the wasm32-wasip1 target, says how to make a component, and stores nothing", async () => {
    const before = await snapshotStore(server.dataDir);
    const response = await publish(server.url, await coreModule(), { fields: { name: "test:core", version: "1.0.0" } });
    const error = await errorOf(response);
    assert.equal(error.status, 400);
    assert.equal(error.code, "core_module");
    assert.match(error.message, /core WebAssembly module, not a component/);
    assert.match(error.message, /jco new/);
    assert.match(error.message, /wasm-tools component new/);
    assert.match(error.message, /wasm32-wasip1/);
    assert.equal(await snapshotStore(server.dataDir), before);
  });

  it("accepts a core module published for wasm32-wasip1; it has no WIT", async () => {
    const response = await publish(server.url, await coreModule(), {
      fields: { name: "test:core", version: "1.0.0", targets: '["wasm32-wasip1"]' },
    });
    assert.equal(response.status, 201);
    const body = (await response.json()) as VersionMetadata;
    assert.equal(body.kind, "module");
    assert.deepEqual(body.world, { imports: ["wasi_snapshot_preview1#fd_write"], exports: ["memory", "_start"] });
    assert.equal(body.wit, null);
    assert.equal(body.wit_url, null);
    const wit = await fetch(`${server.url}/packages/test:core/1.0.0/world.wit`);
    assert.equal((await errorOf(wit)).code, "wit_not_found");
  });

  const refusals: [string, () => Promise<Uint8Array>, string, RegExp][] = [
    ["garbage", async () => new TextEncoder().encode("#!/bin/sh\necho this is not wasm\n"), "not_wasm", /not WebAssembly/],
    ["a truncated component", async () => greeter.subarray(0, Math.floor(greeter.length / 2)), "truncated_wasm", /truncated/],
    ["a component cut inside its header", async () => greeter.subarray(0, 6), "truncated_wasm", /truncated/],
    ["a truncated core module", async () => (await coreModule()).subarray(0, 30), "truncated_wasm", /truncated/],
    ["an unknown WebAssembly layer", async () => Uint8Array.from([0, 0x61, 0x73, 0x6d, 0x0e, 0, 1, 0]), "invalid_component", /unknown WebAssembly version/],
    [
      "a component whose structure is corrupted",
      async () => {
        const bytes = Uint8Array.from(greeter);
        for (let i = 40; i < 60; i++) bytes[i] = 0xff;
        return bytes;
      },
      "invalid_component",
      /not valid/,
    ],
    ["a component whose nested core module has invalid code", greeterWithBrokenCode, "invalid_component", /core module #\d+ .* fails WebAssembly validation/],
  ];
  for (const [what, make, code, message] of refusals) {
    it(`refuses ${what} with 400 ${code} and stores nothing`, async () => {
      const before = await snapshotStore(server.dataDir);
      const response = await publish(server.url, await make(), { fields: { name: "test:broken", version: "1.0.0" } });
      const error = await errorOf(response);
      assert.equal(error.status, 400, error.message);
      assert.equal(error.code, code);
      assert.match(error.message, message);
      assert.equal(await snapshotStore(server.dataDir), before);
    });
  }

  it("the broken-code fixture differs from a valid component only in one function body", async () => {
    // Guards the test above: without the engine's check of nested modules, this component would pass.
    await assert.rejects(inspectWasm(await greeterWithBrokenCode()), /fails WebAssembly validation/);
    await inspectWasm(await greeterComponent(99));
  });

  describe("search by interface", () => {
    before(async () => {
      for (const [name, world] of [["shapes:proxy", "proxy"], ["shapes:handler", "handler"], ["shapes:command", "command"]]) {
        const response = await publish(server.url, await componentOfWorld(SEARCH_WIT, world!), {
          fields: { name: name!, version: "1.0.0", description: `a ${world} component` },
        });
        assert.equal(response.status, 201, await response.clone().text());
      }
      // Only the latest version counts: the old proxy exported wasi:cli/run, the new one does not.
      const old = await publish(server.url, await componentOfWorld(SEARCH_WIT, "command"), {
        fields: { name: "shapes:proxy", version: "0.9.0" },
      });
      assert.equal(old.status, 201);
    });

    it("finds packages by an imported interface, with or without its version", async () => {
      assert.deepEqual(await names(server.url, "import=wasi:http/outgoing-handler"), { names: ["shapes:command", "shapes:proxy"], total: 2 });
      assert.deepEqual(await names(server.url, "import=wasi:http/outgoing-handler@0.2.0"), { names: ["shapes:proxy"], total: 1 });
      assert.deepEqual(await names(server.url, `import=${encodeURIComponent("wasi:http/outgoing-handler@0.2.3")}`), { names: ["shapes:command"], total: 1 });
      assert.deepEqual(await names(server.url, "import=wasi:http/outgoing-handler@9.9.9"), { names: [], total: 0 });
      assert.deepEqual(await names(server.url, "import=wasi:cli/environment"), { names: ["test:documented", "test:greeter"], total: 2 });
    });

    it("finds packages by an exported interface or function, only in their latest version", async () => {
      assert.deepEqual(await names(server.url, "export=wasi:http/incoming-handler"), { names: ["shapes:handler", "shapes:proxy"], total: 2 });
      assert.deepEqual(await names(server.url, "export=wasi:http/incoming-handler@0.2.3"), { names: ["shapes:handler"], total: 1 });
      assert.deepEqual(await names(server.url, "export=wasi:cli/run"), { names: ["shapes:command"], total: 1 });
      assert.deepEqual(await names(server.url, "export=version"), { names: ["test:documented", "test:greeter"], total: 2 });
      // An import is not an export.
      assert.deepEqual(await names(server.url, "export=wasi:http/outgoing-handler"), { names: [], total: 0 });
    });

    it("combines import, export and text", async () => {
      assert.deepEqual(await names(server.url, "import=wasi:http/outgoing-handler&export=wasi:http/incoming-handler"), { names: ["shapes:proxy"], total: 1 });
      assert.deepEqual(await names(server.url, "q=command&import=wasi:http/outgoing-handler"), { names: ["shapes:command"], total: 1 });
      assert.deepEqual(await names(server.url, "q=proxy&export=wasi:cli/run"), { names: [], total: 0 });
      assert.deepEqual(await names(server.url, "import=wasi:http/outgoing-handler&limit=1"), { names: ["shapes:command"], total: 2 });
    });

    it("answers 400 for a malformed interface filter", async () => {
      const error = await errorOf(await fetch(`${server.url}/api/v1/search?import=${encodeURIComponent("a b<script>")}`));
      assert.equal(error.status, 400);
      assert.equal(error.code, "invalid_query");
      assert.match(error.message, /"import" must name an interface/);
    });

    it("/browse filters by interface with form fields", async () => {
      const page = await (await fetch(`${server.url}/browse?q=&import=wasi%3Ahttp%2Foutgoing-handler&export=`)).text();
      assert.match(page, /Packages importing wasi:http\/outgoing-handler/);
      assert.match(page, /href="\/browse\/shapes%3Aproxy"/);
      assert.match(page, /href="\/browse\/shapes%3Acommand"/);
      assert.doesNotMatch(page, /href="\/browse\/shapes%3Ahandler"/);
      assert.match(page, /name="import" value="wasi:http\/outgoing-handler"/);
    });
  });

  it("/browse/:name shows what the component imports and exports, and its WIT", async () => {
    const page = await (await fetch(`${server.url}/browse/test:greeter`)).text();
    assert.match(page, /<h3>Imports<\/h3>\s*<ul class="interfaces"><li><a href="\/browse\?import=wasi%3Acli%2Fenvironment%400.2.3"><code>wasi:cli\/environment@0.2.3<\/code>/);
    assert.match(page, /<h3>Exports<\/h3>[\s\S]*<code>test:greeter\/greet@0.1.0<\/code>[\s\S]*<code>version<\/code>|<code>version<\/code>[\s\S]*<code>test:greeter\/greet@0.1.0<\/code>/);
    assert.match(page, /<pre class="wit">package root:component;/);
    assert.match(page, /export version: func\(\) -&gt; u32;/);
  });
});
