#!/usr/bin/env node
/**
 * `npm run migrate-store`: copies an embedded registry (SQLite and files under
 * DATA_DIR) into the stores that DATABASE_URL and S3_BUCKET configure, so that
 * a registry that outgrows one machine keeps its packages, download counts and
 * generated and API-made tokens. Every component's SHA-256 is recomputed on the way and a
 * mismatch is reported, not copied. Re-running skips what is already there.
 */
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { pathToFileURL } from "node:url";
import { loadConfigOrExit } from "./config.js";
import { openEmbeddedStores, openStores, type Stores } from "./store/index.js";
import type { VersionRecord } from "./store/types.js";

export interface MigrationReport {
  versionsCopied: number;
  versionsSkipped: number;
  blobsCopied: number;
  blobsSkipped: number;
  tokensCopied: number;
  /** One line per version that could not be copied, saying why. */
  problems: string[];
}

/**
 * Copies every version, its bytes first (as a publish does: never a version
 * without its bytes), then its metadata and download counts, then the
 * generated and API-made tokens (revoked ones too, so that they stay refused by name). Environment tokens are not copied: each server recreates
 * them from its own environment.
 */
export async function migrateStore(source: Stores, target: Stores, log: (line: string) => void = () => {}): Promise<MigrationReport> {
  const report: MigrationReport = { versionsCopied: 0, versionsSkipped: 0, blobsCopied: 0, blobsSkipped: 0, tokensCopied: 0, problems: [] };
  for (const name of await source.metadata.listPackageNames()) {
    const detail = await source.metadata.getPackage(name);
    if (!detail) continue;
    for (const { downloads, ...record } of [...detail.versions].reverse()) {
      const label = `${record.name}@${record.version}`;
      const existing = await target.metadata.getVersion(record.name, record.version);
      if (existing) {
        if (existing.sha256 !== record.sha256) {
          report.problems.push(`${label}: the target already has this version with sha256 ${existing.sha256}, not ${record.sha256}; left as it is`);
        } else {
          report.versionsSkipped++;
        }
        continue;
      }
      const copied = await copyBlob(source, target, record, report);
      if (!copied) continue;
      if (await target.metadata.insertVersion(record)) {
        // Only with the version's first copy, so that a re-run never counts them twice.
        if (downloads > 0) await target.metadata.addDownloads([{ name: record.name, version: record.version, count: downloads }]);
        report.versionsCopied++;
        log(`copied ${label} (${record.size} bytes, ${downloads} downloads)`);
      } else {
        report.versionsSkipped++;
      }
    }
  }
  for (const token of await source.metadata.listTokens()) {
    if (token.source === "env" || (await target.metadata.findTokenByHash(token.hash))) continue;
    await target.metadata.insertToken(token);
    report.tokensCopied++;
  }
  return report;
}

/** Puts a version's bytes in the target after checking their digest; false when they are missing or damaged. */
async function copyBlob(source: Stores, target: Stores, record: VersionRecord, report: MigrationReport): Promise<boolean> {
  const label = `${record.name}@${record.version}`;
  const present = await target.blobs.stat(record.sha256);
  if (present && present.size === record.size) {
    report.blobsSkipped++;
    return true;
  }
  const content = await source.blobs.open(record.sha256);
  if (!content) {
    report.problems.push(`${label}: its bytes (sha256 ${record.sha256}) are missing from the source; not copied`);
    return false;
  }
  const staged = path.join(target.blobs.stagingDir, `migrate-${randomUUID()}.part`);
  const hash = createHash("sha256");
  let size = 0;
  try {
    await pipeline(
      content.stream(),
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      }),
      fs.createWriteStream(staged),
    );
    const actual = hash.digest("hex");
    if (actual !== record.sha256 || size !== record.size) {
      report.problems.push(
        `${label}: the source's bytes hash to ${actual} (${size} bytes), not the recorded ${record.sha256} (${record.size} bytes); not copied`,
      );
      return false;
    }
    await target.blobs.putFile(record.sha256, staged);
    report.blobsCopied++;
    return true;
  } finally {
    await fs.promises.rm(staged, { force: true });
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit("migrate-store", 2);
  if (!config.postgres && !config.s3) {
    process.stderr.write(
      "migrate-store: set DATABASE_URL and/or S3_BUCKET (with S3_ENDPOINT, S3_REGION…) to say where to copy the registry in DATA_DIR to\n",
    );
    process.exit(2);
  }
  if (!fs.existsSync(path.join(config.dataDir, "registry.db"))) {
    process.stderr.write(`migrate-store: no embedded registry in ${config.dataDir} (registry.db is missing); set DATA_DIR\n`);
    process.exit(2);
  }
  const source = await openEmbeddedStores(config.dataDir);
  const target = await openStores(config);
  try {
    process.stdout.write(`migrate-store: copying ${config.dataDir} into ${[config.postgres && "PostgreSQL", config.s3 && `s3://${config.s3.bucket}`].filter(Boolean).join(" and ")}\n`);
    const report = await migrateStore(source, target, (line) => process.stdout.write(`  ${line}\n`));
    process.stdout.write(
      `migrate-store: ${report.versionsCopied} versions copied, ${report.versionsSkipped} already there; ` +
        `${report.blobsCopied} components uploaded, ${report.blobsSkipped} already there; ${report.tokensCopied} generated and API tokens copied\n`,
    );
    for (const problem of report.problems) process.stderr.write(`migrate-store: ${problem}\n`);
    process.exitCode = report.problems.length > 0 ? 1 : 0;
  } finally {
    await Promise.all([source.metadata.close(), source.blobs.close(), target.metadata.close(), target.blobs.close()]);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((error) => {
    process.stderr.write(`migrate-store: failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
