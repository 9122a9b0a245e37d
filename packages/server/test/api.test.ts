import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { VersionMetadata } from "@wasm-registry/core";
import { sha256Hex } from "@wasm-registry/core";
import { type RunningRegistry, componentBytes, errorOf, publish, startRegistry } from "../testkit/helpers.js";
import { rawRequest } from "../testkit/raw-http.js";

describe("read API", () => {
  let server: RunningRegistry;
  const calc = componentBytes(1);

  before(async () => {
    server = await startRegistry();
    const fields = (version: string, description: string) => ({
      name: "alice:calc",
      version,
      description,
      license: "MIT",
      repository: "https://github.com/alice/calc",
      dependencies: JSON.stringify([{ name: "wasi:http", version: "^0.2.0" }, { name: "bob:math", version: "~1.2", optional: true }]),
    });
    for (const [version, seed] of [["1.0.0", 1], ["1.10.0", 2], ["1.2.0", 3], ["2.0.0-beta.1", 4]] as const) {
      const response = await publish(server.url, seed === 1 ? calc : componentBytes(seed), {
        fields: fields(version, `A calculator component, release ${version}`),
      });
      assert.equal(response.status, 201, await response.text());
    }
    const nested = await publish(server.url, componentBytes(5), {
      fields: { name: "run:calc/calculator", version: "0.1.0", description: "Nested package path" },
    });
    assert.equal(nested.status, 201);
  });
  after(() => server.stop());

  it("GET /health answers ok", async () => {
    const response = await fetch(`${server.url}/health`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "ok");
  });

  it("GET /packages lists every package name", async () => {
    const response = await fetch(`${server.url}/packages`);
    assert.deepEqual(await response.json(), { packages: ["alice:calc", "run:calc/calculator"] });
  });

  for (const name of ["alice:calc", "alice%3Acalc", "alice%3acalc"]) {
    it(`lists versions in semver order for ${name}`, async () => {
      const response = await fetch(`${server.url}/api/v1/packages/${name}/versions`);
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { name: "alice:calc", versions: ["1.0.0", "1.2.0", "1.10.0", "2.0.0-beta.1"], yanked: [] });
    });
  }

  it("serves the seed's metadata fields for a version", async () => {
    const response = await fetch(`${server.url}/api/v1/packages/alice%3Acalc/1.0.0`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as VersionMetadata;
    // The seed's fields, then what inspection adds (kind, world, wit, producers).
    assert.deepEqual(Object.keys(body).sort(), [
      "dependencies", "description", "download_url", "kind", "license", "name", "producers", "published_at", "repository",
      "sha256", "size", "targets", "version", "wit", "wit_url", "world", "yanked",
    ]);
    assert.equal(body.yanked, false);
    assert.equal(body.name, "alice:calc");
    assert.equal(body.version, "1.0.0");
    assert.equal(body.license, "MIT");
    assert.equal(body.repository, "https://github.com/alice/calc");
    assert.equal(body.size, calc.length);
    assert.equal(body.sha256, sha256Hex(calc));
    assert.equal(body.download_url, `${server.url}/packages/alice:calc/1.0.0/artifact.wasm`);
    // No wit_url was published, so the registry serves the WIT it extracted.
    assert.equal(body.wit_url, `${server.url}/packages/alice:calc/1.0.0/world.wit`);
    assert.equal(body.kind, "component");
    assert.deepEqual(body.world, { imports: [], exports: [] });
    assert.deepEqual(body.targets, ["wasm32-wasip2"]);
    assert.deepEqual(body.dependencies, [
      { name: "wasi:http", version: "^0.2.0", optional: false },
      { name: "bob:math", version: "~1.2", optional: true },
    ]);
    assert.ok(Math.abs(body.published_at - Date.now() / 1000) < 60);
  });

  it("answers a repeated metadata read (from the cache, before the router) exactly as the first", async () => {
    const path = "/api/v1/packages/alice:calc/1.2.0";
    const responses = [];
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${server.url}${path}`);
      responses.push({ status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() });
    }
    for (const response of responses) delete (response.headers as Record<string, string>)["date"];
    assert.equal(responses[0]!.status, 200);
    assert.deepEqual(responses[1], responses[0]);
    assert.deepEqual(responses[2], responses[0]);
    const head = await fetch(`${server.url}${path}`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), responses[0]!.headers["content-length"]);
    // The cap on header count holds for cached reads too.
    const manyHeaders = Array.from({ length: 101 }, (_, i) => `X-H${i}: ${i}\r\n`).join("");
    const crowded = await rawRequest(server.url, `GET ${path} HTTP/1.1\r\nHost: x\r\n${manyHeaders}Connection: close\r\n\r\n`);
    assert.equal(crowded?.status, 431);
    assert.equal(JSON.parse(crowded!.body).error.code, "headers_too_large");
  });

  it("serves a package whose name has / segments, percent-encoded or raw", async () => {
    for (const name of ["run%3Acalc%2Fcalculator", "run:calc%2Fcalculator", "run:calc/calculator"]) {
      const versions = await fetch(`${server.url}/api/v1/packages/${name}/versions`);
      assert.deepEqual(await versions.json(), { name: "run:calc/calculator", versions: ["0.1.0"], yanked: [] }, name);
      const meta = (await (await fetch(`${server.url}/api/v1/packages/${name}/0.1.0`)).json()) as VersionMetadata;
      assert.equal(meta.name, "run:calc/calculator");
      assert.match(meta.download_url, /\/packages\/run:calc%2Fcalculator\/0\.1\.0\/artifact\.wasm$/);
      const download = await fetch(meta.download_url);
      assert.equal(download.status, 200);
      assert.equal(sha256Hex(new Uint8Array(await download.arrayBuffer())), meta.sha256);
    }
  });

  it("answers 404 with a JSON error for unknown packages and versions", async () => {
    let error = await errorOf(await fetch(`${server.url}/api/v1/packages/alice:nope/versions`));
    assert.deepEqual([error.status, error.code], [404, "package_not_found"]);
    assert.match(error.message, /alice:nope/);
    error = await errorOf(await fetch(`${server.url}/api/v1/packages/alice:calc/9.9.9`));
    assert.deepEqual([error.status, error.code], [404, "version_not_found"]);
    assert.match(error.message, /1\.10\.0/);
    error = await errorOf(await fetch(`${server.url}/api/v1/packages/alice:nope/1.0.0`));
    assert.deepEqual([error.status, error.code], [404, "package_not_found"]);
    error = await errorOf(await fetch(`${server.url}/no/such/route`));
    assert.deepEqual([error.status, error.code], [404, "not_found"]);
  });

  it("answers 400 for a malformed name or version in a path", async () => {
    let error = await errorOf(await fetch(`${server.url}/api/v1/packages/Alice:Calc/versions`));
    assert.deepEqual([error.status, error.code], [400, "invalid_name"]);
    error = await errorOf(await fetch(`${server.url}/api/v1/packages/alice:calc/latest`));
    assert.deepEqual([error.status, error.code], [400, "invalid_version"]);
    error = await errorOf(await fetch(`${server.url}/api/v1/packages/alice%ZZcalc/versions`));
    assert.equal(error.status, 400);
    assert.match(error.message, /alice%ZZcalc/);
  });

  it("searches name and description, case-insensitively, exact name first", async () => {
    const more = await publish(server.url, componentBytes(6), {
      fields: { name: "bob:calc-tools", version: "1.0.0", description: "Helpers for the CALC family" },
    });
    assert.equal(more.status, 201);
    const body = (await (await fetch(`${server.url}/api/v1/search?q=Calc`)).json()) as { packages: VersionMetadata[]; total: number };
    assert.equal(body.total, 3);
    assert.deepEqual(body.packages.map((p) => p.name).sort(), ["alice:calc", "bob:calc-tools", "run:calc/calculator"]);
    // The hit shows the latest release, not the prerelease.
    assert.equal(body.packages.find((p) => p.name === "alice:calc")!.version, "1.10.0");

    const exact = (await (await fetch(`${server.url}/api/v1/search?q=bob:calc-tools`)).json()) as { packages: VersionMetadata[] };
    assert.equal(exact.packages[0]!.name, "bob:calc-tools");

    const byDescription = (await (await fetch(`${server.url}/api/v1/search?q=family`)).json()) as { total: number };
    assert.equal(byDescription.total, 1);
    const none = (await (await fetch(`${server.url}/api/v1/search?q=zzzz`)).json()) as { packages: unknown[]; total: number };
    assert.deepEqual(none, { packages: [], total: 0 });
  });

  it("ranks by downloads after the exact name, and pages with limit and offset", async () => {
    for (let i = 0; i < 3; i++) await fetch(`${server.url}/packages/run:calc%2Fcalculator/0.1.0/artifact.wasm`).then((r) => r.arrayBuffer());
    const ranked = (await (await fetch(`${server.url}/api/v1/search?q=calc`)).json()) as { packages: VersionMetadata[] };
    assert.equal(ranked.packages[0]!.name, "run:calc/calculator");
    const first = (await (await fetch(`${server.url}/api/v1/search?q=calc&limit=1`)).json()) as { packages: VersionMetadata[]; total: number };
    const second = (await (await fetch(`${server.url}/api/v1/search?q=calc&limit=1&offset=1`)).json()) as { packages: VersionMetadata[]; total: number };
    assert.equal(first.total, 3);
    assert.equal(first.packages.length, 1);
    assert.equal(second.packages.length, 1);
    assert.notEqual(first.packages[0]!.name, second.packages[0]!.name);
    const all = (await (await fetch(`${server.url}/api/v1/search`)).json()) as { total: number };
    assert.equal(all.total, 3);
  });

  for (const query of ["limit=0", "limit=101", "limit=ten", "offset=-1", "limit=1&limit=2", `q=${"x".repeat(300)}`]) {
    it(`refuses a bad search parameter: ${query.slice(0, 24)}`, async () => {
      const error = await errorOf(await fetch(`${server.url}/api/v1/search?${query}`));
      assert.deepEqual([error.status, error.code], [400, "invalid_query"]);
    });
  }

  it("reports stats", async () => {
    const response = await fetch(`${server.url}/api/v1/stats`);
    const stats = (await response.json()) as Record<string, number>;
    assert.deepEqual(Object.keys(stats).sort(), ["download_count", "package_count", "uptime_percent", "version_count"]);
    assert.equal(stats.package_count, 3);
    assert.equal(stats.version_count, 6);
    assert.ok(stats.download_count! >= 3);
    // One server, up since the data folder was made.
    assert.equal(stats.uptime_percent, 100);
  });
});
