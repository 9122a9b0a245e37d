import assert from "node:assert/strict";
import { PerformanceObserver, constants } from "node:perf_hooks";
import { test } from "node:test";
import { bodyBytesConsumed } from "../src/read-buffers.js";

const MB = 1024 * 1024;

/** The young-generation collections that code asked for (V8's own ones are not "forced"), while `work` runs. */
async function forcedMinorCollections(work: () => void): Promise<number> {
  let count = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const { kind, flags } = (entry as unknown as { detail: { kind: number; flags: number } }).detail;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR && flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) count++;
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  work();
  // Entries are delivered asynchronously.
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  return count;
}

test("body read is followed by a young-generation collection every 8 MB, counted across requests, and not before", async () => {
  assert.equal(await forcedMinorCollections(() => bodyBytesConsumed(7 * MB)), 0);
  // The eighth MB, from another request: the count is process-wide, as the garbage is.
  assert.equal(await forcedMinorCollections(() => bodyBytesConsumed(MB)), 1);
  assert.equal(await forcedMinorCollections(() => {
    for (let read = 0; read < 256; read++) bodyBytesConsumed(64 * 1024);
  }), 2);
});
