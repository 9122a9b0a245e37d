/**
 * Rate counters in this process's memory: right for the embedded store,
 * where one server is the whole registry.
 */
import type { RateCounter } from "./types.js";

export class MemoryRateCounter implements RateCounter {
  /** key -> the current window's start and count; an older window is simply overwritten. */
  private readonly counts = new Map<string, { windowStart: number; count: number }>();

  async add(key: string, windowStart: number, amount: number): Promise<number> {
    const entry = this.counts.get(key);
    if (entry && entry.windowStart === windowStart) {
      entry.count += amount;
      return entry.count;
    }
    if (entry && entry.windowStart > windowStart) return entry.count;
    this.counts.set(key, { windowStart, count: amount });
    return amount;
  }

  async prune(windowStart: number): Promise<void> {
    for (const [key, entry] of this.counts) if (entry.windowStart < windowStart) this.counts.delete(key);
  }

  async close(): Promise<void> {
    this.counts.clear();
  }
}
