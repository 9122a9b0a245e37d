/**
 * The server as a user starts it: `node dist/src/main.js` (what `npm start`
 * runs), configured by the environment alone.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { after, describe, it } from "node:test";
import { sha256Hex } from "@wasm-registry/core";
import { componentBytes, publish, tempDir } from "../testkit/helpers.js";
import { SERVER_MAIN, type ServerProcess, startServerProcess } from "../testkit/process.js";

describe("the server process", () => {
  const running: ServerProcess[] = [];
  after(() => Promise.all(running.map((s) => s.stop())));

  it("creates and prints an admin token on first start when none is configured, keeps only its hash, and keeps everything across a restart", async () => {
    const dataDir = await tempDir();
    const first = await startServerProcess({ DATA_DIR: dataDir, LOG_LEVEL: "info" });
    running.push(first);
    const token = /(wcr_[A-Za-z0-9_-]{43})/.exec(first.output())?.[1];
    assert.ok(token, "the token is printed");
    const bytes = componentBytes(7);
    const published = await publish(first.url, bytes, { token, fields: { name: "alice:calc", version: "1.0.0" } });
    assert.equal(published.status, 201);
    await fetch(`${first.url}/packages/alice:calc/1.0.0/artifact.wasm`).then((r) => r.arrayBuffer());
    // A path with characters JSON must escape still gives a well-formed line.
    const oddPath = '/api/v1/search?q=a"b\\c';
    assert.equal((await fetch(`${first.url}${oddPath}`)).status, 200);
    assert.equal(await first.stop(), 0, "SIGTERM stops it cleanly");

    // One JSON line per request, with what a request line holds, and the secret never reaches the log.
    const requestLines = first.output().split("\n").filter((line) => line.includes('"msg":"request"'));
    assert.equal(requestLines.length, 3);
    const entries = requestLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      // A line is written when its response has gone out, which is not always in the order sent.
      entries.map(({ level, method, url, status, msg }) => ({ level, method, url, status, msg })).sort((a, b) => String(a.url).localeCompare(String(b.url))),
      [
        { level: 30, method: "POST", url: "/api/v1/packages", status: 201, msg: "request" },
        { level: 30, method: "GET", url: oddPath.replace('"', "%22"), status: 200, msg: "request" },
        { level: 30, method: "GET", url: "/packages/alice:calc/1.0.0/artifact.wasm", status: 200, msg: "request" },
      ],
    );
    for (const entry of entries) {
      assert.equal(typeof entry.time, "number");
      assert.equal(typeof entry.ms, "number");
      assert.match(String(entry.reqId), /^req-/);
    }
    assert.equal(first.output().split(token).length - 1, 2, "the token appears only in the one-time notice");

    const second = await startServerProcess({ DATA_DIR: dataDir });
    running.push(second);
    assert.doesNotMatch(second.output(), /wcr_/, "no new token on a restart");
    const meta = (await (await fetch(`${second.url}/api/v1/packages/alice:calc/1.0.0`)).json()) as { sha256: string };
    assert.equal(meta.sha256, sha256Hex(bytes));
    const download = await fetch(`${second.url}/packages/alice:calc/1.0.0/artifact.wasm`);
    assert.equal(sha256Hex(new Uint8Array(await download.arrayBuffer())), sha256Hex(bytes));
    const stats = (await (await fetch(`${second.url}/api/v1/stats`)).json()) as Record<string, number>;
    assert.equal(stats.download_count, 2);
    assert.equal(stats.version_count, 1);
    // The same token still works after the restart, and versions stay immutable.
    const again = await publish(second.url, bytes, { token, fields: { name: "alice:calc", version: "1.0.0" } });
    assert.equal(again.status, 409);
    await second.stop();
  });

  it("uses the configured tokens and creates none of its own", async () => {
    const started = await startServerProcess({ DATA_DIR: await tempDir(), REGISTRY_TOKENS: "alice:alice-token-1" });
    running.push(started);
    assert.doesNotMatch(started.output(), /wcr_/);
    const response = await publish(started.url, componentBytes(8), { token: "alice-token-1", fields: { name: "alice:x", version: "1.0.0" } });
    assert.equal(response.status, 201);
    await started.stop();
  });

  for (const [env, variable] of [
    [{ PORT: "not-a-port" }, "PORT"],
    [{ REGISTRY_TOKENS: "alice-without-token" }, "REGISTRY_TOKENS"],
    [{ MAX_UPLOAD_MB: "lots" }, "MAX_UPLOAD_MB"],
    // A folder inside a file: it can never be created (node's own binary is a file that always exists).
    [{ DATA_DIR: `${process.execPath}/data`, REGISTRY_ADMIN_TOKEN: "a-token-long-enough" }, "DATA_DIR"],
  ] as const) {
    it(`refuses to start on a bad ${variable}, naming it`, async () => {
      const child = spawn(process.execPath, [SERVER_MAIN], {
        env: { PATH: process.env.PATH ?? "", DATA_DIR: "/nonexistent/never-created", ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk) => (stderr += chunk));
      const [code] = await once(child, "exit");
      assert.equal(code, 1);
      assert.match(stderr, new RegExp(`cannot start: ${variable}: `));
      assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
    });
  }
});
