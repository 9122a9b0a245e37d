/**
 * A stored file, opened, sent the fast way: read into a buffer that is reused
 * once the socket has taken its bytes. A stream (createReadStream + pipe)
 * allocates a new buffer per chunk, and those allocations and their collection
 * cost; this copy loop served 5 MB files 1.1 to 1.3 times as fast as
 * `createReadStream(...).pipe(response)` here (`npm run bench` compares the two).
 */
import { close as closeCallback, createReadStream, read as readCallback } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { promisify } from "node:util";
import type { BlobContent } from "./types.js";

const readFd = promisify(readCallback);
const closeFd = promisify(closeCallback);

/** Big enough for few system calls, small enough that many downloads at once cost little memory. */
const CHUNK_BYTES = 256 * 1024;
/** Buffers kept for the next downloads: a few MB at most, whatever the load was. */
const MAX_IDLE_BUFFERS = 16;
const idleBuffers: Buffer[] = [];

export class FileContent implements BlobContent {
  private used = false;

  constructor(private readonly fd: number) {}

  stream(): Readable {
    this.use();
    return createReadStream("", { fd: this.fd, highWaterMark: CHUNK_BYTES });
  }

  async writeTo(destination: Writable): Promise<void> {
    this.use();
    const buffer = idleBuffers.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
    try {
      for (let position = 0; ; ) {
        const { bytesRead } = await readFd(this.fd, buffer, 0, CHUNK_BYTES, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        await written(destination, bytesRead === CHUNK_BYTES ? buffer : buffer.subarray(0, bytesRead));
      }
      destination.end();
      // Every write has called back, so nothing holds the buffer any more. After
      // a failure a write may still be pending: that buffer is left to the collector.
      if (idleBuffers.length < MAX_IDLE_BUFFERS) idleBuffers.push(buffer);
    } catch (error) {
      destination.destroy(error as Error);
      throw error;
    } finally {
      await closeFd(this.fd);
    }
  }

  private use(): void {
    if (this.used) throw new Error("a blob's content is read once");
    this.used = true;
  }
}

/**
 * Resolves once `destination` has handed `chunk` to the system; rejects when
 * the client hung up. An HTTP response whose socket is already destroyed drops
 * a write without ever calling back, so its closing counts as the refusal:
 * otherwise the download would wait forever, holding its file open.
 */
function written(destination: Writable, chunk: Buffer): Promise<void> {
  if (destination.destroyed) return Promise.reject(new Error("the connection closed before the download ended"));
  return new Promise((resolve, reject) => {
    const closed = () => reject(new Error("the connection closed before the download ended"));
    destination.once("close", closed);
    destination.write(chunk, (error) => {
      destination.off("close", closed);
      if (error) reject(error);
      else resolve();
    });
  });
}
