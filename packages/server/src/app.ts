/**
 * Builds the HTTP app from a configuration and open stores. Knows nothing of
 * which storage backend it has.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from "fastify";
import { AccessLog } from "./access-log.js";
import { LogDestination } from "./log-destination.js";
import { Authenticator } from "./auth.js";
import type { Config } from "./config.js";
import { DownloadCounter } from "./download-counter.js";
import { MetadataCache } from "./metadata-cache.js";
import { MAX_HEADER_COUNT, MetadataFastPath, hasTooManyHeaders } from "./metadata-fast-path.js";
import { requestIdSequence } from "./request-id.js";
import { HEARTBEAT_SECONDS } from "./uptime.js";
import { bodyPending, drainRequest } from "./drain.js";
import { RegistryError, badRequest, diskFull } from "./errors.js";
import { sharedInspector } from "./inspector.js";
import { Publisher } from "./publish.js";
import { RateLimiter } from "./rate-limit.js";
import { apiRoutes } from "./routes/api.js";
import { artifactRoutes } from "./routes/artifacts.js";
import { tokenRoutes } from "./routes/tokens.js";
import { yankRoutes } from "./routes/yank.js";
import { PageError, browseRoutes } from "./routes/browse.js";
import type { RouteContext } from "./routes/context.js";
import { type Stores, openRateCounter } from "./store/index.js";
import { MULTIPART_OVERHEAD_BYTES } from "./upload.js";
import { errorPage, notFoundPage } from "./views/pages.js";

export interface Registry {
  app: FastifyInstance;
  /** Listens on the configured host and port; returns the address. */
  listen(): Promise<string>;
  /** Stops accepting requests, writes pending counts, closes the stores. */
  close(): Promise<void>;
  /** Adds this server's rate counts to the shared counters now, rather than on the next tick. */
  syncRateCounters(): Promise<void>;
}


/**
 * Headers for every HTML page: the pages use only /assets/style.css, so the
 * policy allows nothing else (no inline script or style, no framing).
 */
export const PAGE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

/**
 * Errors Node's HTTP parser finds before any route runs (a head too large, a
 * client too slow, bytes that are not HTTP), answered in our error shape.
 */
function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const [status, code, message] =
    error.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [408, "request_timeout", "the request was not received in time; send the headers and body without long pauses"]
      : error.code === "HPE_HEADER_OVERFLOW"
        ? [431, "headers_too_large", "the request's headers are larger than this registry accepts (REGISTRY_MAX_HEADER_BYTES)"]
        : [400, "bad_request", "the request is not valid HTTP/1.1"];
  const body = JSON.stringify(new RegistryError(status, code, message).toBody());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** A full disk (staging, rename, or SQLite) says so, whichever step hit it. */
function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === "ENOSPC" || code === "EDQUOT" || code === "SQLITE_FULL";
}

/** Fastify's own errors (bad JSON, unsupported media type…) in our error shape. */
function fromFastifyError(error: FastifyError): RegistryError {
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status === 500) return new RegistryError(500, "internal_error", "the registry failed to handle this request; try again later");
  const code = (error.code ?? "bad_request").replace(/^FST_ERR_/, "").toLowerCase();
  return new RegistryError(status, code, error.message);
}

export async function buildRegistry(config: Config, stores: Stores): Promise<Registry> {
  // Log lines are written once per turn of the event loop (log-destination.ts), and flushed on close.
  const logStream = new LogDestination();
  const accessLog = new AccessLog(logStream, config.logLevel);
  const nextRequestId = requestIdSequence();
  // Failures of background work are logged through the app's logger, which exists from the next statement on.
  const logError = (message: string) => (error: unknown) => app.log.error({ err: error }, message);

  const rateCounter = await openRateCounter(config);
  const { limits } = config;
  const readLimiter = new RateLimiter(rateCounter, {
    limit: limits.readsPerMinute,
    what: "requests from this address",
    variable: "REGISTRY_RATE_LIMIT_PER_MIN",
    syncMs: limits.rateSyncMs,
    onError: logError("syncing rate counters failed"),
  });
  const publishLimiter = new RateLimiter(rateCounter, {
    limit: limits.publishesPerMinute,
    what: "publishes with this token",
    variable: "REGISTRY_PUBLISH_RATE_LIMIT_PER_MIN",
    syncMs: limits.rateSyncMs,
    onError: logError("syncing rate counters failed"),
  });
  // One budget per client address, taken by the router's hook and by the fast path alike.
  const takeRead = (address: string) => readLimiter.take(`address:${address}`);
  const metadataCache = new MetadataCache(config.metadataCacheSeconds * 1000);
  const fastPath = new MetadataFastPath({
    cache: metadataCache,
    log: accessLog,
    nextRequestId,
    admit:
      limits.readsPerMinute > 0
        ? (address) => {
            try {
              takeRead(address);
              return true;
            } catch {
              return false; // the router refuses it with a 429 (take counts nothing it refuses)
            }
          }
        : undefined,
  });

  const app: FastifyInstance = Fastify({
    logger: { level: config.logLevel, stream: logStream },
    logController: accessLog,
    genReqId: nextRequestId,
    // Every request logs through the one logger: a child per request, only to
    // bind its id, cost more than the request line. Lines about a request that
    // matter for tracing (the request line, failures) carry the id themselves.
    childLoggerFactory: (logger) => logger,
    // Every parsed body (JSON, text) is capped here; the publish route streams its own, capped by MAX_UPLOAD_MB.
    bodyLimit: 1024 * 1024,
    routerOptions: { maxParamLength: 1024 },
    return503OnClosing: true,
    // Our own server, so that cached metadata is answered before the router (metadata-fast-path.ts).
    serverFactory: (route) => {
      const server = http.createServer(
        {
          headersTimeout: limits.headersTimeoutMs,
          maxHeaderSize: limits.maxHeaderBytes,
          // Node checks the request and head deadlines on this tick (30 s by default, longer than a short headers timeout).
          connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
        },
        (request, response) => {
          if (!fastPath.answer(request, response)) route(request, response);
        },
      );
      // Slow clients: the head, the whole request, and an idle keep-alive connection each have a deadline.
      server.requestTimeout = limits.requestTimeoutMs;
      server.keepAliveTimeout = limits.keepAliveTimeoutMs;
      return server;
    },
    clientErrorHandler,
    // Errors Fastify raises before routing (a malformed URL…) in our error shape too.
    frameworkErrors: (error, _request, reply) => {
      const registryError = fromFastifyError(error);
      void (reply as FastifyReply).code(registryError.status).send(registryError.toBody());
    },
  });
  app.addHook("preClose", (done) => {
    fastPath.close();
    done();
  });

  const auth = new Authenticator(stores.metadata, undefined, logError("writing a token's last use failed"));
  const inspector = sharedInspector();
  inspector.start();
  const downloads = new DownloadCounter(stores.metadata, logError("writing download counts failed"));
  const publishBudget =
    limits.publishesPerMinute > 0 ? (tokenId: string) => publishLimiter.takeExact(`publish:${tokenId}`) : undefined;
  const context: RouteContext = {
    config,
    stores,
    auth,
    publisher: new Publisher(stores, auth, config.maxUploadBytes, inspector, publishBudget),
    downloads,
    metadataCache,
  };

  if (limits.readsPerMinute > 0) {
    // Synchronous, no database round trip: see rate-limit.ts. /health stays free for load balancers.
    app.addHook("onRequest", (request, _reply, done) => {
      if (request.url === "/health") return done();
      try {
        takeRead(request.ip);
        done();
      } catch (error) {
        done(error as RegistryError);
      }
    });
  }

  // Checks every request pays for, before any route: cheap, and most cost nothing without a '%' or many headers.
  app.addHook("onRequest", (request, _reply, done) => {
    if (hasTooManyHeaders(request.raw)) {
      return done(new RegistryError(431, "headers_too_large", `the request has more than ${MAX_HEADER_COUNT} headers`));
    }
    const query = request.url.indexOf("?");
    if (query !== -1 && request.url.includes("%", query)) {
      try {
        decodeURIComponent(request.url.slice(query + 1).replace(/\+/g, " "));
      } catch {
        // Fastify's parser would pass such a query on half-decoded; refuse it rather than guess.
        return done(badRequest("invalid_query", "the query string is not valid percent-encoding (a % must start %XX of UTF-8)"));
      }
    }
    done();
  });

  app.addHook("onSend", (request, reply, _payload, done) => {
    reply.header("x-content-type-options", "nosniff");
    if (String(reply.getHeader("content-type") ?? "").startsWith("text/html")) reply.headers(PAGE_SECURITY_HEADERS);
    // A body nobody read (a POST to a page, say) is not read to its end to keep the connection: close it.
    if (bodyPending(request.raw) && !reply.hasHeader("connection")) reply.header("connection", "close");
    done();
  });

  // The publish route reads the raw body itself, streaming; Fastify must not buffer it.
  app.addContentTypeParser("multipart/form-data", (_request, _payload, done) => done(null, undefined));

  app.setErrorHandler(async (error: FastifyError | RegistryError, request, reply) => {
    const registryError = error instanceof RegistryError ? error : isDiskFull(error) ? diskFull() : fromFastifyError(error);
    if (registryError.status >= 500) request.log.error({ reqId: request.id, err: error }, "request failed");
    // A refused upload may still be arriving: read what is left of a body of
    // acceptable size, so that the client sees the answer; close on anything bigger.
    if (bodyPending(request.raw)) {
      const drained = registryError.status !== 413 && (await drainRequest(request.raw, config.maxUploadBytes + MULTIPART_OVERHEAD_BYTES));
      if (!drained) reply.header("connection", "close");
    }
    reply.code(registryError.status).headers(registryError.headers);
    if (error instanceof PageError || (registryError.status >= 500 && wantsHtml(request.headers.accept))) {
      const page = registryError.status === 404 ? notFoundPage(registryError.message) : errorPage("Something went wrong", registryError.message);
      return reply.type("text/html; charset=utf-8").send(page);
    }
    return reply.send(registryError.toBody());
  });

  app.setNotFoundHandler((request, reply) => {
    const message = `nothing is at ${request.method} ${request.url.split("?")[0]}; see the API table in the README`;
    if (wantsHtml(request.headers.accept)) {
      return reply.code(404).type("text/html; charset=utf-8").send(notFoundPage(message));
    }
    return reply.code(404).send(new RegistryError(404, "not_found", message).toBody());
  });

  apiRoutes(app, context);
  tokenRoutes(app, context);
  yankRoutes(app, context);
  artifactRoutes(app, context);
  browseRoutes(app, context);

  downloads.start(config.downloadFlushMs);
  readLimiter.start();
  publishLimiter.start();
  const beat = () => stores.metadata.heartbeat(Math.floor(Date.now() / 1000), HEARTBEAT_SECONDS);
  await beat();
  const heartbeat = setInterval(() => void beat().catch((error) => app.log.error({ err: error }, "heartbeat failed")), HEARTBEAT_SECONDS * 1000);
  heartbeat.unref();

  await app.ready();
  return {
    app,
    async syncRateCounters() {
      await Promise.all([readLimiter.sync(), publishLimiter.sync()]);
    },
    async listen() {
      const address = await app.listen({ port: config.port, host: config.host });
      if (!config.publicUrlFromEnv) {
        // With PORT=0 the real port is known only now; a wildcard host is reached as localhost.
        const { port } = app.server.address() as AddressInfo;
        const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
        config.publicUrl = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
      }
      return address;
    },
    async close() {
      clearInterval(heartbeat);
      await app.close();
      await downloads.stop();
      await auth.flushUses().catch((error) => app.log.error({ err: error }, "writing tokens' last use failed"));
      await readLimiter.stop();
      await publishLimiter.stop();
      await rateCounter.close();
      await beat();
      await stores.metadata.close();
      await stores.blobs.close();
      logStream.flushSync();
    },
  };
}

function wantsHtml(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes("text/html");
}
