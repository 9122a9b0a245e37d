/**
 * Where the registry's log lines go: standard output, written once per turn
 * of the event loop. Lines logged while requests are handled collect in
 * memory and go out together in one synchronous write when the turn ends, so
 * a busy server makes a few large writes instead of one per request, and
 * hands nothing to another thread (pino's asynchronous destination writes
 * from libuv's thread pool: a thread switch per write). A quiet server still
 * writes each line at once. Like pino's default destination, a reader that
 * stops reading makes the server wait rather than hold ever more lines.
 */
import fs from "node:fs";

/** A reader that is not ready (a non-blocking pipe that is full): try again shortly. */
const RETRY_MS = 10;

export class LogDestination {
  private pending: string[] = [];
  /** What a full pipe refused last time, as bytes: a write may stop inside a character. */
  private refused: Buffer | undefined;
  private scheduled = false;

  constructor(private readonly fd = 1) {}

  /** Takes one line (pino and the access log call this); it is written when this turn of the event loop ends. */
  write(line: string): boolean {
    this.pending.push(line);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushLater);
    }
    return true;
  }

  /** Writes every pending line now: at shutdown, so that none is lost. */
  flushSync(): void {
    if (this.pending.length === 0 && !this.refused) return;
    const fresh = Buffer.from(this.pending.join(""));
    const bytes = this.refused ? Buffer.concat([this.refused, fresh]) : fresh;
    this.pending = [];
    this.refused = undefined;
    let written = 0;
    while (written < bytes.length) {
      try {
        written += fs.writeSync(this.fd, bytes, written);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EAGAIN") return; // the reader is gone: nowhere left to log
        this.refused = bytes.subarray(written);
        this.schedule(RETRY_MS);
        return;
      }
    }
  }

  private readonly flushLater = () => {
    this.scheduled = false;
    this.flushSync();
  };

  private schedule(delayMs: number): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setTimeout(this.flushLater, delayMs);
  }
}
