import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MetadataCache } from "../src/metadata-cache.js";

const RAW = "/api/v1/packages/alice:calc/1.0.0";
const ENCODED = "/api/v1/packages/alice%3Acalc/1.0.0";

describe("metadata cache", () => {
  it("keeps an entry for its time to live, then forgets it", () => {
    let now = 1_000;
    const cache = new MetadataCache(10_000, 100, () => now);
    cache.set(RAW, "alice:calc", "1.0.0", Buffer.from('{"a":1}'));
    assert.equal(cache.get(RAW)?.toString(), '{"a":1}');
    assert.equal(cache.get("/api/v1/packages/alice:calc/1.0.1"), undefined);
    now += 9_999;
    assert.equal(cache.get(RAW)?.toString(), '{"a":1}');
    now += 1;
    assert.equal(cache.get(RAW), undefined);
  });

  it("forgets every path of a version on request, as a yank does, and keeps the others", () => {
    const cache = new MetadataCache(10_000);
    cache.set(RAW, "alice:calc", "1.0.0", Buffer.from("x"));
    cache.set(ENCODED, "alice:calc", "1.0.0", Buffer.from("x"));
    cache.set("/api/v1/packages/alice:calc/1.0.1", "alice:calc", "1.0.1", Buffer.from("y"));
    cache.forget("alice:calc", "1.0.0");
    assert.equal(cache.get(RAW), undefined);
    assert.equal(cache.get(ENCODED), undefined);
    assert.equal(cache.get("/api/v1/packages/alice:calc/1.0.1")?.toString(), "y");
  });

  it("drops the oldest entry when full", () => {
    const cache = new MetadataCache(10_000, 2);
    cache.set("/a", "a:a", "1.0.0", Buffer.from("1"));
    cache.set("/b", "b:b", "1.0.0", Buffer.from("2"));
    cache.set("/c", "c:c", "1.0.0", Buffer.from("3"));
    assert.equal(cache.get("/a"), undefined);
    assert.equal(cache.get("/b")?.toString(), "2");
    assert.equal(cache.get("/c")?.toString(), "3");
  });

  it("keeps nothing when its time to live is 0", () => {
    const cache = new MetadataCache(0);
    cache.set("/a", "a:a", "1.0.0", Buffer.from("1"));
    assert.equal(cache.get("/a"), undefined);
  });
});
