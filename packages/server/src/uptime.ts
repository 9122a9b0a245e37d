/**
 * uptime_percent: the share of time since the registry's first start during
 * which a server was up. Each server records a heartbeat every
 * HEARTBEAT_SECONDS (and at start and stop); a gap between beats of at most
 * two intervals counts as up, a longer one as down (see the stores'
 * `heartbeat`).
 */
import type { UptimeRecord } from "./store/types.js";

export const HEARTBEAT_SECONDS = 60;

export function uptimePercent(record: UptimeRecord | undefined, nowSeconds: number): number {
  if (!record) return 100;
  const elapsed = nowSeconds - record.firstSeen;
  if (elapsed <= 0) return 100;
  // The server answering is up, so the time since the last beat counts too, as the next beat
  // will count it; without this the figure lags by up to a minute and reads low on a young registry.
  const sinceBeat = nowSeconds - record.lastSeen;
  const up = record.upSeconds + (sinceBeat > 0 && sinceBeat <= HEARTBEAT_SECONDS * 2 ? sinceBeat : 0);
  return Math.round(Math.min(100, (up / elapsed) * 100) * 100) / 100;
}
