/**
 * FileContent.writeTo against real HTTP responses on loopback: the bytes
 * arrive whole, and a response whose client is gone ends the copy and closes
 * the file, however early it went.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { FileContent } from "../src/store/file-content.js";

/** True while `fd` is an open descriptor of this process. */
function isOpen(fd: number): boolean {
  try {
    fs.fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

describe("file content written into a response", () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "file-content-")), "blob");
  const bytes = Buffer.alloc(2 * 1024 * 1024 + 99, 7);
  let server: http.Server;
  let url: string;
  /** What the server does with each request, set by each test. */
  let serve: (response: http.ServerResponse) => void;

  before(async () => {
    fs.writeFileSync(file, bytes);
    server = http.createServer((_request, response) => serve(response));
    server.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => {
    server.close();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  it("sends every byte and closes the file", async () => {
    let fd = -1;
    let copy: Promise<void> | undefined;
    serve = (response) => {
      fd = fs.openSync(file, "r");
      response.writeHead(200, { "content-length": bytes.length });
      copy = new FileContent(fd).writeTo(response);
    };
    const body = Buffer.from(await (await fetch(url)).arrayBuffer());
    assert.ok(body.equals(bytes));
    await copy;
    assert.equal(isOpen(fd), false);
  });

  for (const [how, hangUp] of [
    ["destroyed", (socket: Socket) => socket.destroy()],
    // Ending: the response buffers the writes it can no longer pass on, and calls none of them back.
    ["ended", (socket: Socket) => socket.end()],
  ] as const) {
    it(`stops and closes the file when the connection is ${how} before a write`, async () => {
      for (let round = 0; round < 5; round++) {
        let fd = -1;
        const outcome = new Promise<string>((resolve) => {
          serve = (response) => {
            fd = fs.openSync(file, "r");
            response.writeHead(200, { "content-length": bytes.length });
            // The first read is asynchronous: by its end the socket is gone or going, and the
            // response drops or buffers the write without ever calling it back.
            new FileContent(fd).writeTo(response).then(() => resolve("finished"), (error: Error) => resolve(error.message));
            hangUp(response.socket!);
          };
        });
        await fetch(url).then((response) => response.arrayBuffer()).catch(() => undefined);
        const result = await Promise.race([outcome, new Promise((resolve) => setTimeout(() => resolve("still waiting after 5 s"), 5000))]);
        assert.match(String(result), /closed before the download ended|destroyed|EPIPE|ECONNRESET/, `round ${round + 1}`);
        assert.equal(isOpen(fd), false, `round ${round + 1}: the file is closed`);
      }
    });
  }
});
