/**
 * Rate counters in PostgreSQL, so that every server behind one database
 * counts against the same budget. One row per key and fixed window, bumped
 * with a single upsert that returns the new total.
 *
 * The table is disposable (losing it only resets budgets), so it is created
 * here rather than in the metadata store's migrations.
 */
import pg from "pg";
import type { RateCounter } from "./types.js";

const SCHEMA = `CREATE UNLOGGED TABLE IF NOT EXISTS rate_counters (
  key TEXT NOT NULL,
  window_start BIGINT NOT NULL,
  count BIGINT NOT NULL,
  PRIMARY KEY (key, window_start)
)`;

/** Any fixed number, the same in every server: the advisory lock under which the table is created. */
const CREATE_LOCK = 7_301_245_582;

export class PostgresRateCounter implements RateCounter {
  private constructor(private readonly pool: pg.Pool) {}

  static async open(url: string): Promise<PostgresRateCounter> {
    // A pool of its own, small: rate checks must not queue behind slow metadata queries.
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    // A lost connection fails the query that used it; it must not crash the process (see pg-metadata.ts).
    pool.on("error", () => {});
    pool.on("connect", (client) => client.on("error", () => {}));
    try {
      await createTable(pool);
    } catch (error) {
      await pool.end();
      throw error;
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

/**
 * CREATE TABLE IF NOT EXISTS is not safe against itself: two servers starting
 * at once can both miss the table, and the later one fails on the table's row
 * type. A transaction-scoped advisory lock makes them take turns.
 */
async function createTable(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [CREATE_LOCK]);
    await client.query(SCHEMA);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
