/**
 * The hottest read, answered before the router. A GET of version metadata
 * whose path the cache holds (metadata-cache.ts) is written straight to the
 * response: routing, hooks and Fastify's request and reply objects cost more
 * CPU than everything else such a read does, and a registry's clients ask
 * for the same few versions over and over.
 *
 * What the router would do to such a request is done here too: the read rate
 * limit, the cap on header count, nosniff, the request line with its id. Any
 * other request, and any that one of these checks would refuse, goes to the
 * router, which answers it as before; the cache only holds paths the router
 * has answered with 200 once, so a hit needs no other check.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AccessLog } from "./access-log.js";
import { bodyPending } from "./drain.js";
import type { MetadataCache } from "./metadata-cache.js";

/** Real clients send a dozen or two; Node would silently drop those past 2000. */
export const MAX_HEADER_COUNT = 100;

export function hasTooManyHeaders(request: IncomingMessage): boolean {
  return request.rawHeaders.length > MAX_HEADER_COUNT * 2;
}

export interface FastPathOptions {
  cache: MetadataCache;
  log: AccessLog;
  nextRequestId: () => string;
  /** Counts a read against the client address's budget; false if over it (nothing is counted then). */
  admit?: (address: string) => boolean;
}

export class MetadataFastPath {
  private open = true;

  constructor(private readonly options: FastPathOptions) {}

  /** From now on every request goes to the router, which refuses them while the server closes. */
  close(): void {
    this.open = false;
  }

  /** Answers the request if the cache can; false leaves it, untouched, to the router. */
  answer(request: IncomingMessage, response: ServerResponse): boolean {
    if (!this.open || request.method !== "GET" || hasTooManyHeaders(request)) return false;
    const url = request.url!;
    const json = this.options.cache.get(url);
    if (json === undefined || bodyPending(request)) return false;
    const { admit } = this.options;
    if (admit && !admit(request.socket.remoteAddress ?? "")) return false;
    const started = performance.now();
    response.writeHead(200, {
      "content-type": "application/json; charset=utf-8",
      "x-content-type-options": "nosniff",
      "content-length": json.length,
    });
    response.end(json);
    this.options.log.requestLine(this.options.nextRequestId(), "GET", url, 200, performance.now() - started);
    return true;
  }
}
