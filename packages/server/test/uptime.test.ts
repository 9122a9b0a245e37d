import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HEARTBEAT_SECONDS, uptimePercent } from "../src/uptime.js";

const START = 1_700_000_000;

describe("uptime_percent", () => {
  it("is 100 before any heartbeat and at the first one", () => {
    assert.equal(uptimePercent(undefined, START), 100);
    assert.equal(uptimePercent({ firstSeen: START, lastSeen: START, upSeconds: 0 }, START), 100);
  });

  it("counts the time since the last beat as up: the server asking is up", () => {
    // Up for 258 s by the beats, last beat 46 s ago, 1 s lost to a restart.
    const record = { firstSeen: START, lastSeen: START + 259, upSeconds: 258 };
    assert.equal(uptimePercent(record, START + 305), 99.67);
    // Young registry, one beat so far: 30 s in, all of it up.
    assert.equal(uptimePercent({ firstSeen: START, lastSeen: START, upSeconds: 0 }, START + 30), 100);
  });

  it("counts a silence longer than two beats as down", () => {
    const record = { firstSeen: START, lastSeen: START + 100, upSeconds: 100 };
    const later = START + 100 + HEARTBEAT_SECONDS * 2 + 100;
    assert.equal(uptimePercent(record, later), Math.round((100 / (later - START)) * 10000) / 100);
  });

  it("never passes 100 and survives a clock behind the records", () => {
    assert.equal(uptimePercent({ firstSeen: START, lastSeen: START + 50, upSeconds: 90 }, START + 60), 100);
    assert.equal(uptimePercent({ firstSeen: START, lastSeen: START + 50, upSeconds: 50 }, START - 10), 100);
  });
});
