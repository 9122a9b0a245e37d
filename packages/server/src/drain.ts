/**
 * Reading the rest of a refused request. Clients such as fetch only read the
 * answer once they have sent the whole body, so a 401 or 400 sent while the
 * body is still arriving would reach them as a broken pipe. A body up to the
 * upload limit is read and thrown away; a bigger one gets the connection closed.
 */
import type { IncomingMessage } from "node:http";
import { bodyBytesConsumed } from "./read-buffers.js";

const DRAIN_TIMEOUT_MS = 30_000;

/**
 * Whether part of a request's body may still be unread. A request without a
 * body can answer before Node marks it complete, so `complete` alone would
 * close every fast keep-alive answer.
 */
export function bodyPending(request: IncomingMessage): boolean {
  if (request.complete) return false;
  const length = request.headers["content-length"];
  return request.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/** Resolves true once the body has ended, false if it passed `maxBytes` or stalled. */
export function drainRequest(request: IncomingMessage, maxBytes: number): Promise<boolean> {
  if (!bodyPending(request)) return Promise.resolve(true);
  // Already gone (aborted, timed out): no "close" will come to end the wait.
  if (request.destroyed || request.socket?.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (drained: boolean) => {
      clearTimeout(timer);
      request.off("data", onData).off("end", onEnd).off("error", onFail).off("close", onClose);
      if (!drained) request.pause();
      resolve(drained);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      bodyBytesConsumed(chunk.length);
      if (seen > maxBytes) finish(false);
    };
    const onEnd = () => finish(true);
    const onFail = () => finish(false);
    const onClose = () => finish(request.complete);
    const timer = setTimeout(() => finish(false), DRAIN_TIMEOUT_MS);
    request.on("data", onData).on("end", onEnd).on("error", onFail).on("close", onClose);
    request.resume();
  });
}
