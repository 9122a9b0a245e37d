/**
 * One factory for every error a client can see: a stable code, an HTTP status
 * and a sentence for a person. Rendered as {"error": {"code", "message"}}.
 */
export class RegistryError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody() {
    return { error: { code: this.code, message: this.message } };
  }
}

export const badRequest = (code: string, message: string) => new RegistryError(400, code, message);
export const unauthorized = (message: string) =>
  new RegistryError(401, "unauthorized", message, { "www-authenticate": 'Bearer realm="registry"' });
export const forbidden = (message: string) => new RegistryError(403, "forbidden", message);
export const notFound = (code: string, message: string) => new RegistryError(404, code, message);
export const conflict = (code: string, message: string) => new RegistryError(409, code, message);
export const tooLarge = (limitBytes: number) =>
  new RegistryError(
    413,
    "payload_too_large",
    `the upload is larger than this registry's limit of ${Math.round(limitBytes / 1024 / 1024)} MB (MAX_UPLOAD_MB)`,
  );

/** A storage failure during a write, in words for the client: disk full is 507, anything else 503. */
export function storageUnavailable(what: string, error: unknown): RegistryError {
  if (error instanceof RegistryError) return error;
  const code = (error as { code?: string }).code;
  if (code === "ENOSPC" || code === "EDQUOT" || code === "SQLITE_FULL") return diskFull();
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new RegistryError(
    503,
    "storage_unavailable",
    `${what} failed while storing the upload (${reason}); nothing was published, try again later`,
    { "retry-after": "30" },
  );
}

export const diskFull = () =>
  new RegistryError(507, "insufficient_storage", "the registry's disk is full; the upload was not stored, try again later");

/** Over a rate limit: 429 with the seconds until the budget renews. */
export const tooManyRequests = (message: string, retryAfterSeconds: number) =>
  new RegistryError(429, "rate_limited", message, { "retry-after": String(retryAfterSeconds) });
