/**
 * Rate counters in PostgreSQL, so that every server behind one database
 * counts against the same budget. One row per key and fixed window, bumped
 * with a single upsert that returns the new total.
 *
 * The table is disposable (losing it only resets budgets), so it is created
 * here with IF NOT EXISTS rather than in the metadata store's migrations.
 */
import pg from "pg";
import type { RateCounter } from "./types.js";

const SCHEMA = `CREATE UNLOGGED TABLE IF NOT EXISTS rate_counters (
  key TEXT NOT NULL,
  window_start BIGINT NOT NULL,
  count BIGINT NOT NULL,
  PRIMARY KEY (key, window_start)
)`;

export class PostgresRateCounter implements RateCounter {
  private constructor(private readonly pool: pg.Pool) {}

  static async open(url: string): Promise<PostgresRateCounter> {
    // A pool of its own, small: rate checks must not queue behind slow metadata queries.
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    pool.on("error", () => {});
    try {
      await pool.query(SCHEMA);
    } catch (error) {
      // Two servers creating the table at once: one wins, the other sees it exists.
      if ((error as { code?: string }).code !== "23505" && (error as { code?: string }).code !== "42P07") {
        await pool.end();
        throw error;
      }
    }
    return new PostgresRateCounter(pool);
  }

  async add(key: string, windowStart: number, amount: number): Promise<number> {
    const { rows } = await this.pool.query<{ count: string }>({
      name: "rate-add",
      text: `INSERT INTO rate_counters (key, window_start, count) VALUES ($1, $2, $3)
             ON CONFLICT (key, window_start) DO UPDATE SET count = rate_counters.count + EXCLUDED.count
             RETURNING count`,
      values: [key, windowStart, amount],
    });
    return Number(rows[0]!.count);
  }

  async prune(windowStart: number): Promise<void> {
    await this.pool.query("DELETE FROM rate_counters WHERE window_start < $1", [windowStart]);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
