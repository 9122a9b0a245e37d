/**
 * Download counts, kept off the download's hot path: each download bumps a
 * number in memory, and a timer writes the sums in one transaction. Readers
 * of the counts call `flush()` first, so what they see is exact.
 */
import type { DownloadCount, MetadataStore } from "./store/types.js";

export class DownloadCounter {
  private pending = new Map<string, DownloadCount>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: MetadataStore,
    private readonly onError: (error: unknown) => void,
  ) {}

  record(name: string, version: string): void {
    const key = `${name}@${version}`;
    const entry = this.pending.get(key);
    if (entry) entry.count++;
    else this.pending.set(key, { name, version, count: 1 });
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.flush().catch(this.onError), intervalMs);
    this.timer.unref();
  }

  /** Writes what is pending; concurrent callers queue behind one another. */
  flush(): Promise<void> {
    const run = this.flushing.then(() => this.writePending());
    this.flushing = run.catch(() => {});
    return run;
  }

  private async writePending(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    try {
      await this.store.addDownloads(batch);
    } catch (error) {
      // Put the counts back so that a passing store error loses nothing.
      for (const { name, version, count } of batch) {
        const key = `${name}@${version}`;
        const entry = this.pending.get(key);
        if (entry) entry.count += count;
        else this.pending.set(key, { name, version, count });
      }
      throw error;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
