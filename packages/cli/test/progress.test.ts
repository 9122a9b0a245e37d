import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Progress } from "../src/progress.js";

/** The bar as it last stood on the terminal: the text after the last "clear line". */
function lastBar(writes: string[]): string {
  const text = writes.join("");
  return text.slice(text.lastIndexOf("\x1b[2K") + 4);
}

describe("download progress on a terminal", () => {
  it("moves the bar with the bytes of a download, not only when it ends", () => {
    const writes: string[] = [];
    let now = 0;
    const progress = new Progress(1, "downloaded", { live: true, stream: { write: (text: string) => writes.push(text) }, now: () => now });
    assert.equal(lastBar(writes), `[${"-".repeat(24)}] 0/1 0 B `);
    const total = 3 * 1024 * 1024;
    now += 100;
    progress.bytes("big:one@1.0.0", total / 2, total);
    assert.equal(lastBar(writes), `[${"#".repeat(12)}${"-".repeat(12)}] 0/1 1.5 MiB big:one@1.0.0`);
    // Chunks closer together than a tenth of a second are not drawn.
    const drawn = writes.length;
    now += 50;
    progress.bytes("big:one@1.0.0", (total * 3) / 4, total);
    assert.equal(writes.length, drawn);
    now += 50;
    progress.bytes("big:one@1.0.0", (total * 3) / 4, total);
    assert.equal(lastBar(writes), `[${"#".repeat(18)}${"-".repeat(6)}] 0/1 2.3 MiB big:one@1.0.0`);
    progress.finished("big:one@1.0.0", total);
    assert.equal(lastBar(writes), `[${"#".repeat(24)}] 1/1 3.0 MiB big:one@1.0.0`);
    progress.end();
    assert.equal(lastBar(writes), "");
  });

  it("counts finished items whole and one in flight by its share, without a size by bytes only", () => {
    const writes: string[] = [];
    let now = 0;
    const progress = new Progress(4, "downloaded", { live: true, stream: { write: (text: string) => writes.push(text) }, now: () => now });
    progress.finished("a:a@1.0.0", 2048);
    now += 100;
    progress.bytes("b:b@1.0.0", 512, 1024);
    assert.equal(lastBar(writes), `[${"#".repeat(9)}${"-".repeat(15)}] 1/4 2.5 KiB b:b@1.0.0`);
    now += 100;
    progress.bytes("c:c@1.0.0", 100, undefined);
    assert.equal(lastBar(writes), `[${"#".repeat(9)}${"-".repeat(15)}] 1/4 2.6 KiB c:c@1.0.0`);
  });
});
