/**
 * The registry's HTTP API (DESIGN.md §1): reads over Node's fetch, retried with
 * backoff, then sent to the mirrors; every failure becomes one
 * sentence naming the URL. Publishing goes to the main registry only, once:
 * a write is not something to repeat blindly.
 */
import http from "node:http";
import https from "node:https";
import type { ErrorBody, SearchResult, VersionList, VersionMetadata } from "@wasm-registry/core";
import { CliError } from "./errors.js";
import { warn } from "./output.js";
import type { RegistrySettings } from "./settings.js";

const ATTEMPTS = 3;
const FIRST_BACKOFF_MS = 200;
const TIMEOUT_MS = 30_000;

/** The registry answered, with an error status. */
export class HttpError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    readonly serverMessage: string,
    readonly url: string,
  ) {
    super(`${url} answered ${status}: ${serverMessage}`);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A name inside a URL path: `:` is fine raw, `/` must not split the path. */
export const nameInPath = (name: string) => name.replaceAll("/", "%2F");

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if ((error as Error).name === "TimeoutError") return `nothing arrived for ${TIMEOUT_MS / 1000} s`;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/**
 * An answer whose body is still to be read. Its request has a deadline of
 * TIMEOUT_MS that each arriving chunk of a download pushes back, so a long
 * download is never cut short while a stalled one is.
 */
export interface Answer {
  response: Response;
  /** Bytes are still arriving: push the deadline back. */
  stillArriving(): void;
  /** The body is read or given up: no deadline any more. */
  done(): void;
}

function withDeadline(): { signal: AbortSignal; stillArriving(): void; done(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException("timed out", "TimeoutError")), TIMEOUT_MS);
  return { signal: controller.signal, stillArriving: () => timer.refresh(), done: () => clearTimeout(timer) };
}

/** A whole body, read chunk by chunk: each pushes the deadline back and is reported. */
async function readBody(answer: Answer, onBytes?: (received: number, total: number | undefined) => void): Promise<Uint8Array> {
  const length = answer.response.headers.get("content-length");
  const total = length === null ? undefined : Number(length);
  const chunks: Uint8Array[] = [];
  let received = 0;
  for await (const chunk of answer.response.body ?? []) {
    answer.stillArriving();
    chunks.push(chunk);
    received += chunk.length;
    onBytes?.(received, total);
  }
  if (total !== undefined && received !== total) throw new Error(`${received} of ${total} bytes arrived`);
  return Buffer.concat(chunks);
}

async function errorFrom(response: Response, url: string): Promise<HttpError> {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as ErrorBody;
    if (body?.error?.message) return new HttpError(response.status, body.error.code, body.error.message, url);
  } catch {
    // Not our JSON: a proxy's page or similar; show the status alone.
  }
  return new HttpError(response.status, undefined, response.statusText || "an unexpected answer", url);
}

export class RegistryClient {
  readonly bases: string[];
  private readonly failedBases = new Set<string>();
  /** Mirrors already announced: a fallback is said once per command, not once per request. */
  private readonly announcedMirrors = new Set<string>();

  constructor(readonly settings: RegistrySettings) {
    this.bases = [settings.url, ...settings.mirrors];
  }

  get url(): string {
    return this.settings.url;
  }

  /**
   * GET with retries on network errors and 5xx/429, each base in turn. A 4xx
   * is an answer, not an outage, so it is returned at once (no mirror is
   * asked to contradict the main registry).
   */
  async get(pathAndQuery: string): Promise<Answer> {
    const failures: string[] = [];
    // A base that failed every attempt is skipped for the rest of this command, so that a
    // dead main registry costs its retries once, not once per request.
    const alive = this.bases.filter((base) => !this.failedBases.has(base));
    for (const base of alive.length > 0 ? alive : this.bases) {
      const url = base + pathAndQuery;
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        const deadline = withDeadline();
        let response: Response;
        try {
          response = await fetch(url, { signal: deadline.signal, headers: { "user-agent": "run-cli" } });
        } catch (error) {
          deadline.done();
          if (attempt === ATTEMPTS) {
            failures.push(`${base} (${networkReason(error)}; asked ${ATTEMPTS} times)`);
            this.failedBases.add(base);
          }
          else await sleep(FIRST_BACKOFF_MS * 2 ** (attempt - 1));
          continue;
        }
        if (response.ok) {
          if (base !== this.url && !this.announcedMirrors.has(base)) {
            this.announcedMirrors.add(base);
            warn(`the registry at ${this.url} did not answer; using the mirror ${base}`);
          }
          return { response, stillArriving: deadline.stillArriving, done: deadline.done };
        }
        try {
          if (response.status < 500 && response.status !== 429) throw await errorFrom(response, url);
          if (attempt === ATTEMPTS) {
            failures.push(`${base} (${(await errorFrom(response, url)).message}; asked ${ATTEMPTS} times)`);
            this.failedBases.add(base);
          } else {
            await response.body?.cancel();
          }
        } finally {
          deadline.done();
        }
        if (attempt < ATTEMPTS) await sleep(FIRST_BACKOFF_MS * 2 ** (attempt - 1));
      }
    }
    throw new CliError(`cannot reach the registry: ${failures.join("; ")}`);
  }

  async getJson<T>(pathAndQuery: string): Promise<T> {
    const answer = await this.get(pathAndQuery);
    try {
      return (await answer.response.json()) as T;
    } catch {
      throw new CliError(`${this.url}${pathAndQuery} did not answer JSON; is ${this.url} a component registry?`);
    } finally {
      answer.done();
    }
  }

  /** Every published version, or undefined when the package is unknown. */
  async versions(name: string): Promise<string[] | undefined> {
    return (await this.versionList(name))?.versions;
  }

  /** Every published version and which are yanked, or undefined when the package is unknown. */
  async versionList(name: string): Promise<VersionList | undefined> {
    try {
      return await this.getJson<VersionList>(`/api/v1/packages/${nameInPath(name)}/versions`);
    } catch (error) {
      if (error instanceof HttpError && error.status === 404) return undefined;
      throw error;
    }
  }

  /**
   * One authenticated JSON request to the main registry (token management,
   * yank): never retried nor sent to a mirror, as a write must not be. The
   * registry's error answers become HttpErrors.
   */
  async send<T>(method: string, pathAndQuery: string, token: string, body?: unknown): Promise<T> {
    const url = this.url + pathAndQuery;
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, "user-agent": "run-cli" };
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        signal: AbortSignal.timeout(TIMEOUT_MS),
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      throw new CliError(`cannot reach the registry at ${this.url} (${networkReason(error)})`);
    }
    if (!response.ok) throw await errorFrom(response, url);
    try {
      return (await response.json()) as T;
    } catch {
      throw new CliError(`${url} did not answer JSON; is ${this.url} a component registry?`);
    }
  }

  async metadata(name: string, version: string): Promise<VersionMetadata> {
    try {
      return await this.getJson<VersionMetadata>(`/api/v1/packages/${nameInPath(name)}/${encodeURIComponent(version)}`);
    } catch (error) {
      if (error instanceof HttpError && error.status === 404) {
        throw new CliError(`${name}@${version} is not on the registry at ${this.url}: ${error.serverMessage}`);
      }
      throw error;
    }
  }

  async search(query: string, limit: number, offset = 0): Promise<SearchResult> {
    return this.getJson<SearchResult>(`/api/v1/search?q=${encodeURIComponent(query)}&limit=${limit}&offset=${offset}`);
  }

  /**
   * The component's bytes, read whole (components are small; the limit is the
   * registry's upload limit), with `onBytes` told of each chunk. A download
   * that breaks off is started again, up to ATTEMPTS times, as a request that
   * fails is.
   */
  async download(name: string, version: string, onBytes?: (received: number, total: number | undefined) => void): Promise<Uint8Array> {
    const path = `/packages/${nameInPath(name)}/${encodeURIComponent(version)}/artifact.wasm`;
    for (let attempt = 1; ; attempt++) {
      const answer = await this.get(path);
      try {
        return await readBody(answer, onBytes);
      } catch (error) {
        if (attempt === ATTEMPTS) {
          const from = new URL(answer.response.url || this.url).origin;
          throw new CliError(`the download of ${name}@${version} from ${from} broke off ${ATTEMPTS} times (${networkReason(error)}); try again later`);
        }
        onBytes?.(0, undefined);
        await sleep(FIRST_BACKOFF_MS * 2 ** (attempt - 1));
      } finally {
        answer.done();
      }
    }
  }

  /**
   * One POST to the main registry, whatever the answer's status.
   *
   * Not fetch: the registry answers a refused upload (401, 413) before it
   * has read the body and then closes the connection, and undici's fetch
   * reports that as EPIPE, losing the answer. node:http with the body
   * written in one piece reads the early answer.
   */
  async publish(form: FormData, token: string): Promise<{ status: number; text: string }> {
    const url = new URL(`${this.url}/api/v1/packages`);
    const encoded = new Request(url, { method: "POST", body: form });
    const body = Buffer.from(await encoded.arrayBuffer());
    const headers = {
      "content-type": encoded.headers.get("content-type")!,
      "content-length": String(body.length),
      authorization: `Bearer ${token}`,
      "user-agent": "run-cli",
    };
    const send = url.protocol === "https:" ? https.request : http.request;
    return new Promise((resolve, reject) => {
      let answered = false;
      const request = send(url, { method: "POST", headers, timeout: TIMEOUT_MS * 4 }, (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        response.on("error", (error) => reject(new CliError(`the answer from ${this.url} broke off (${networkReason(error)}); check with \`run v2 info\` whether the version was published`)));
      });
      request.on("timeout", () => request.destroy(Object.assign(new Error("timeout"), { name: "TimeoutError" })));
      request.on("error", (error) => {
        if (answered) return;
        const code = (error as NodeJS.ErrnoException).code;
        const hint = code === "EPIPE" || code === "ECONNRESET" ? "; it closed the connection while the file was being sent, which it does for a refused token or a file over its size limit" : "";
        reject(new CliError(`cannot publish to the registry at ${this.url} (${code ?? networkReason(error)})${hint}`));
      });
      request.end(body);
    });
  }
}
