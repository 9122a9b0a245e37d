/**
 * The scale-out blob store: one object per component in an S3-compatible
 * bucket, keyed by its SHA-256, so that any server can serve what any other
 * stored. Uploads are staged in a local temporary folder only while they are
 * hashed and checked; the staged file is deleted once it is in the bucket or
 * the upload failed, so no component byte stays on the server's disk.
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { S3Config } from "../config.js";
import { storageUnavailable } from "../errors.js";
import type { BlobContent, BlobInfo, BlobStore, StoredBlob } from "./types.js";

/** Multipart parts of 8 MiB, 4 in flight: at most 32 MiB of a large upload in memory. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;

function isNotFound(error: unknown): boolean {
  if (error instanceof S3ServiceException) {
    return error.$metadata.httpStatusCode === 404 || error.name === "NotFound" || error.name === "NoSuchKey";
  }
  return false;
}

export class S3BlobStore implements BlobStore {
  private constructor(
    private readonly client: S3Client,
    private readonly config: S3Config,
    readonly stagingDir: string,
  ) {}

  static async open(config: S3Config): Promise<S3BlobStore> {
    const client = new S3Client({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.forcePathStyle,
      ...(config.credentials ? { credentials: config.credentials } : {}),
      // Extra CRC checksums only when an operation needs them: many S3-compatible
      // stores reject the newer checksum headers, and the registry checks SHA-256 itself.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
    try {
      await client.send(new HeadBucketCommand({ Bucket: config.bucket }));
    } catch (error) {
      client.destroy();
      const where = config.endpoint ? ` at ${config.endpoint}` : "";
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new Error(`S3_BUCKET: cannot reach the bucket "${config.bucket}"${where} (${reason}); create it and check the credentials`);
    }
    const stagingDir = await fsp.mkdtemp(path.join(os.tmpdir(), "wasm-registry-staging-"));
    return new S3BlobStore(client, config, stagingDir);
  }

  /** The object key: content-addressed, the algorithm named so another can join it later. */
  keyOf(sha256: string): string {
    return `${this.config.prefix}sha256/${sha256}`;
  }

  async putFile(sha256: string, stagedPath: string): Promise<void> {
    try {
      // Bytes already there are uploaded again all the same: that refreshes their LastModified,
      // so gc's grace period covers the publish reusing them (S3 has no cheaper touch that
      // every compatible store honours; the case is rare: two versions with identical bytes).
      const upload = new Upload({
        client: this.client,
        params: {
          Bucket: this.config.bucket,
          Key: this.keyOf(sha256),
          Body: fs.createReadStream(stagedPath),
          ContentType: "application/wasm",
          // The key names the content, so the object never changes: caches may keep it forever.
          CacheControl: "public, max-age=31536000, immutable",
        },
        partSize: PART_SIZE,
        queueSize: QUEUE_SIZE,
        leavePartsOnError: false,
      });
      await upload.done();
    } catch (error) {
      throw storageUnavailable("the object store", error);
    } finally {
      await fsp.rm(stagedPath, { force: true });
    }
  }

  async *list(): AsyncIterable<StoredBlob> {
    const prefix = `${this.config.prefix}sha256/`;
    let continuationToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: prefix, ContinuationToken: continuationToken }),
      );
      for (const object of page.Contents ?? []) {
        const sha256 = object.Key?.slice(prefix.length) ?? "";
        if (!/^[0-9a-f]{64}$/.test(sha256)) continue;
        yield { sha256, size: object.Size ?? 0, modifiedAt: object.LastModified?.getTime() ?? 0 };
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);
  }

  async delete(sha256: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: this.keyOf(sha256) }));
  }

  async stat(sha256: string): Promise<BlobInfo | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: this.keyOf(sha256) }));
      return { size: head.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async open(sha256: string): Promise<BlobContent | undefined> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: this.keyOf(sha256) }));
      // On Node the SDK's body is an http.IncomingMessage: a Readable that streams from the socket.
      const body = object.Body as Readable;
      return { stream: () => body, writeTo: (destination) => pipeline(body, destination) };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  publicUrl(sha256: string): string | undefined {
    return this.config.publicUrl === undefined ? undefined : `${this.config.publicUrl}/${this.keyOf(sha256)}`;
  }

  async close(): Promise<void> {
    this.client.destroy();
    await fsp.rm(this.stagingDir, { recursive: true, force: true });
  }
}
