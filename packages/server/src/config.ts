/**
 * Every environment variable the server reads, read here and nowhere else.
 * A bad value stops start-up with a message naming the variable.
 */
import path from "node:path";

export interface NamespaceToken {
  namespace: string;
  token: string;
}

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /**
   * Public base URL for download links, without a trailing slash. When
   * REGISTRY_URL is not set it follows the address the server listens on.
   */
  publicUrl: string;
  publicUrlFromEnv: boolean;
  maxUploadBytes: number;
  adminToken: string | undefined;
  namespaceTokens: NamespaceToken[];
  logLevel: string;
  /** How often buffered download counts are written to the store. */
  downloadFlushMs: number;
  /** How long a server keeps a version's serialized metadata; 0 turns the cache off. */
  metadataCacheSeconds: number;
  /** PostgreSQL for metadata; undefined keeps the embedded SQLite under dataDir. */
  postgres: PostgresConfig | undefined;
  /** An S3-compatible bucket for component bytes; undefined keeps files under dataDir. */
  s3: S3Config | undefined;
  limits: LimitsConfig;
}

/** Budgets and timeouts that keep one client from starving the others. */
export interface LimitsConfig {
  /** Requests per minute per client address; 0 turns the limit off. */
  readsPerMinute: number;
  /** Publishes per minute per token; 0 turns the limit off. */
  publishesPerMinute: number;
  /** How often a server adds its read counts to the shared counters (PostgreSQL). */
  rateSyncMs: number;
  /** Time allowed for a client to send the request headers. */
  headersTimeoutMs: number;
  /** Time allowed for a whole request, body included (a large upload on a slow link). */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
  /** Largest request head (request line and headers) accepted, in bytes. */
  maxHeaderBytes: number;
  /** `npm run gc` keeps unreferenced bytes younger than this: they may belong to a publish in flight. */
  gcGraceSeconds: number;
}

export interface PostgresConfig {
  url: string;
  poolSize: number;
}

export interface S3Config {
  bucket: string;
  region: string;
  /** Undefined means AWS itself; set for MinIO, Ceph, R2 and the like. */
  endpoint: string | undefined;
  forcePathStyle: boolean;
  /** Prepended to every object key, so that one bucket can hold several registries. */
  prefix: string;
  /** Base URL that serves the bucket's objects (the bucket itself or a CDN); downloads redirect there. */
  publicUrl: string | undefined;
  /** Undefined leaves credentials to the SDK's default chain (profiles, instance and task roles). */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string | undefined } | undefined;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

type Env = Record<string, string | undefined>;

/** The first of several spellings that is set (the seed documents aliases). */
function pick(env: Env, ...names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value.trim() !== "") return { name, value: value.trim() };
  }
  return undefined;
}

function parseIntVar(env: Env, names: string[], fallback: number, min: number, max: number): number {
  const found = pick(env, ...names);
  if (!found) return fallback;
  if (!/^\d+$/.test(found.value)) {
    throw new ConfigError(found.name, `"${found.value}" is not a whole number`);
  }
  const value = Number(found.value);
  if (value < min || value > max) {
    throw new ConfigError(found.name, `${value} is out of range (${min} to ${max})`);
  }
  return value;
}

function parseUrl(env: Env, names: string[], fallback: string): string;
function parseUrl(env: Env, names: string[], fallback: undefined): string | undefined;
function parseUrl(env: Env, names: string[], fallback: string | undefined): string | undefined {
  const found = pick(env, ...names);
  if (!found) return fallback;
  let url: URL;
  try {
    url = new URL(found.value);
  } catch {
    throw new ConfigError(found.name, `"${found.value}" is not a URL; expected e.g. https://registry.example.com`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(found.name, `"${found.value}" must be an http or https URL`);
  }
  return found.value.replace(/\/+$/, "");
}

function parseBoolean(env: Env, name: string, fallback: boolean): boolean {
  const found = pick(env, name);
  if (!found) return fallback;
  const value = found.value.toLowerCase();
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off"].includes(value)) return false;
  throw new ConfigError(name, `"${found.value}" is not true or false`);
}

function parsePostgres(env: Env): PostgresConfig | undefined {
  const found = pick(env, "DATABASE_URL");
  if (!found) return undefined;
  let url: URL;
  try {
    url = new URL(found.value);
  } catch {
    throw new ConfigError("DATABASE_URL", "it is not a URL; expected e.g. postgres://user:password@db.example.com:5432/registry");
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    // The value may hold a password: name only its scheme.
    throw new ConfigError("DATABASE_URL", `the scheme "${url.protocol}" is not postgres: or postgresql:`);
  }
  return { url: found.value, poolSize: parseIntVar(env, ["DATABASE_POOL_SIZE"], 10, 1, 1000) };
}

/** S3 bucket names: 3 to 63 lowercase letters, digits, dots and hyphens. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function parseS3(env: Env): S3Config | undefined {
  const bucket = pick(env, "S3_BUCKET");
  if (!bucket) {
    for (const name of ["S3_ENDPOINT", "S3_PUBLIC_URL", "S3_PREFIX"]) {
      if (pick(env, name)) throw new ConfigError(name, "is set but S3_BUCKET is not; set S3_BUCKET to store components in S3");
    }
    return undefined;
  }
  if (!BUCKET.test(bucket.value)) {
    throw new ConfigError("S3_BUCKET", `"${bucket.value}" is not a valid bucket name (3 to 63 lowercase letters, digits, dots or hyphens)`);
  }
  const prefix = pick(env, "S3_PREFIX")?.value ?? "";
  if (prefix.startsWith("/") || prefix.includes("..") || /[^A-Za-z0-9!\-_.*'()/]/.test(prefix)) {
    throw new ConfigError("S3_PREFIX", `"${prefix}" must be a relative key prefix of letters, digits and !-_.*'()/ (e.g. registry/)`);
  }
  const accessKeyId = pick(env, "AWS_ACCESS_KEY_ID")?.value;
  const secretAccessKey = pick(env, "AWS_SECRET_ACCESS_KEY")?.value;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    const missing = accessKeyId === undefined ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY";
    throw new ConfigError(missing, "is needed too: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither to use the SDK's default credentials");
  }
  return {
    bucket: bucket.value,
    region: pick(env, "S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION")?.value ?? "us-east-1",
    endpoint: parseUrl(env, ["S3_ENDPOINT"], undefined),
    forcePathStyle: parseBoolean(env, "S3_FORCE_PATH_STYLE", false),
    prefix: prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`,
    publicUrl: parseUrl(env, ["S3_PUBLIC_URL"], undefined),
    credentials:
      accessKeyId !== undefined && secretAccessKey !== undefined
        ? { accessKeyId, secretAccessKey, sessionToken: pick(env, "AWS_SESSION_TOKEN")?.value }
        : undefined,
  };
}

const NAMESPACE = /^[a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)*$/;
const MIN_TOKEN_LENGTH = 8;

/** `ns1:token1,ns2:token2`; the token is everything after the first colon. */
export function parseNamespaceTokens(value: string, variable = "REGISTRY_TOKENS"): NamespaceToken[] {
  const entries: NamespaceToken[] = [];
  value.split(",").forEach((raw, index) => {
    const entry = raw.trim();
    if (entry === "") return;
    const colon = entry.indexOf(":");
    const where = `entry ${index + 1}`;
    if (colon <= 0 || colon === entry.length - 1) {
      throw new ConfigError(variable, `${where} is not namespace:token (expected e.g. alice:secret1,bob:secret2)`);
    }
    const namespace = entry.slice(0, colon);
    const token = entry.slice(colon + 1);
    if (!NAMESPACE.test(namespace)) {
      throw new ConfigError(variable, `${where}: "${namespace}" is not a valid namespace (lowercase kebab-case)`);
    }
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new ConfigError(variable, `${where}: the token for ${namespace} is shorter than ${MIN_TOKEN_LENGTH} characters`);
    }
    entries.push({ namespace, token });
  });
  return entries;
}

export function loadConfig(env: Env = process.env): Config {
  const port = parseIntVar(env, ["PORT"], 8080, 0, 65535);
  const adminToken = pick(env, "REGISTRY_ADMIN_TOKEN");
  if (adminToken && adminToken.value.length < MIN_TOKEN_LENGTH) {
    throw new ConfigError("REGISTRY_ADMIN_TOKEN", `the token is shorter than ${MIN_TOKEN_LENGTH} characters`);
  }
  const tokens = pick(env, "REGISTRY_TOKENS");
  const namespaceTokens = tokens ? parseNamespaceTokens(tokens.value) : [];
  const secrets = namespaceTokens.map((entry) => entry.token).concat(adminToken ? [adminToken.value] : []);
  if (new Set(secrets).size !== secrets.length) {
    throw new ConfigError(tokens ? "REGISTRY_TOKENS" : "REGISTRY_ADMIN_TOKEN", "the same token is given twice; each token must be unique");
  }
  const maxUploadMb = parseIntVar(env, ["MAX_UPLOAD_MB", "REGISTRY_MAX_UPLOAD_MB"], 50, 1, 100_000);
  return {
    port,
    host: pick(env, "HOST")?.value ?? "0.0.0.0",
    dataDir: path.resolve(pick(env, "DATA_DIR", "REGISTRY_DATA_DIR")?.value ?? "./data"),
    publicUrl: parseUrl(env, ["REGISTRY_URL", "BASE_URL"], `http://localhost:${port}`),
    publicUrlFromEnv: pick(env, "REGISTRY_URL", "BASE_URL") !== undefined,
    maxUploadBytes: maxUploadMb * 1024 * 1024,
    adminToken: adminToken?.value,
    namespaceTokens,
    logLevel: pick(env, "LOG_LEVEL")?.value ?? "info",
    downloadFlushMs: parseIntVar(env, ["DOWNLOAD_FLUSH_MS"], 1000, 10, 600_000),
    metadataCacheSeconds: parseIntVar(env, ["METADATA_CACHE_SECONDS"], 10, 0, 3600),
    postgres: parsePostgres(env),
    s3: parseS3(env),
    limits: parseLimits(env),
  };
}

function parseLimits(env: Env): LimitsConfig {
  const headersTimeoutMs = parseIntVar(env, ["REGISTRY_HEADERS_TIMEOUT_MS"], 10_000, 100, 600_000);
  const requestTimeoutMs = parseIntVar(env, ["REGISTRY_REQUEST_TIMEOUT_MS"], 300_000, 100, 86_400_000);
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError("REGISTRY_HEADERS_TIMEOUT_MS", `${headersTimeoutMs} is longer than REGISTRY_REQUEST_TIMEOUT_MS (${requestTimeoutMs}); the headers are part of the request`);
  }
  return {
    readsPerMinute: parseIntVar(env, ["REGISTRY_RATE_LIMIT_PER_MIN"], 0, 0, 10_000_000),
    publishesPerMinute: parseIntVar(env, ["REGISTRY_PUBLISH_RATE_LIMIT_PER_MIN"], 60, 0, 1_000_000),
    rateSyncMs: parseIntVar(env, ["REGISTRY_RATE_LIMIT_SYNC_MS"], 1000, 10, 60_000),
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: parseIntVar(env, ["REGISTRY_KEEP_ALIVE_TIMEOUT_MS"], 5_000, 100, 600_000),
    maxHeaderBytes: parseIntVar(env, ["REGISTRY_MAX_HEADER_BYTES"], 16 * 1024, 1024, 1024 * 1024),
    gcGraceSeconds: parseIntVar(env, ["REGISTRY_GC_GRACE_SECONDS"], 3600, 0, 365 * 86_400),
  };
}

/**
 * The configuration of a command-line entry point (the server, gc,
 * migrate-store): a bad variable ends the process with one line naming it.
 */
export function loadConfigOrExit(prefix: string, exitCode = 1): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${prefix}: ${error.message}\n`);
    process.exit(exitCode);
  }
}
