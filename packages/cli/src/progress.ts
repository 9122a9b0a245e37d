/**
 * Download progress: on a terminal, a bar redrawn in place as bytes arrive
 * (at most ten times a second), with the items done and the bytes received;
 * otherwise one plain line per finished item (logs and CI get readable text,
 * not escapes).
 */
import { formatBytes } from "@wasm-registry/core";
import { isInteractive, note } from "./output.js";

const WIDTH = 24;
const REDRAW_MS = 100;

export interface ProgressOptions {
  /** Where the bar goes; stderr by default, so that stdout stays the result. */
  stream?: { write(text: string): unknown };
  /** A bar redrawn in place; by default when stderr is a terminal. */
  live?: boolean;
  now?: () => number;
}

interface InFlight {
  received: number;
  total: number | undefined;
}

export class Progress {
  private done = 0;
  /** Bytes of the items already finished. */
  private doneBytes = 0;
  private readonly inFlight = new Map<string, InFlight>();
  private lastDraw = -Infinity;
  private readonly live: boolean;
  private readonly stream: { write(text: string): unknown };
  private readonly now: () => number;

  constructor(
    private readonly total: number,
    private readonly verb: string,
    options: ProgressOptions = {},
  ) {
    this.live = options.live ?? isInteractive();
    this.stream = options.stream ?? process.stderr;
    this.now = options.now ?? Date.now;
    if (this.live && total > 0) this.draw("");
  }

  /** Bytes of one item so far, and its size when known; 0 again when its download starts over. */
  bytes(label: string, received: number, total: number | undefined): void {
    this.inFlight.set(label, { received, total });
    if (this.live && this.now() - this.lastDraw >= REDRAW_MS) this.draw(label);
  }

  finished(label: string, size: number): void {
    this.inFlight.delete(label);
    this.done++;
    this.doneBytes += size;
    if (this.live) this.draw(label);
    else note(`${this.verb} ${label} (${formatBytes(size)})`);
  }

  /** Leaves the terminal on a clean line before anything else is printed. */
  end(): void {
    if (this.live && this.total > 0) this.stream.write("\r\x1b[2K");
  }

  private draw(label: string): void {
    this.lastDraw = this.now();
    // Items finished count whole; one in flight counts for the share of its bytes that arrived.
    let items = this.done;
    let received = this.doneBytes;
    for (const item of this.inFlight.values()) {
      received += item.received;
      if (item.total) items += Math.min(1, item.received / item.total);
    }
    const filled = Math.round((items / this.total) * WIDTH);
    const bar = "#".repeat(filled) + "-".repeat(WIDTH - filled);
    this.stream.write(`\r\x1b[2K[${bar}] ${this.done}/${this.total} ${formatBytes(received)} ${label}`);
  }
}
