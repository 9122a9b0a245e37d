/**
 * The embedded blob store: one file per component under DATA_DIR/blobs, named
 * by its SHA-256. Uploads are staged under DATA_DIR/tmp (same file system) and
 * renamed into place, so a reader never sees half a file, even after a crash.
 */
import { open as openCallback } from "node:fs";
import fs from "node:fs/promises";
import { promisify } from "node:util";
import path from "node:path";
import { FileContent } from "./file-content.js";
import type { BlobContent, BlobInfo, BlobStore, StoredBlob } from "./types.js";

export class FsBlobStore implements BlobStore {
  readonly stagingDir: string;
  private readonly blobDir: string;

  private constructor(root: string) {
    this.blobDir = path.join(root, "blobs", "sha256");
    this.stagingDir = path.join(root, "tmp");
  }

  static async open(root: string, cleanStaging = true): Promise<FsBlobStore> {
    const store = new FsBlobStore(root);
    await fs.mkdir(store.blobDir, { recursive: true });
    // Whatever is left in the staging folder belongs to uploads a crash cut short.
    if (cleanStaging) await fs.rm(store.stagingDir, { recursive: true, force: true });
    await fs.mkdir(store.stagingDir, { recursive: true });
    return store;
  }

  /** blobs/sha256/ab/abcdef…: two hex digits of fan-out keep folders small. */
  pathOf(sha256: string): string {
    return path.join(this.blobDir, sha256.slice(0, 2), sha256);
  }

  async putFile(sha256: string, stagedPath: string): Promise<void> {
    const target = this.pathOf(sha256);
    if (await this.stat(sha256)) {
      // Reused bytes count as fresh, so that gc's grace period covers this publish.
      const now = new Date();
      await fs.utimes(target, now, now);
      await fs.rm(stagedPath, { force: true });
      return;
    }
    const folder = path.dirname(target);
    await fs.mkdir(folder, { recursive: true });
    await fs.rename(stagedPath, target);
    await syncFolder(folder);
  }

  async stat(sha256: string): Promise<BlobInfo | undefined> {
    try {
      const info = await fs.stat(this.pathOf(sha256));
      return { size: info.size };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async open(sha256: string): Promise<BlobContent | undefined> {
    let fd: number;
    try {
      fd = await openForReading(this.pathOf(sha256));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    return new FileContent(fd);
  }

  async *list(): AsyncIterable<StoredBlob> {
    for (const fanOut of await fs.readdir(this.blobDir)) {
      if (!/^[0-9a-f]{2}$/.test(fanOut)) continue;
      for (const name of await fs.readdir(path.join(this.blobDir, fanOut))) {
        if (!/^[0-9a-f]{64}$/.test(name) || !name.startsWith(fanOut)) continue;
        try {
          const info = await fs.stat(path.join(this.blobDir, fanOut, name));
          yield { sha256: name, size: info.size, modifiedAt: info.mtimeMs };
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        }
      }
    }
  }

  async delete(sha256: string): Promise<void> {
    await fs.rm(this.pathOf(sha256), { force: true });
  }

  async close(): Promise<void> {}
}

const openFd = promisify(openCallback);
const openForReading = (file: string) => openFd(file, "r");

/** Makes a rename durable: the folder entry is flushed, not only the file. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await fs.open(folder, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
