/**
 * HTTP spoken by hand over a loopback socket, for what fetch will not send:
 * stalled heads and bodies, oversized headers, bytes that are not valid HTTP.
 */
import net from "node:net";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** True once the server closed the connection. */
  closed: boolean;
}

/** Parses the first response on a socket's bytes (Content-Length bodies only; the registry's errors use it). */
export function parseResponse(text: string, closed: boolean): RawResponse | undefined {
  const end = text.indexOf("\r\n\r\n");
  if (end === -1) return undefined;
  const [statusLine, ...lines] = text.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = headers["content-length"] === undefined ? undefined : Number(headers["content-length"]);
  const body = text.slice(end + 4);
  if (length !== undefined && body.length < length) return undefined;
  if (length === undefined && headers["transfer-encoding"] === "chunked") {
    if (!body.endsWith("0\r\n\r\n")) return undefined;
    return { status: Number(statusLine!.split(" ")[1]), headers, body: dechunk(body), closed };
  }
  if (length === undefined && !closed) return undefined;
  const bytes = length === undefined ? body : body.slice(0, length);
  return { status: Number(statusLine!.split(" ")[1]), headers, body: Buffer.from(bytes, "latin1").toString("utf8"), closed };
}

function dechunk(body: string): string {
  let out = "";
  let rest = body;
  for (;;) {
    const lineEnd = rest.indexOf("\r\n");
    const size = parseInt(rest.slice(0, lineEnd), 16);
    if (!size) return out;
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

export interface RawExchange {
  socket: net.Socket;
  /** Resolves with the first whole response (or undefined if the server closed without one). */
  response: Promise<RawResponse | undefined>;
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
}

/** Opens a connection to `url`'s host and port, writes `chunks`, and leaves the socket open. */
export function rawExchange(url: string, chunks: (string | Buffer)[]): RawExchange {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port) });
  let text = "";
  let done = false;
  let resolveResponse!: (value: RawResponse | undefined) => void;
  const response = new Promise<RawResponse | undefined>((resolve) => (resolveResponse = resolve));
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  socket.on("data", (chunk) => {
    text += chunk.toString("latin1");
    const parsed = parseResponse(text, false);
    if (parsed && !done) {
      done = true;
      resolveResponse(parsed);
    }
  });
  socket.on("error", () => {});
  socket.on("close", () => {
    if (!done) {
      done = true;
      resolveResponse(parseResponse(text, true));
    }
  });
  for (const chunk of chunks) socket.write(chunk);
  return { socket, response, closed };
}

/** One request, written whole; resolves with the response. */
export async function rawRequest(url: string, request: string | Buffer): Promise<RawResponse | undefined> {
  const exchange = rawExchange(url, [request]);
  const response = await exchange.response;
  exchange.socket.destroy();
  return response;
}
