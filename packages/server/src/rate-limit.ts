/**
 * Fixed-window rate limits over a RateCounter (in memory or shared in
 * PostgreSQL; see store/index.ts).
 *
 * Two ways of counting, for two kinds of traffic:
 * - `take` (reads, per client address) is on the hot path, so it never waits
 *   for the database: it counts locally and adds the local counts to the
 *   shared counter every `syncMs`, learning the other servers' totals in the
 *   same round trip. A client can overshoot by what it sends to the other
 *   servers within one sync interval; on one server the limit is exact.
 * - `takeExact` (publishes, per token) adds to the shared counter on every
 *   call: publishes are few and slow, and their budget is meant to be strict.
 */
import { tooManyRequests } from "./errors.js";
import type { RateCounter } from "./store/types.js";

const WINDOW_SECONDS = 60;

interface LocalCount {
  windowStart: number;
  /** Every server's total at the last sync, this one's included. */
  shared: number;
  /** This server's hits since the last sync. */
  pending: number;
}

export interface RateLimiterOptions {
  /** Hits allowed per key per minute. */
  limit: number;
  /** What is limited, for the message: "requests from this address". */
  what: string;
  /** The variable that sets the limit, named in the message. */
  variable: string;
  syncMs: number;
  onError: (error: unknown) => void;
  now?: () => number;
}

export class RateLimiter {
  private readonly local = new Map<string, LocalCount>();
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> = Promise.resolve();
  private prunedBefore = 0;
  private readonly now: () => number;

  constructor(
    private readonly counter: RateCounter,
    private readonly options: RateLimiterOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  private window(): { start: number; retryAfter: number } {
    const seconds = this.now() / 1000;
    const start = Math.floor(seconds / WINDOW_SECONDS) * WINDOW_SECONDS;
    return { start, retryAfter: Math.max(1, Math.ceil(start + WINDOW_SECONDS - seconds)) };
  }

  private refusal(retryAfter: number) {
    return tooManyRequests(
      `too many ${this.options.what}: the limit is ${this.options.limit} a minute (${this.options.variable}); try again in ${retryAfter} s`,
      retryAfter,
    );
  }

  /** Counts a hit without waiting for the shared counter; throws a 429 over the budget. */
  take(key: string): void {
    const { start, retryAfter } = this.window();
    let count = this.local.get(key);
    if (!count || count.windowStart !== start) {
      count = { windowStart: start, shared: 0, pending: 0 };
      this.local.set(key, count);
    }
    if (count.shared + count.pending >= this.options.limit) throw this.refusal(retryAfter);
    count.pending++;
  }

  /** Counts a hit in the shared counter before answering; throws a 429 over the budget. */
  async takeExact(key: string): Promise<void> {
    const { start, retryAfter } = this.window();
    const total = await this.counter.add(key, start, 1);
    if (total > this.options.limit) throw this.refusal(retryAfter);
  }

  start(): void {
    this.timer = setInterval(() => void this.sync().catch(this.options.onError), this.options.syncMs);
    this.timer.unref();
  }

  /** Adds the local counts to the shared counter and learns the shared totals. */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.syncNow());
    return this.syncing;
  }

  private async syncNow(): Promise<void> {
    const { start } = this.window();
    for (const [key, count] of this.local) {
      if (count.pending > 0) {
        const amount = count.pending;
        count.pending = 0;
        try {
          count.shared = await this.counter.add(key, count.windowStart, amount);
        } catch (error) {
          count.pending += amount;
          throw error;
        }
      }
      if (count.windowStart < start) this.local.delete(key);
    }
    if (this.prunedBefore < start) {
      this.prunedBefore = start;
      await this.counter.prune(start - WINDOW_SECONDS);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sync().catch(this.options.onError);
  }
}
