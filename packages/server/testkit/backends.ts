/**
 * The scale-out backends for tests, all on loopback: a database of its own on
 * the machine's PostgreSQL for each test file, dropped at the end, and an
 * S3-compatible server (s3rver) on a free port over a temporary folder.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import pg from "pg";
import S3rver from "s3rver";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { tempDir } from "./helpers.js";

/** The machine's PostgreSQL (trust auth); TEST_PG_ADMIN_URL points elsewhere on loopback. */
const ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `registry_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8'`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Empties every table, keeping the schema: a fresh store for the next case. */
export async function truncateAll(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("TRUNCATE packages, versions, tokens, uptime RESTART IDENTITY CASCADE");
  } finally {
    await client.end();
  }
}

export const S3_KEY = "S3RVER";

export interface TestS3 {
  endpoint: string;
  folder: string;
  client: S3Client;
  createBucket(name?: string): Promise<string>;
  /** The environment that points a registry at `bucket`. */
  env(bucket: string): Record<string, string>;
  stop(): Promise<void>;
}

export async function startS3(): Promise<TestS3> {
  const folder = await tempDir("s3rver-");
  const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: folder });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: S3_KEY, secretAccessKey: S3_KEY },
  });
  let buckets = 0;
  return {
    endpoint,
    folder,
    client,
    async createBucket(name = `bucket-${process.pid}-${++buckets}`) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    env(bucket) {
      return {
        S3_BUCKET: bucket,
        S3_ENDPOINT: endpoint,
        S3_REGION: "us-east-1",
        S3_FORCE_PATH_STYLE: "true",
        AWS_ACCESS_KEY_ID: S3_KEY,
        AWS_SECRET_ACCESS_KEY: S3_KEY,
      };
    },
    async stop() {
      if (!server.httpServer.listening) return;
      client.destroy();
      // Keep-alive sockets would hold close() open forever.
      server.httpServer.closeAllConnections();
      await server.close();
      await fs.rm(folder, { recursive: true, force: true });
    },
  };
}

/** Every file under a folder, relative paths; [] when it does not exist. */
export async function filesUnder(folder: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(folder, { recursive: true, withFileTypes: true });
    return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}
