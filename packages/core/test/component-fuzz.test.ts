/**
 * The component inspector against random and mutated bytes: a bounded number
 * of cases from a fixed seed (so a failure can be replayed), each of which
 * must end in an answer or a ComponentError, never another exception, and
 * the whole run within the test's timeout, so a hang fails it too.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ComponentError, inspectWasm, loadComponentTools } from "../src/index.js";

/** mulberry32: a small seeded generator, so every run fuzzes the same cases. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GREETER_WAT = `(component
  (core module $m
    (func (export "answer") (result i32) i32.const 42)
    (memory (export "memory") 1))
  (core instance $i (instantiate $m))
  (func $answer (result u32) (canon lift (core func $i "answer")))
  (export "answer" (func $answer)))`;

async function seedComponent(): Promise<Uint8Array> {
  const jco = await loadComponentTools();
  return jco.parse(GREETER_WAT);
}

/** Inspects and classifies: an answer, a refusal, or something that must not happen. */
async function outcome(bytes: Uint8Array): Promise<"accepted" | "refused"> {
  try {
    await inspectWasm(bytes);
    return "accepted";
  } catch (error) {
    if (error instanceof ComponentError) return "refused";
    throw new Error(`inspecting ${bytes.length} bytes threw ${String(error)} instead of a ComponentError`);
  }
}

describe("component inspector fuzzing", { timeout: 120_000 }, () => {
  it("answers or refuses random bytes, with and without a wasm preamble", async () => {
    const random = generator(0x5eed);
    const preambles = [[], [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00], [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]];
    let refused = 0;
    for (let run = 0; run < 300; run++) {
      const preamble = preambles[run % preambles.length]!;
      const bytes = new Uint8Array(preamble.length + Math.floor(random() * 512));
      bytes.set(preamble);
      for (let i = preamble.length; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
      if ((await outcome(bytes)) === "refused") refused++;
    }
    // Random bytes are almost never WebAssembly: if they pass, inspection checks nothing.
    assert.ok(refused >= 295, `only ${refused} of 300 random inputs were refused`);
  });

  it("answers or refuses a real component with bytes flipped, cut, inserted and removed", async () => {
    const original = await seedComponent();
    assert.equal(await outcome(original), "accepted", "the seed component itself is accepted");
    const random = generator(0xc0ffee);
    const counts = { accepted: 0, refused: 0 };
    for (let run = 0; run < 400; run++) {
      let bytes = Uint8Array.from(original);
      const edits = 1 + Math.floor(random() * 4);
      for (let edit = 0; edit < edits; edit++) {
        const at = Math.floor(random() * bytes.length);
        switch (Math.floor(random() * 4)) {
          case 0:
            bytes[at] = Math.floor(random() * 256);
            break;
          case 1:
            bytes = bytes.slice(0, at);
            break;
          case 2:
            bytes = Uint8Array.from([...bytes.slice(0, at), Math.floor(random() * 256), ...bytes.slice(at)]);
            break;
          default:
            bytes = Uint8Array.from([...bytes.slice(0, at), ...bytes.slice(at + 1)]);
        }
      }
      counts[await outcome(bytes)]++;
    }
    assert.ok(counts.refused > 100, `only ${counts.refused} of 400 mutated components were refused`);
  });
});
