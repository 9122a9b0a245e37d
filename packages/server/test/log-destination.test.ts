import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { LogDestination } from "../src/log-destination.js";
import { tempDir } from "../testkit/helpers.js";

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("log destination", () => {
  it("writes the lines of one turn of the event loop together when the turn ends, in order, and the rest on flushSync", async () => {
    const file = path.join(await tempDir(), "log");
    const fd = fs.openSync(file, "w");
    const log = new LogDestination(fd);
    log.write("one\n");
    log.write("two\n");
    assert.equal(fs.readFileSync(file, "utf8"), "", "nothing is written while the turn goes on");
    await nextTurn();
    assert.equal(fs.readFileSync(file, "utf8"), "one\ntwo\n");
    log.write("three\n");
    log.flushSync();
    assert.equal(fs.readFileSync(file, "utf8"), "one\ntwo\nthree\n", "flushSync writes at once");
    await nextTurn();
    assert.equal(fs.readFileSync(file, "utf8"), "one\ntwo\nthree\n", "and nothing twice");
    fs.closeSync(fd);
  });

  it("keeps what a full non-blocking pipe refuses and writes it once the reader catches up, losing nothing", async () => {
    const fifo = path.join(await tempDir(), "fifo");
    execFileSync("mkfifo", [fifo]);
    const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const writer = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    const log = new LogDestination(writer);
    // More than a pipe holds (64 KiB on Linux): the first write stops part-way with EAGAIN.
    const lines = Array.from({ length: 3000 }, (_, i) => `${"x".repeat(90)} line ${i}\n`);
    for (const line of lines) log.write(line);
    await nextTurn();
    let received = "";
    const buffer = Buffer.alloc(1 << 20);
    const deadline = Date.now() + 10_000;
    while (received.length < lines.join("").length && Date.now() < deadline) {
      try {
        received += buffer.subarray(0, fs.readSync(reader, buffer)).toString();
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.equal(received, lines.join(""));
    fs.closeSync(writer);
    fs.closeSync(reader);
  });
});
