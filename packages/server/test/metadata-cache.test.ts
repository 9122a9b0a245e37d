import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MetadataCache } from "../src/metadata-cache.js";

describe("metadata cache", () => {
  it("keeps an entry for its time to live, then forgets it", () => {
    let now = 1_000;
    const cache = new MetadataCache(10_000, 100, () => now);
    cache.set("alice:calc", "1.0.0", '{"a":1}');
    assert.equal(cache.get("alice:calc", "1.0.0"), '{"a":1}');
    assert.equal(cache.get("alice:calc", "1.0.1"), undefined);
    now += 9_999;
    assert.equal(cache.get("alice:calc", "1.0.0"), '{"a":1}');
    now += 1;
    assert.equal(cache.get("alice:calc", "1.0.0"), undefined);
  });

  it("forgets a version on request, as a yank does", () => {
    const cache = new MetadataCache(10_000);
    cache.set("alice:calc", "1.0.0", "x");
    cache.forget("alice:calc", "1.0.0");
    assert.equal(cache.get("alice:calc", "1.0.0"), undefined);
  });

  it("drops the oldest entry when full", () => {
    const cache = new MetadataCache(10_000, 2);
    cache.set("a:a", "1.0.0", "1");
    cache.set("b:b", "1.0.0", "2");
    cache.set("c:c", "1.0.0", "3");
    assert.equal(cache.get("a:a", "1.0.0"), undefined);
    assert.equal(cache.get("b:b", "1.0.0"), "2");
    assert.equal(cache.get("c:c", "1.0.0"), "3");
  });

  it("keeps nothing when its time to live is 0", () => {
    const cache = new MetadataCache(0);
    cache.set("a:a", "1.0.0", "1");
    assert.equal(cache.get("a:a", "1.0.0"), undefined);
  });
});
