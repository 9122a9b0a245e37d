/**
 * Keeps a large upload from growing the registry's memory by its garbage.
 *
 * A request body arrives in socket reads of up to 64 KiB, each a new buffer
 * that is garbage once it is hashed and written (or, for a refused upload,
 * thrown away). V8 frees such buffers only when it collects, and it lets about
 * 30 MB of them pile up first: `npm run bench` saw the registry's RSS rise by
 * 30-35 MB during a 50 MB publish. Asking for a young-generation collection
 * after every 8 MB of body read returns them early (the bench's peak fell to
 * about +10 MB); such a collection takes well under a millisecond here, since
 * little else lives in the young generation.
 *
 * V8 lends its collector to code only with --expose-gc; the switch is thrown
 * here, at start-up, so that `node main.js` needs no flag.
 */
import v8 from "node:v8";
import { runInNewContext } from "node:vm";

type Collector = (options: { type: "minor" | "major" }) => void;

const COLLECT_EVERY_BYTES = 8 * 1024 * 1024;

function exposeCollector(): Collector {
  const existing = (globalThis as { gc?: Collector }).gc;
  if (typeof existing === "function") return existing;
  v8.setFlagsFromString("--expose-gc");
  // A new context is created with the flag in force, and so has `gc`.
  return runInNewContext("gc") as Collector;
}

const collect = exposeCollector();
let readSinceCollection = 0;

/** Counts body bytes read and done with, in every request together; collects the young generation every 8 MB. */
export function bodyBytesConsumed(bytes: number): void {
  readSinceCollection += bytes;
  if (readSinceCollection >= COLLECT_EVERY_BYTES) {
    readSinceCollection = 0;
    collect({ type: "minor" });
  }
}
