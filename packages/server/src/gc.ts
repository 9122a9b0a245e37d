#!/usr/bin/env node
/**
 * npm run gc: removes stored component bytes that no version refers to (left
 * by a publish that failed or crashed between storing the bytes and
 * committing the version), and only those.
 *
 * Safe beside a running registry: bytes younger than REGISTRY_GC_GRACE_SECONDS
 * (1 hour) are kept, since a publish in flight stores its bytes a moment
 * before it commits its version; a publish that reuses existing bytes
 * refreshes their time (BlobStore.putFile). The blobs are listed before the
 * references are read, so a version committed while gc runs keeps its bytes.
 */
import { pathToFileURL } from "node:url";
import { loadConfigOrExit } from "./config.js";
import { openStores, type Stores } from "./store/index.js";

export interface GcResult {
  kept: number;
  /** Unreferenced, but younger than the grace period. */
  tooYoung: number;
  deleted: string[];
  freedBytes: number;
}

export async function collectGarbage(stores: Stores, graceSeconds: number, now = Date.now()): Promise<GcResult> {
  const candidates = [];
  for await (const blob of stores.blobs.list()) candidates.push(blob);
  const referenced = await stores.metadata.referencedDigests();
  const result: GcResult = { kept: 0, tooYoung: 0, deleted: [], freedBytes: 0 };
  for (const blob of candidates) {
    if (referenced.has(blob.sha256)) result.kept++;
    else if (blob.modifiedAt > now - graceSeconds * 1000) result.tooYoung++;
    else {
      await stores.blobs.delete(blob.sha256);
      result.deleted.push(blob.sha256);
      result.freedBytes += blob.size;
    }
  }
  return result;
}

async function main(): Promise<void> {
  const config = loadConfigOrExit("gc");
  // A running server may be staging uploads: leave its staging folder alone.
  const stores = await openStores(config, { cleanStaging: false });
  try {
    const result = await collectGarbage(stores, config.limits.gcGraceSeconds);
    for (const sha256 of result.deleted) process.stdout.write(`removed sha256:${sha256}\n`);
    process.stdout.write(
      `gc: removed ${result.deleted.length} unreferenced blob(s), ${result.freedBytes} bytes; kept ${result.kept} in use` +
        ` and ${result.tooYoung} younger than ${config.limits.gcGraceSeconds} s (REGISTRY_GC_GRACE_SECONDS)\n`,
    );
  } finally {
    await stores.metadata.close();
    await stores.blobs.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((error) => {
    process.stderr.write(`gc: failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
