/**
 * The one log line per request, written the cheap way. Through pino, a
 * request paid for a child logger (to bind its id) and a generic object
 * serialization: together about as much CPU as the rest of a cached metadata
 * read. This writes the same JSON line pino would, from a template, straight
 * to the log's stream. The metadata fast path writes the same line.
 * Method, path and status only: no headers, so no token.
 */
import os from "node:os";
import { type FastifyReply, type FastifyRequest, LogController } from "fastify";
import pino from "pino";

/** What the line is written to: the log's destination, shared with pino. */
export interface LineSink {
  write(line: string): unknown;
}

const INFO = pino.levels.values.info!;
/** What pino puts first in every line, written once. */
const BASE = `"pid":${process.pid},"hostname":${JSON.stringify(os.hostname())}`;

export class AccessLog extends LogController {
  /** Request lines are "info": written unless LOG_LEVEL is above it. */
  private readonly enabled: boolean;

  constructor(
    private readonly sink: LineSink,
    level: string,
  ) {
    super();
    this.enabled = (pino.levels.values[level] ?? Infinity) <= INFO;
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    if (error) {
      const ms = Math.round(reply.elapsedTime * 10) / 10;
      request.log.error({ reqId: request.id, method: request.method, url: request.url, status: reply.statusCode, ms, err: error }, "request failed");
    } else {
      this.requestLine(request.id, request.method, request.url, reply.statusCode, reply.elapsedTime);
    }
  }

  /** The line of one answered request; also written by the metadata fast path, which has no Fastify request. */
  requestLine(id: string, method: string, url: string, status: number, elapsedMs: number): void {
    if (!this.enabled) return;
    this.sink.write(
      `{"level":${INFO},"time":${Date.now()},${BASE},"reqId":${JSON.stringify(id)},"method":${JSON.stringify(method)},` +
        `"url":${JSON.stringify(url)},"status":${status},"ms":${Math.round(elapsedMs * 10) / 10},"msg":"request"}\n`,
    );
  }
}
