/**
 * Chooses the storage backends from the configuration, once, at start-up:
 * PostgreSQL when DATABASE_URL is set, else SQLite under DATA_DIR; an S3
 * bucket when S3_BUCKET is set, else files under DATA_DIR. Nothing else in
 * the server knows which it has.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { type Config, ConfigError } from "../config.js";
import { FsBlobStore } from "./fs-blobs.js";
import { MemoryRateCounter } from "./memory-rate-counter.js";
import { SqliteMetadataStore } from "./sqlite-metadata.js";
import type { BlobStore, MetadataStore, RateCounter } from "./types.js";

export interface Stores {
  metadata: MetadataStore;
  blobs: BlobStore;
}

export interface OpenOptions {
  /**
   * Empty the staging folder of uploads a crash cut short (the default). A
   * tool that runs beside a live server (gc) passes false: the folder may hold
   * that server's uploads in flight.
   */
  cleanStaging?: boolean;
}

export async function openStores(config: Config, options: OpenOptions = {}): Promise<Stores> {
  const metadata = await openMetadata(config);
  try {
    return { metadata, blobs: await openBlobs(config, options.cleanStaging ?? true) };
  } catch (error) {
    await metadata.close();
    throw error;
  }
}

/**
 * Rate counters live with the metadata: shared in PostgreSQL when several
 * servers share it, in memory when SQLite makes this server the only one.
 */
export async function openRateCounter(config: Config): Promise<RateCounter> {
  if (config.postgres) {
    const { PostgresRateCounter } = await import("./pg-rate-counter.js");
    return PostgresRateCounter.open(config.postgres.url);
  }
  return new MemoryRateCounter();
}

/** The embedded stores of a data folder, whatever the configuration says: what `migrate-store` copies from. */
export async function openEmbeddedStores(dataDir: string): Promise<Stores> {
  await prepareDataDir(dataDir);
  return { metadata: new SqliteMetadataStore(path.join(dataDir, "registry.db")), blobs: await FsBlobStore.open(dataDir) };
}

async function openMetadata(config: Config): Promise<MetadataStore> {
  if (config.postgres) {
    // Imported only when configured: the embedded default never loads pg or the AWS SDK.
    const { PostgresMetadataStore } = await import("./pg-metadata.js");
    return PostgresMetadataStore.open(config.postgres.url, config.postgres.poolSize);
  }
  await prepareDataDir(config.dataDir);
  return new SqliteMetadataStore(path.join(config.dataDir, "registry.db"));
}

async function openBlobs(config: Config, cleanStaging: boolean): Promise<BlobStore> {
  if (config.s3) {
    const { S3BlobStore } = await import("./s3-blobs.js");
    return S3BlobStore.open(config.s3);
  }
  await prepareDataDir(config.dataDir);
  return FsBlobStore.open(config.dataDir, cleanStaging);
}

/**
 * Creates the data folder if needed and checks that this user may write in
 * it, so that a wrong DATA_DIR stops start-up with a message that names it
 * rather than with SQLite's "unable to open database file".
 */
async function prepareDataDir(dataDir: string): Promise<void> {
  try {
    await fs.mkdir(dataDir, { recursive: true });
    await fs.access(dataDir, fs.constants.W_OK);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new ConfigError(
      "DATA_DIR",
      `cannot use ${dataDir} as the data folder (${code ?? message}); set DATA_DIR (or REGISTRY_DATA_DIR) to a folder this user can create and write`,
    );
  }
}

export type * from "./types.js";
