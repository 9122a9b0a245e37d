import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../src/config.js";

describe("configuration from the environment", () => {
  it("has defaults for everything", () => {
    const config = loadConfig({});
    assert.equal(config.port, 8080);
    assert.equal(config.dataDir, path.resolve("./data"));
    assert.equal(config.publicUrl, "http://localhost:8080");
    assert.equal(config.maxUploadBytes, 50 * 1024 * 1024);
    assert.equal(config.adminToken, undefined);
    assert.deepEqual(config.namespaceTokens, []);
  });

  it("reads the seed's names", () => {
    const config = loadConfig({
      PORT: "9000",
      DATA_DIR: "/srv/registry",
      REGISTRY_URL: "https://registry.example.com/",
      MAX_UPLOAD_MB: "7",
      REGISTRY_ADMIN_TOKEN: "an-admin-token",
      REGISTRY_TOKENS: "alice:secret-one, bob:secret:two",
    });
    assert.equal(config.port, 9000);
    assert.equal(config.dataDir, "/srv/registry");
    assert.equal(config.publicUrl, "https://registry.example.com");
    assert.equal(config.maxUploadBytes, 7 * 1024 * 1024);
    assert.equal(config.adminToken, "an-admin-token");
    assert.deepEqual(config.namespaceTokens, [
      { namespace: "alice", token: "secret-one" },
      { namespace: "bob", token: "secret:two" },
    ]);
  });

  it("reads the seed's aliases", () => {
    const config = loadConfig({ REGISTRY_DATA_DIR: "/srv/r", BASE_URL: "http://r.local", REGISTRY_MAX_UPLOAD_MB: "3" });
    assert.equal(config.dataDir, "/srv/r");
    assert.equal(config.publicUrl, "http://r.local");
    assert.equal(config.maxUploadBytes, 3 * 1024 * 1024);
  });

  const refusals: [string, Record<string, string>, RegExp][] = [
    ["PORT", { PORT: "eighty" }, /PORT: "eighty" is not a whole number/],
    ["PORT", { PORT: "70000" }, /PORT: 70000 is out of range/],
    ["MAX_UPLOAD_MB", { MAX_UPLOAD_MB: "-1" }, /MAX_UPLOAD_MB/],
    ["REGISTRY_MAX_UPLOAD_MB", { REGISTRY_MAX_UPLOAD_MB: "1.5" }, /REGISTRY_MAX_UPLOAD_MB/],
    ["REGISTRY_URL", { REGISTRY_URL: "not a url" }, /REGISTRY_URL: "not a url" is not a URL/],
    ["BASE_URL", { BASE_URL: "ftp://x" }, /BASE_URL: .* must be an http or https URL/],
    ["REGISTRY_TOKENS", { REGISTRY_TOKENS: "alice" }, /REGISTRY_TOKENS: entry 1 is not namespace:token/],
    ["REGISTRY_TOKENS", { REGISTRY_TOKENS: "alice:goodtoken1,:nonamespace" }, /REGISTRY_TOKENS: entry 2/],
    ["REGISTRY_TOKENS", { REGISTRY_TOKENS: "Alice:goodtoken1" }, /"Alice" is not a valid namespace/],
    ["REGISTRY_TOKENS", { REGISTRY_TOKENS: "alice:short" }, /shorter than 8/],
    ["REGISTRY_TOKENS", { REGISTRY_TOKENS: "alice:same-token,bob:same-token" }, /given twice/],
    ["REGISTRY_ADMIN_TOKEN", { REGISTRY_ADMIN_TOKEN: "tiny" }, /REGISTRY_ADMIN_TOKEN/],
    ["REGISTRY_RATE_LIMIT_PER_MIN", { REGISTRY_RATE_LIMIT_PER_MIN: "lots" }, /REGISTRY_RATE_LIMIT_PER_MIN: "lots" is not a whole number/],
    ["REGISTRY_PUBLISH_RATE_LIMIT_PER_MIN", { REGISTRY_PUBLISH_RATE_LIMIT_PER_MIN: "-3" }, /REGISTRY_PUBLISH_RATE_LIMIT_PER_MIN/],
    ["REGISTRY_MAX_HEADER_BYTES", { REGISTRY_MAX_HEADER_BYTES: "10" }, /REGISTRY_MAX_HEADER_BYTES: 10 is out of range/],
    ["REGISTRY_HEADERS_TIMEOUT_MS", { REGISTRY_HEADERS_TIMEOUT_MS: "5000", REGISTRY_REQUEST_TIMEOUT_MS: "1000" }, /longer than REGISTRY_REQUEST_TIMEOUT_MS/],
    ["REGISTRY_GC_GRACE_SECONDS", { REGISTRY_GC_GRACE_SECONDS: "1h" }, /REGISTRY_GC_GRACE_SECONDS/],
  ];

  it("has limits by default: reads unlimited, 60 publishes a minute per token, 10 s for headers, 16 KiB of them", () => {
    const { limits } = loadConfig({});
    assert.equal(limits.readsPerMinute, 0);
    assert.equal(limits.publishesPerMinute, 60);
    assert.equal(limits.headersTimeoutMs, 10_000);
    assert.equal(limits.requestTimeoutMs, 300_000);
    assert.equal(limits.keepAliveTimeoutMs, 5_000);
    assert.equal(limits.maxHeaderBytes, 16 * 1024);
    assert.equal(limits.gcGraceSeconds, 3600);
  });
  for (const [variable, env, message] of refusals) {
    it(`stops on a bad ${variable} (${JSON.stringify(env)})`, () => {
      assert.throws(
        () => loadConfig(env),
        (error: unknown) => error instanceof ConfigError && error.variable === variable && message.test(error.message),
      );
    });
  }
});
